// A sync works in the coordinator's current epoch (src/API.md, "Epochs"):
// it derives the epoch key from epoch.seed and publishes it, and when the
// coordinator rotates mid-sync (`409 stale-epoch`) the whole sync starts over
// in the new epoch, keeping everything it had done. `409 epoch-key-required`
// makes it publish its key again.
import { bytesToHex } from '../../../protocol/bytes.js';
import { CONCORDAT_SUITE, epochInfo } from '../../../protocol/constants.js';
import { deriveKeyPair, type KeyPair } from '../../../protocol/keys.js';
import type { Me } from '../../sdk/api.js';
import type { CoordinatorClient } from '../../sdk/client.js';
import { AgencyError, isEpochKeyRequired, isStaleEpoch } from '../../sdk/errors.js';

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

/** GET /v1/me and this agency's key for its epoch, published; a rotation between the two requests is followed once. */
export async function openEpoch(client: CoordinatorClient, epochSeed: Uint8Array): Promise<{ me: Me; key: KeyPair }> {
  let me = await client.me();
  let key = deriveKeyPair(CONCORDAT_SUITE, epochSeed, epochInfo(me.epoch.id));
  try {
    await publishEpochKey(client, me, key);
  } catch (e) {
    if (!isStaleEpoch(e)) throw e;
    me = await client.me();
    key = deriveKeyPair(CONCORDAT_SUITE, epochSeed, epochInfo(me.epoch.id));
    await publishEpochKey(client, me, key);
  }
  return { me, key };
}

/** Publishes the key unless every pair already shows it; another key there means another epoch.seed published it. */
async function publishEpochKey(client: CoordinatorClient, me: Me, key: KeyPair): Promise<void> {
  const mine = bytesToHex(key.pk);
  for (const p of me.pairs) {
    if (p.myEpochKey !== null && p.myEpochKey !== mine) {
      throw new AgencyError(
        `the coordinator holds another epoch key for this agency in epoch ${me.epoch.id}: this directory's epoch.seed is not the one that published it`,
      );
    }
  }
  if (me.pairs.length === 0 || me.pairs.some((p) => p.myEpochKey === null)) await client.putEpochKey(me.epoch.id, key.pk);
}

/** Runs `f`; when the coordinator says it lacks this agency's key for the epoch, publishes it again and retries once. */
export async function withEpochKey<T>(
  client: CoordinatorClient,
  epoch: string,
  key: KeyPair,
  warn: (l: string) => void,
  f: () => Promise<T>,
): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (!isEpochKeyRequired(e)) throw e;
    warn(`sync: the coordinator has no epoch key of this agency for ${epoch}; publishing it again`);
    await client.putEpochKey(epoch, key.pk);
    return f();
  }
}
