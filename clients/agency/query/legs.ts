// Finishing one partner's answered leg (clients/README-cli.md, "concordat
// query", step 3): the key it is proven against must carry the partner's
// signature under the key pinned in the accepted terms, for the pair,
// agreement version and epoch this agency signed the leg for (protocol/SPEC.md
// §8.7, §5.3 item 3), and be the one this agency's canaries for the pair use;
// the proof must verify, and a no-hit
// is only given when this agency holds the tokens of the partner's whole set
// for the epoch the partner answered in.
import { hexToBytes } from '../../../protocol/bytes.js';
import { partyOf } from '../../../protocol/agreement.js';
import { checkEpochKey } from '../../../protocol/epoch-key.js';
import type { Me, OutcomeLeg, PairStatus, QueryLeg } from '../../sdk/api.js';
import { acceptedTerms } from '../agreements.js';
import { appendAudit } from '../audit.js';
import { evidenceOfHit, tokensFromAnswer } from './protocol.js';
import { canaryKeyOf, chunksWithTokens, signedLeg, tokensKnown, type FinalLeg, type LocalQuery } from './storage.js';
import type { QueryContext } from './types.js';

/** A final leg with the outcome to report for it (POST /v1/queries/{id}/outcome). */
export interface Finished extends FinalLeg {
  outcome: OutcomeLeg;
}

/** What finishing a leg needs besides the answer, fetched while the answers are awaited. */
export interface Prefetch {
  me(): Promise<Me>;
  status(pair: string): Promise<PairStatus>;
}

/** Starts GET /v1/me and the status of each pending partner's pair; a failed prefetch is retried on use. */
export function prefetch(ctx: QueryContext, q: LocalQuery, partners: readonly string[]): Prefetch {
  const quiet = <T>(p: Promise<T>): Promise<T> => {
    p.catch(() => {});
    return p;
  };
  let me = quiet(ctx.client.me());
  const statuses = new Map<string, Promise<PairStatus>>();
  for (const partner of partners) {
    const pair = signedLeg(ctx.store, q.id, partner)?.pair;
    if (pair && !statuses.has(pair)) statuses.set(pair, quiet(ctx.client.status(pair)));
  }
  return {
    async me() {
      try {
        return await me;
      } catch {
        return (me = quiet(ctx.client.me()));
      }
    },
    async status(pair) {
      const p = statuses.get(pair);
      if (p) {
        try {
          return await p;
        } catch {
          // Fetched again below.
        }
      }
      const fresh = quiet(ctx.client.status(pair));
      statuses.set(pair, fresh);
      return fresh;
    },
  };
}

/** The leg expired unanswered: final, with no result for its values. */
export function expiredLeg(leg: QueryLeg): Finished {
  return {
    partner: leg.partner,
    epoch: leg.epoch ?? '',
    outcome: { partner: leg.partner, hits: [], noHits: 0, error: 'unanswered' },
    state: 'expired',
    error: 'unanswered',
    detail: 'the partner did not answer before the query expired',
  };
}

/** A final leg, or why the answer cannot be checked before the next sync. */
export async function finishLeg(
  ctx: QueryContext,
  q: LocalQuery,
  leg: QueryLeg,
  ahead: Prefetch,
): Promise<Finished | { incomplete: string }> {
  const partner = leg.partner;
  const badProof = (error: string, detail: string): Finished => ({
    partner,
    epoch: leg.epoch ?? '',
    outcome: { partner, hits: [], noHits: 0, error: 'bad-proof' },
    state: 'error',
    error,
    detail,
  });
  if (!leg.epoch || !leg.partnerEpochKey || !leg.evaluated || !leg.proof) {
    return badProof('bad-proof', "the coordinator relayed an answer without the partner's epoch, key, elements or proof");
  }
  const signed = signedLeg(ctx.store, q.id, partner);
  if (!signed) return badProof('bad-proof', 'this agency holds no signed leg for this partner');
  const epoch = signed.epoch;
  if (leg.epoch !== epoch) return badProof('key-mismatch', `the answer is for epoch ${leg.epoch}, the leg was signed for ${epoch}`);
  const acc = acceptedTerms(ctx.store, signed.agreement.id, signed.agreement.version);
  const pinned = acc.ok ? partyOf(acc.terms, partner) : undefined;
  if (!acc.ok || !pinned) return badProof('key-refused', `agreement ${signed.agreement.id} v${signed.agreement.version} is no longer accepted here`);
  const sig = leg.partnerEpochKey.signature;
  const check = checkEpochKey(
    {
      document: { agency: partner, epoch, pair: signed.pair, agreement: signed.agreement, publicKey: leg.partnerEpochKey.publicKey },
      signature: /^[0-9a-f]{128}$/.test(sig) ? hexToBytes(sig) : new Uint8Array(0),
    },
    { agency: partner, signingKey: hexToBytes(pinned.signingKey), epoch, pair: signed.pair, agreement: signed.agreement },
  );
  if (!check.ok) {
    appendAudit(ctx.store, { officer: null, action: 'epoch_key.refused', subject: signed.pair, outcome: 'refused', caseRef: q.caseRef, detail: { reason: check.reason, partner, epoch, query: q.id } });
    return badProof('key-refused', `the key the answer is proven against is not signed by ${partner}'s pinned key (${check.reason}); the relay is not honest`);
  }
  const partnerKey = leg.partnerEpochKey.publicKey;
  const canaryKey = canaryKeyOf(ctx.store, signed.pair, epoch);
  if (canaryKey !== null && canaryKey !== partnerKey) {
    return badProof(
      'key-mismatch',
      `the answer is proven against another epoch key of ${partner} for ${epoch} than the one this agency's canaries use; the relay or the partner is not honest`,
    );
  }
  const mine = ctx.agency.secrets.secretOf(epoch) ? ctx.agency.secrets.pairKey(epoch, signed.pair) : undefined;
  if (!mine) return { incomplete: `the epoch secret of ${epoch} is no longer held here: the answer cannot be finished` };
  const answer = tokensFromAnswer(
    ctx.engine,
    { blinds: q.blinds as Uint8Array[], blinded: q.blinded as Uint8Array[] },
    { partnerEpochKey: partnerKey, evaluated: leg.evaluated, proof: leg.proof },
    mine.sk,
  );
  if ('proofFailure' in answer) {
    return badProof(
      'bad-proof',
      `the answer's DLEQ proof does not verify against ${partner}'s signed key for ${epoch} (${answer.proofFailure}): the responder did not evaluate with its key`,
    );
  }
  const tokens = answer.tokens;
  const pair = signed.pair;
  const have = chunksWithTokens(ctx.store, pair, epoch);
  const resume = `run \`concordat sync\`, then \`concordat query --status ${q.id}\``;
  if (have === 0) {
    return { incomplete: `this agency holds no tokens of ${partner}'s set for epoch ${epoch} yet, so a no-hit cannot be told apart from a set not yet processed (${resume})` };
  }
  // A partner chunk uploaded since this agency's last sync could hold the value: a no-hit must wait for it.
  if ((await ahead.me()).epoch.id === epoch) {
    const status = await ahead.status(pair);
    if (have < status.partner.chunks) {
      return { incomplete: `only ${have} of ${status.partner.chunks} chunks of ${partner}'s set are tokenised locally for epoch ${epoch} (${resume})` };
    }
  }
  const hits = tokensKnown(ctx.store, pair, epoch, tokens);
  const blinded = { blinds: q.blinds as Uint8Array[], blinded: q.blinded as Uint8Array[] };
  return {
    partner,
    epoch,
    state: 'done',
    hits,
    outcome: {
      partner,
      // Each hit goes with its evidence (protocol/SPEC.md §8.11), built from the blind kept until the outcome is reported.
      hits: hits.flatMap((h, index) => (h ? [evidenceOfHit(ctx.engine, blinded, leg.evaluated as string[], index)] : [])),
      noHits: hits.filter((h) => !h).length,
    },
  };
}
