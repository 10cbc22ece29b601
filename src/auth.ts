// Request authentication for /v1: RFC 9421 HTTP Message Signatures (Ed25519)
// over method, authority, path, query and the RFC 9530 Content-Digest of the body,
// verified by protocol/http-signature.ts. The body is read exactly once here
// and handed to the route, so the bytes a handler stores are the bytes the
// signature covered.
import type { Context, MiddlewareHandler } from 'hono';
import { parseDictionary } from 'structured-headers';
import { parseContentDigest, SignatureError, SIGNATURE_LABEL, SIGNATURE_TAG, verifyRequest } from '../protocol/http-signature.js';
import type { AppEnv, Services } from './context.js';
import { ProblemError } from './problem.js';
import type { AgencyRecord } from './store/types.js';
import { AGENCY_ID_RE } from './validation.js';

export const ADMIN_KEYID = 'admin';

/** A signature parameter of `sig1` as the request claims it, unverified; undefined unless well formed. */
function claimedParam(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  try {
    const entry = parseDictionary(header).get(SIGNATURE_LABEL);
    const value = entry && Array.isArray(entry[0]) ? entry[1].get(name) : undefined;
    return typeof value === 'string' ? value : undefined;
  } catch {
    // A malformed header is reported by verifyRequest itself.
    return undefined;
  }
}

/** The keyid a request claims, for the audit trail of a refusal; `unknown` unless well formed. */
function claimedKeyid(header: string | null): string {
  const keyid = claimedParam(header, 'keyid');
  return keyid !== undefined && (keyid === ADMIN_KEYID || AGENCY_ID_RE.test(keyid)) ? keyid : 'unknown';
}

/**
 * Where a request came from, for counting refusals (src/refusals.ts): the
 * peer address of the socket on Node, CF-Connecting-IP on Workers (set by
 * Cloudflare's edge), else `unknown`. Never written with an identifier.
 */
export function clientSource(c: Context<AppEnv>): string {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  if (incoming) return incoming.socket?.remoteAddress ?? 'unknown';
  const cf = c.req.header('cf-connecting-ip');
  return cf && /^[0-9a-fA-F.:]{2,45}$/.test(cf) ? cf : 'unknown';
}

/** Appends the counts of past hours' refusals (one `auth.refused_summary` per source and hour); the maintenance tick calls it too. */
export async function flushRefusalSummaries(svc: Services, now: Date): Promise<number> {
  const past = svc.refusals.takePast(now);
  for (const s of past) await svc.audit({ actor: 'coordinator', action: 'auth.refused_summary', subject: s.source, outcome: 'refused', detail: s.detail });
  return past.length;
}

/** Syntactically valid Signature-Input and Signature headers with a `sig1` entry: the only requests whose body is read. */
function signatureHeadersProblem(headers: Headers): SignatureError | undefined {
  const input = headers.get('signature-input');
  const signature = headers.get('signature');
  if (!input || !signature) return new SignatureError('missing', 'Signature-Input and Signature headers are required');
  try {
    const entry = parseDictionary(input).get(SIGNATURE_LABEL);
    const sig = parseDictionary(signature).get(SIGNATURE_LABEL);
    if (entry && Array.isArray(entry[0]) && sig && !Array.isArray(sig[0])) return undefined;
  } catch {
    // Reported below.
  }
  return new SignatureError('malformed', `Signature-Input / Signature must carry a "${SIGNATURE_LABEL}" entry`);
}

/** Another Concordat protocol's tag (`concordat-v1`, …): the client speaks another protocol version. */
const CONCORDAT_TAG_RE = /^concordat-v[0-9]{1,4}$/;

/**
 * Before the body limit and the body: a source refused too often waits, and a
 * request without well-formed signature headers is refused, before any of its
 * body is read (src/refusals.ts): anonymous traffic never makes the
 * coordinator read a 16 MiB body.
 */
export function signaturePrecheck(svc: Services): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const wait = svc.refusals.retryAfter(clientSource(c), svc.now());
    if (wait > 0) throw new ProblemError('quota', 'too many refused requests from this address: retry later', { audit: false, headers: { 'Retry-After': String(wait) } });
    const early = signatureHeadersProblem(c.req.raw.headers);
    if (early) {
      throw new ProblemError('signature', early.message, {
        reason: early.reason,
        audit: { action: 'auth.refused', outcome: early.reason, actor: claimedKeyid(c.req.header('signature-input') ?? null) },
      });
    }
    await next();
  };
}

export function signatureMiddleware(svc: Services): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    c.set('body', body);
    // Told apart from other signature refusals so that an old client says
    // "upgrade" rather than "bad signature" (src/API.md, "Protocol version").
    const input = c.req.header('signature-input') ?? null;
    const tag = claimedParam(input, 'tag');
    if (tag !== undefined && tag !== SIGNATURE_TAG && CONCORDAT_TAG_RE.test(tag)) {
      throw new ProblemError('protocol-version', `this coordinator speaks Concordat PSI v2; the client signed as ${tag}: upgrade the client`, {
        audit: { action: 'auth.refused', outcome: 'protocol-version', actor: claimedKeyid(input), detail: { tag } },
      });
    }
    let agency: AgencyRecord | undefined;
    try {
      const verified = await verifyRequest({
        method: c.req.method,
        // The URL as this coordinator was reached: on Node it is built from the
        // Host header the request arrived with, on Workers it is the URL the
        // client asked for. Forwarded / X-Forwarded-Host are not consulted:
        // they are unsigned, and trusting them would let a request signed for
        // another coordinator through (src/API.md, "Authentication").
        url: c.req.url,
        headers: c.req.raw.headers,
        body,
        now: Math.floor(svc.now().getTime() / 1000),
        lookupKey: async (keyid) => {
          if (keyid === ADMIN_KEYID) return (await svc.secrets()).adminKey;
          if (!AGENCY_ID_RE.test(keyid)) return undefined;
          agency = await svc.store.getAgency(keyid);
          return agency?.signingKey;
        },
        useNonce: (keyid, nonce, created) => svc.store.useNonce(keyid, nonce, created, Math.floor(svc.now().getTime() / 1000)),
      });
      c.set('caller', verified.keyid === ADMIN_KEYID ? { keyid: verified.keyid } : { keyid: verified.keyid, agency: agency as AgencyRecord });
      c.set('bodySha256', parseContentDigest(c.req.header('content-digest')) as Uint8Array);
    } catch (err) {
      if (!(err instanceof SignatureError)) throw err;
      throw new ProblemError('signature', err.message, {
        reason: err.reason,
        audit: { action: 'auth.refused', outcome: err.reason, actor: claimedKeyid(c.req.header('signature-input') ?? null) },
      });
    }
    await next();
  };
}

function isAdminPath(path: string): boolean {
  return path === '/v1/admin' || path.startsWith('/v1/admin/');
}

/** Admin routes accept only the admin key, every other /v1 route only agency keys. */
export function roleMiddleware(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const caller = c.get('caller');
    if (isAdminPath(c.req.path)) {
      if (caller.keyid !== ADMIN_KEYID) {
        throw new ProblemError('forbidden', 'admin routes accept only the admin key', { audit: { action: 'authz.refused' } });
      }
    } else if (!caller.agency) {
      throw new ProblemError('forbidden', 'agency routes accept only agency keys', { audit: { action: 'authz.refused' } });
    }
    await next();
  };
}
