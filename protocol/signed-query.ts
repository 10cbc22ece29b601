// Signed targeted queries (protocol/SPEC.md §8.9): the requesting agency signs
// every query, and the responder checks it against the agreement both sides
// accepted before it evaluates anything. A coordinator can therefore neither
// invent queries (a dictionary attack through the responder) nor stretch one
// beyond its agreed kinds, purposes, sizes, quota or validity.
import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { bytesToHex, concatBytes, equalBytes, hexToBytes } from './bytes.js';
import { ELEMENT_BYTES, V2_DOCUMENT_TYPE } from './constants.js';
import { agreementRefSchema, isActiveOn, pairIdOf, partyOf, sameAgreement, type AgreementTerms } from './agreement.js';
import { epochSchema, pairSchema } from './epoch-key.js';
import { hex32Schema, idSchema, nameSchema, signatureVerifies, signDocument, textSchema, verifyDocument, type SignedDocument } from './signed.js';

export const MAX_SIGNED_QUERY_VALUES = 100;
export const DEFAULT_MAX_SKEW_S = 300;
export const DEFAULT_MAX_AGE_S = 24 * 60 * 60;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIMESTAMP_RE = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{3})?Z$/;

/**
 * RFC 3339 §5.6 `date-time` in UTC with `Z`, seconds required, milliseconds
 * optional (exactly three digits); no leap seconds. Returns ms since the
 * Unix epoch, or undefined.
 */
export function parseTimestamp(s: string): number | undefined {
  const m = TIMESTAMP_RE.exec(s);
  if (!m) return undefined;
  const [, date, hh, mm, ss, frac] = m as unknown as [string, string, string, string, string, string | undefined];
  if (Number(hh) > 23 || Number(mm) > 59 || Number(ss) > 59) return undefined;
  const t = Date.parse(`${date}T${hh}:${mm}:${ss}${frac ?? '.000'}Z`);
  if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== date) return undefined;
  return t;
}

export const timestampSchema = z.string().refine((s) => parseTimestamp(s) !== undefined, 'must be an RFC 3339 UTC time YYYY-MM-DDTHH:MM:SS[.mmm]Z');

export const queryStatementSchema = z.strictObject({
  id: z.string().regex(UUID_RE, 'must be a lower-case UUID'),
  requester: idSchema(64),
  responder: idSchema(64),
  pair: pairSchema,
  agreement: agreementRefSchema,
  epoch: epochSchema,
  kind: nameSchema(64),
  purpose: nameSchema(200),
  caseRef: textSchema(200),
  count: z.int().min(1).max(MAX_SIGNED_QUERY_VALUES),
  valuesSha256: hex32Schema,
  createdAt: timestampSchema,
});
export type QueryStatement = z.infer<typeof queryStatementSchema>;

/** SHA-256 of the blinded values (32 bytes each) concatenated in order, hex. */
export function queryValuesDigest(values: readonly Uint8Array[]): string {
  for (const [i, v] of values.entries()) {
    if (!(v instanceof Uint8Array) || v.length !== ELEMENT_BYTES) throw new RangeError(`values[${i}]: expected ${ELEMENT_BYTES} bytes`);
  }
  return bytesToHex(sha256(concatBytes(...values)));
}

export function signQuery(query: QueryStatement, secretKey: Uint8Array): Uint8Array {
  return signDocument(V2_DOCUMENT_TYPE.query, queryStatementSchema.parse(query), secretKey);
}

export function verifyQuery(query: QueryStatement, publicKey: Uint8Array, signature: Uint8Array): boolean {
  return verifyDocument(V2_DOCUMENT_TYPE.query, query, publicKey, signature);
}

export type QueryRefusal =
  | 'malformed'
  | 'signature'
  | 'parties'
  | 'pair'
  | 'agreement'
  | 'validity'
  | 'mode'
  | 'kind'
  | 'purpose'
  | 'epoch'
  | 'values'
  | 'future'
  | 'expired'
  | 'replay'
  | 'quota';
export type QueryCheck =
  | { readonly ok: true; readonly query: QueryStatement }
  | { readonly ok: false; readonly reason: QueryRefusal; readonly message: string };

export interface QueryCheckContext {
  /** The requester's pinned Ed25519 signing key. */
  readonly requesterKey: Uint8Array;
  /** The agreement terms this responder accepted (and verified both acceptances of). */
  readonly terms: AgreementTerms;
  /** The responder's own agency id. */
  readonly self: string;
  /** Epochs the responder answers in: the current one and, during the grace period, the previous. */
  readonly epochs: readonly string[];
  /** The blinded values received with the query. */
  readonly values: readonly Uint8Array[];
  /** The responder's clock, ms since the Unix epoch (passed in: the check reads no clock). */
  readonly now: number;
  readonly maxSkewS?: number;
  readonly maxAgeS?: number;
  /** Has a query with this id from this requester been answered already? Ids must be kept for maxAge + maxSkew. */
  readonly seen: (id: string) => boolean;
  /** Queries from this requester already answered on the UTC day of `now`. */
  readonly todayCount: number;
}

/**
 * The responder's check of a received query (§8.9), in the order the spec
 * gives. Pure: the caller records the id and the count only after `ok`.
 */
export function checkQuery(signed: SignedDocument, ctx: QueryCheckContext): QueryCheck {
  const refuse = (reason: QueryRefusal, message: string): QueryCheck => ({ ok: false, reason, message });
  const p = queryStatementSchema.safeParse(signed.document);
  if (!p.success) return refuse('malformed', `query: ${p.error.issues[0]?.message ?? 'invalid'}`);
  const q = p.data;
  const t = ctx.terms;
  if (!signatureVerifies(V2_DOCUMENT_TYPE.query, q, ctx.requesterKey, signed.signature)) {
    return refuse('signature', 'the query is not signed by the requester’s pinned key');
  }
  const requester = partyOf(t, q.requester);
  if (q.responder !== ctx.self) return refuse('parties', `query is addressed to ${q.responder}`);
  if (q.requester === q.responder || !requester || !partyOf(t, q.responder)) {
    return refuse('parties', 'requester and responder must be two different parties to the agreement');
  }
  // The pinned key and the accepted terms must name the same key, or the
  // responder would be trusting a key the requester never agreed to.
  if (!equalBytes(hexToBytes(requester.signingKey), ctx.requesterKey)) return refuse('parties', 'the agreement lists another signing key for the requester');
  if (q.pair !== pairIdOf(t, q.requester, q.responder)) return refuse('pair', 'query is for another pair');
  if (!sameAgreement(q.agreement, t)) return refuse('agreement', `query is under ${q.agreement.id} v${q.agreement.version}, accepted is ${t.id} v${t.version}`);
  if (!Number.isFinite(ctx.now)) throw new RangeError('now: expected ms since the Unix epoch');
  if (!isActiveOn(t, new Date(ctx.now).toISOString().slice(0, 10))) return refuse('validity', `the agreement is valid ${t.validFrom}..${t.validUntil}`);
  if (t.mode !== 'reveal') return refuse('mode', 'targeted queries need a reveal agreement');
  if (!t.kinds.includes(q.kind)) return refuse('kind', `kind ${q.kind} is not in the agreement`);
  if (!t.purposes.includes(q.purpose)) return refuse('purpose', 'purpose is not in the agreement');
  if (!ctx.epochs.includes(q.epoch)) return refuse('epoch', `epoch ${q.epoch} is not answered now`);
  if (q.count > t.queryQuota.maxValues) return refuse('values', `at most ${t.queryQuota.maxValues} values per query`);
  if (ctx.values.length !== q.count) return refuse('values', `query says ${q.count} values, got ${ctx.values.length}`);
  if (ctx.values.some((v) => !(v instanceof Uint8Array) || v.length !== ELEMENT_BYTES) || queryValuesDigest(ctx.values) !== q.valuesSha256) {
    return refuse('values', 'the values’ SHA-256 differs from the query');
  }
  const created = parseTimestamp(q.createdAt) as number;
  const skew = (ctx.maxSkewS ?? DEFAULT_MAX_SKEW_S) * 1000;
  const maxAge = (ctx.maxAgeS ?? DEFAULT_MAX_AGE_S) * 1000;
  if (created > ctx.now + skew) return refuse('future', 'createdAt is ahead of the responder’s clock');
  if (ctx.now - created > maxAge) return refuse('expired', 'the query is too old');
  if (ctx.seen(q.id)) return refuse('replay', 'query id already answered');
  if (ctx.todayCount >= t.queryQuota.perDay) return refuse('quota', `at most ${t.queryQuota.perDay} queries per day`);
  return { ok: true, query: q };
}
