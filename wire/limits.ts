// Sizes and limits of the wire contract (src/API.md). The element, token and
// proof sizes are the protocol's (protocol/SPEC.md); the rest bound what one
// request may carry.
import { MAX_QUERY_VALUES } from '../protocol/query.js';

export { ELEMENT_BYTES, PROOF_BYTES, TOKEN_BYTES } from '../protocol/constants.js';
export { MAX_QUERY_VALUES };

/**
 * Largest request body: a removal list of 1,000,000 positions as JSON. A
 * chunk (65,536 × 32 bytes = 2 MiB) is well below.
 */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Elements per chunk: a chunk is at most 2 MiB. */
export const MAX_CHUNK_ELEMENTS = 65_536;
export const MAX_REMOVALS_PER_CALL = 1_000_000;
export const MAX_CANARIES_PER_CALL = 65_536;
export const MAX_LINKS_PER_CALL = 1_000_000;
/** Removed positions of a partner's side per page of GET …/partner-set/removals. */
export const MAX_REMOVALS_PAGE = 100_000;

/** Parties of one agreement, partners of one query. */
export const MAX_PARTIES = 64;
export const MAX_PARTNERS = 64;
export const DEFAULT_MAX_SET_SIZE = 10_000_000;
export const MAX_SET_SIZE = 1_000_000_000;

/**
 * Per-epoch probing bound (protocol/SPEC.md §3.3): a side uploads at most
 * UPLOAD_CAP_FACTOR × maxSetSize + UPLOAD_CAP_ALLOWANCE positions in an epoch,
 * counting canaries and positions it later withdrew. The coordinator refuses
 * the chunk that would go over (`409 upload-cap`), the uploader's client
 * refuses before sending it, and the partner's client tokenises no more.
 * The factor leaves room for a whole set re-uploaded once within the epoch;
 * the allowance is for canaries: at 48 to 64 per small chunk (§1.6) it covers
 * 64 to 85 chunks per epoch (as many nights of small deltas) even for a side
 * that fills its maximum set size, and a side holding less has the rest of
 * the factor too.
 */
export const UPLOAD_CAP_FACTOR = 2;
export const UPLOAD_CAP_ALLOWANCE = 4096;

/** Positions a side may upload per pair and epoch under an agreement of maximum set size `maxSetSize`. */
export function uploadCap(maxSetSize: number): number {
  return UPLOAD_CAP_FACTOR * maxSetSize + UPLOAD_CAP_ALLOWANCE;
}

/**
 * Live positions a side may hold at once: the agreement's maximum set size
 * counts identifiers, and every chunk's canaries (protocol/SPEC.md §1.6) ride
 * in the same allowance. The coordinator cannot tell a canary from an
 * identifier, so it checks this sum; the uploader's own client checks
 * identifiers against maxSetSize.
 */
export function liveCap(maxSetSize: number): number {
  return maxSetSize + UPLOAD_CAP_ALLOWANCE;
}

/** A partner uploading more than this multiple of maxSetSize in an epoch is flagged in the tokenising agency's audit trail. */
export const PARTNER_CHURN_FACTOR = 1.5;

/** Long polls (`?wait=`) hold a request at most this long. */
export const MAX_WAIT_SECONDS = 30;

export const MAX_AUDIT_LIMIT = 1000;
export const DEFAULT_AUDIT_LIMIT = 500;

/** Match handles: the first 16 bytes of an HMAC-SHA256, as hex (src/API.md, "Matching"). */
export const HANDLE_HEX_CHARS = 32;
