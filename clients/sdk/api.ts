// Response shapes of the coordinator API: the schemas of the wire contract
// (wire/, src/API.md), under the names the SDK has always exported. Parsed
// with zod so a coordinator that breaks the contract fails loudly here instead
// of corrupting the local store. Unknown keys are tolerated (stripped): newer
// coordinators may add fields.
import { z } from 'zod';
import {
  agreementVersionSchema,
  auditPageSchema,
  auditRecordSchema,
  canariesResponse,
  chunkReceiptSchema,
  consistencyProofSchema,
  inclusionProofSchema,
  signedTreeHeadSchema,
  createQueryResponse,
  hitSchema,
  hitsResponse,
  hitStatusSchema,
  inboxQuerySchema,
  inboxResponse,
  legStatusSchema,
  linksResponse,
  mePairSchema,
  meResponse,
  modeSchema,
  outcomeResponse,
  pairStateSchema,
  pairStatusSchema,
  partnerRemovalsResponse,
  queryLegSchema,
  queryStateSchema,
  removalsResponse,
  resultsResponse,
  workResponse,
  type createQueryBody,
  type outcomeBody,
} from '../../wire/index.js';

export {
  agreementVersionSchema,
  auditPageSchema,
  auditRecordSchema,
  chunkReceiptSchema,
  hitSchema,
  hitStatusSchema,
  inboxQuerySchema,
  legStatusSchema,
  mePairSchema,
  modeSchema,
  pairStateSchema,
  queryLegSchema,
  queryStateSchema,
  canariesResponse as canariesReplySchema,
  createQueryResponse as createQueryReplySchema,
  hitsResponse as hitsSchema,
  inboxResponse as inboxSchema,
  linksResponse as linksReplySchema,
  meResponse as meSchema,
  outcomeResponse as outcomeReplySchema,
  pairStatusSchema as statusSchema,
  removalsResponse as removalsReplySchema,
  resultsResponse as resultsSchema,
  workResponse as workSchema,
};

export type PairState = z.infer<typeof pairStateSchema>;
/** One agreement version as a party sees it (GET /v1/agreements). */
export type AgreementVersion = z.infer<typeof agreementVersionSchema>;
export type Mode = z.infer<typeof modeSchema>;
export type MePair = z.infer<typeof mePairSchema>;
export type Me = z.infer<typeof meResponse>;
export type ChunkReceipt = z.infer<typeof chunkReceiptSchema>;
export type PairStatus = z.infer<typeof pairStatusSchema>;
/** One page of GET /v1/pairs/{pair}/partner-set/removals. */
export type PartnerRemovalsPage = z.infer<typeof partnerRemovalsResponse>;
export type WorkTask = z.infer<typeof workResponse>['tasks'][number];
export type Results = z.infer<typeof resultsResponse>;
export type PairResult = Results['pairs'][number];

// ---- targeted queries and hits (API.md part 2) ----

export type CreateQueryReply = z.infer<typeof createQueryResponse>;
/** `POST /v1/queries` as sent: one signed leg per partner (protocol/SPEC.md §8.9). */
export type CreateQueryBody = z.input<typeof createQueryBody>;
export type InboxQuery = z.infer<typeof inboxQuerySchema>;
export type QueryLeg = z.infer<typeof queryLegSchema>;
export type QueryState = z.infer<typeof queryStateSchema>;
/** One leg of `POST /v1/queries/{id}/outcome`, as sent. */
export type OutcomeLeg = z.input<typeof outcomeBody>['legs'][number];
export type OutcomeReply = z.infer<typeof outcomeResponse>;

export type HitStatus = z.infer<typeof hitStatusSchema>;
export type Hit = z.infer<typeof hitSchema>;
/** confirm/decline answer "the hit": accepted bare or wrapped as {"hit": …}. */
export const hitReplySchema = z.union([z.object({ hit: hitSchema }).transform((x) => x.hit), hitSchema]);

// ---- audit (API.md, "Audit log") ----

export type AuditRecord = z.infer<typeof auditRecordSchema>;
export type AuditPage = z.infer<typeof auditPageSchema>;
/** GET /v1/audit/head (API.md, "Audit transparency log"). */
export type SignedTreeHeadReply = z.infer<typeof signedTreeHeadSchema>;
export type InclusionProofReply = z.infer<typeof inclusionProofSchema>;
export type ConsistencyProofReply = z.infer<typeof consistencyProofSchema>;
