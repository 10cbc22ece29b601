// Phase 2 of a pair's sync, in the delta's transaction: each new chunk the
// delta planned gets its share of the staged additions and its own fresh
// canaries, shuffled together within the chunk (protocol/SPEC.md §1.6, §3.1
// step 2); every new chunk is blinded on all cores and stored with its exact
// bytes, and the side's outbox — what the upload must send — is read back.
// Nothing is sent before this is committed, so a resumed sync sends
// byte-identical chunks.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '../../../protocol/bytes.js';
import { CONCORDAT_SUITE, ELEMENT_BYTES } from '../../../protocol/constants.js';
import { encodeScalar, randomScalar, reduceScalarLE } from '../../../protocol/group.js';
import { loadEngine } from '../../../protocol/engine/index.js';
import { identifierInput, type IdentifierKind } from '../../../protocol/identifiers/kinds.js';
import { randomBytes } from '../../../protocol/rng.js';
import { liveCap, UPLOAD_CAP_ALLOWANCE, uploadCap } from '../../../wire/limits.js';
import type { MePair } from '../../sdk/api.js';
import { AgencyError } from '../../sdk/errors.js';
import type { EnginePool } from '../../../protocol/engine/pool.js';
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
    // The maximum set size counts identifiers; canaries ride in the allowance the coordinator adds (wire/limits.ts liveCap).
    const identifiers = ctx.sides.liveIdentifierCount(p.pair, ctx.epoch);
    if (identifiers + d.added > p.maxSetSize) {
      throw new AgencyError(`the side would hold ${identifiers + d.added} identifiers, over the agreement's maximum set size of ${p.maxSetSize}; nothing was uploaded`);
    }
    const live = ctx.sides.liveCount(p.pair, ctx.epoch);
    if (live + total > liveCap(p.maxSetSize)) {
      throw new AgencyError(
        `the side would hold ${live + total} live positions with its canaries, over the ${liveCap(p.maxSetSize)} the coordinator takes (maximum set size plus ${UPLOAD_CAP_ALLOWANCE}); nothing was uploaded`,
      );
    }
    // The per-epoch upload cap (protocol/SPEC.md §3.3) counts withdrawn positions and canaries too; the coordinator refuses the same.
    const uploaded = ctx.sides.nextPosition(p.pair, ctx.epoch);
    if (uploaded + total > uploadCap(p.maxSetSize)) {
      throw new AgencyError(
        `the side has uploaded ${uploaded} positions in this epoch; ${total} more would exceed the per-epoch upload cap of ${uploadCap(p.maxSetSize)}; nothing was uploaded (the next epoch starts afresh)`,
      );
    }
    const placed = place(ctx, p, d);
    await blindChunks(ctx, p, d, placed);
  }
  if (d.firstBuild) ctx.sides.createSide(p.pair, ctx.epoch, p.agreement, p.partner, nowIso(), d.canaries);
  else if (d.chunks.length > 0) ctx.sides.addCanaries(p.pair, ctx.epoch, d.canaries);
  ctx.sides.setDeltaWatermark(p.pair, ctx.epoch, p.kinds, d.seq);
  ctx.sides.clearStagedAdditions();
  return { chunks: ctx.sides.chunks(p.pair, ctx.epoch), removals: ctx.sides.removals(p.pair, ctx.epoch, false) };
}

/** A new chunk as placed: its index, its first position and how many elements (real and canaries) it holds. */
interface PlacedChunk {
  index: number;
  firstPosition: number;
  count: number;
}

/**
 * Chunk by chunk, slot perm[i] of the chunk's positions holds its i-th
 * addition (i < real) or one of its fresh canary scalars: every chunk is
 * shuffled with its own canaries, so none is canary-free (SPEC §1.6). Each
 * chunk's positions are written by one statement in slot order, so the
 * position B-tree is appended to rather than split at random pages.
 */
function place(ctx: SyncContext, p: MePair, d: Delta): PlacedChunk[] {
  let position = ctx.sides.nextPosition(p.pair, ctx.epoch);
  let index = ctx.sides.nextChunk(p.pair, ctx.epoch);
  let addition = 0;
  const placed: PlacedChunk[] = [];
  const bar = d.added > 0 ? ctx.progress('placing', d.added) : silentProgress('', 0);
  try {
    for (const c of d.chunks) {
      const count = c.real + c.canaries;
      const perm = randomPermutation(count);
      const slots: Array<number | string> = new Array<number | string>(count);
      for (let i = 0; i < count; i++) slots[perm[i] as number] = i < c.real ? addition + i : bytesToHex(encodeScalar(randomScalar(randomBytes)));
      ctx.sides.placeChunk(p.pair, ctx.epoch, index, position, slots);
      placed.push({ index, firstPosition: position, count });
      addition += c.real;
      position += count;
      index++;
      bar.update(addition);
    }
  } finally {
    bar.stop();
  }
  if (addition !== d.added) throw new Error(`internal: ${d.added} additions staged, ${addition} placed`);
  return placed;
}

/** Blinds chunk by chunk (bounded memory), each chunk on all cores; a canary's element is r·G. */
async function blindChunks(ctx: SyncContext, p: MePair, d: Delta, placed: readonly PlacedChunk[]): Promise<void> {
  const bar = d.added > 0 ? ctx.progress('blinding', d.added) : silentProgress('', 0);
  let blinded = 0;
  // Every pair has its own key (protocol/SPEC.md §8.5): no element is shared with another pair.
  const key = pairCrypto(ctx, p.pair).key;
  ctx.log(`sync: ${p.pair}: blinding ${d.added} new identifier(s) and planting ${d.canaries} canar${d.canaries === 1 ? 'y' : 'ies'} in ${placed.length} chunk(s)`);
  // A canary's element r·G by the sync's engine: the same bytes as @noble/curves (test/engine-native.test.ts), in
  // microseconds where @noble/curves builds its tables first (the canaries of a night's one new chunk took 0.2 s).
  const pool = await ctx.pool();
  const engine = await loadEngine(pool.engine);
  try {
    for (const { index: idx, firstPosition, count } of placed) {
      const list = ctx.sides.positionsIn(p.pair, ctx.epoch, firstPosition, firstPosition + count);
      if (list.length !== count) throw new Error(`internal: chunk ${idx} expected ${count} positions, found ${list.length}`);
      const inputs: Uint8Array[] = [];
      const inputAt: number[] = [];
      const data = new Uint8Array(list.length * ELEMENT_BYTES);
      list.forEach((row, j) => {
        if (row.canaryR) {
          data.set(engine.publicKey(encodeScalar(reduceScalarLE(row.canaryR))), j * ELEMENT_BYTES);
          return;
        }
        inputs.push(identifierInput(row.kind as IdentifierKind, row.canonical as string));
        inputAt.push(j);
      });
      bar.update(blinded);
      if (inputs.length > 0) {
        const base = blinded;
        const onProgress = (n: number) => bar.update(base + n);
        const out = ctx.hashed
          ? await pool.evaluate(key.sk, await hashedPoints(ctx.hashed, pool, inputs), { onProgress })
          : await pool.blind(CONCORDAT_SUITE, key.sk, inputs, { onProgress });
        inputAt.forEach((j, k) => data.set(out.subarray(k * ELEMENT_BYTES, (k + 1) * ELEMENT_BYTES), j * ELEMENT_BYTES));
      }
      blinded += inputs.length;
      bar.update(blinded);
      ctx.sides.insertChunk(p.pair, ctx.epoch, idx, firstPosition, list.length, bytesToHex(sha256(data)), data);
    }
  } finally {
    bar.stop();
  }
}

/** The points of `inputs`, packed: from the run's map, hashing (on all cores) only those no earlier pair hashed. */
async function hashedPoints(hashed: Map<string, Uint8Array>, pool: EnginePool, inputs: readonly Uint8Array[]): Promise<Uint8Array> {
  const keys = inputs.map((i) => Buffer.from(i).toString('base64'));
  const missing: number[] = [];
  keys.forEach((k, i) => {
    if (!hashed.has(k)) missing.push(i);
  });
  if (missing.length > 0) {
    const fresh = await pool.hashToGroup(CONCORDAT_SUITE, missing.map((i) => inputs[i] as Uint8Array));
    missing.forEach((i, j) => hashed.set(keys[i] as string, fresh.slice(j * ELEMENT_BYTES, (j + 1) * ELEMENT_BYTES)));
  }
  const out = new Uint8Array(inputs.length * ELEMENT_BYTES);
  keys.forEach((k, i) => out.set(hashed.get(k) as Uint8Array, i * ELEMENT_BYTES));
  return out;
}
