// Header names and media types of the wire contract. HTTP field names are
// case-insensitive (RFC 9110 §5.1); these are the spellings clients send.

/**
 * Names the epoch an upload is meant for (src/API.md part 2, "Epochs"); the
 * request signature covers it as protocol/http-signature.ts's EPOCH_FIELD.
 */
export const EPOCH_HEADER = 'Concordat-Epoch';

/**
 * The uploader's Ed25519 signature over the chunk's `chunk` manifest
 * (protocol/SPEC.md §8.8), as an RFC 8941 §3.3.5 byte sequence `:base64:`:
 * sent with every chunk upload and returned with every chunk download.
 */
export const CHUNK_SIGNATURE_HEADER = 'Concordat-Chunk-Signature';
/**
 * The chunk's manifest as the coordinator holds it, RFC 8785 canonical JSON
 * (protocol/SPEC.md §8.2) as an RFC 8941 byte sequence: returned with every
 * chunk download, so the downloader can check it with protocol/manifest.ts.
 */
export const CHUNK_MANIFEST_HEADER = 'Concordat-Chunk-Manifest';

/** RFC 9421 §4.1 and §4.2: the signature parameters and the signature itself. */
export const SIGNATURE_INPUT_HEADER = 'Signature-Input';
export const SIGNATURE_HEADER = 'Signature';
/** RFC 9530 §2: SHA-256 of the body, covered by the signature (also for an empty body). */
export const CONTENT_DIGEST_HEADER = 'Content-Digest';
/**
 * The id of one request (src/API.md, "Request ids"): on every answer, also
 * problem documents (their `requestId` member) and the coordinator's log line.
 * A caller's own id is kept when it is 1..REQUEST_ID_MAX of `A-Z a-z 0-9 _ - =`;
 * otherwise the coordinator makes one (a UUID).
 */
export const REQUEST_ID_HEADER = 'X-Request-Id';
export const REQUEST_ID_MAX = 128;
/** RFC 9110 §10.2.3, sent with 429 quota refusals. */
export const RETRY_AFTER_HEADER = 'Retry-After';

export const JSON_TYPE = 'application/json';
/** RFC 9457 §3: every refusal is a problem document. */
export const PROBLEM_TYPE = 'application/problem+json';
/** Packed 32-byte elements or 16-byte tokens (src/API.md, "Conventions"). */
export const BINARY_TYPE = 'application/octet-stream';
