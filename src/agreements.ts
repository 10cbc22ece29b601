// Agreement versions as the API shows them (src/API.md, "Agreements"): the
// canonical terms every party signs (protocol/SPEC.md §8.6), their status and
// who accepted or rejected them.
import type { z } from '@hono/zod-openapi';
import { bytesToHex } from '../protocol/bytes.js';
import type { IdentifierKind } from '../protocol/identifiers/index.js';
import type { agreementSchema, agreementVersionSchema } from '../wire/index.js';
import { pairsOf } from './pairs.js';
import type { AgreementVersionRecord } from './store/types.js';

export function versionJson(v: AgreementVersionRecord): z.infer<typeof agreementVersionSchema> {
  return {
    terms: v.terms,
    status: v.status,
    acceptances: v.acceptances.map((a) => ({ agency: a.agency, signature: bytesToHex(a.signature), acceptedAt: a.acceptedAt })),
    rejections: v.rejections.map((r) => ({ agency: r.agency, rejectedAt: r.rejectedAt })),
  };
}

/** The admin's view: the legacy fields of the version's terms beside the signed document itself. */
export function adminAgreementJson(v: AgreementVersionRecord): z.infer<typeof agreementSchema> {
  const t = v.terms;
  const parties = t.parties.map((p) => p.agency);
  return {
    id: t.id,
    parties,
    // Checked against the kind list when the version was proposed.
    kinds: t.kinds as IdentifierKind[],
    mode: t.mode,
    validFrom: t.validFrom,
    validUntil: t.validUntil,
    maxSetSize: t.maxSetSize,
    legalBasis: t.legalBasis,
    purposes: [...t.purposes],
    queryQuota: { perDay: t.queryQuota.perDay, maxValues: t.queryQuota.maxValues },
    createdAt: v.createdAt,
    version: t.version,
    ...versionJson(v),
    pairs: pairsOf(t.id, parties).map((p) => p.id),
  };
}
