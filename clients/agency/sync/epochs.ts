// A sync works in the coordinator's current epoch (src/API.md, "Epochs"),
// which only ever moves forward at this client (protocol/SPEC.md §5.3 item 4:
// an older epoch is refused, epoch-secret.ts). When the coordinator rotates
// mid-sync (`409 stale-epoch`) the whole sync starts over in the new epoch,
// keeping everything it had done. `409 epoch-key-required` makes it publish
// its signed pair keys again.
import { bytesToHex } from '../../../protocol/bytes.js';
import { signEpochKey } from '../../../protocol/epoch-key.js';
import type { Me } from '../../sdk/api.js';
import type { CoordinatorClient } from '../../sdk/client.js';
import { AgencyError, isEpochKeyRequired, isStaleEpoch } from '../../sdk/errors.js';
import type { Store } from '../../store/db.js';
import type { Agency } from '../config.js';
import { observeEpoch } from '../epoch-secret.js';
import type { PairCrypto, SyncContext } from './context.js';

/** Rounds of a sync before a stale epoch is given up on (one restart is usual: a rotation mid-sync). */
const MAX_EPOCH_ROUNDS = 3;

/** Runs `round` until it finishes in one epoch, starting over after a stale epoch. */
export async function inCurrentEpoch<T>(round: () => Promise<T>, warn: (l: string) => void): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await round();
    } catch (e) {
      if (!isStaleEpoch(e) || n >= MAX_EPOCH_ROUNDS) throw e;
      warn('sync: the coordinator moved to a new epoch during the sync; starting over in the new epoch');
    }
  }
}

/** GET /v1/me, its epoch checked against the highest seen and the epoch secret moved forward to it. */
export async function openEpoch(client: CoordinatorClient, store: Store, agency: Agency): Promise<Me> {
  const me = await client.me();
  observeEpoch(store, agency.secrets, me.epoch.id, 'GET /v1/me');
  return me;
}

/**
 * Publishes this agency's signed epoch-key statement for the pair (protocol/SPEC.md §8.7)
 * unless the coordinator already shows the same key; another key there means
 * another epoch secret published it.
 */
export async function publishPairKey(
  client: CoordinatorClient,
  agency: Agency,
  epoch: string,
  pair: string,
  c: PairCrypto,
  shown: { publicKey: string } | null,
  force = false,
): Promise<void> {
  const mine = bytesToHex(c.key.pk);
  if (!force && shown !== null) {
    if (shown.publicKey === mine) return;
    throw new AgencyError(`the coordinator holds another key of this agency for this pair in epoch ${epoch}: this directory's epoch secret is not the one that published it`);
  }
  const signature = signEpochKey({ agency: agency.agency, epoch, pair, agreement: c.ref, publicKey: mine }, agency.signingKey);
  await client.putPairEpochKey(pair, { epoch, publicKey: c.key.pk, signature });
}

/** Runs `f`; when the coordinator says it lacks this agency's key for a pair, publishes `pairs`' keys again and retries once. */
export async function withEpochKey<T>(ctx: SyncContext, pairs: readonly string[], f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (!isEpochKeyRequired(e)) throw e;
    ctx.warn(`sync: the coordinator has no key of this agency for ${ctx.epoch}; publishing it again`);
    for (const pair of pairs) {
      const c = ctx.pairs.get(pair);
      if (c) await publishPairKey(ctx.client, ctx.agency, ctx.epoch, pair, c, null, true);
    }
    return f();
  }
}
