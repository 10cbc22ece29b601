// An agency's own side of a pair (uploads), its partner work and the pair's
// status (src/API.md, "Agency: own side of a pair", "Agency: partner work").
// Every route takes the pair id in its path; uploads carry Concordat-Epoch.
import { z } from '@hono/zod-openapi';
import { CHUNK_MANIFEST_HEADER, CHUNK_SIGNATURE_HEADER, EPOCH_HEADER } from './headers.js';
import { ELEMENT_BYTES, MAX_CANARIES_PER_CALL, MAX_CHUNK_ELEMENTS, MAX_LINKS_PER_CALL, MAX_REMOVALS_PAGE, MAX_REMOVALS_PER_CALL, TOKEN_BYTES } from './limits.js';
import { chunkIndexParam, emptyBody, epochIdSchema, hexSchema, hexString, nonNegInt, pairParam, positionSchema } from './primitives.js';
import { pairStateSchema } from './agency.js';
import { SIGNATURE_BYTES, agreementRefSchema } from './agreements.js';
import { binaryContent, jsonBody, jsonResponse, problemResponse, signedRoute } from './route.js';

/** Uploads name their epoch; without the header an upload is taken as meant for the current epoch. */
export const epochParam = z
  .string()
  .optional()
  .openapi('ConcordatEpoch', {
    param: { name: EPOCH_HEADER, in: 'header' },
    description: 'The epoch the request is meant for; another than the current one is `409 stale-epoch` (`field: "header.concordat-epoch"`). Signed when present.',
  });
export const epochHeaders = z.object({ [EPOCH_HEADER]: epochParam });

/** RFC 8941 §3.3.5 byte sequence: `:` base64 (RFC 4648 §4, padded) `:`. */
export const BYTE_SEQUENCE_RE = /^:[A-Za-z0-9+/]*={0,2}:$/;

export const chunkSignatureParam = z
  .string()
  .regex(BYTE_SEQUENCE_RE, 'must be an RFC 8941 byte sequence :base64:')
  .openapi('ConcordatChunkSignature', {
    param: { name: CHUNK_SIGNATURE_HEADER, in: 'header' },
    description:
      'The uploader’s Ed25519 signature (64 bytes) over the `chunk` manifest `{pair, agreement, epoch, agency, index, firstPosition, count, sha256}` ' +
      '(protocol/SPEC.md §8.8), as an RFC 8941 byte sequence. Missing or not verifying under the uploader’s registered key: `422 bad-signature`.',
  });
export const chunkUploadHeaders = z.object({ [EPOCH_HEADER]: epochParam, [CHUNK_SIGNATURE_HEADER]: chunkSignatureParam });
export const chunkDownloadHeaders = z.object({
  [CHUNK_MANIFEST_HEADER]: z.string().meta({ description: 'RFC 8941 byte sequence of the RFC 8785 canonical `chunk` manifest (protocol/SPEC.md §8.8).' }),
  [CHUNK_SIGNATURE_HEADER]: z.string().meta({ description: 'RFC 8941 byte sequence of the uploader’s signature over that manifest.' }),
});

const pairParams = z.object({ pair: pairParam });
const chunkParams = z.object({ pair: pairParam, index: chunkIndexParam });

const staleOrKey = problemResponse('`stale-epoch`, `epoch-key-required`, or `conflict` (see the route).');
const notParty = problemResponse('`no-agreement` / `forbidden`: the caller is not a party of a valid agreement for the pair.');

export const chunkReceiptSchema = z.object({
  index: nonNegInt,
  firstPosition: nonNegInt,
  count: nonNegInt,
  sha256: hexString(32),
  agreement: agreementRefSchema,
  signature: hexString(SIGNATURE_BYTES),
});

export const putChunk = signedRoute({
  method: 'put',
  path: '/v1/pairs/{pair}/set/chunks/{index}',
  tags: ['pairs'],
  summary: "Upload chunk `index` of the caller's side: n blinded elements",
  description:
    'Idempotent: an existing chunk with the same digest is `200`, with another digest `409 conflict`; only the next index is accepted (`409`, `field: "path.index"`). ' +
    'Every element must decode (`422`, `field: "element[i]"`); the live set may not exceed the agreement\'s `maxSetSize` (`413`), ' +
    'nor the side\'s uploads in the epoch `2 × maxSetSize + 4096` positions (`409 upload-cap`, `field: "body"`, protocol/SPEC.md §3.3). ' +
    'The coordinator rebuilds the `chunk` manifest from the pair, the active agreement version, the epoch, the caller, the index, ' +
    'the position after the previous chunks and the body, and verifies `Concordat-Chunk-Signature` over it (`422 bad-signature`, `field: "header.concordat-chunk-signature"`).',
  request: {
    params: chunkParams,
    headers: chunkUploadHeaders,
    body: { required: true, description: `n×${ELEMENT_BYTES} bytes, 1 ≤ n ≤ ${MAX_CHUNK_ELEMENTS}: canonical ristretto255 encodings.`, content: binaryContent() },
  },
  responses: {
    200: jsonResponse(chunkReceiptSchema, 'The chunk was already stored with this digest.'),
    201: jsonResponse(chunkReceiptSchema, 'Stored.'),
    403: notParty,
    409: problemResponse('`upload-cap`: the side\'s per-epoch upload cap; `conflict` (see the description); `stale-epoch`; `epoch-key-required`.'),
    422: problemResponse('`validation` or `bad-signature`: the chunk signature is missing or does not verify.'),
  },
});

export const removalsBody = z.object({ positions: z.array(positionSchema).max(MAX_REMOVALS_PER_CALL) }).strict();
export const removalsResponse = z.object({ removed: nonNegInt });

export const postRemovals = signedRoute({
  method: 'post',
  path: '/v1/pairs/{pair}/set/removals',
  tags: ['pairs'],
  summary: "Remove positions from the caller's side (idempotent)",
  request: { params: pairParams, headers: epochHeaders, body: jsonBody(removalsBody) },
  responses: { 200: jsonResponse(removalsResponse, 'Removed.'), 403: notParty, 409: staleOrKey },
});

export const canariesBody = z
  .object({
    canaries: z.array(z.object({ position: positionSchema, token: hexSchema(TOKEN_BYTES) }).strict()).max(MAX_CANARIES_PER_CALL),
  })
  .strict();
export const canariesResponse = z.object({ registered: nonNegInt });

export const putCanaries = signedRoute({
  method: 'put',
  path: '/v1/pairs/{pair}/set/canaries',
  tags: ['pairs'],
  summary: 'Register the expected tokens of canary positions (idempotent)',
  request: { params: pairParams, headers: epochHeaders, body: jsonBody(canariesBody) },
  responses: { 200: jsonResponse(canariesResponse, 'Registered.'), 403: notParty, 409: staleOrKey },
});

export const canariesDoneResponse = z.object({ canariesRegistered: z.literal(true) });

export const postCanariesDone = signedRoute({
  method: 'post',
  path: '/v1/pairs/{pair}/set/canaries/done',
  tags: ['pairs'],
  summary: "Mark the side's canary registration complete for the epoch",
  request: { params: pairParams, headers: epochHeaders, body: jsonBody(emptyBody) },
  responses: { 200: jsonResponse(canariesDoneResponse, 'Marked.'), 403: notParty, 409: staleOrKey },
});

export const linksBody = z
  .object({
    previousEpoch: epochIdSchema,
    links: z.array(z.object({ position: positionSchema, previous: positionSchema }).strict()).max(MAX_LINKS_PER_CALL),
  })
  .strict();
export const linksResponse = z.object({ linked: nonNegInt });

export const putLinks = signedRoute({
  method: 'put',
  path: '/v1/pairs/{pair}/set/links',
  tags: ['pairs'],
  summary: 'Handle continuity after a rotation: the previous-epoch position of each new position',
  request: { params: pairParams, headers: epochHeaders, body: jsonBody(linksBody) },
  responses: { 200: jsonResponse(linksResponse, 'Linked.'), 403: notParty, 409: staleOrKey },
});

export const getPartnerChunk = signedRoute({
  method: 'get',
  path: '/v1/pairs/{pair}/partner-set/chunks/{index}',
  tags: ['pairs'],
  summary: "Download chunk `index` of the partner's side",
  request: { params: chunkParams, headers: epochHeaders },
  responses: {
    200: {
      description: `n×${ELEMENT_BYTES} bytes: the partner's blinded elements, with the partner's signed manifest in the headers.`,
      headers: chunkDownloadHeaders,
      content: binaryContent(),
    },
    403: notParty,
    404: problemResponse("`not-found`: the partner's side has no such chunk."),
    409: problemResponse('`conflict`: the pair failed its canary check; `stale-epoch`; `epoch-key-required`.'),
  },
});

const pageCount = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,15})$/, 'must be a non-negative integer')
  .transform(Number);

export const partnerRemovalsQuery = z
  .object({
    after: pageCount
      .pipe(z.number().max(Number.MAX_SAFE_INTEGER, 'must be a non-negative integer'))
      .default(0)
      .meta({ description: 'How many of the side’s removals the caller has read already: the page starts after them.' }),
    limit: pageCount
      .pipe(z.number().min(1, `must be 1..${MAX_REMOVALS_PAGE}`).max(MAX_REMOVALS_PAGE, `must be 1..${MAX_REMOVALS_PAGE}`))
      .default(MAX_REMOVALS_PAGE)
      .meta({ description: `At most this many positions, 1..${MAX_REMOVALS_PAGE}.` }),
  })
  .strict();

export const partnerRemovalsResponse = z.object({
  epoch: z.string(),
  positions: z.array(nonNegInt).meta({ description: 'Positions the partner withdrew from its side, in the order it withdrew them.' }),
  next: nonNegInt.nullable().meta({ description: 'The `after` of the next page; null when this page reached the end.' }),
});

export const getPartnerRemovals = signedRoute({
  method: 'get',
  path: '/v1/pairs/{pair}/partner-set/removals',
  tags: ['pairs'],
  summary: "Positions the partner removed from its side in the current epoch, oldest removal first",
  description:
    'The tokenising agency drops the tokens it keeps for these positions, so a targeted query no longer finds an identifier the partner withdrew. ' +
    'Removals are only appended within an epoch: `after` is the number already read.',
  request: { params: pairParams, headers: epochHeaders, query: partnerRemovalsQuery },
  responses: {
    200: jsonResponse(partnerRemovalsResponse, 'One page.'),
    403: notParty,
    409: problemResponse('`stale-epoch`; `epoch-key-required`.'),
  },
});

export const tokensReceiptSchema = z.object({ index: nonNegInt, count: nonNegInt, sha256: hexString(32) });

export const putTokens = signedRoute({
  method: 'put',
  path: '/v1/pairs/{pair}/partner-set/chunks/{index}/tokens',
  tags: ['pairs'],
  summary: "Upload the tokens of chunk `index` of the partner's side",
  request: {
    params: chunkParams,
    headers: epochHeaders,
    body: { required: true, description: `n×${TOKEN_BYTES} bytes, n the chunk's count: Token(k_caller · element) for each element in order.`, content: binaryContent() },
  },
  responses: {
    200: jsonResponse(tokensReceiptSchema, 'The tokens were already stored with this digest.'),
    201: jsonResponse(tokensReceiptSchema, 'Stored (the answer never says whether anything matched).'),
    403: notParty,
    404: problemResponse("`not-found`: the partner's side has no such chunk."),
    409: problemResponse('`conflict`: other tokens are stored, or the pair failed; `stale-epoch`; `epoch-key-required`.'),
  },
});

export const pairStatusSchema = z.object({
  pair: z.string(),
  state: pairStateSchema,
  reason: z.string().optional(),
  mine: z.object({
    chunks: z.array(z.object({ index: nonNegInt, count: nonNegInt, sha256: hexString(32) })),
    size: nonNegInt,
    removed: nonNegInt,
    /** True only when `canaries/done` covers every chunk the side holds (protocol/SPEC.md §1.6). */
    canariesRegistered: z.boolean(),
    /** Chunks 0..canaryChunks−1 were uploaded before the side's last `canaries/done`. */
    canaryChunks: nonNegInt,
    tokenizedByPartner: nonNegInt,
  }),
  partner: z.object({ chunks: nonNegInt, size: nonNegInt, tokenizedByMe: nonNegInt }),
});

export const getPairStatus = signedRoute({
  method: 'get',
  path: '/v1/pairs/{pair}/status',
  tags: ['pairs'],
  summary: 'Progress of a pair, as the caller may see it',
  request: { params: pairParams },
  responses: { 200: jsonResponse(pairStatusSchema, 'The pair’s state and both sides’ progress.'), 403: notParty, 409: staleOrKey },
});

export const pairEpochKeyBody = z
  .object({
    epoch: epochIdSchema,
    publicKey: hexSchema(ELEMENT_BYTES),
    signature: hexSchema(SIGNATURE_BYTES).meta({
      description: 'Ed25519 over the `epoch-key` statement `{agency, epoch, pair, agreement: {id, version}, publicKey}` (protocol/SPEC.md §8.7), agreement the active version.',
    }),
  })
  .strict();

export const pairEpochKeyResponse = z.object({
  pair: z.string(),
  agreement: agreementRefSchema,
  epoch: z.string(),
  publicKey: hexString(ELEMENT_BYTES),
  signature: hexString(SIGNATURE_BYTES),
  publishedAt: z.string(),
});

export const putPairEpochKey = signedRoute({
  method: 'put',
  path: '/v1/pairs/{pair}/epoch-key',
  tags: ['pairs'],
  summary: "Publish the caller's signed per-pair epoch key (protocol/SPEC.md §8.5, §8.7) for the current epoch",
  request: { params: pairParams, body: jsonBody(pairEpochKeyBody) },
  responses: {
    200: jsonResponse(pairEpochKeyResponse, 'The same key was already published.'),
    201: jsonResponse(pairEpochKeyResponse, 'Published.'),
    403: notParty,
    409: problemResponse('`conflict`: another key is published for this pair and epoch; `stale-epoch`: not the current epoch.'),
    422: problemResponse('`validation`, or `bad-signature` (`field: "body.signature"`): the statement does not verify under the caller’s registered key.'),
  },
});
