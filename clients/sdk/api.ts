// Response shapes of the coordinator API (src/API.md). Parsed with zod so a
// coordinator that breaks the contract fails loudly here instead of corrupting
// the local store. Unknown keys are tolerated: newer coordinators may add fields.
import { z } from 'zod';

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `expected ${bytes} bytes of lower-case hex`);
const nonNegInt = z.number().int().nonnegative();

export const pairStateSchema = z.enum(['waiting', 'complete', 'failed']);
export type PairState = z.infer<typeof pairStateSchema>;
export const modeSchema = z.enum(['reveal', 'count']);
export type Mode = z.infer<typeof modeSchema>;

export const mePairSchema = z.object({
  pair: z.string().min(1),
  agreement: z.string().min(1),
  partner: z.string().min(1),
  mode: modeSchema,
  kinds: z.array(z.string()),
  validUntil: z.string(),
  maxSetSize: nonNegInt,
  myEpochKey: hex(32).nullable(),
  partnerEpochKey: hex(32).nullable(),
  // Part 2 (targeted queries): absent on coordinators without queries.
  purposes: z.array(z.string()).optional(),
  queryQuota: z.object({ perDay: nonNegInt, maxValues: nonNegInt }).partial().optional(),
  queriesLeftToday: nonNegInt.optional(),
});
export type MePair = z.infer<typeof mePairSchema>;

export const meSchema = z.object({
  agency: z.object({ id: z.string(), name: z.string(), country: z.string() }),
  epoch: z.object({ id: z.string().min(1), startedAt: z.string() }),
  pairs: z.array(mePairSchema),
});
export type Me = z.infer<typeof meSchema>;

export const chunkReceiptSchema = z.object({
  index: nonNegInt,
  firstPosition: nonNegInt,
  count: nonNegInt,
  sha256: hex(32),
});
export type ChunkReceipt = z.infer<typeof chunkReceiptSchema>;

export const statusSchema = z.object({
  pair: z.string(),
  state: pairStateSchema,
  reason: z.string().optional(),
  mine: z.object({
    chunks: z.array(z.object({ index: nonNegInt, count: nonNegInt, sha256: hex(32) })),
    size: nonNegInt,
    removed: nonNegInt,
    canariesRegistered: z.boolean(),
    tokenizedByPartner: nonNegInt,
  }),
  partner: z.object({ chunks: nonNegInt, size: nonNegInt, tokenizedByMe: nonNegInt }),
});
export type PairStatus = z.infer<typeof statusSchema>;

export const workSchema = z.object({
  tasks: z.array(
    z.object({
      pair: z.string(),
      partner: z.string(),
      index: nonNegInt,
      count: z.number().int().positive(),
      sha256: hex(32),
      epoch: z.string().optional(),
    }),
  ),
});
export type WorkTask = z.infer<typeof workSchema>['tasks'][number];

export const resultsSchema = z.object({
  epoch: z.string(),
  pairs: z.array(
    z.object({
      pair: z.string(),
      agreement: z.string(),
      partner: z.string(),
      mode: modeSchema,
      state: pairStateSchema,
      reason: z.string().optional(),
      count: nonNegInt.optional(),
      matches: z.array(z.object({ position: nonNegInt, handle: z.string().min(1), firstSeen: z.string() })).optional(),
    }),
  ),
});
export type Results = z.infer<typeof resultsSchema>;
export type PairResult = Results['pairs'][number];

export const removalsReplySchema = z.object({ removed: nonNegInt });
export const canariesReplySchema = z.object({ registered: nonNegInt });

export const linksReplySchema = z.object({ linked: nonNegInt });

// ---- targeted queries and hits (API.md part 2) ----

export const createQueryReplySchema = z.object({
  queryId: z.string().min(1),
  legs: z.array(z.object({ partner: z.string(), status: z.string() })),
});
export type CreateQueryReply = z.infer<typeof createQueryReplySchema>;

export const inboxQuerySchema = z.object({
  queryId: z.string().min(1),
  from: z.string(),
  kind: z.string(),
  purpose: z.string(),
  caseRef: z.string(),
  epoch: z.string().min(1),
  blinded: z.array(hex(32)).min(1),
  createdAt: z.string(),
});
export type InboxQuery = z.infer<typeof inboxQuerySchema>;
export const inboxSchema = z.object({ queries: z.array(inboxQuerySchema) });

export const legStatusSchema = z.enum(['pending', 'answered', 'expired']);
export const queryLegSchema = z.object({
  partner: z.string(),
  status: legStatusSchema,
  epoch: z.string().optional(),
  partnerEpochKey: hex(32).optional(),
  evaluated: z.array(z.string()).optional(),
  proof: z.string().optional(),
  proofValid: z.boolean().optional(),
});
export type QueryLeg = z.infer<typeof queryLegSchema>;
export const queryStateSchema = z.object({
  queryId: z.string(),
  kind: z.string(),
  purpose: z.string(),
  caseRef: z.string(),
  createdAt: z.string(),
  legs: z.array(queryLegSchema),
});
export type QueryState = z.infer<typeof queryStateSchema>;

export interface OutcomeLeg {
  partner: string;
  hits: Array<{ index: number; token: string }>;
  noHits: number;
  error?: 'bad-proof' | 'unanswered';
}
export const outcomeReplySchema = z.object({
  legs: z.array(z.object({ partner: z.string(), hits: z.array(z.object({ index: nonNegInt, handle: z.string().min(1) })) })),
});
export type OutcomeReply = z.infer<typeof outcomeReplySchema>;

export const hitStatusSchema = z.enum(['unverified', 'confirmed', 'declined']);
export type HitStatus = z.infer<typeof hitStatusSchema>;
export const hitSchema = z.object({
  handle: z.string().min(1),
  pair: z.string(),
  partner: z.string(),
  source: z.enum(['nightly', 'query']),
  position: nonNegInt.optional(),
  epoch: z.string(),
  status: hitStatusSchema,
  myStatus: z.string().nullable().optional(),
  partnerStatus: z.string().nullable().optional(),
  queryId: z.string().optional(),
  caseRef: z.string().optional(),
  purpose: z.string().optional(),
  createdAt: z.string(),
  confirmedAt: z.string().nullable().optional(),
});
export type Hit = z.infer<typeof hitSchema>;
export const hitsSchema = z.object({ hits: z.array(hitSchema) });
/** confirm/decline answer "the hit": accepted bare or wrapped as {"hit": …}. */
export const hitReplySchema = z.union([z.object({ hit: hitSchema }).transform((x) => x.hit), hitSchema]);

// ---- audit (API.md, "Audit log") ----

export const auditRecordSchema = z.object({
  seq: z.number().int().positive(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  subject: z.string(),
  outcome: z.string(),
  detail: z.record(z.string(), z.json()),
  hash: hex(32),
  prevHash: hex(32),
  /** Members withheld from `detail` (another party's officer): `hash` is then not recomputable here. */
  redacted: z.array(z.string()).optional(),
});
export type AuditRecord = z.infer<typeof auditRecordSchema>;
export const auditPageSchema = z.object({ entries: z.array(auditRecordSchema), next: nonNegInt.nullable() });
export type AuditPage = z.infer<typeof auditPageSchema>;
