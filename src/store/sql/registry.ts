// Agencies, agreements and their pairs (src/API.md, "Admin", "Agreements"):
// agencies and agreement versions are written once and never changed, so
// each write is an insert that either lands or reports what is already there;
// a version's status moves only proposed → active → superseded or
// proposed → rejected, each move one conditional UPDATE.
import { and, asc, desc, eq, or, sql, type SQL } from 'drizzle-orm';
import { canonicalAgreement, parseAgreement } from '../../../protocol/agreement.js';
import * as schema from '../schema.js';
import type {
  AcceptResult,
  AgencyRecord,
  AgreementAcceptance,
  AgreementRecord,
  AgreementRejection,
  AgreementVersionRecord,
  NewAgreementVersion,
  PairRecord,
  PutResult,
  RejectResult,
} from '../types.js';
import type { ControlPlane } from './control.js';
import { atomic, inJson, isConstraintError, MAX_PARAMS, once, pieces, type Executor } from './executor.js';
import { agencyOf, agreementRecordOf, buf, pairOf, sameBytes, u8 } from './rows.js';

const { agencies, agreementAcceptances, agreementRejections, agreements, agreementVersions, pairs } = schema;

export function registry(x: Executor) {
  const { db } = x;

  const versionsWhere = async (where: SQL | undefined): Promise<AgreementVersionRecord[]> => {
    const rows = await db.select().from(agreementVersions).where(where).orderBy(asc(agreementVersions.agreementId), asc(agreementVersions.version)).all();
    if (rows.length === 0) return [];
    const ids = [...new Set(rows.map((r) => r.agreementId))];
    const acc = await db.select().from(agreementAcceptances).where(inJson(agreementAcceptances.agreementId, ids)).orderBy(asc(agreementAcceptances.acceptedAt), asc(agreementAcceptances.agency)).all();
    const rej = await db.select().from(agreementRejections).where(inJson(agreementRejections.agreementId, ids)).orderBy(asc(agreementRejections.rejectedAt), asc(agreementRejections.agency)).all();
    return rows.map((r) => ({
      agreementId: r.agreementId,
      version: r.version,
      terms: parseAgreement(JSON.parse(r.terms)),
      status: r.status,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
      acceptances: acc
        .filter((a) => a.agreementId === r.agreementId && a.version === r.version)
        .map((a) => ({ agency: a.agency, signature: u8(a.signature), acceptedAt: a.acceptedAt })),
      rejections: rej.filter((a) => a.agreementId === r.agreementId && a.version === r.version).map((a) => ({ agency: a.agency, rejectedAt: a.rejectedAt })),
    }));
  };

  const agencyById = once(() => db.select().from(agencies).where(eq(agencies.id, sql.placeholder('id'))).prepare());
  // The active version governs; without one, the latest proposal describes the agreement.
  const governingVersion = once(() =>
    db
      .select()
      .from(agreementVersions)
      .where(eq(agreementVersions.agreementId, sql.placeholder('id')))
      .orderBy(desc(sql`${agreementVersions.status} = 'active'`), desc(agreementVersions.version))
      .limit(1)
      .prepare(),
  );
  const pairById = once(() => db.select().from(pairs).where(eq(pairs.id, sql.placeholder('id'))).prepare());
  const pairsOfAgency = once(() =>
    db
      .select()
      .from(pairs)
      .where(or(eq(pairs.agencyA, sql.placeholder('agency')), eq(pairs.agencyB, sql.placeholder('agency'))))
      .orderBy(asc(pairs.id))
      .prepare(),
  );

  const listAgreementVersions = (id?: string): Promise<AgreementVersionRecord[]> =>
    versionsWhere(id === undefined ? undefined : eq(agreementVersions.agreementId, id));

  return {
    async getAgency(id: string): Promise<AgencyRecord | undefined> {
      const r = await agencyById().get({ id });
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
      const r = await governingVersion().get({ id });
      return r ? agreementRecordOf(r) : undefined;
    },

    listAgreementVersions,

    async getAgreementVersion(id: string, version: number): Promise<AgreementVersionRecord | undefined> {
      return (await versionsWhere(and(eq(agreementVersions.agreementId, id), eq(agreementVersions.version, version)) as SQL))[0];
    },

    async insertAgreementVersion(v: NewAgreementVersion, ps: readonly PairRecord[]): Promise<boolean> {
      const t = v.terms;
      const mirror = {
        parties: JSON.stringify(t.parties.map((p) => p.agency)),
        kinds: JSON.stringify(t.kinds),
        mode: t.mode,
        validFrom: t.validFrom,
        validUntil: t.validUntil,
        maxSetSize: t.maxSetSize,
        legalBasis: v.legalBasis,
        purposes: JSON.stringify(t.purposes),
        queryPerDay: t.queryQuota.perDay,
        queryMaxValues: t.queryQuota.maxValues,
      };
      const rows = ps.map((p) => ({ id: p.id, agreementId: p.agreementId, agencyA: p.agencies[0], agencyB: p.agencies[1] }));
      try {
        // One batch: the version, the agreement's row and the new pairs, or nothing.
        await atomic(x, [
          db
            .insert(agreements)
            .values({ id: t.id, ...mirror, createdAt: v.createdAt })
            .onConflictDoUpdate({ target: agreements.id, set: mirror }),
          db.insert(agreementVersions).values({
            agreementId: t.id,
            version: t.version,
            terms: new TextDecoder().decode(canonicalAgreement(t)),
            status: 'proposed',
            createdAt: v.createdAt,
            updatedAt: v.createdAt,
          }),
          ...[...pieces(rows, Math.floor(MAX_PARAMS / 4))].map((part) => db.insert(pairs).values(part).onConflictDoNothing()),
        ]);
      } catch (err) {
        // Another request inserted the same version between the caller's read and this batch.
        if (isConstraintError(err)) return false;
        throw err;
      }
      return true;
    },

    async acceptAgreementVersion(id: string, version: number, a: AgreementAcceptance): Promise<AcceptResult> {
      const [inserted] = await atomic(x, [
        // Only while the version is proposed or active: a rejected or superseded version takes no acceptance.
        sql`INSERT INTO ${agreementAcceptances} (agreement_id, version, agency, signature, accepted_at)
          SELECT ${id}, ${version}, ${a.agency}, ${buf(a.signature)}, ${a.acceptedAt}
          WHERE EXISTS (SELECT 1 FROM ${agreementVersions} WHERE agreement_id = ${id} AND version = ${version} AND status IN ('proposed', 'active'))
          ON CONFLICT DO NOTHING`,
      ]);
      if ((inserted?.changes ?? 0) === 1) return 'created';
      const v = await db
        .select({ status: agreementVersions.status })
        .from(agreementVersions)
        .where(and(eq(agreementVersions.agreementId, id), eq(agreementVersions.version, version)))
        .get();
      if (!v) return 'not-found';
      const r = await db
        .select({ signature: agreementAcceptances.signature })
        .from(agreementAcceptances)
        .where(and(eq(agreementAcceptances.agreementId, id), eq(agreementAcceptances.version, version), eq(agreementAcceptances.agency, a.agency)))
        .get();
      return r && sameBytes(r.signature, a.signature) ? 'same' : 'conflict';
    },

    async activateAgreementVersion(id: string, version: number, at: string): Promise<{ activated: boolean; superseded: number[] }> {
      const [activated, superseded] = await atomic(x, [
        sql`UPDATE ${agreementVersions} SET status = 'active', updated_at = ${at}
          WHERE agreement_id = ${id} AND version = ${version} AND status = 'proposed'
            AND NOT EXISTS (SELECT 1 FROM ${agreementVersions} WHERE agreement_id = ${id} AND status = 'active' AND version > ${version})`,
        sql`UPDATE ${agreementVersions} SET status = 'superseded', updated_at = ${at}
          WHERE agreement_id = ${id} AND version < ${version} AND status IN ('proposed', 'active')
            AND EXISTS (SELECT 1 FROM ${agreementVersions} WHERE agreement_id = ${id} AND version = ${version} AND status = 'active')
          RETURNING version`,
      ]);
      return {
        activated: (activated?.changes ?? 0) === 1,
        superseded: (superseded?.rows ?? []).map((r) => Number(r.version)).sort((a, b) => a - b),
      };
    },

    async rejectAgreementVersion(id: string, version: number, rj: AgreementRejection): Promise<RejectResult> {
      const [changed] = await atomic(x, [
        sql`UPDATE ${agreementVersions} SET status = 'rejected', updated_at = ${rj.rejectedAt}
          WHERE agreement_id = ${id} AND version = ${version} AND status = 'proposed'`,
        sql`INSERT INTO ${agreementRejections} (agreement_id, version, agency, rejected_at)
          SELECT ${id}, ${version}, ${rj.agency}, ${rj.rejectedAt}
          WHERE EXISTS (SELECT 1 FROM ${agreementVersions} WHERE agreement_id = ${id} AND version = ${version} AND status = 'rejected')
          ON CONFLICT DO NOTHING`,
      ]);
      if ((changed?.changes ?? 0) === 1) return 'rejected';
      const v = await db
        .select({ status: agreementVersions.status })
        .from(agreementVersions)
        .where(and(eq(agreementVersions.agreementId, id), eq(agreementVersions.version, version)))
        .get();
      if (!v) return 'not-found';
      if (v.status !== 'rejected') return 'conflict';
      const mine = await db
        .select({ agency: agreementRejections.agency })
        .from(agreementRejections)
        .where(and(eq(agreementRejections.agreementId, id), eq(agreementRejections.version, version), eq(agreementRejections.agency, rj.agency)))
        .get();
      return mine ? 'same' : 'conflict';
    },

    async getPair(id: string): Promise<PairRecord | undefined> {
      const r = await pairById().get({ id });
      return r ? pairOf(r) : undefined;
    },

    async listPairsOf(agencyId: string): Promise<PairRecord[]> {
      return (await pairsOfAgency().all({ agency: agencyId })).map(pairOf);
    },

    async listPairs(): Promise<PairRecord[]> {
      return (await db.select().from(pairs).orderBy(asc(pairs.id)).all()).map(pairOf);
    },
  } satisfies Partial<ControlPlane>;
}
