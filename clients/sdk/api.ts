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
    z.object({ pair: z.string(), partner: z.string(), index: nonNegInt, count: z.number().int().positive(), sha256: hex(32) }),
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
