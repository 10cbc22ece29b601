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
