// Shared set-up for the coordinator tests: a fresh store of the runtime the
// suite runs on (SQLite on Node, D1 and Durable Objects inside workerd; see
// coordinator-runtime.ts), the app driven through app.request, requests
// signed exactly as an agency or the admin signs them.
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, utf8 } from '../protocol/bytes.js';
import { CONCORDAT_SUITE, epochInfo } from '../protocol/constants.js';
import { signRequest, toBase64 } from '../protocol/http-signature.js';
import { deriveKeyPair, type KeyPair } from '../protocol/keys.js';
import { randomBytes } from '../protocol/rng.js';
import { createApp, type LogEntry, type Notifier } from '../src/app.js';
import type { ElementChecker } from '../src/elements.js';
import type { Store } from '../src/store/types.js';
import { openTestStore, testNotifier, type Row, type TestStore } from './coordinator-runtime.js';

export const T0 = new Date('2026-03-10T12:00:00Z');

export interface Signer {
  keyid: string;
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export function newSigner(keyid: string): Signer {
  const secretKey = randomBytes(32);
  return { keyid, secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

export function nonce(): string {
  return toBase64(randomBytes(24)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export interface SendOptions {
  body?: Uint8Array | object;
  /** Override the signature's `created` (seconds). */
  created?: number;
  nonce?: string;
  /** Sign these bytes but send `body` (digest mismatch). */
  signedBody?: Uint8Array;
  /** Sign with this key while claiming the signer's keyid. */
  signWith?: Uint8Array;
  unsigned?: boolean;
  /** Sign this query instead of the one sent. */
  signedQuery?: string;
  /** Extra request headers, signed too (e.g. `Concordat-Epoch`). */
  headers?: Record<string, string>;
}

export interface Harness<S extends Store = Store> {
  store: S;
  app: ReturnType<typeof createApp>;
  clock: { now: Date };
  admin: Signer;
  logs: LogEntry[];
  send(signer: Signer | undefined, method: string, path: string, opts?: SendOptions): Promise<Response>;
  json<T = any>(signer: Signer | undefined, method: string, path: string, opts?: SendOptions): Promise<{ status: number; body: T }>;
  addAgency(id: string, country: string): Promise<Signer>;
  /** Rows of a query on the control-plane tables. */
  controlRows(sql: string, ...params: unknown[]): Promise<Row[]>;
  /** Rows of a query on the per-pair tables holding `pairId`'s data. */
  pairRows(pairId: string, sql: string, ...params: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  checkElements?: ElementChecker;
  /** Wake long polls at once where the runtime can (as `coordinator serve` does); without it the app polls the store. */
  notifier?: boolean;
}

export async function makeHarness(opts: HarnessOptions = {}): Promise<Harness> {
  return harnessOn(await openTestStore(), opts);
}

/** A harness over a given test store (coordinator-harness-sqlite.ts uses it for the Node-only tests). */
export async function harnessOn<S extends Store, F extends TestStore<S>>(fixture: F, opts: HarnessOptions = {}): Promise<Harness<S> & Omit<F, keyof TestStore<S>>> {
  const { store } = fixture;
  const clock = { now: new Date(T0) };
  const admin = newSigner('admin');
  await store.initialise({ adminKey: admin.publicKey, handleKey: randomBytes(32), epoch: { id: 'e1', startedAt: clock.now.toISOString() }, at: clock.now.toISOString() });
  const logs: LogEntry[] = [];
  const notifier: Notifier | undefined = opts.notifier ? testNotifier() : undefined;
  const app = createApp({
    store,
    now: () => clock.now,
    log: (e) => logs.push(e),
    ...(opts.checkElements ? { checkElements: opts.checkElements } : {}),
    ...(notifier ? { notifier } : {}),
  });

  async function send(signer: Signer | undefined, method: string, path: string, o: SendOptions = {}): Promise<Response> {
    const body =
      o.body === undefined ? new Uint8Array(0) : o.body instanceof Uint8Array ? o.body : utf8(JSON.stringify(o.body));
    const url = new URL(path, 'http://coordinator.test');
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (signer && !o.unsigned) {
      Object.assign(
        headers,
        signRequest({
          method,
          authority: url.host,
          path: url.pathname,
          query: o.signedQuery ?? (url.search === '' ? '?' : url.search),
          body: o.signedBody ?? body,
          headers: o.headers,
          keyid: signer.keyid,
          secretKey: o.signWith ?? signer.secretKey,
          created: o.created ?? Math.floor(clock.now.getTime() / 1000),
          nonce: o.nonce ?? nonce(),
        }),
      );
    }
    if (o.body !== undefined) headers['content-type'] = o.body instanceof Uint8Array ? 'application/octet-stream' : 'application/json';
    return app.request(url.toString(), { method, headers, ...(method === 'GET' || method === 'HEAD' ? {} : { body }) });
  }

  const h: Harness<S> & Omit<F, keyof TestStore<S>> = {
    ...fixture,
    store,
    app,
    clock,
    admin,
    logs,
    send,
    async json(signer, method, path, o) {
      const res = await send(signer, method, path, o);
      const text = await res.text();
      return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
    },
    async addAgency(id, country) {
      const s = newSigner(id);
      const r = await h.json(admin, 'POST', '/v1/admin/agencies', { body: { id, name: `${id} agency`, country, signingKey: bytesToHex(s.publicKey) } });
      if (r.status !== 201) throw new Error(`addAgency ${id}: ${r.status} ${JSON.stringify(r.body)}`);
      return s;
    },
    controlRows: (sql, ...params) => fixture.controlRows(sql, ...params),
    pairRows: (pairId, sql, ...params) => fixture.pairRows(pairId, sql, ...params),
    close: () => fixture.close(),
  };
  return h;
}

/** An epoch key pair derived as an agency derives it: from its seed and the epoch id (protocol/SPEC.md §1.4). */
export function epochKeyPair(epoch = 'e1', seed: Uint8Array = randomBytes(32)): KeyPair & { seed: Uint8Array } {
  return { seed, ...deriveKeyPair(CONCORDAT_SUITE, seed, epochInfo(epoch)) };
}

export async function publishKey(h: Harness, s: Signer, kp: KeyPair, epoch = 'e1'): Promise<void> {
  const r = await h.json(s, 'PUT', '/v1/epoch-key', { body: { epoch, publicKey: bytesToHex(kp.pk) } });
  if (r.status !== 201 && r.status !== 200) throw new Error(`publishKey: ${r.status} ${JSON.stringify(r.body)}`);
}

export async function addAgreement(h: Harness, body: Record<string, unknown>): Promise<any> {
  const r = await h.json(h.admin, 'POST', '/v1/admin/agreements', {
    body: { kinds: ['email', 'passport'], mode: 'reveal', validUntil: '2026-12-31', legalBasis: 'Test treaty art. 1', ...body },
  });
  if (r.status !== 201) throw new Error(`addAgreement: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.agreement;
}

/** Fisher–Yates with WebCrypto randomness. */
export function shuffle<T>(xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const r = randomBytes(4);
    const j = (((r[0] as number) << 24) | ((r[1] as number) << 16) | ((r[2] as number) << 8) | (r[3] as number)) >>> 0;
    const k = j % (i + 1);
    [a[i], a[k]] = [a[k] as T, a[i] as T];
  }
  return a;
}

export function concat(chunks: Uint8Array[]): Uint8Array {
  const n = chunks.reduce((s, c) => s + c.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
