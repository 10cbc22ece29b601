// The audit entries that involve the caller (src/API.md, "Audit log"): the
// entry shape of `coordinator audit export`, paged by seq.
import { z } from '@hono/zod-openapi';
import { DEFAULT_AUDIT_LIMIT, MAX_AUDIT_LIMIT } from './limits.js';
import { hexString, nonNegInt } from './primitives.js';
import { jsonResponse, signedRoute } from './route.js';

const count = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,15})$/, 'must be a non-negative integer')
  .transform(Number);

export const auditQuery = z
  .object({
    after: count
      .pipe(z.number().max(Number.MAX_SAFE_INTEGER, 'must be a non-negative integer'))
      .default(0)
      .meta({ description: 'Entries with `seq > after`.' }),
    limit: count
      .pipe(z.number().min(1, `must be 1..${MAX_AUDIT_LIMIT}`).max(MAX_AUDIT_LIMIT, `must be 1..${MAX_AUDIT_LIMIT}`))
      .default(DEFAULT_AUDIT_LIMIT)
      .meta({ description: `At most this many entries, 1..${MAX_AUDIT_LIMIT}.` }),
  })
  .strict();

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * What `z.json()` accepts, written out so that the document can name it: the
 * generator follows `z.json()`'s own recursion forever, a named schema it
 * references instead.
 */
export const jsonValueSchema: z.ZodType<JsonValue> = z
  .lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValueSchema), z.record(z.string(), jsonValueSchema)]))
  .openapi('JsonValue');

export const auditRecordSchema = z
  .object({
    seq: z.number().int().positive(),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    subject: z.string(),
    outcome: z.string(),
    detail: z.record(z.string(), jsonValueSchema),
    hash: hexString(32),
    prevHash: hexString(32),
    salts: z
      .record(z.string(), hexString(32))
      .optional()
      .meta({ description: 'Salt per sealed part shown (`outcome`, `detail.officer`, … protocol/SPEC.md §9.2): with them the entry’s leaf hash is recomputable.' }),
    sealed: z
      .record(z.string(), hexString(32))
      .optional()
      .meta({ description: 'Commitment per sealed part withheld (§9.2), in place of its value and salt: the leaf hash stays recomputable.' }),
    redacted: z
      .array(z.string())
      .optional()
      .meta({ description: 'What was withheld, `detail.<member>` or `outcome` (another party’s officer; the result of a query the caller did not ask): `hash` is then not recomputable by the caller.' }),
  })
  .openapi('AuditEntry');
export const auditPageSchema = z.object({
  entries: z.array(auditRecordSchema),
  next: nonNegInt.nullable().meta({ description: 'The `after` of the next page; null at the end of the log.' }),
});

export const getAudit = signedRoute({
  method: 'get',
  path: '/v1/audit',
  tags: ['audit'],
  summary: 'Audit entries that involve the caller, oldest first',
  request: { query: auditQuery },
  responses: { 200: jsonResponse(auditPageSchema, 'One page; fewer than `limit` entries (even none) while `next` is not null.') },
});

// ---- The audit transparency log (protocol/SPEC.md §9; src/API.md, "Audit transparency log") ----

const hex32List = z.array(hexString(32));

export const signedTreeHeadSchema = z
  .object({
    head: z
      .object({
        log: hexString(32).meta({ description: 'Log id: SHA-256("AuditLog-" ‖ contextString ‖ log public key) (§9.4).' }),
        size: nonNegInt.meta({ description: 'Leaves: the entries seq 1..size.' }),
        root: hexString(32).meta({ description: 'RFC 9162 §2.1.1 Merkle tree hash of the leaves.' }),
        at: z.string().meta({ description: 'When the log key signed this head.' }),
      })
      .strict(),
    signature: hexString(64).meta({ description: 'Ed25519 (§8.3, type `tree-head`) over `head` by the log key.' }),
  })
  .openapi('SignedTreeHead');

export const auditLogKeySchema = z
  .object({
    publicKey: hexString(32).meta({ description: 'Ed25519 public key that signs the audit log’s tree heads.' }),
    log: hexString(32).meta({ description: 'The log id heads carry (§9.4).' }),
  })
  .openapi('AuditLogKey');

/** A tree size or seq in a query string. */
const position = (min: number) =>
  count.pipe(z.number().min(min, `must be an integer ≥ ${min}`).max(Number.MAX_SAFE_INTEGER, `must be an integer ≥ ${min}`));

export const inclusionQuery = z
  .object({
    seq: position(1).meta({ description: 'The entry (leaf seq − 1).' }),
    size: position(1).meta({ description: 'Size of the tree of a head the caller holds; seq ≤ size ≤ the current size.' }),
  })
  .strict();

export const consistencyQuery = z
  .object({
    from: position(0).meta({ description: 'Size of the older head.' }),
    to: position(0).meta({ description: 'Size of the newer head; from ≤ to ≤ the current size.' }),
  })
  .strict();

export const inclusionProofSchema = z
  .object({
    seq: z.number().int().positive(),
    index: nonNegInt.meta({ description: 'Leaf index: seq − 1.' }),
    size: z.number().int().positive(),
    proof: hex32List.meta({ description: 'RFC 9162 §2.1.3.1 audit path, leaf to root.' }),
  })
  .openapi('InclusionProof');

export const consistencyProofSchema = z
  .object({
    from: nonNegInt,
    to: nonNegInt,
    proof: hex32List.meta({ description: 'RFC 9162 §2.1.4.1 consistency proof; empty when from is 0 or from = to.' }),
  })
  .openapi('ConsistencyProof');

export const getAuditHead = signedRoute({
  method: 'get',
  path: '/v1/audit/head',
  tags: ['audit'],
  summary: 'The signed head of the audit log’s Merkle tree',
  responses: { 200: jsonResponse(signedTreeHeadSchema, 'The head of the current tree, signed by the log key published in GET /v1/me.') },
});

export const getAuditInclusion = signedRoute({
  method: 'get',
  path: '/v1/audit/proof/inclusion',
  tags: ['audit'],
  summary: 'Proof that an entry involving the caller is in the tree of a given size',
  request: { query: inclusionQuery },
  responses: { 200: jsonResponse(inclusionProofSchema, 'The audit path of leaf seq − 1 in the tree of `size` leaves.') },
});

export const getAuditConsistency = signedRoute({
  method: 'get',
  path: '/v1/audit/proof/consistency',
  tags: ['audit'],
  summary: 'Proof that the tree of one size is a prefix of the tree of a larger one',
  request: { query: consistencyQuery },
  responses: { 200: jsonResponse(consistencyProofSchema, 'The consistency proof between the trees of `from` and `to` leaves.') },
});

export const adminAuditHeadSchema = signedTreeHeadSchema.extend({ logKey: auditLogKeySchema }).openapi('AdminAuditHead');

export const getAdminAuditHead = signedRoute({
  method: 'get',
  path: '/v1/admin/audit/head',
  tags: ['admin'],
  summary: 'The audit log’s key and the signed head of its current tree',
  responses: { 200: jsonResponse(adminAuditHeadSchema, 'The log key and the current signed head.') },
});
