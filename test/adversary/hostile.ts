// A hostile coordinator (protocol/SPEC.md §5.2, "Active"): the REAL
// coordinator — `createApp` over the SQLite store, served on 127.0.0.1 as
// `coordinator serve` builds it — behind a hostile layer that can rewrite any
// request or response per route, answer in the coordinator's place (forged
// inbox entries, work, /v1/me), and write straight into the coordinator's
// database (a stolen database or cloud account). The layer holds no agency
// key: whatever it forges it must forge without the agencies' signatures,
// exactly as an operator would.
//
// Every request the layer sees is kept with its body, so a test can show that
// an attack was harmless (no answer, no tokens, no canaries reached the
// coordinator) and the privacy test can scan the wire.
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type HttpBindings } from '@hono/node-server';
import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '../../protocol/rng.js';
import { CoordinatorClient } from '../../clients/sdk/client.js';
import { createApp, type LogEntry } from '../../src/app.js';
import { loadSodiumElementChecker } from '../../src/node/elements.js';
import { memoryNotifier } from '../../src/node/notifier.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';

/** One request as the hostile layer saw it, before any rewriting. */
export interface Exchange {
  seq: number;
  method: string;
  path: string;
  search: string;
  /** keyid of the request signature ('' when unsigned). */
  agency: string;
  /** The Concordat-Epoch header, when sent. */
  epoch: string | null;
  headers: Headers;
  body: Uint8Array;
  /** Status the client was given (set once answered). */
  status?: number;
  /** A long poll answered with forged entries while the real one still ran: its late answer goes nowhere. */
  abandoned?: boolean;
}

/**
 * One hostile behaviour. `when` selects requests; then, in this order,
 * `answer` replaces the coordinator entirely (it never sees the request),
 * otherwise the request goes to the real app and `response` may rewrite what
 * comes back. `times` bounds how often the rule fires (default: always).
 */
export interface Rule {
  label: string;
  when: (x: Exchange) => boolean;
  answer?: (x: Exchange) => Response | Promise<Response>;
  response?: (res: Response, x: Exchange) => Response | Promise<Response>;
  times?: number;
  fired?: number;
}

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

const keyidOf = (h: Headers): string => /keyid="([^"]*)"/.exec(h.get('signature-input') ?? '')?.[1] ?? '';
const dec = new TextDecoder();

export function json(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });
}

/** The response with its JSON body passed through `f` (status and content type kept). */
export async function rewriteJson(res: Response, f: (body: any) => unknown): Promise<Response> {
  const text = await res.text();
  if (!res.ok || !(res.headers.get('content-type') ?? '').includes('json')) return new Response(text, { status: res.status, headers: res.headers });
  const out = f(JSON.parse(text));
  const headers = new Headers(res.headers);
  headers.delete('content-length');
  return new Response(JSON.stringify(out), { status: res.status, headers });
}

export const bodyText = (x: Exchange): string => dec.decode(x.body);
export const bodyJson = (x: Exchange): any => JSON.parse(bodyText(x));

export class HostileCoordinator {
  readonly dir = mkdtempSync(join(tmpdir(), 'concordat-hostile-'));
  readonly store: SqliteStore;
  /** The app's request log (what `coordinator serve` would write to its log). */
  readonly logs: LogEntry[] = [];
  /** Every request that reached the hostile layer, in order. */
  readonly seen: Exchange[] = [];
  rules: Rule[] = [];
  url = '';
  private server: Server | undefined;
  private port = 0;
  private readonly adminSecret = randomBytes(32);
  private readonly app: ReturnType<typeof createApp>;
  private readonly inbox = new Map<string, unknown[]>();
  private readonly inboxWaiters = new Map<string, Set<() => void>>();

  private constructor(app: (store: SqliteStore) => ReturnType<typeof createApp>) {
    this.store = openSqliteStore(join(this.dir, 'coordinator.db'));
    this.app = app(this.store);
  }

  static async start(): Promise<HostileCoordinator> {
    const checkElements = await loadSodiumElementChecker();
    const notifier = memoryNotifier();
    let c: HostileCoordinator | undefined;
    c = new HostileCoordinator((store) => createApp({ store, checkElements, notifier, log: (e) => c?.logs.push(e) }));
    const at = new Date().toISOString();
    await c.store.initialise({ adminKey: ed25519.getPublicKey(c.adminSecret), handleKey: randomBytes(32), epoch: { id: 'e1', startedAt: at }, at });
    await c.listen();
    return c;
  }

  /** The raw database of the coordinator: what a stolen database or cloud account gives. */
  get db(): SqliteStore['client'] {
    return this.store.client;
  }

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

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
    await this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Adds a rule in front of the others; returns a function that removes it. */
  use(rule: Rule): () => void {
    this.rules.unshift(rule);
    return () => {
      this.rules = this.rules.filter((r) => r !== rule);
    };
  }

  /**
   * Queues forged entries for `agency`'s query inbox: the next inbox request
   * (or the one already waiting in a long poll) is answered with them by the
   * hostile layer, as if the coordinator held them.
   */
  injectInbox(agency: string, ...entries: unknown[]): void {
    const q = this.inbox.get(agency) ?? [];
    q.push(...entries);
    this.inbox.set(agency, q);
    for (const wake of this.inboxWaiters.get(agency) ?? []) wake();
  }

  /** Requests seen since `mark` (an index into {@link seen}), optionally filtered. */
  since(mark: number, f: (x: Exchange) => boolean = () => true): Exchange[] {
    return this.seen.slice(mark).filter(f);
  }

  private async handle(req: Request, env: HttpBindings): Promise<Response> {
    const url = new URL(req.url);
    const body = req.method === 'GET' || req.method === 'HEAD' ? new Uint8Array(0) : new Uint8Array(await req.arrayBuffer());
    const x: Exchange = {
      seq: this.seen.length,
      method: req.method,
      path: url.pathname,
      search: url.search,
      agency: keyidOf(req.headers),
      epoch: req.headers.get('concordat-epoch'),
      headers: req.headers,
      body,
    };
    this.seen.push(x);
    const res = await this.respond(req, x, env);
    x.status = res.status;
    return res;
  }

  private forward(req: Request, x: Exchange, env: HttpBindings): Promise<Response> {
    const init: RequestInit = { method: req.method, headers: req.headers };
    if (x.body.length > 0 || (req.method !== 'GET' && req.method !== 'HEAD')) init.body = x.body;
    return Promise.resolve(this.app.fetch(new Request(req.url, init), env));
  }

  private async respond(req: Request, x: Exchange, env: HttpBindings): Promise<Response> {
    if (x.method === 'GET' && x.path === '/v1/queries/inbox') return this.inboxRound(req, x, env);
    return this.viaRules(req, x, env);
  }

  private async viaRules(req: Request, x: Exchange, env: HttpBindings): Promise<Response> {
    for (const r of this.rules.filter((r) => (r.times === undefined || (r.fired ?? 0) < r.times) && r.when(x))) {
      if (!r.answer) continue;
      r.fired = (r.fired ?? 0) + 1;
      return r.answer(x);
    }
    let res = await this.forward(req, x, env);
    if (x.method === 'GET' && /\/partner-set\/chunks\/\d+$/.test(x.path) && res.status === 200) res = await this.captureChunk(x, res);
    // Nobody will read it: rewriting it would spend a rule (`times`) on nothing.
    if (x.abandoned) return res;
    // Chosen when the response is there: a long poll that began before a rule was installed still meets it.
    for (const r of this.rules.filter((r) => (r.times === undefined || (r.fired ?? 0) < r.times) && r.when(x))) {
      if (!r.response) continue;
      r.fired = (r.fired ?? 0) + 1;
      res = await r.response(res, x);
    }
    return res;
  }

  /**
   * An inbox request: forged entries queued for the caller are handed out at
   * once, or as soon as they are queued while the real long poll waits (its
   * eventual answer is dropped; anything real it held stays pending in the
   * coordinator and comes with the next poll).
   */
  private async inboxRound(req: Request, x: Exchange, env: HttpBindings): Promise<Response> {
    const take = (): Response | undefined => {
      const q = this.inbox.get(x.agency);
      if (!q || q.length === 0) return undefined;
      return json({ queries: q.splice(0) });
    };
    const now = take();
    if (now) return now;
    const waiters = this.inboxWaiters.get(x.agency) ?? new Set<() => void>();
    this.inboxWaiters.set(x.agency, waiters);
    let wake: () => void = () => {};
    const woken = new Promise<'forged'>((r) => (wake = () => r('forged')));
    waiters.add(wake);
    try {
      const real = this.viaRules(req, x, env).then((res) => this.captureInbox(x.agency, res));
      real.catch(() => {});
      const first = await Promise.race([real, woken]);
      if (first === 'forged') {
        const forged = take();
        if (forged) {
          x.abandoned = true;
          return forged;
        }
        return await real;
      }
      return first;
    } finally {
      waiters.delete(wake);
    }
  }

  /** Real inbox entries the coordinator handed out, by query id: templates a hostile operator can replay or alter. */
  readonly relayed = new Map<string, { agency: string; entry: any }>();

  private async captureInbox(agency: string, res: Response): Promise<Response> {
    if (res.status !== 200) return res;
    const text = await res.text();
    try {
      for (const q of (JSON.parse(text) as { queries?: Array<{ queryId: string }> }).queries ?? []) this.relayed.set(q.queryId, { agency, entry: q });
    } catch {
      // Not JSON: handed on as it came.
    }
    return new Response(text, { status: res.status, headers: res.headers });
  }

  /** Partner chunks the coordinator served, with the uploader's manifest and signature headers, by path. */
  readonly served = new Map<string, { agency: string; bytes: Uint8Array; headers: Headers }>();

  private async captureChunk(x: Exchange, res: Response): Promise<Response> {
    const bytes = new Uint8Array(await res.arrayBuffer());
    this.served.set(x.path, { agency: x.agency, bytes, headers: new Headers(res.headers) });
    return new Response(bytes, { status: res.status, headers: res.headers });
  }

  // ---- the operator's legitimate admin API (the admin key is the coordinator's own) ----

  client(keyId: string, secretKey: Uint8Array, retries = 2): CoordinatorClient {
    return new CoordinatorClient({ baseUrl: this.url, keyId, secretKey, retries, backoffBaseMs: 5, backoffMaxMs: 50 });
  }

  admin(): CoordinatorClient {
    return this.client('admin', this.adminSecret, 0);
  }

  async adminJson(method: string, path: string, body?: unknown): Promise<any> {
    const res = await this.admin().request(method, path, body === undefined ? {} : { body: new TextEncoder().encode(JSON.stringify(body)), contentType: 'application/json' });
    return JSON.parse(dec.decode(res.body));
  }

  async addAgency(id: string, publicKeyHex: string, country: string): Promise<void> {
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
}
