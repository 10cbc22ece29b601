// The nightly job end to end against the Workers coordinator: `wrangler dev
// --local` (workerd with local D1 and Durable Objects) on a free loopback port
// as a child process, and the built `concordat` CLI for three agencies whose
// watchlists write the same people in different national formats, exactly as
// test/e2e-nightly.test.ts runs them against `coordinator serve`. The admin
// key comes from `concordat coordinator init`; the Worker gets its public half
// as ADMIN_PUBLIC_KEY.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkersCoordinator, type RunningCoordinator } from '../bench/nightly.js';
import { canonicalize } from '../protocol/identifiers/index.js';
import { makePerson, prng, rowsFor, toCsv, type Person, type Style } from '../scripts/synthetic.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'concordat.js');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`concordat ${args.slice(0, 3).join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r.stdout;
}

const AGENCIES: Array<{ id: string; country: string; style: Style }> = [
  { id: 'ES-CNP', country: 'ESP', style: 'es' },
  { id: 'PT-PJ', country: 'PRT', style: 'pt' },
  { id: 'FR-OCRTEH', country: 'FRA', style: 'fr' },
];

let work: string;
let coordinator: RunningCoordinator;
let admin: (args: string[]) => Promise<string>;
const people = new Map<number, Person>();
const members = new Map<string, number[]>();

function writeWatchlist(agency: string, style: Style, ids: number[]): string {
  const file = join(work, `${agency}.csv`);
  writeFileSync(file, toCsv(ids.flatMap((id) => rowsFor(people.get(id)!, `${agency}-${id}`, style))));
  return file;
}

async function syncAll(): Promise<void> {
  for (let round = 0; round < 2; round++) for (const a of AGENCIES) await ok(['sync', '--dir', join(work, a.id)]);
}

async function matchesOf(agency: string): Promise<{ matches: Array<{ partner: string; record_id: string; handle: string }>; counts: Array<{ partner: string; count: number }> }> {
  return JSON.parse(await ok(['results', '--dir', join(work, agency), '--format', 'json']));
}

const expected = (me: string, partner: string): string[] =>
  members.get(me)!.filter((id) => members.get(partner)!.includes(id)).map((id) => `${me}-${id}`).sort();

const recs = (r: Awaited<ReturnType<typeof matchesOf>>, partner: string) => r.matches.filter((m) => m.partner === partner).map((m) => m.record_id).sort();

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
  admin = (args) => ok(['coordinator', 'admin', '--url', coordinator.url, '--admin-key', join(work, 'coord', 'admin.key'), ...args]);
  for (const a of AGENCIES) {
    await ok(['init', '--dir', join(work, a.id), '--agency', a.id, '--coordinator', coordinator.url]);
    await admin(['agency', 'add', '--id', a.id, '--name', a.id, '--country', a.country, '--key', join(work, a.id, 'signing.pub')]);
  }
  await admin(['agreement', 'add', '--id', 'es-pt', '--parties', 'ES-CNP,PT-PJ', '--kinds', 'passport,email,phone,name_dob', '--mode', 'reveal', '--until', '2030-12-31', '--legal-basis', 'test']);
  await admin(['agreement', 'add', '--id', 'es-fr', '--parties', 'ES-CNP,FR-OCRTEH', '--kinds', 'passport,phone,iban', '--mode', 'reveal', '--until', '2030-12-31', '--legal-basis', 'test']);
  await admin(['agreement', 'add', '--id', 'pt-fr', '--parties', 'PT-PJ,FR-OCRTEH', '--kinds', 'passport,email', '--mode', 'count', '--until', '2030-12-31', '--legal-basis', 'test']);

  const rnd = prng(11);
  let next = 1;
  for (const a of AGENCIES) members.set(a.id, []);
  for (const [group, n] of [['ES-CNP+PT-PJ', 12], ['ES-CNP+FR-OCRTEH', 9], ['PT-PJ+FR-OCRTEH', 7], ['ES-CNP+PT-PJ+FR-OCRTEH', 5]] as const) {
    for (let i = 0; i < n; i++, next++) for (const a of group.split('+')) members.get(a)!.push(next);
  }
  for (const a of AGENCIES) for (let i = 0; i < 300; i++) members.get(a.id)!.push(next++);
  for (let id = 1; id < next + 50; id++) people.set(id, makePerson(id, rnd));
  for (const a of AGENCIES) await ok(['import', '--dir', join(work, a.id), writeWatchlist(a.id, a.style, members.get(a.id)!)]);
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
    await syncAll();
    const es = await matchesOf('ES-CNP');
    const pt = await matchesOf('PT-PJ');
    const fr = await matchesOf('FR-OCRTEH');
    expect(recs(es, 'PT-PJ')).toEqual(expected('ES-CNP', 'PT-PJ'));
    expect(recs(pt, 'ES-CNP')).toEqual(expected('PT-PJ', 'ES-CNP'));
    expect(recs(es, 'FR-OCRTEH')).toEqual(expected('ES-CNP', 'FR-OCRTEH'));
    expect(recs(fr, 'ES-CNP')).toEqual(expected('FR-OCRTEH', 'ES-CNP'));
    const handles = (r: typeof es, partner: string) => new Set(r.matches.filter((m) => m.partner === partner).map((m) => m.handle));
    expect(handles(es, 'PT-PJ')).toEqual(handles(pt, 'ES-CNP'));
    // pt-fr is count mode: 12 planted people × 2 kinds, and no record ids either way.
    expect(pt.matches.filter((m) => m.partner === 'FR-OCRTEH')).toEqual([]);
    expect(fr.matches.filter((m) => m.partner === 'PT-PJ')).toEqual([]);
    expect(pt.counts).toEqual([{ partner: 'FR-OCRTEH', count: expected('PT-PJ', 'FR-OCRTEH').length * 2 }]);
    expect(fr.counts).toEqual([{ partner: 'PT-PJ', count: expected('PT-PJ', 'FR-OCRTEH').length * 2 }]);
  }, 240_000);

  it('night 2: withdrawals and additions change the results', async () => {
    const ptIds = members.get('PT-PJ')!;
    const shared = expected('PT-PJ', 'ES-CNP').map((r) => Number(r.split('-').at(-1)));
    const drop = new Set([...shared.slice(0, 3), ...ptIds.filter((id) => !shared.includes(id)).slice(0, 20)]);
    const newcomers = [...people.keys()].slice(-2);
    members.set('PT-PJ', [...ptIds.filter((id) => !drop.has(id)), ...newcomers]);
    members.set('ES-CNP', [...members.get('ES-CNP')!, ...newcomers]);
    await ok(['import', '--dir', join(work, 'PT-PJ'), writeWatchlist('PT-PJ', 'pt', members.get('PT-PJ')!)]);
    await ok(['import', '--dir', join(work, 'ES-CNP'), writeWatchlist('ES-CNP', 'es', members.get('ES-CNP')!)]);
    await syncAll();
    expect(recs(await matchesOf('ES-CNP'), 'PT-PJ')).toEqual(expected('ES-CNP', 'PT-PJ'));
    expect(recs(await matchesOf('PT-PJ'), 'ES-CNP')).toEqual(expected('PT-PJ', 'ES-CNP'));
  }, 240_000);

  it('no planted identifier, raw or canonical, reaches the Worker log or its D1 and Durable Object storage', () => {
    const needles = new Set<string>();
    for (const a of AGENCIES) {
      for (const id of members.get(a.id)!) {
        for (const [, kind, raw] of rowsFor(people.get(id)!, `${a.id}-${id}`, a.style)) {
          needles.add(raw.trim());
          needles.add(canonicalize(kind, raw));
        }
      }
    }
    for (const p of people.values()) {
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
