// The signed HTTP client every agency command is built on. Paths, methods and
// response schemas come from the route definitions of the wire contract
// (wire/). Every request is an RFC 9421 message signature over method,
// authority, path, query and Content-Digest (src/API.md, "Authentication");
// each attempt is signed afresh, because the coordinator refuses a nonce it
// has already seen and a `created` older than 300 s, so a retried request
// must never reuse the previous attempt's headers.
import { randomBytes } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { z as zod, type z } from 'zod';
import { bytesToHex } from '../../protocol/bytes.js';
import { signRequest } from '../../protocol/http-signature.js';
import {
  BINARY_TYPE,
  CHUNK_MANIFEST_HEADER,
  CHUNK_SIGNATURE_HEADER,
  ELEMENT_BYTES,
  EPOCH_HEADER,
  getAgreementVersions,
  getAudit,
  getAuditConsistency,
  getAuditHead,
  getAuditInclusion,
  getHits,
  getInbox,
  getMe,
  getPairStatus,
  getPartnerChunk,
  getPartnerRemovals,
  getQuery,
  getResults,
  ENTITY_TAG_PATTERN,
  hitsResponse,
  resultsResponse,
  getWork,
  JSON_TYPE,
  MAX_WAIT_SECONDS,
  okSchema,
  pathOf,
  postAcceptance,
  postAnswer,
  postCanariesDone,
  postConfirm,
  postDecline,
  postOutcome,
  postQuery,
  postRefusal,
  postRejection,
  postRemovals,
  PROBLEM_TYPE,
  putCanaries,
  putChunk,
  putPairEpochKey,
  putLinks,
  putTokens,
  type OkSchema,
  type PathParams,
  type WireRoute,
} from '../../wire/index.js';
import {
  hitReplySchema,
  inboxQuerySchema,
  type AgreementVersion,
  type AuditPage,
  type ChunkReceipt,
  type ConsistencyProofReply,
  type InclusionProofReply,
  type SignedTreeHeadReply,
  type CreateQueryBody,
  type CreateQueryReply,
  type Hit,
  type InboxQuery,
  type Me,
  type OutcomeLeg,
  type OutcomeReply,
  type PartnerRemovalsPage,
  type PairStatus,
  type QueryState,
  type Results,
  type WorkTask,
} from './api.js';
import {
  ChunkConflictError,
  CoordinatorError,
  CoordinatorUnreachableError,
  ProtocolMismatchError,
  ProtocolViolationError,
  describeNetworkError,
  type ProblemDocument,
} from './errors.js';

export interface RetryEvent {
  method: string;
  path: string;
  /** 1-based number of the attempt that failed. */
  attempt: number;
  delayMs: number;
  reason: string;
}

export interface CoordinatorClientOptions {
  /** Coordinator base URL, e.g. `http://127.0.0.1:8787` (a path prefix is kept). */
  baseUrl: string;
  /** Signature keyid: the agency id (or `admin`). */
  keyId: string;
  /** Ed25519 secret key, 32 bytes. */
  secretKey: Uint8Array;
  /** Per-attempt timeout; default 120 s, enough for a 2 MiB chunk on a slow link. */
  timeoutMs?: number;
  /** Further attempts after the first on network errors, 5xx and 429; default 5. */
  retries?: number;
  /** First backoff delay; doubles per attempt, with jitter; default 500 ms. */
  backoffBaseMs?: number;
  /** Cap of one backoff delay; default 30 s. */
  backoffMaxMs?: number;
  /** Seconds since the Unix epoch, for `created`. */
  now?: () => number;
  fetch?: typeof fetch;
  onRetry?: (e: RetryEvent) => void;
  /**
   * The protocol the coordinator must name on `GET /` (e.g. `concordat-v2`):
   * checked once, unsigned, before the first signed request, so a client
   * never signs anything for a coordinator speaking another protocol.
   */
  protocol?: string;
  /** Another Ed25519 signer for the requests (same bytes; see signRequest); default @noble/curves, which runs anywhere. */
  sign?: (message: Uint8Array, secretKey: Uint8Array) => Uint8Array;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

export interface RequestOptions {
  body?: Uint8Array;
  contentType?: string;
  accept?: string;
  /** Extra request headers (e.g. `Concordat-Epoch`). */
  headers?: Record<string, string>;
  /**
   * False for the few routes that are not idempotent (creating a query):
   * such a request is retried only when it certainly did not reach the
   * coordinator's logic (connection refused, 502/503/504), never after a
   * timeout or a reset, which could have come after the coordinator acted.
   */
  idempotent?: boolean;
  /** Further attempts after the first; default: the client's. */
  retries?: number;
  /** Per-attempt timeout; default: the client's (long polls need more). */
  timeoutMs?: number;
  /** Aborts the request and its retries (a daemon shutting down). */
  signal?: AbortSignal;
  /** Statuses that are never retried, e.g. 429 for a quota that resets at midnight. */
  noRetryStatuses?: number[];
  /** A 304 Not Modified is an answer, not an error (only with an If-None-Match header). */
  notModified?: boolean;
}

/** A conditional GET's answer: the document and its ETag, or `notModified` for the document whose tag was sent. */
export type Conditional<T> = { notModified: true } | { notModified: false; data: T; etag: string | null };

/** The header that binds every upload to an epoch (API.md part 2, "Epochs"). */
export { EPOCH_HEADER };

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A nonce of 24 random bytes, base64url (32 characters; API.md allows 16..128). */
export function newNonce(): string {
  return randomBytes(24).toString('base64url');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    function abort() {
      clearTimeout(t);
      reject(signal?.reason as Error);
    }
    signal?.addEventListener('abort', abort, { once: true });
  });
}

/** True when a fetch failure happened before the request could reach the server. */
function neverSent(e: unknown): boolean {
  const cause = e && typeof e === 'object' ? (e as { cause?: unknown }).cause : undefined;
  const code = cause && typeof cause === 'object' && 'code' in cause ? String((cause as { code: unknown }).code) : '';
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH';
}

/** The HTTP method of a route definition, as sent. */
function methodOf(route: WireRoute): string {
  return route.method.toUpperCase();
}

export class CoordinatorClient {
  readonly baseUrl: URL;
  private readonly keyId: string;
  private readonly secretKey: Uint8Array;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly now: () => number;
  private readonly fetchImpl: typeof fetch;
  private readonly onRetry: ((e: RetryEvent) => void) | undefined;
  private readonly protocol: string | undefined;
  private readonly sign: ((message: Uint8Array, secretKey: Uint8Array) => Uint8Array) | undefined;
  private protocolChecked: Promise<void> | undefined;

  constructor(o: CoordinatorClientOptions) {
    let base: URL;
    try {
      base = new URL(o.baseUrl);
    } catch {
      throw new TypeError(`coordinator URL is not a valid URL`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError('coordinator URL must be http: or https:');
    if (o.secretKey.length !== 32) throw new TypeError('signing key: expected a 32-byte Ed25519 secret key');
    this.baseUrl = base;
    this.keyId = o.keyId;
    this.secretKey = o.secretKey;
    this.sign = o.sign;
    this.timeoutMs = o.timeoutMs ?? 120_000;
    this.retries = o.retries ?? 5;
    this.backoffBaseMs = o.backoffBaseMs ?? 500;
    this.backoffMaxMs = o.backoffMaxMs ?? 30_000;
    this.now = o.now ?? (() => Math.floor(Date.now() / 1000));
    this.fetchImpl = o.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.onRetry = o.onRetry;
    this.protocol = o.protocol;
  }

  /**
   * `GET /` (unsigned) and its `protocol` member against the one required;
   * a failed check is tried again on the next request.
   */
  checkProtocol(): Promise<void> {
    if (this.protocol === undefined) return Promise.resolve();
    const want = this.protocol;
    this.protocolChecked ??= (async () => {
      const url = this.urlFor('/');
      let res: Response | undefined;
      // Retried as every request is (a coordinator restarting answers a moment later); a 5xx or 429 too.
      for (let attempt = 1; res === undefined; attempt++) {
        let failure: string;
        try {
          const r = await this.fetchImpl(url, { method: 'GET', headers: { accept: JSON_TYPE }, signal: AbortSignal.timeout(Math.min(this.timeoutMs, 30_000)) });
          if ((r.status < 500 && r.status !== 429) || attempt > this.retries) {
            res = r;
            break;
          }
          await r.body?.cancel();
          failure = `${r.status}`;
        } catch (e) {
          if (attempt > this.retries) throw new CoordinatorUnreachableError(url.origin, attempt, e);
          failure = describeNetworkError(e);
        }
        const delayMs = this.backoffDelay(attempt);
        this.onRetry?.({ method: 'GET', path: '/', attempt, delayMs, reason: failure });
        await sleep(delayMs);
      }
      let body: unknown;
      try {
        body = await res.json();
      } catch {
        body = undefined;
      }
      const theirs = body !== null && typeof body === 'object' && 'protocol' in body ? (body as { protocol: unknown }).protocol : undefined;
      if (theirs !== want) throw new ProtocolMismatchError(this.baseUrl.href.replace(/\/+$/, ''), theirs, want);
    })();
    this.protocolChecked.catch(() => (this.protocolChecked = undefined));
    return this.protocolChecked;
  }

  /** Absolute URL for an API path such as `/v1/me?x=1`. */
  urlFor(path: string): URL {
    if (!path.startsWith('/')) throw new TypeError(`path must start with "/": ${path}`);
    const prefix = this.baseUrl.pathname.replace(/\/+$/, '');
    const u = new URL(this.baseUrl.origin);
    const q = path.indexOf('?');
    u.pathname = prefix + (q < 0 ? path : path.slice(0, q));
    u.search = q < 0 ? '' : path.slice(q);
    return u;
  }

  /** Exponential backoff with jitter: a uniformly random delay in [d/2, d], d = base·2^(attempt−1), capped. */
  backoffDelay(attempt: number, retryAfterMs?: number): number {
    const d = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (attempt - 1));
    const jittered = d / 2 + Math.random() * (d / 2);
    return Math.round(retryAfterMs !== undefined ? Math.min(Math.max(jittered, retryAfterMs), this.backoffMaxMs) : jittered);
  }

  /**
   * One signed request with retries. Resolves with any 2xx response; a 4xx
   * throws {@link CoordinatorError} at once (retrying cannot change the
   * answer); network errors, timeouts, 5xx and 429 are retried with backoff
   * and finally throw {@link CoordinatorUnreachableError} or the last
   * {@link CoordinatorError}. Every route of the API is idempotent, so
   * retrying a PUT or POST whose response was lost is safe.
   */
  async request(method: string, path: string, o: RequestOptions = {}): Promise<RawResponse> {
    await this.checkProtocol();
    const url = this.urlFor(path);
    const body = o.body ?? new Uint8Array(0);
    const attempts = (o.retries ?? this.retries) + 1;
    const idempotent = o.idempotent !== false;
    const timeoutMs = o.timeoutMs ?? this.timeoutMs;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      o.signal?.throwIfAborted();
      const sig = signRequest({
        method,
        url,
        body,
        headers: o.headers,
        keyid: this.keyId,
        secretKey: this.secretKey,
        created: this.now(),
        nonce: newNonce(),
        ...(this.sign ? { sign: this.sign } : {}),
      });
      const headers: Record<string, string> = { ...o.headers, ...sig, accept: o.accept ?? `${JSON_TYPE}, ${PROBLEM_TYPE}` };
      if (o.body !== undefined) headers['content-type'] = o.contentType ?? BINARY_TYPE;
      const timeout = AbortSignal.timeout(timeoutMs);
      let res: Response;
      try {
        res = await this.fetchImpl(url, {
          method,
          headers,
          ...(o.body !== undefined ? { body: body as unknown as NonNullable<RequestInit['body']> } : {}),
          signal: o.signal ? AbortSignal.any([timeout, o.signal]) : timeout,
        });
      } catch (e) {
        if (o.signal?.aborted) throw o.signal.reason;
        lastError = e;
        if (attempt < attempts && (idempotent || neverSent(e))) {
          const delayMs = this.backoffDelay(attempt);
          this.onRetry?.({ method, path, attempt, delayMs, reason: describeNetworkError(e) });
          await sleep(delayMs, o.signal);
          continue;
        }
        throw new CoordinatorUnreachableError(url.origin, attempt, e);
      }
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await res.arrayBuffer());
      } catch (e) {
        if (o.signal?.aborted) throw o.signal.reason;
        // The connection broke while the body streamed in: a network error.
        lastError = e;
        if (attempt < attempts && idempotent) {
          const delayMs = this.backoffDelay(attempt);
          this.onRetry?.({ method, path, attempt, delayMs, reason: describeNetworkError(e) });
          await sleep(delayMs, o.signal);
          continue;
        }
        throw new CoordinatorUnreachableError(url.origin, attempt, e);
      }
      if (res.status >= 200 && res.status < 300) return { status: res.status, headers: res.headers, body: bytes };
      // A 304 stands for a document the caller named, so it is only taken where the caller asked with If-None-Match.
      if (res.status === 304 && o.notModified === true) return { status: 304, headers: res.headers, body: new Uint8Array(0) };
      const err = problemFrom(res, bytes, method, url.pathname);
      const retryable =
        !(o.noRetryStatuses ?? []).includes(res.status) &&
        (idempotent ? res.status >= 500 || res.status === 429 : res.status === 502 || res.status === 503 || res.status === 504);
      if (!retryable || attempt === attempts) throw err;
      lastError = err;
      const delayMs = this.backoffDelay(attempt, retryAfterMs(res.headers.get('retry-after')));
      this.onRetry?.({ method, path, attempt, delayMs, reason: `${res.status} ${err.title}` });
      await sleep(delayMs, o.signal);
    }
    throw lastError;
  }

  async json<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    payload?: unknown,
    o: Omit<RequestOptions, 'body' | 'contentType'> = {},
  ): Promise<{ status: number; data: z.infer<S> }> {
    const res = await this.request(method, path, payload === undefined ? o : { ...o, body: enc.encode(JSON.stringify(payload)), contentType: JSON_TYPE });
    return { status: res.status, data: this.parseJson(method, path, schema, res.body) };
  }

  private parseJson<S extends z.ZodType>(method: string, path: string, schema: S, body: Uint8Array): z.infer<S> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(dec.decode(body));
    } catch {
      throw new ProtocolViolationError(`${method} ${path}: the coordinator's response is not JSON`);
    }
    const r = schema.safeParse(parsed);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new ProtocolViolationError(
        `${method} ${path}: unexpected response shape (${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid'})`,
      );
    }
    return r.data;
  }

  async binary(method: string, path: string, body?: Uint8Array, o: Omit<RequestOptions, 'body' | 'contentType'> = {}): Promise<RawResponse> {
    return this.request(method, path, body === undefined ? { ...o, accept: `${BINARY_TYPE}, ${PROBLEM_TYPE}` } : { ...o, body, contentType: BINARY_TYPE });
  }

  /**
   * A JSON route of the wire contract: its path from the definition, its
   * answer parsed with the definition's success schema.
   */
  private call<R extends WireRoute>(
    route: R,
    params: PathParams<R['path']>,
    payload?: unknown,
    o: Omit<RequestOptions, 'body' | 'contentType'> & { query?: string } = {},
  ): Promise<{ status: number; data: z.infer<OkSchema<R>> }> {
    const { query = '', ...rest } = o;
    return this.json(methodOf(route), pathOf(route, params) + query, okSchema(route), payload, rest);
  }

  // ---- the API of src/API.md (route definitions in wire/) ----

  async me(): Promise<Me> {
    return (await this.call(getMe, {})).data;
  }

  /**
   * Publishes this agency's signed key for one pair in the current epoch
   * (protocol/SPEC.md §8.7); true when newly published (201), false when it
   * already was (200).
   */
  async putPairEpochKey(pair: string, k: { epoch: string; publicKey: Uint8Array; signature: Uint8Array }): Promise<boolean> {
    const res = await this.request(methodOf(putPairEpochKey), pathOf(putPairEpochKey, { pair }), {
      body: enc.encode(JSON.stringify({ epoch: k.epoch, publicKey: bytesToHex(k.publicKey), signature: bytesToHex(k.signature) })),
      contentType: JSON_TYPE,
    });
    return res.status === 201;
  }

  // ---- agreements (protocol/SPEC.md §8.6) ----

  /** Every proposed or active agreement version that involves this agency. */
  async agreements(): Promise<AgreementVersion[]> {
    return (await this.call(getAgreementVersions, {})).data.agreements;
  }

  /** Posts this agency's acceptance signature over one version's terms (idempotent). */
  async acceptAgreement(id: string, version: number, signature: Uint8Array): Promise<AgreementVersion> {
    return (await this.call(postAcceptance, { id, version: String(version) }, { signature: bytesToHex(signature) })).data.agreement;
  }

  /** Tells the coordinator this agency rejects one version (idempotent). */
  async rejectAgreement(id: string, version: number): Promise<AgreementVersion> {
    return (await this.call(postRejection, { id, version: String(version) }, {})).data.agreement;
  }

  async status(pair: string): Promise<PairStatus> {
    return (await this.call(getPairStatus, { pair })).data;
  }

  /**
   * Idempotent upload of chunk `index` of this agency's side. 201 (stored) and
   * 200 (already held, same digest) both succeed; 409 means the coordinator
   * holds other bytes under that index and throws {@link ChunkConflictError}.
   */
  async putChunk(pair: string, index: number, elements: Uint8Array, epoch: string, signature: Uint8Array): Promise<{ created: boolean; receipt: ChunkReceipt }> {
    let r;
    try {
      const headers = { [EPOCH_HEADER]: epoch, [CHUNK_SIGNATURE_HEADER]: byteSequence(signature) };
      r = await this.sendBinaryJson(methodOf(putChunk), pathOf(putChunk, { pair, index }), elements, okSchema(putChunk), { headers });
    } catch (e) {
      if (e instanceof CoordinatorError && e.status === 409 && e.slug === 'conflict' && !/epoch key/i.test(e.detail ?? '')) {
        throw new ChunkConflictError(pair, index, 'chunk', e);
      }
      throw e;
    }
    const want = bytesToHex(sha256(elements));
    if (r.data.sha256 !== want || r.data.index !== index) {
      throw new ProtocolViolationError(`pair ${pair}: the coordinator acknowledged chunk ${index} with another index or digest`);
    }
    return { created: r.status === 201, receipt: r.data };
  }

  async postRemovals(pair: string, positions: number[], epoch?: string): Promise<number> {
    return (await this.call(postRemovals, { pair }, { positions }, epochHeaders(epoch))).data.removed;
  }

  async putCanaries(pair: string, canaries: Array<{ position: number; token: string }>, epoch?: string): Promise<number> {
    return (await this.call(putCanaries, { pair }, { canaries }, epochHeaders(epoch))).data.registered;
  }

  async canariesDone(pair: string, epoch?: string): Promise<void> {
    await this.request(methodOf(postCanariesDone), pathOf(postCanariesDone, { pair }), { body: enc.encode('{}'), contentType: JSON_TYPE, ...epochHeaders(epoch) });
  }

  /**
   * Handle continuity after a rotation: which previous-epoch position each of
   * these new positions held (only previously matched identifiers). Idempotent.
   */
  async putLinks(pair: string, epoch: string, previousEpoch: string, links: Array<{ position: number; previous: number }>): Promise<number> {
    return (await this.call(putLinks, { pair }, { previousEpoch, links }, epochHeaders(epoch))).data.linked;
  }

  async work(): Promise<WorkTask[]> {
    return (await this.call(getWork, {})).data.tasks;
  }

  /**
   * Downloads a partner chunk with the manifest and signature the coordinator
   * relays with it (headers `Concordat-Chunk-Manifest` and
   * `Concordat-Chunk-Signature`). Nothing here is trusted: the caller checks
   * the manifest with protocol/manifest.ts against what it expects.
   */
  async getPartnerChunk(pair: string, index: number): Promise<PartnerChunk> {
    const res = await this.binary(methodOf(getPartnerChunk), pathOf(getPartnerChunk, { pair, index }));
    return { elements: res.body, manifest: parseManifestHeader(res.headers.get(CHUNK_MANIFEST_HEADER)), signature: parseByteSequence(res.headers.get(CHUNK_SIGNATURE_HEADER)) };
  }

  /**
   * Positions the partner withdrew from its side of `pair` in `epoch`, in the
   * order it withdrew them, skipping the first `after` (the number already
   * read). While `next` is not null, pass it as `after` for the following page.
   */
  async partnerRemovals(pair: string, epoch: string, after = 0, limit?: number): Promise<PartnerRemovalsPage> {
    const q = new URLSearchParams({ after: String(after) });
    if (limit !== undefined) q.set('limit', String(limit));
    return (await this.call(getPartnerRemovals, { pair }, undefined, { ...epochHeaders(epoch), query: `?${q.toString()}` })).data;
  }

  /** Idempotent upload of the tokens of a partner chunk (200/201 succeed; 409 throws {@link ChunkConflictError}). */
  async putTokens(pair: string, index: number, tokens: Uint8Array, epoch?: string): Promise<boolean> {
    try {
      const res = await this.binary(methodOf(putTokens), pathOf(putTokens, { pair, index }), tokens, epochHeaders(epoch));
      return res.status === 201;
    } catch (e) {
      if (e instanceof CoordinatorError && e.status === 409 && e.slug === 'conflict' && !/epoch key/i.test(e.detail ?? '')) {
        throw new ChunkConflictError(pair, index, 'tokens', e);
      }
      throw e;
    }
  }

  async results(): Promise<Results> {
    return (await this.call(getResults, {})).data;
  }

  /**
   * GET /v1/results, conditional on `etag` (the tag of the document the caller
   * last verified and applied): `notModified` means that document is still
   * current. Without a tag this never answers `notModified`.
   */
  async resultsIfChanged(etag: string | undefined): Promise<Conditional<Results>> {
    return this.conditional(methodOf(getResults), pathOf(getResults, {}), resultsResponse, etag);
  }

  /** GET /v1/hits (no filter), conditional like {@link resultsIfChanged}. */
  async hitsIfChanged(etag: string | undefined): Promise<Conditional<Hit[]>> {
    const r = await this.conditional(methodOf(getHits), pathOf(getHits, {}), hitsResponse, etag);
    return r.notModified ? r : { notModified: false, data: r.data.hits as Hit[], etag: r.etag };
  }

  private async conditional<S extends z.ZodType>(method: string, path: string, schema: S, etag: string | undefined): Promise<Conditional<z.infer<S>>> {
    if (etag !== undefined && !ENTITY_TAG_PATTERN.test(etag)) throw new Error(`not an entity tag: ${JSON.stringify(etag)}`);
    const o = etag === undefined ? {} : { headers: { 'if-none-match': etag }, notModified: true };
    const res = await this.request(method, path, o);
    if (res.status === 304) return { notModified: true };
    const tag = res.headers.get('etag');
    return { notModified: false, data: this.parseJson(method, path, schema, res.body), etag: tag !== null && ENTITY_TAG_PATTERN.test(tag) ? tag : null };
  }

  // ---- targeted queries (API.md part 2) ----

  /**
   * Creates a query. Not idempotent (each call is a new query and counts
   * against the quota), so it is retried only when it cannot have reached
   * the coordinator, and a 429 quota refusal is never retried.
   */
  async createQuery(q: CreateQueryBody): Promise<CreateQueryReply> {
    return (await this.call(postQuery, {}, q, { idempotent: false, noRetryStatuses: [429] })).data;
  }

  /** Long poll (0..30 s) for legs addressed to this agency that are still pending. */
  async inbox(waitSeconds: number, o: { signal?: AbortSignal; retries?: number } = {}): Promise<InboxQuery[]> {
    const wait = Math.max(0, Math.min(MAX_WAIT_SECONDS, Math.floor(waitSeconds)));
    return (
      await this.call(getInbox, {}, undefined, {
        query: `?wait=${wait}`,
        timeoutMs: wait * 1000 + 15_000,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.retries !== undefined ? { retries: o.retries } : {}),
      })
    ).data.queries;
  }

  /**
   * The inbox entry by entry: an entry that does not match the contract (an
   * unsigned one, say) comes back as `malformed` with its id when it has one,
   * so the responder refuses that query and still answers the others.
   */
  async inboxEntries(waitSeconds: number, o: { signal?: AbortSignal; retries?: number } = {}): Promise<InboxEntry[]> {
    const wait = Math.max(0, Math.min(MAX_WAIT_SECONDS, Math.floor(waitSeconds)));
    const { data } = await this.json(methodOf(getInbox), pathOf(getInbox, {}) + `?wait=${wait}`, looseInboxSchema, undefined, {
      timeoutMs: wait * 1000 + 15_000,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.retries !== undefined ? { retries: o.retries } : {}),
    });
    return data.queries.map((item): InboxEntry => {
      const r = inboxQuerySchema.safeParse(item);
      if (r.success) return { ok: true, query: r.data };
      const id = item !== null && typeof item === 'object' && 'queryId' in item ? (item as { queryId: unknown }).queryId : undefined;
      const issue = r.error.issues[0];
      return { ok: false, queryId: typeof id === 'string' ? id : null, issue: issue ? `${issue.path.join('.') || 'entry'}: ${issue.message}` : 'invalid' };
    });
  }

  /**
   * Answers a query addressed to this agency. True when stored now; false when
   * the coordinator already holds an answer (409 — e.g. a retry of a request
   * whose response was lost, or another responder of the same agency).
   */
  async answerQuery(queryId: string, a: { epoch: string; evaluated: string[]; proof: string }, o: { signal?: AbortSignal } = {}): Promise<boolean> {
    try {
      await this.request(methodOf(postAnswer), pathOf(postAnswer, { id: queryId }), {
        body: enc.encode(JSON.stringify(a)),
        contentType: JSON_TYPE,
        ...(o.signal ? { signal: o.signal } : {}),
      });
      return true;
    } catch (e) {
      if (e instanceof CoordinatorError && e.status === 409 && e.slug === 'conflict') return false;
      throw e;
    }
  }

  /** Tells the coordinator this agency refuses a query addressed to it, and why (a refusal slug, never a value). */
  async refuseQuery(queryId: string, reason: string, o: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      await this.call(postRefusal, { id: queryId }, { reason }, o.signal ? { signal: o.signal } : {});
    } catch (e) {
      // Already answered, expired or refused: the leg is final either way.
      if (e instanceof CoordinatorError && e.status === 409) return;
      throw e;
    }
  }

  /** The requester's view of a query; `waitSeconds` > 0 long-polls until a leg changes. */
  async getQuery(queryId: string, waitSeconds = 0, o: { signal?: AbortSignal } = {}): Promise<QueryState> {
    const wait = Math.max(0, Math.min(MAX_WAIT_SECONDS, Math.floor(waitSeconds)));
    return (
      await this.call(getQuery, { id: queryId }, undefined, {
        query: wait > 0 ? `?wait=${wait}` : '',
        timeoutMs: wait * 1000 + 15_000,
        ...(o.signal ? { signal: o.signal } : {}),
      })
    ).data;
  }

  async postOutcome(queryId: string, legs: OutcomeLeg[]): Promise<OutcomeReply> {
    return (await this.call(postOutcome, { id: queryId }, { legs })).data;
  }

  // ---- hits ----

  async hits(filter: { status?: string; since?: string } = {}): Promise<Hit[]> {
    const q = new URLSearchParams();
    if (filter.status) q.set('status', filter.status);
    if (filter.since) q.set('since', filter.since);
    const qs = q.toString();
    return (await this.call(getHits, {}, undefined, { query: qs ? `?${qs}` : '' })).data.hits;
  }

  async decideHit(handle: string, decision: 'confirm' | 'decline', body: { officer: string; note?: string }): Promise<Hit> {
    const route = decision === 'confirm' ? postConfirm : postDecline;
    // The contract answers the hit bare; an answer wrapped as {"hit": …} is accepted too.
    return (await this.json(methodOf(route), pathOf(route, { handle }), hitReplySchema, body)).data as Hit;
  }

  // ---- audit ----

  /**
   * The audit entries that involve this agency with seq > `after`, oldest
   * first (at most `limit`; the coordinator's default when absent). While
   * `next` is not null, pass it as `after` for the following page.
   */
  async audit(after = 0, limit?: number): Promise<AuditPage> {
    const q = new URLSearchParams({ after: String(after) });
    if (limit !== undefined) q.set('limit', String(limit));
    return (await this.call(getAudit, {}, undefined, { query: `?${q.toString()}` })).data;
  }

  /** The signed head of the audit log's current tree (unverified: check it under the pinned log key). */
  async auditHead(): Promise<SignedTreeHeadReply> {
    return (await this.call(getAuditHead, {})).data;
  }

  /** The inclusion proof of entry `seq` in the tree of `size` leaves. */
  async auditInclusion(seq: number, size: number): Promise<InclusionProofReply> {
    return (await this.call(getAuditInclusion, {}, undefined, { query: `?${new URLSearchParams({ seq: String(seq), size: String(size) }).toString()}` })).data;
  }

  /** The consistency proof from the tree of `from` leaves to the tree of `to`. */
  async auditConsistency(from: number, to: number): Promise<ConsistencyProofReply> {
    return (await this.call(getAuditConsistency, {}, undefined, { query: `?${new URLSearchParams({ from: String(from), to: String(to) }).toString()}` })).data;
  }

  private async sendBinaryJson<S extends z.ZodType>(
    method: string,
    path: string,
    body: Uint8Array,
    schema: S,
    o: Omit<RequestOptions, 'body' | 'contentType'> = {},
  ): Promise<{ status: number; data: z.infer<S> }> {
    const res = await this.binary(method, path, body, o);
    let parsed: unknown;
    try {
      parsed = JSON.parse(dec.decode(res.body));
    } catch {
      throw new ProtocolViolationError(`${method} ${path}: the coordinator's response is not JSON`);
    }
    const r = schema.safeParse(parsed);
    if (!r.success) throw new ProtocolViolationError(`${method} ${path}: unexpected response shape`);
    return { status: res.status, data: r.data };
  }
}

/** One inbox entry: a query as the contract describes it, or one that is not. */
export type InboxEntry = { ok: true; query: InboxQuery } | { ok: false; queryId: string | null; issue: string };

const looseInboxSchema = zod.object({ queries: zod.array(zod.unknown()) });

/** A partner chunk as downloaded: its bytes, and the manifest and signature relayed with it (null when missing or unreadable). */
export interface PartnerChunk {
  elements: Uint8Array;
  manifest: unknown;
  signature: Uint8Array | null;
}

/** RFC 8941 §3.3.5 byte sequence `:base64:`. */
export function byteSequence(b: Uint8Array): string {
  return `:${Buffer.from(b).toString('base64')}:`;
}

function parseByteSequence(h: string | null): Uint8Array | null {
  if (h === null || !/^:[A-Za-z0-9+/]*={0,2}:$/.test(h.trim())) return null;
  return new Uint8Array(Buffer.from(h.trim().slice(1, -1), 'base64'));
}

function parseManifestHeader(h: string | null): unknown {
  const bytes = parseByteSequence(h);
  if (bytes === null) return null;
  try {
    return JSON.parse(dec.decode(bytes)) as unknown;
  } catch {
    return null;
  }
}

function epochHeaders(epoch: string | undefined): { headers?: Record<string, string> } {
  return epoch === undefined ? {} : { headers: { [EPOCH_HEADER]: epoch } };
}

function retryAfterMs(h: string | null): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const t = Date.parse(h);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

/** Turns an error response into a {@link CoordinatorError}, from its problem document when it has one. */
export function problemFrom(res: { status: number; statusText?: string; headers: Headers }, body: Uint8Array, method: string, path: string): CoordinatorError {
  const ct = res.headers.get('content-type') ?? '';
  let doc: Partial<ProblemDocument> = {};
  if (/json/i.test(ct)) {
    try {
      const v: unknown = JSON.parse(dec.decode(body));
      if (v && typeof v === 'object') doc = v as Partial<ProblemDocument>;
    } catch {
      doc = {};
    }
  }
  return new CoordinatorError({
    status: res.status,
    type: typeof doc.type === 'string' ? doc.type : 'about:blank',
    title: typeof doc.title === 'string' ? doc.title : res.statusText || `HTTP ${res.status}`,
    ...(typeof doc.detail === 'string' ? { detail: doc.detail } : {}),
    ...(typeof doc.field === 'string' ? { field: doc.field } : {}),
    ...(typeof doc.resetsAt === 'string' ? { resetsAt: doc.resetsAt } : {}),
    ...(typeof doc.reason === 'string' ? { reason: doc.reason } : {}),
    ...(res.headers.get('retry-after') ? { retryAfter: res.headers.get('retry-after') as string } : {}),
    method,
    path,
  });
}
