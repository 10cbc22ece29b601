// Row mappings between the coordinator schema and the store records, and
// byte helpers, shared by every store over the schema (better-sqlite3, D1,
// Durable Object SQLite). drizzle's BLOB columns read as Buffer on each.
import type { AuditDetail, AuditEntry } from '../../audit.js';
import { parseAgreement } from '../../../protocol/agreement.js';
import * as schema from '../schema.js';
import type { AgencyRecord, AgreementRecord, PairRecord, QueryLegRecord, QueryRecord } from '../types.js';

const { agencies, agreementVersions, auditLog, pairs, queries, queryHits, queryLegs } = schema;

/** A view of the bytes as a Buffer, without copying (better-sqlite3 binds Buffers as BLOBs). */
export function buf(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

export function u8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return buf(a).equals(buf(b));
}

export function sameNullableBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  return a === null || b === null ? a === b : sameBytes(a, b);
}


export function agencyOf(r: typeof agencies.$inferSelect): AgencyRecord {
  return { id: r.id, name: r.name, country: r.country, signingKey: u8(r.signingKey), createdAt: r.createdAt };
}

/** The enforced fields of one agreement version, from its canonical terms. */
export function agreementRecordOf(r: typeof agreementVersions.$inferSelect): AgreementRecord {
  const t = parseAgreement(JSON.parse(r.terms));
  return {
    id: t.id,
    version: t.version,
    status: r.status,
    parties: t.parties.map((p) => p.agency),
    kinds: [...t.kinds],
    mode: t.mode,
    validFrom: t.validFrom,
    validUntil: t.validUntil,
    maxSetSize: t.maxSetSize,
    legalBasis: t.legalBasis,
    createdAt: r.createdAt,
    purposes: [...t.purposes],
    queryQuota: { perDay: t.queryQuota.perDay, maxValues: t.queryQuota.maxValues },
  };
}

export function legOf(r: typeof queryLegs.$inferSelect): QueryLegRecord {
  return {
    partner: r.partner,
    agreementId: r.agreementId,
    agreementVersion: r.agreementVersion,
    epoch: r.legEpoch,
    signature: r.signature ? u8(r.signature) : null,
    pairId: r.pairId,
    createdAt: r.createdAt,
    status: r.status,
    refusal: r.refusalReason === null ? null : { reason: r.refusalReason, at: r.refusedAt ?? r.createdAt },
    answerEpoch: r.answerEpoch,
    evaluated: r.evaluated ? u8(r.evaluated) : null,
    proof: r.proof ? u8(r.proof) : null,
    proofValid: r.proofValid === null ? null : r.proofValid === 1,
    answeredAt: r.answeredAt,
    outcome:
      r.outcomeAt === null
        ? null
        : { at: r.outcomeAt, hits: r.outcomeHits ?? 0, noHits: r.outcomeNoHits ?? 0, error: r.outcomeError },
  };
}

export const queryHitColumns = {
  queryId: queryHits.queryId,
  partner: queryHits.partner,
  requester: queries.requester,
  index: queryHits.idx,
  handle: queryHits.handle,
  pairId: queryHits.pairId,
  epoch: queryHits.epoch,
  position: queryHits.position,
  caseRef: queries.caseRef,
  purpose: queries.purpose,
  createdAt: queryHits.createdAt,
};

export function queryOf(q: typeof queries.$inferSelect, legs: QueryLegRecord[]): QueryRecord {
  return {
    id: q.id,
    requester: q.requester,
    kind: q.kind,
    purpose: q.purpose,
    caseRef: q.caseRef,
    officer: q.officer,
    values: q.values,
    epoch: q.epoch,
    blinded: q.blinded ? u8(q.blinded) : null,
    createdAt: q.createdAt,
    statedAt: q.statedAt,
    legs,
  };
}

export function pairOf(r: typeof pairs.$inferSelect): PairRecord {
  return { id: r.id, agreementId: r.agreementId, agencies: [r.agencyA, r.agencyB] };
}

export function auditOf(r: typeof auditLog.$inferSelect): AuditEntry {
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    outcome: r.outcome,
    detail: JSON.parse(r.detail) as AuditDetail,
    hash: u8(r.hash),
  };
}

