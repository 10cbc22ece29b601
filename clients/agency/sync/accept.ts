// Phase 0 of a pair's sync: may this agency act on the pair at all? Only
// under an agreement version it accepted itself, with the terms of its local
// copy, on a date inside their validity, for the pair identifier it computes
// from those terms, and with a partner key signed by the partner's pinned
// signing key (protocol/SPEC.md §8.5–§8.7, §5.3 items 1–3). Anything else is
// refused here, written to the local audit trail, and nothing is blinded,
// uploaded or tokenised for the pair.
import { bytesToHex, hexToBytes } from '../../../protocol/bytes.js';
import { agreementRef, isActiveOn, pairIdOf, partyOf } from '../../../protocol/agreement.js';
import { checkEpochKey } from '../../../protocol/epoch-key.js';
import type { MePair } from '../../sdk/api.js';
import { acceptedTerms } from '../agreements.js';
import type { AgreementTerms as AcceptedTerms } from '../../../protocol/agreement.js';
import { appendAudit } from '../audit.js';
import type { PairCrypto, SyncContext } from './context.js';
import { publishPairKey } from './epochs.js';

export type Gate =
  | { readonly ok: true; readonly pair: MePair; readonly crypto: PairCrypto }
  /** `skipped`: not this agency's to act on (not accepted, expired); otherwise refused: the pair failed locally. */
  | { readonly ok: false; readonly skipped: boolean; readonly message: string };

type GateContext = Pick<SyncContext, 'agency' | 'client' | 'store' | 'epoch'>;

/** The pair as /v1/me lists it, with every term replaced by the locally accepted one. */
function localPair(p: MePair, c: PairCrypto): MePair {
  const t = c.terms;
  return { ...p, mode: t.mode, kinds: [...t.kinds], maxSetSize: t.maxSetSize, validUntil: t.validUntil, purposes: [...t.purposes], queryQuota: { ...t.queryQuota } };
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Terms the coordinator presents that differ from the accepted copy. They are
 * never acted on (the local copy governs), but the attempt is written down so
 * an authority reviewing the trail sees it (protocol/SPEC.md §5.3 item 6).
 * Purposes may legitimately be fewer than agreed (the deployment can drop
 * one), never more.
 */
function presentedDifferences(p: MePair, t: AcceptedTerms): string[] {
  const out: string[] = [];
  if (p.mode !== t.mode) out.push('mode');
  if (!sameList([...p.kinds].sort(), t.kinds)) out.push('kinds');
  if (p.maxSetSize !== t.maxSetSize) out.push('maxSetSize');
  if (p.validUntil !== t.validUntil) out.push('validUntil');
  if ((p.purposes ?? []).some((x) => !t.purposes.includes(x))) out.push('purposes');
  if (p.queryQuota && (p.queryQuota.perDay !== t.queryQuota.perDay || p.queryQuota.maxValues !== t.queryQuota.maxValues)) out.push('queryQuota');
  return out;
}

export async function gatePair(ctx: GateContext, p: MePair, today: string): Promise<Gate> {
  const subject = p.pair;
  const audit = (action: string, detail: Record<string, string | number>) =>
    appendAudit(ctx.store, { officer: null, action, subject, outcome: 'refused', detail: { agreement: p.agreement, version: p.agreementVersion, epoch: ctx.epoch, ...detail } });
  const acc = acceptedTerms(ctx.store, p.agreement, p.agreementVersion);
  if (!acc.ok) {
    audit('agreement.not_accepted', { reason: acc.reason });
    return { ok: false, skipped: true, message: `${acc.message}; nothing is uploaded or tokenised for the pair` };
  }
  const terms = acc.terms;
  if (!isActiveOn(terms, today)) {
    audit('agreement.expired', { validFrom: terms.validFrom, validUntil: terms.validUntil });
    return { ok: false, skipped: true, message: `agreement ${terms.id} version ${terms.version} is valid ${terms.validFrom}..${terms.validUntil}, not on ${today}; nothing is uploaded or tokenised for the pair` };
  }
  const partner = partyOf(terms, p.partner);
  if (!partner || p.partner === ctx.agency.agency || !partyOf(terms, ctx.agency.agency)) {
    audit('pair.refused', { reason: 'parties' });
    return { ok: false, skipped: false, message: `the coordinator lists a partner the accepted terms of ${terms.id} v${terms.version} do not name` };
  }
  const pair = pairIdOf(terms, ctx.agency.agency, p.partner);
  if (pair !== p.pair) {
    audit('pair.refused', { reason: 'pair-id' });
    return { ok: false, skipped: false, message: `the coordinator names the pair otherwise than the accepted terms make it (${pair}): refused` };
  }
  const differs = presentedDifferences(p, terms);
  if (differs.length > 0) audit('agreement.terms_mismatch', { fields: differs.join(','), acted: 'on the accepted terms' });
  const crypto: PairCrypto = {
    terms,
    ref: agreementRef(terms),
    key: ctx.agency.secrets.pairKey(ctx.epoch, pair),
    partnerSigningKey: hexToBytes(partner.signingKey),
    partnerKey: null,
  };
  if (p.partnerEpochKey !== null) {
    const signature = /^[0-9a-f]{128}$/.test(p.partnerEpochKey.signature) ? hexToBytes(p.partnerEpochKey.signature) : new Uint8Array(0);
    const check = checkEpochKey(
      { document: { agency: p.partner, epoch: ctx.epoch, pair, agreement: crypto.ref, publicKey: p.partnerEpochKey.publicKey }, signature },
      { agency: p.partner, signingKey: crypto.partnerSigningKey, epoch: ctx.epoch, pair, agreement: crypto.ref },
    );
    if (!check.ok) {
      audit('epoch_key.refused', { reason: check.reason, partner: p.partner });
      return { ok: false, skipped: false, message: `the partner's epoch key is refused (${check.reason}: ${check.message}); nothing is evaluated for the pair` };
    }
    crypto.partnerKey = check.publicKey;
  }
  await publishPairKey(ctx.client, ctx.agency, ctx.epoch, pair, crypto, p.myEpochKey);
  return { ok: true, pair: localPair(p, crypto), crypto };
}

/** Hex of the verified partner key, for comparing with what the canaries were computed with. */
export const partnerKeyHex = (c: PairCrypto): string | null => (c.partnerKey ? bytesToHex(c.partnerKey) : null);
