// The nightly job end to end against the Workers coordinator: `wrangler dev
// --local` (workerd with local D1 and Durable Objects) on a free loopback port
// as a child process, and the built `concordat` CLI for three agencies whose
// watchlists write the same people in different national formats, exactly as
// test/e2e-nightly.test.ts runs them against `coordinator serve`. The admin
// key comes from `concordat coordinator init`; the Worker gets its public half
// as ADMIN_PUBLIC_KEY.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkersCoordinator, type RunningCoordinator } from '../bench/nightly.js';
import { canonicalize } from '../protocol/identifiers/index.js';
import { rowsFor } from '../scripts/synthetic.js';
import { AGENCIES, ok, recs, World } from './e2e-world.js';

let work: string;
let coordinator: RunningCoordinator;
let admin: (args: string[]) => Promise<string>;
let world: World;


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

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'concordat-workers-e2e-'));
  const adminPublicKey = (await ok(['coordinator', 'init', '--data', join(work, 'coord')])).trim();
  coordinator = await startWorkersCoordinator(join(work, 'workers-state'), adminPublicKey);
  admin = (args) => world.admin(coordinator.url, args);
  world = new World(work);
  await world.enrol(coordinator.url);
  await world.plant(11);
}, 180_000);

afterAll(async () => {
  await coordinator?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('three agencies against the Workers coordinator (wrangler dev, local D1 and Durable Objects)', () => {
  it('serves GET / and the admin commands exactly as the Node server does', async () => {
    const res = await fetch(`${coordinator.url}/`);
    expect(await res.json()).toEqual({ service: 'concordat-coordinator', version: expect.any(String), epoch: 'e1' });
    const agreements = JSON.parse(await admin(['agreement', 'list'])) as { agreements: Array<{ id: string; pairs: string[] }> };
    expect(agreements.agreements.map((a) => a.id)).toEqual(['es-fr', 'es-pt', 'pt-fr']);
    expect(JSON.parse(await admin(['config', 'show']))).toMatchObject({ retention: { dataDays: null, auditDays: 730 } });
    // An unsigned admin request is refused with a problem document, as on Node.
    const refused = await fetch(`${coordinator.url}/v1/admin/agreements`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it('night 1: results equal the planted overlaps; count mode reveals only counts', async () => {
    await world.syncAll();
    const es = await world.results('ES-CNP');
    const pt = await world.results('PT-PJ');
    const fr = await world.results('FR-OCRTEH');
    expect(recs(es, 'PT-PJ')).toEqual(world.expected('ES-CNP', 'PT-PJ'));
    expect(recs(pt, 'ES-CNP')).toEqual(world.expected('PT-PJ', 'ES-CNP'));
    expect(recs(es, 'FR-OCRTEH')).toEqual(world.expected('ES-CNP', 'FR-OCRTEH'));
    expect(recs(fr, 'ES-CNP')).toEqual(world.expected('FR-OCRTEH', 'ES-CNP'));
    const handles = (r: typeof es, partner: string) => new Set(r.matches.filter((m) => m.partner === partner).map((m) => m.handle));
    expect(handles(es, 'PT-PJ')).toEqual(handles(pt, 'ES-CNP'));
    // pt-fr is count mode: 12 planted people × 2 kinds, and no record ids either way.
    expect(pt.matches.filter((m) => m.partner === 'FR-OCRTEH')).toEqual([]);
    expect(fr.matches.filter((m) => m.partner === 'PT-PJ')).toEqual([]);
    expect(pt.counts).toEqual([{ partner: 'FR-OCRTEH', count: world.expected('PT-PJ', 'FR-OCRTEH').length * 2 }]);
    expect(fr.counts).toEqual([{ partner: 'PT-PJ', count: world.expected('PT-PJ', 'FR-OCRTEH').length * 2 }]);
  }, 240_000);

  it('night 2: withdrawals and additions change the results', async () => {
    const ptIds = world.members.get('PT-PJ')!;
    const shared = world.expected('PT-PJ', 'ES-CNP').map((r) => Number(r.split('-').at(-1)));
    const drop = new Set([...shared.slice(0, 3), ...ptIds.filter((id) => !shared.includes(id)).slice(0, 20)]);
    const newcomers = [...world.people.keys()].slice(-2);
    world.members.set('PT-PJ', [...ptIds.filter((id) => !drop.has(id)), ...newcomers]);
    world.members.set('ES-CNP', [...world.members.get('ES-CNP')!, ...newcomers]);
    await world.importWatchlist('PT-PJ');
    await world.importWatchlist('ES-CNP');
    await world.syncAll();
    expect(recs(await world.results('ES-CNP'), 'PT-PJ')).toEqual(world.expected('ES-CNP', 'PT-PJ'));
    expect(recs(await world.results('PT-PJ'), 'ES-CNP')).toEqual(world.expected('PT-PJ', 'ES-CNP'));
  }, 240_000);

  it('no planted identifier, raw or canonical, reaches the Worker log or its D1 and Durable Object storage', () => {
    const needles = new Set<string>();
    for (const a of AGENCIES) {
      for (const id of world.members.get(a.id)!) {
        for (const [, kind, raw] of rowsFor(world.people.get(id)!, `${a.id}-${id}`, a.style)) {
          needles.add(raw.trim());
          needles.add(canonicalize(kind, raw));
        }
      }
    }
    for (const p of world.people.values()) {
      needles.add(p.passportNumber);
      needles.add(p.phoneNational);
    }
    // Local D1 and every pair's Durable Object are SQLite databases (with their WAL) under the persistence directory.
    const stored = filesUnder(join(work, 'workers-state')).filter((f) => /\.sqlite(-wal)?$/.test(f));
    expect(stored.filter((f) => f.endsWith('.sqlite')).length).toBeGreaterThanOrEqual(4);
    expect(coordinator.output()).toMatch(/"route":"\/v1\/pairs\/:pair\/partner-set\/chunks\/:index\/tokens"/);
    // One character per byte, so a needle's UTF-8 bytes are found with a plain substring search.
    const haystacks: Array<[string, string]> = stored.map((f) => [f, readFileSync(f).toString('latin1')]);
    haystacks.push(['worker log', Buffer.from(coordinator.output()).toString('latin1')]);
    const search = needleSearch([...needles].map((n) => Buffer.from(n, 'utf8').toString('latin1')));
    // The search finds what is there: a needle planted in a copy, and the agency ids the control plane holds.
    const planted = Buffer.from([...needles][7] as string, 'utf8').toString('latin1');
    expect(search(`${haystacks[0]?.[1]}${planted}`)).toBe(true);
    expect(haystacks.some(([, hay]) => needleSearch(['FR-OCRTEH'])(hay))).toBe(true);
    expect(haystacks.filter(([, hay]) => search(hay)).map(([where]) => `a planted identifier in ${where}`)).toEqual([]);
  });
});
