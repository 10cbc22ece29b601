// The REAL coordinator for the client's tests: `createApp` from src/app.ts
// over the SQLite store of src/store/sqlite.ts in a temp directory, served by
// @hono/node-server on 127.0.0.1 (port 0), exactly as `coordinator serve`
// builds it. Faults are injected by a thin wrapper around the real `app.fetch`:
// a response dropped after the coordinator processed the request, 503s before
// it sees a request, and tokens corrupted in flight (re-signed with the
// uploading agency's key, which only a test holds) to play a dishonest partner.
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type HttpBindings } from '@hono/node-server';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '../protocol/bytes.js';
import { EPOCH_FIELD, signRequest } from '../protocol/http-signature.js';
import { randomBytes } from '../protocol/rng.js';
import { acceptAgreementVersion } from '../clients/agency/agreements.js';
import type { Agency } from '../clients/agency/config.js';
import type { Store } from '../clients/store/db.js';
import { CoordinatorClient } from '../clients/sdk/client.js';
import { newNonce } from '../clients/sdk/client.js';
import { createApp, type LogEntry } from '../src/app.js';
import { loadSodiumElementChecker } from '../src/node/elements.js';
import { memoryNotifier } from '../src/node/notifier.js';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite.js';

export interface FaultRequest {
  method: string;
  path: string;
  /** keyid of the signature ('' when unsigned). */
  agency: string;
}

/** What to do with a request: drop its response after the coordinator processed it, or answer 503 without passing it on. */
export type FaultAction = 'drop-after' | 'fail-503' | undefined;
export type Fault = (r: FaultRequest) => FaultAction | Promise<FaultAction>;

export interface AgreementInput {
  id: string;
  parties: string[];
  kinds: string[];
  mode: 'reveal' | 'count';
  maxSetSize?: number;
  purposes?: string[];
  queryQuota?: { perDay?: number; maxValues?: number };
  validUntil?: string;
  legalBasis?: string;
}

export function pairId(agreement: string, a: string, b: string): string {
  const [x, y] = a < b ? [a, b] : [b, a];
  return `${agreement}~${x}~${y}`;
}

const keyidOf = (h: Headers): string => /keyid="([^"]*)"/.exec(h.get('signature-input') ?? '')?.[1] ?? '';

export class RealCoordinator {
  readonly dir = mkdtempSync(join(tmpdir(), 'concordat-real-coord-'));
  readonly store: SqliteStore;
  readonly logs: LogEntry[] = [];
  /** Every request that reached the app, with its Concordat-Epoch header. */
  readonly seen: Array<FaultRequest & { epoch: string | null }> = [];
  faults: Fault[] = [];
  /** Agencies whose partner-token uploads are corrupted in flight (a dishonest partner). */
  readonly corruptTokensOf = new Set<string>();
  url = '';
  private server: Server | undefined;
  private port = 0;
  private readonly adminSecret = randomBytes(32);
  private readonly signers = new Map<string, Uint8Array>();
  private readonly app: ReturnType<typeof createApp>;

  private constructor(app: (store: SqliteStore) => ReturnType<typeof createApp>) {
    this.store = openSqliteStore(join(this.dir, 'coordinator.db'));
    this.app = app(this.store);
  }

  static async start(): Promise<RealCoordinator> {
    const checkElements = await loadSodiumElementChecker();
    const notifier = memoryNotifier();
    let c: RealCoordinator | undefined;
    c = new RealCoordinator((store) => createApp({ store, checkElements, notifier, log: (e) => c?.logs.push(e) }));
    const at = new Date().toISOString();
    await c.store.initialise({ adminKey: ed25519.getPublicKey(c.adminSecret), handleKey: randomBytes(32), epoch: { id: 'e1', startedAt: at }, at });
    await c.listen();
    return c;
  }

  /** (Re)starts listening, on the same port after a {@link pause}. */
  async listen(): Promise<void> {
    const server = serve({ fetch: (req, env) => this.handle(req, env as HttpBindings), hostname: '127.0.0.1', port: this.port }) as Server;
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
  }

  /** Stops listening (connections refused) without closing the store: a coordinator restart. */
  async pause(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  async stop(): Promise<void> {
    await this.pause();
    await this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async handle(req: Request, env: HttpBindings): Promise<Response> {
    const url = new URL(req.url);
    const agency = keyidOf(req.headers);
    const r: FaultRequest = { method: req.method, path: url.pathname, agency };
    let action: FaultAction;
    for (const f of this.faults) action ??= await f(r);
    if (action === 'fail-503') {
      return new Response(JSON.stringify({ type: 'urn:concordat:problem:internal', title: 'Service Unavailable', status: 503, detail: 'injected' }), {
        status: 503,
        headers: { 'content-type': 'application/problem+json' },
      });
    }
    let forward = req;
    if (req.method === 'PUT' && /\/partner-set\/chunks\/\d+\/tokens$/.test(url.pathname) && this.corruptTokensOf.has(agency)) {
      const secretKey = this.signers.get(agency);
      if (!secretKey) throw new Error(`test harness: no signing key registered for ${agency}`);
      const body = new Uint8Array(await req.arrayBuffer()).map((b) => b ^ 0x5a);
      const headers = new Headers(req.headers);
      const epoch = req.headers.get(EPOCH_FIELD);
      const sig = signRequest({ method: req.method, url, body, headers: epoch === null ? {} : { [EPOCH_FIELD]: epoch }, keyid: agency, secretKey, created: Math.floor(Date.now() / 1000), nonce: newNonce() });
      for (const [k, v] of Object.entries(sig)) headers.set(k, v);
      forward = new Request(req.url, { method: req.method, headers, body });
    }
    this.seen.push({ ...r, epoch: req.headers.get('concordat-epoch') });
    const res = await this.app.fetch(forward, env);
    if (action === 'drop-after') {
      // The coordinator has acted on the request; the client never hears about it.
      await res.arrayBuffer();
      env.incoming.socket.destroy();
      return new Response(null, { status: 204 });
    }
    return res;
  }

  /** An SDK client for an agency (or the admin), with short backoffs. */
  client(keyId: string, secretKey: Uint8Array, retries = 3): CoordinatorClient {
    return new CoordinatorClient({ baseUrl: this.url, keyId, secretKey, retries, backoffBaseMs: 5, backoffMaxMs: 50 });
  }

  admin(): CoordinatorClient {
    return this.client('admin', this.adminSecret, 0);
  }

  private async adminJson(method: string, path: string, body?: unknown): Promise<any> {
    const res = await this.admin().request(method, path, body === undefined ? {} : { body: new TextEncoder().encode(JSON.stringify(body)), contentType: 'application/json' });
    return JSON.parse(new TextDecoder().decode(res.body));
  }

  /** Registers an agency; `secretKey` (its signing key) lets the harness re-sign requests it tampers with. */
  async addAgency(id: string, publicKeyHex: string, country = 'ESP', secretKey?: Uint8Array): Promise<void> {
    if (secretKey) this.signers.set(id, secretKey);
    await this.adminJson('POST', '/v1/admin/agencies', { id, name: `${id} agency`, country, signingKey: publicKeyHex.trim() });
  }

  async addAgreement(a: AgreementInput): Promise<any> {
    const { validUntil, legalBasis, queryQuota, ...rest } = a;
    return this.adminJson('POST', '/v1/admin/agreements', {
      ...rest,
      ...(queryQuota ? { queryQuota } : {}),
      validUntil: validUntil ?? '2030-12-31',
      legalBasis: legalBasis ?? 'Test treaty art. 1',
    });
  }

  async rotate(): Promise<{ epoch: { id: string }; previous: string }> {
    return this.adminJson('POST', '/v1/admin/epochs/rotate', {});
  }

  /** Chunk count of an agency's side of a pair, as the agency sees it. */
  async chunksOf(pair: string, owner: { agency: string; signingKey: Uint8Array }): Promise<string[]> {
    const s = await this.client(owner.agency, owner.signingKey).status(pair);
    return s.mine.chunks.map((c) => c.sha256);
  }
}

/**
 * `agency` accepts the latest (or the given) version of agreement `id`, locally
 * and at the coordinator, as `concordat agreements accept --yes` does
 * (protocol/SPEC.md §8.6): nothing flows under an agreement before that.
 */
export async function acceptAs(coord: RealCoordinator, agency: Agency, store: Store, id: string, version?: number): Promise<void> {
  await acceptAgreementVersion(agency, store, coord.client(agency.agency, agency.signingKey), { id, ...(version ? { version } : {}), officer: 'test.officer' });
}

export function hex(b: Uint8Array): string {
  return bytesToHex(b);
}
