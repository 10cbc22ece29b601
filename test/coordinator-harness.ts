// Shared set-up for the coordinator tests: a fresh store of the runtime the
// suite runs on (SQLite on Node, D1 and Durable Objects inside workerd; see
// coordinator-runtime.ts), the app driven through app.request, requests
// signed exactly as an agency or the admin signs them.
import { ed25519 } from '@noble/curves/ed25519.js';
import { acceptAgreement, parseAgreement, type AgreementTerms } from '../protocol/agreement.js';
import { bytesToHex, hexToBytes, utf8 } from '../protocol/bytes.js';
import { CONCORDAT_SUITE, epochInfo } from '../protocol/constants.js';
import { signEpochKey } from '../protocol/epoch-key.js';
import { signRequest, toBase64 } from '../protocol/http-signature.js';
import { chunkManifest, signChunk } from '../protocol/manifest.js';
import { queryValuesDigest, signQuery } from '../protocol/signed-query.js';
import { byteSequence } from '../src/signatures.js';
import { CHUNK_SIGNATURE_HEADER, EPOCH_HEADER } from '../wire/index.js';
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
  /**
   * Send the body exactly as given. Otherwise the harness does what an
   * agency's client does: a chunk upload gets the uploader's signed manifest
   * (protocol/SPEC.md §8.8), a query body with `partners` becomes signed legs (§8.9).
   */
  raw?: boolean;
  /** Sign the chunk manifest or the query legs with this key instead of the signer's. */
  documentKey?: Uint8Array;
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
  /** The signers of the registered agencies, by id (the harness holds the agencies' test keys). */
  signers: Map<string, Signer>;
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

  const signers = new Map<string, Signer>();

  /** What an agency's client adds to a request: the chunk manifest signature, signed query legs. */
  async function asClient(signer: Signer, method: string, path: string, o: SendOptions): Promise<SendOptions> {
    const chunk = /^\/v1\/pairs\/([^/]+)\/set\/chunks\/(\d+)$/.exec(path);
    const key = o.documentKey ?? signer.secretKey;
    if (method === 'PUT' && chunk && o.body instanceof Uint8Array && !Object.keys(o.headers ?? {}).some((k) => k.toLowerCase() === CHUNK_SIGNATURE_HEADER.toLowerCase())) {
      const sig = await chunkSignature(signer.keyid, decodeURIComponent(chunk[1] as string), Number(chunk[2]), o.body, o.headers?.[EPOCH_HEADER], key);
      if (sig) return { ...o, headers: { ...(o.headers ?? {}), [CHUNK_SIGNATURE_HEADER]: byteSequence(sig) } };
    }
    if (method === 'POST' && path === '/v1/queries' && o.body && !(o.body instanceof Uint8Array)) {
      const b = o.body as Record<string, unknown>;
      if (Array.isArray(b.partners) && b.legs === undefined) return { ...o, body: await signedQueryBody(signer.keyid, b, key) };
    }
    return o;
  }

  /** The pair's agreement version that governs now (active if any). */
  async function versionOf(pairId: string): Promise<{ id: string; version: number } | undefined> {
    const pair = await store.getPair(pairId);
    const a = pair ? await store.getAgreement(pair.agreementId) : undefined;
    return a ? { id: a.id, version: a.version } : undefined;
  }

  async function chunkSignature(agency: string, pairId: string, index: number, body: Uint8Array, epochHeader: string | undefined, key: Uint8Array): Promise<Uint8Array | undefined> {
    const pair = await store.getPair(pairId);
    const agreement = await versionOf(pairId);
    if (!pair || !agreement || body.length === 0 || body.length % 32 !== 0 || body.length > 65_536 * 32) return undefined;
    const epoch = epochHeader ?? (await store.currentEpoch()).id;
    const side = pair.agencies[0] === agency ? 0 : 1;
    const ps = store.pair(pairId);
    const existing = await ps.getChunk(epoch, side, index);
    const prev = index === 0 ? undefined : await ps.getChunk(epoch, side, index - 1);
    const firstPosition = existing ? existing.firstPosition : prev ? prev.firstPosition + prev.count : 0;
    try {
      return signChunk(chunkManifest({ pair: pairId, agreement, epoch, agency, index, firstPosition }, body), key);
    } catch {
      return undefined;
    }
  }

  /** `{partners, …}` → `{queryId, createdAt, legs, …}` with each leg signed as the requester's client signs it. */
  async function signedQueryBody(requester: string, b: Record<string, unknown>, key: Uint8Array): Promise<Record<string, unknown>> {
    const { partners, ...rest } = b as { partners: string[] } & Record<string, unknown>;
    const queryId = crypto.randomUUID();
    const createdAt = clock.now.toISOString();
    const epoch = (await store.currentEpoch()).id;
    const blinded = Array.isArray(b.blinded) ? (b.blinded as string[]) : [];
    let valuesSha256 = '00'.repeat(32);
    try {
      valuesSha256 = queryValuesDigest(blinded.map((x) => hexToBytes(x)));
    } catch {
      // A malformed value: the coordinator refuses the body before any signature.
    }
    const mine = await store.listPairsOf(requester);
    const legs = [];
    for (const partner of partners) {
      // The pair a client would pick: of an active agreement allowing the kind and purpose, else any with the partner.
      const withPartner = [];
      for (const p of mine.filter((x) => x.agencies.includes(partner))) withPartner.push({ pair: p, agreement: await store.getAgreement(p.agreementId) });
      withPartner.sort((x, y) => (x.pair.agreementId < y.pair.agreementId ? -1 : 1));
      const fits = withPartner.find(
        (x) => x.agreement?.status === 'active' && x.agreement.mode === 'reveal' && x.agreement.kinds.includes(String(b.kind)) && x.agreement.purposes.includes(String(b.purpose)),
      );
      const chosen = fits ?? withPartner[0];
      const [x, y] = requester < partner ? [requester, partner] : [partner, requester];
      const pair = chosen?.pair.id ?? `none~${x}~${y}`;
      const agreement = chosen?.agreement ? { id: chosen.agreement.id, version: chosen.agreement.version } : { id: 'none', version: 1 };
      let signature = '00'.repeat(64);
      try {
        signature = bytesToHex(
          signQuery(
            {
              id: queryId,
              requester,
              responder: partner,
              pair,
              agreement,
              epoch,
              kind: String(b.kind),
              purpose: String(b.purpose),
              caseRef: String(b.caseRef),
              count: blinded.length,
              valuesSha256,
              createdAt,
            },
            key,
          ),
        );
      } catch {
        // A body the statement schema refuses: the coordinator's own validation answers it.
      }
      legs.push({ partner, agreement, pair, epoch, signature });
    }
    return { queryId, createdAt, legs, ...rest };
  }

  async function send(signer: Signer | undefined, method: string, path: string, o: SendOptions = {}): Promise<Response> {
    if (signer && !o.raw && signers.has(signer.keyid)) o = await asClient(signer, method, path, o);
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
    signers,
    async json(signer, method, path, o) {
      const res = await send(signer, method, path, o);
      const text = await res.text();
      return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
    },
    async addAgency(id, country) {
      const s = newSigner(id);
      const r = await h.json(admin, 'POST', '/v1/admin/agencies', { body: { id, name: `${id} agency`, country, signingKey: bytesToHex(s.publicKey) } });
      if (r.status !== 201) throw new Error(`addAgency ${id}: ${r.status} ${JSON.stringify(r.body)}`);
      signers.set(id, s);
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

/** The `epoch-key` statement signature of `s` for its key in `pair` (protocol/SPEC.md §8.7). */
export function epochKeySignature(s: Signer, pair: string, agreement: { id: string; version: number }, publicKey: Uint8Array, epoch = 'e1'): string {
  return bytesToHex(signEpochKey({ agency: s.keyid, epoch, pair, agreement, publicKey: bytesToHex(publicKey) }, s.secretKey));
}

/** Publish one signed key for one pair. */
export async function publishPairKey(h: Harness, s: Signer, pair: string, kp: KeyPair, epoch = 'e1'): Promise<{ status: number; body: any }> {
  const a = await h.store.getAgreement((await h.store.getPair(pair))?.agreementId ?? '');
  const agreement = { id: a?.id ?? 'none', version: a?.version ?? 1 };
  return h.json(s, 'PUT', `/v1/pairs/${encodeURIComponent(pair)}/epoch-key`, { body: { epoch, publicKey: bytesToHex(kp.pk), signature: epochKeySignature(s, pair, agreement, kp.pk, epoch) } });
}

/**
 * Publish `kp` for every pair the agency is in today, each with its own
 * signed statement. One key for all pairs is what the coordinator cannot tell
 * from per-pair keys (it never sees a secret), and keeps the tests' token arithmetic simple.
 */
export async function publishKey(h: Harness, s: Signer, kp: KeyPair, epoch = 'e1'): Promise<void> {
  const me = await h.json(s, 'GET', '/v1/me');
  if (me.status !== 200) throw new Error(`publishKey: ${me.status} ${JSON.stringify(me.body)}`);
  for (const p of me.body.pairs as { pair: string }[]) {
    const r = await publishPairKey(h, s, p.pair, kp, epoch);
    if (r.status !== 201 && r.status !== 200) throw new Error(`publishKey: ${r.status} ${JSON.stringify(r.body)}`);
  }
}

/** The admin proposes an agreement (or a new version); it stays `proposed` until every party accepted it. */
export async function proposeAgreement(h: Harness, body: Record<string, unknown>): Promise<any> {
  const r = await h.json(h.admin, 'POST', '/v1/admin/agreements', {
    body: { kinds: ['email', 'passport'], mode: 'reveal', validUntil: '2026-12-31', legalBasis: 'Test treaty art. 1', ...body },
  });
  if (r.status !== 201 && r.status !== 200) throw new Error(`proposeAgreement: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.agreement;
}

/** `s` accepts the terms: its signature over them (protocol/SPEC.md §8.6), posted. */
export async function acceptAs(h: Harness, s: Signer, terms: AgreementTerms): Promise<{ status: number; body: any }> {
  const signature = bytesToHex(acceptAgreement(parseAgreement(terms), s.keyid, s.secretKey));
  return h.json(s, 'POST', `/v1/agreements/${terms.id}/versions/${terms.version}/acceptance`, { body: { signature } });
}

/** Propose an agreement and accept it as every party, so that it is `active`; returns the admin's view of it. */
export async function addAgreement(h: Harness, body: Record<string, unknown>): Promise<any> {
  const proposed = await proposeAgreement(h, body);
  for (const party of proposed.terms.parties as { agency: string }[]) {
    const s = h.signers.get(party.agency);
    if (!s) throw new Error(`addAgreement: no test key for ${party.agency}`);
    const r = await acceptAs(h, s, proposed.terms);
    if (r.status !== 200) throw new Error(`addAgreement: accept as ${party.agency}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const all = await h.json(h.admin, 'GET', '/v1/admin/agreements');
  return (all.body.agreements as { id: string; version: number }[]).find((a) => a.id === proposed.id && a.version === proposed.version);
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
