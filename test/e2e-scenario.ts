// The end-to-end nightly scenario, written once for every coordinator
// (test/e2e-nightly.test.ts: `coordinator serve`; test/workers-e2e.test.ts:
// the Worker under `wrangler dev`): `coordinator init`, three agency CLIs
// enrolled with three agreements (one count mode), planted two- and
// three-way overlaps in national formats (e2e-world.ts), two nights, and the
// proof that no planted identifier reaches anything the coordinator holds.
// Each test file starts its coordinator and adds the tests only it can run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { canonicalize } from '../protocol/identifiers/index.js';
import { rowsFor } from '../scripts/synthetic.js';
import { AGENCIES, ok, recs, World, type ResultsJson } from './e2e-world.js';

export interface ScenarioCoordinator {
  /** Where the agencies and the admin reach it. */
  url: string;
  /** Everything the coordinator received, stored or logged, by where it was found. */
  haystacks(): Array<[where: string, bytes: Buffer]>;
  stop(): Promise<void>;
}

export interface ScenarioOptions<C extends ScenarioCoordinator> {
  /** Prefix of the temporary work directory. */
  prefix: string;
  /** Seed of the planted people. */
  seed: number;
  /** Per test, and for starting the coordinator. */
  timeout: number;
  /** Start the coordinator over `coordDir`, where `coordinator init` wrote the admin key. */
  start(work: string, coordDir: string, adminPublicKey: string): Promise<C>;
}

export interface Scenario<C extends ScenarioCoordinator> {
  readonly world: World;
  readonly work: string;
  readonly coordinator: C;
  /** Night 1: every agency syncs twice; results equal the planted overlaps. */
  night1(): void;
  /** Night 2: PT withdraws and both add people; `around` wraps the syncs (to measure the upload, say). */
  night2(around?: { before?(): void; after?(): void }): void;
  /** No planted identifier, raw or canonical, in any of the coordinator's haystacks. */
  noIdentifierLeaks(): void;
}

/** Registers the file's beforeAll/afterAll; the returned steps register the shared tests where they are called. */
export function nightlyScenario<C extends ScenarioCoordinator>(opts: ScenarioOptions<C>): Scenario<C> {
  let work = '';
  let world: World | undefined;
  let coordinator: C | undefined;
  const need = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('e2e scenario: the coordinator did not start');
    return v;
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), opts.prefix));
    const coordDir = join(work, 'coord');
    const adminPublicKey = (await ok(['coordinator', 'init', '--data', coordDir])).trim();
    coordinator = await opts.start(work, coordDir, adminPublicKey);
    world = new World(work);
    await world.enrol(coordinator.url);
    await world.plant(opts.seed);
  }, opts.timeout);

  afterAll(async () => {
    await coordinator?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const s: Scenario<C> = {
    get world() {
      return need(world);
    },
    get work() {
      return work;
    },
    get coordinator() {
      return need(coordinator);
    },

    night1() {
      it('night 1: results equal the planted overlaps; count mode reveals only counts', async () => {
        const w = s.world;
        await w.syncAll();
        const es = await w.results('ES-CNP');
        const pt = await w.results('PT-PJ');
        const fr = await w.results('FR-OCRTEH');
        expect(recs(es, 'PT-PJ')).toEqual(w.expected('ES-CNP', 'PT-PJ'));
        expect(recs(pt, 'ES-CNP')).toEqual(w.expected('PT-PJ', 'ES-CNP'));
        expect(recs(es, 'FR-OCRTEH')).toEqual(w.expected('ES-CNP', 'FR-OCRTEH'));
        expect(recs(fr, 'ES-CNP')).toEqual(w.expected('FR-OCRTEH', 'ES-CNP'));
        // Both sides of a reveal pair hold the same handles.
        const handles = (r: ResultsJson, partner: string) => new Set(r.matches.filter((m) => m.partner === partner).map((m) => m.handle));
        expect(handles(es, 'PT-PJ')).toEqual(handles(pt, 'ES-CNP'));
        // pt-fr is count mode: 12 planted people × 2 kinds, and no record ids either way.
        expect(pt.matches.filter((m) => m.partner === 'FR-OCRTEH')).toEqual([]);
        expect(fr.matches.filter((m) => m.partner === 'PT-PJ')).toEqual([]);
        expect(pt.counts).toEqual([{ partner: 'FR-OCRTEH', count: w.expected('PT-PJ', 'FR-OCRTEH').length * 2 }]);
        expect(fr.counts).toEqual([{ partner: 'PT-PJ', count: w.expected('PT-PJ', 'FR-OCRTEH').length * 2 }]);
      }, opts.timeout);
    },

    night2(around = {}) {
      it('night 2: withdrawals and additions change the results', async () => {
        const w = s.world;
        around.before?.();
        // PT withdraws 3 shared people and 20 others, and adds 2 people ES also adds (new overlap).
        const ptIds = w.members.get('PT-PJ') ?? [];
        const shared = w.expected('PT-PJ', 'ES-CNP').map((r) => Number(r.split('-').at(-1)));
        const drop = new Set([...shared.slice(0, 3), ...ptIds.filter((id) => !shared.includes(id)).slice(0, 20)]);
        const newcomers = [...w.people.keys()].slice(-2);
        w.members.set('PT-PJ', [...ptIds.filter((id) => !drop.has(id)), ...newcomers]);
        w.members.set('ES-CNP', [...(w.members.get('ES-CNP') ?? []), ...newcomers]);
        await w.importWatchlist('PT-PJ');
        await w.importWatchlist('ES-CNP');
        await w.syncAll();
        expect(recs(await w.results('ES-CNP'), 'PT-PJ')).toEqual(w.expected('ES-CNP', 'PT-PJ'));
        expect(recs(await w.results('PT-PJ'), 'ES-CNP')).toEqual(w.expected('PT-PJ', 'ES-CNP'));
        around.after?.();
      }, opts.timeout);
    },

    noIdentifierLeaks() {
      it('no planted identifier, raw or canonical, reaches the coordinator: wire, storage or logs', () => {
        const needles = plantedNeedles(s.world);
        // One character per byte, so a needle's UTF-8 bytes are found with a plain substring search.
        const haystacks = s.coordinator.haystacks().map(([where, bytes]): [string, string] => [where, bytes.toString('latin1')]);
        const search = needleSearch(needles.map((n) => Buffer.from(n, 'utf8').toString('latin1')));
        // The search finds what is there: a needle planted in a copy, and the agency ids the control plane holds.
        const planted = Buffer.from(needles[7] as string, 'utf8').toString('latin1');
        expect(search(`${haystacks[0]?.[1]}${planted}`)).toBe(true);
        expect(haystacks.some(([, hay]) => needleSearch(['FR-OCRTEH'])(hay))).toBe(true);
        expect(haystacks.filter(([, hay]) => search(hay)).map(([where]) => `a planted identifier in ${where}`)).toEqual([]);
      }, opts.timeout);
    },
  };
  return s;
}

/** Every identifier the agencies hold, raw and canonical, and the bare numbers in them (identifying too). */
function plantedNeedles(world: World): string[] {
  const needles = new Set<string>();
  for (const a of AGENCIES) {
    for (const id of world.members.get(a.id) ?? []) {
      const person = world.people.get(id);
      if (!person) continue;
      for (const [, kind, raw] of rowsFor(person, `${a.id}-${id}`, a.style)) {
        needles.add(raw.trim());
        needles.add(canonicalize(kind, raw));
      }
    }
  }
  for (const p of world.people.values()) {
    needles.add(p.passportNumber);
    needles.add(p.phoneNational);
  }
  return [...needles];
}

/** A search for many needles at once: candidates by their first bytes, so a haystack is read once. */
function needleSearch(needles: string[]): (hay: string) => boolean {
  const k = Math.min(8, ...needles.map((n) => n.length));
  const byPrefix = new Map<string, string[]>();
  for (const n of needles) {
    const p = n.slice(0, k);
    byPrefix.set(p, [...(byPrefix.get(p) ?? []), n]);
  }
  return (hay) => {
    for (let i = 0; i + k <= hay.length; i++) {
      const candidates = byPrefix.get(hay.slice(i, i + k));
      if (candidates?.some((n) => hay.startsWith(n, i))) return true;
    }
    return false;
  };
}
