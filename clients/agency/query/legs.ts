// Finishing one partner's answered leg (clients/README-cli.md, "concordat
// query", step 3): the key it is proven against must be the one this
// agency's canaries for the partner use, the proof must verify, and a no-hit
// is only given when this agency holds the tokens of the partner's whole set
// for the epoch the partner answered in.
import { bytesToHex } from '../../../protocol/bytes.js';
import type { KeyPair } from '../../../protocol/keys.js';
import type { Me, OutcomeLeg, PairStatus, QueryLeg } from '../../sdk/api.js';
import { tokensFromAnswer } from './protocol.js';
import { pairFor } from './request.js';
import { canaryKeys, chunksWithTokens, pairsWithTokens, tokensKnown, type FinalLeg, type LocalQuery } from './storage.js';
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
  void me.then((m) => {
    for (const partner of partners) {
      const pair = pairFor(m, partner, q.kind, q.purpose)?.pair;
      if (pair && !statuses.has(pair)) statuses.set(pair, quiet(ctx.client.status(pair)));
    }
  }, () => {});
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
  myKey: (epoch: string) => KeyPair,
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
  const epoch = leg.epoch;
  const keys = canaryKeys(ctx.store, partner, epoch);
  if (keys.length > 0 && !keys.includes(leg.partnerEpochKey)) {
    return badProof(
      'key-mismatch',
      `the answer is proven against another epoch key of ${partner} for ${epoch} than the one this agency's canaries use; the relay or the partner is not honest`,
    );
  }
  const answer = tokensFromAnswer(
    ctx.engine,
    { blinds: q.blinds as Uint8Array[], blinded: q.blinded as Uint8Array[] },
    { partnerEpochKey: leg.partnerEpochKey, evaluated: leg.evaluated, proof: leg.proof },
    myKey(epoch).sk,
  );
  if ('proofFailure' in answer) {
    return badProof(
      'bad-proof',
      `the answer's DLEQ proof does not verify against ${partner}'s published epoch key for ${epoch} (${answer.proofFailure}): the responder did not evaluate with its key`,
    );
  }
  const tokens = answer.tokens;
  // The coordinator runs the leg under the first agreement (by id) that allows it: check that pair's tokens.
  // (After a rotation the pair may have left /v1/me: fall back to the pair this agency holds tokens of.)
  const pair =
    pairFor(await ahead.me(), partner, q.kind, q.purpose)?.pair ?? pairsWithTokens(ctx.store, epoch).find((id) => id.split('~').slice(1).includes(partner));
  const have = pair === undefined ? 0 : chunksWithTokens(ctx.store, pair, epoch);
  const resume = `run \`concordat sync\`, then \`concordat query --status ${q.id}\``;
  if (pair === undefined || have === 0) {
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
  return {
    partner,
    epoch,
    state: 'done',
    hits,
    outcome: {
      partner,
      hits: hits.flatMap((h, index) => (h ? [{ index, token: bytesToHex(tokens[index] as Uint8Array) }] : [])),
      noHits: hits.filter((h) => !h).length,
    },
  };
}
