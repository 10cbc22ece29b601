// Phase 2 of a pair's sync, in the delta's transaction: the staged additions
// and new canaries get shuffled positions, every new chunk is blinded on all
// cores and stored with its exact bytes, and the side's outbox — what the
// upload must send — is read back (protocol/SPEC.md §3.1 step 2). Nothing is
// sent before this is committed, so a resumed sync sends byte-identical chunks.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '../../../protocol/bytes.js';
import { CONCORDAT_SUITE, ELEMENT_BYTES } from '../../../protocol/constants.js';
import { encodePoint, encodeScalar, randomScalar, reduceScalarLE, scalarMulBase } from '../../../protocol/group.js';
import { identifierInput, type IdentifierKind } from '../../../protocol/identifiers/index.js';
import { randomBytes } from '../../../protocol/rng.js';
import type { MePair } from '../../sdk/api.js';
import { AgencyError } from '../../sdk/errors.js';
import { silentProgress } from '../progress.js';
import { nowIso, pairCrypto, type SyncContext } from './context.js';
import type { Delta } from './delta.js';
import { randomPermutation } from './shuffle.js';
import type { LocalChunk } from './store.js';

/** What the side has to send once the delta is committed: this delta's work and whatever an interrupted sync left unsent. */
export interface Outbox {
  /** Every chunk of the side in the epoch, in index order (the coordinator's copy is checked against all of them). */
  chunks: LocalChunk[];
  /** Withdrawn positions whose removal is not known to be sent, in position order. */
  removals: number[];
}

export async function commitDelta(ctx: SyncContext, p: MePair, d: Delta): Promise<Outbox> {
  const total = d.added + d.canaries;
  if (total > 0) {
    const live = ctx.sides.liveCount(p.pair, ctx.epoch);
    if (live + total > p.maxSetSize) {
      throw new AgencyError(`the side would hold ${live + total} elements, over the agreement's maximum set size of ${p.maxSetSize}; nothing was uploaded`);
    }
    const placed = place(ctx, p, d);
    await blindChunks(ctx, p, d, placed);
  }
  if (d.firstBuild) ctx.sides.createSide(p.pair, ctx.epoch, p.agreement, p.partner, nowIso(), d.canaries);
  ctx.sides.clearStagedAdditions();
  return { chunks: ctx.sides.chunks(p.pair, ctx.epoch), removals: ctx.sides.removals(p.pair, ctx.epoch, false) };
}

interface Placed {
  firstPosition: number;
  firstChunk: number;
  total: number;
}

/** Slot perm[i] of the new positions holds addition i (i < added) or a fresh canary scalar. */
function place(ctx: SyncContext, p: MePair, d: Delta): Placed {
  const firstPosition = ctx.sides.nextPosition(p.pair, ctx.epoch);
  const firstChunk = ctx.sides.nextChunk(p.pair, ctx.epoch);
  const total = d.added + d.canaries;
  const perm = randomPermutation(total);
  const chunkOf = (slot: number) => firstChunk + Math.floor(slot / ctx.chunkElements);
  for (let i = 0; i < total; i++) {
    const slot = perm[i] as number;
    if (i < d.added) ctx.sides.placeAddition(p.pair, ctx.epoch, i, firstPosition + slot, chunkOf(slot));
    else ctx.sides.placeCanary(p.pair, ctx.epoch, firstPosition + slot, chunkOf(slot), encodeScalar(randomScalar(randomBytes)));
  }
  return { firstPosition, firstChunk, total };
}

/** Blinds chunk by chunk (bounded memory), each chunk on all cores; a canary's element is r·G. */
async function blindChunks(ctx: SyncContext, p: MePair, d: Delta, at: Placed): Promise<void> {
  const bar = d.added > 0 ? ctx.progress('blinding', d.added) : silentProgress('', 0);
  let blinded = 0;
  // Every pair has its own key (protocol/SPEC.md §8.5): no element is shared with another pair.
  const key = pairCrypto(ctx, p.pair).key;
  ctx.log(`sync: ${p.pair}: blinding ${d.added} new identifier(s) and planting ${d.canaries} canar${d.canaries === 1 ? 'y' : 'ies'}`);
  try {
    for (let from = 0, idx = at.firstChunk; from < at.total; from += ctx.chunkElements, idx++) {
      const to = Math.min(at.total, from + ctx.chunkElements);
      const list = ctx.sides.positionsIn(p.pair, ctx.epoch, at.firstPosition + from, at.firstPosition + to);
      if (list.length !== to - from) throw new Error(`internal: chunk ${idx} expected ${to - from} positions, found ${list.length}`);
      const inputs: Uint8Array[] = [];
      const inputAt: number[] = [];
      const data = new Uint8Array(list.length * ELEMENT_BYTES);
      list.forEach((row, j) => {
        if (row.canaryR) {
          data.set(encodePoint(scalarMulBase(reduceScalarLE(row.canaryR))), j * ELEMENT_BYTES);
          return;
        }
        inputs.push(identifierInput(row.kind as IdentifierKind, row.canonical as string));
        inputAt.push(j);
      });
      bar.update(blinded);
      if (inputs.length > 0) {
        const pool = await ctx.pool();
        const base = blinded;
        const out = await pool.blind(CONCORDAT_SUITE, key.sk, inputs, { onProgress: (n) => bar.update(base + n) });
        inputAt.forEach((j, k) => data.set(out.subarray(k * ELEMENT_BYTES, (k + 1) * ELEMENT_BYTES), j * ELEMENT_BYTES));
      }
      blinded += inputs.length;
      bar.update(blinded);
      ctx.sides.insertChunk(p.pair, ctx.epoch, idx, at.firstPosition + from, list.length, bytesToHex(sha256(data)), data);
    }
  } finally {
    bar.stop();
  }
}
