// Agencies, agreements and their pairs (src/API.md, "Admin"): rows
// written once by the admin and never changed, so each write is an insert
// that either lands or reports what is already there.
import { asc, eq, or } from 'drizzle-orm';
import * as schema from '../schema.js';
import type { AgencyRecord, AgreementRecord, PairRecord, PutResult } from '../types.js';
import type { ControlPlane } from './control.js';
import { atomic, isConstraintError, MAX_PARAMS, pieces, type Executor } from './executor.js';
import { agencyOf, agreementOf, buf, pairOf, sameBytes } from './rows.js';

const { agencies, agreements, pairs } = schema;

export function registry(x: Executor) {
  const { db } = x;
  const agreementExists = async (id: string) => (await db.select({ id: agreements.id }).from(agreements).where(eq(agreements.id, id)).get()) !== undefined;

  return {
    async getAgency(id: string): Promise<AgencyRecord | undefined> {
      const r = await db.select().from(agencies).where(eq(agencies.id, id)).get();
      return r ? agencyOf(r) : undefined;
    },

    async putAgency(a: AgencyRecord): Promise<PutResult> {
      const inserted = await db
        .insert(agencies)
        .values({ id: a.id, name: a.name, country: a.country, signingKey: buf(a.signingKey), createdAt: a.createdAt })
        .onConflictDoNothing()
        .run();
      if (x.changes(inserted) === 1) return 'created';
      const r = await db.select().from(agencies).where(eq(agencies.id, a.id)).get();
      return r && r.name === a.name && r.country === a.country && sameBytes(r.signingKey, a.signingKey) ? 'same' : 'conflict';
    },

    async getAgreement(id: string): Promise<AgreementRecord | undefined> {
      const r = await db.select().from(agreements).where(eq(agreements.id, id)).get();
      return r ? agreementOf(r) : undefined;
    },

    async listAgreements(): Promise<AgreementRecord[]> {
      return (await db.select().from(agreements).orderBy(asc(agreements.id)).all()).map(agreementOf);
    },

    async insertAgreement(a: AgreementRecord, ps: readonly PairRecord[]): Promise<boolean> {
      if (await agreementExists(a.id)) return false;
      const rows = ps.map((p) => ({ id: p.id, agreementId: p.agreementId, agencyA: p.agencies[0], agencyB: p.agencies[1] }));
      try {
        // One batch: the agreement and all its pairs, or nothing.
        await atomic(x, [
          db.insert(agreements).values({
            id: a.id,
            parties: JSON.stringify(a.parties),
            kinds: JSON.stringify(a.kinds),
            mode: a.mode,
            validFrom: a.validFrom,
            validUntil: a.validUntil,
            maxSetSize: a.maxSetSize,
            legalBasis: a.legalBasis,
            createdAt: a.createdAt,
            purposes: JSON.stringify(a.purposes),
            queryPerDay: a.queryQuota.perDay,
            queryMaxValues: a.queryQuota.maxValues,
          }),
          ...[...pieces(rows, Math.floor(MAX_PARAMS / 4))].map((part) => db.insert(pairs).values(part)),
        ]);
      } catch (err) {
        // Another request inserted the same id between the check and the batch.
        if (isConstraintError(err) && (await agreementExists(a.id))) return false;
        throw err;
      }
      return true;
    },

    async getPair(id: string): Promise<PairRecord | undefined> {
      const r = await db.select().from(pairs).where(eq(pairs.id, id)).get();
      return r ? pairOf(r) : undefined;
    },

    async listPairsOf(agencyId: string): Promise<PairRecord[]> {
      const rows = await db
        .select()
        .from(pairs)
        .where(or(eq(pairs.agencyA, agencyId), eq(pairs.agencyB, agencyId)))
        .orderBy(asc(pairs.id))
        .all();
      return rows.map(pairOf);
    },

    async listPairs(): Promise<PairRecord[]> {
      return (await db.select().from(pairs).orderBy(asc(pairs.id)).all()).map(pairOf);
    },
  } satisfies Partial<ControlPlane>;
}
