// The short run of the fault suite (`npm run soak` runs the long one): one
// trial of each scenario against a two-agency world, with real processes —
// the built `concordat` CLI killed with SIGKILL, `coordinator serve` killed
// mid-upload and restarted, a flaky proxy, a flipped bit in the stopped
// database, a full tmpfs under the coordinator, an agency directory made
// immutable mid-sync, and fuzzed requests and import files. Each must
// converge to the clean reference run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzz } from '../bench/soak/fuzz.js';
import { bitFlips, crashCoordinator, flakyProxy, fullDisk, killSync, readOnlyAgency, reference, type Reference, type ScenarioResult } from '../bench/soak/scenarios.js';
import { Template } from '../bench/soak/world.js';
import { prng } from '../scripts/synthetic.js';
import { rmSync } from 'node:fs';

// Every trial runs several CLI processes; on a loaded two-core machine a sync takes seconds.
const T = 600_000;
let template: Template;
let ref: Reference;

const clean = (r: ScenarioResult): void => {
  expect(r.diverged).toEqual([]);
  expect(r.failures).toBe(0);
  expect(r.trials).toBeGreaterThan(0);
};

describe('fault suite (short)', () => {
  beforeAll(async () => {
    template = await Template.build({ agencies: 2, own: 20, seed: 20261202 });
    ref = await reference(template);
  }, T);
  afterAll(() => {
    template?.remove();
    if (ref) rmSync(ref.converged, { recursive: true, force: true });
  });

  it('the clean reference run finds exactly the planted overlaps, with hits', () => {
    expect(Object.values(ref.snapshot.matches).flat().length).toBe(30);
    expect(Object.values(ref.snapshot.hits).flat().length).toBeGreaterThan(0);
    expect(Object.values(ref.snapshot.pending).flat()).toEqual([]);
  });

  it('kill -9 of concordat sync mid-run: the next syncs reach the reference results', async () => {
    clean(await killSync(ref, { trials: 1, rnd: prng(11), maxSyncIndex: 3 }));
  }, T);

  it('coordinator killed just after a chunk or token upload and restarted: the syncs resume to the reference', async () => {
    clean(await crashCoordinator(ref, { trials: 1, rnd: prng(12), maxSyncIndex: 3 }));
  }, T);

  it('a proxy dropping 10 % of connections and delaying the rest: the syncs converge to the reference', async () => {
    clean(await flakyProxy(ref, { trials: 1, rnd: prng(13), maxDelayMs: 500 }));
  }, T);

  it('one bit flipped in the stopped coordinator.db: refused at start, or the reference results', async () => {
    clean(await bitFlips(ref, { trials: 2, rnd: prng(14) }));
  }, T);

  it('the coordinator disk full: the sync says so, and converges once space returns', async () => {
    clean(await fullDisk(ref, { trials: 1, rnd: prng(15) }));
  }, T);

  it('the agency directory and its files made immutable mid-sync: an exit code naming the cause, never SIGBUS, then the reference', async () => {
    const r = await readOnlyAgency(ref, { trials: 2, rnd: prng(17), maxSyncIndex: 3, immutableFiles: true });
    clean(r);
    expect(r.notes.some((n) => n.startsWith('refused by name')), r.notes.join(', ')).toBe(true);
  }, T);

  it('fuzzed requests on every route, binary uploads and import files: no 5xx, no stack trace, problem documents only', async () => {
    clean(await fuzz(ref, { trials: 1, rnd: prng(16), cases: 400 }));
  }, T);
});
