// Targeted hit/no-hit queries through the built CLI (`concordat query`,
// `serve`, `hits`) against the real coordinator over real HTTP: planted
// overlaps, hit / no-hit / mixed batches, a responder with the wrong key
// caught by the proof, an offline responder answering later, refusals
// (purpose, kind, count mode, quota, value rules), hits confirmed and
// declined, and a query across an epoch rotation.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../protocol/bytes.js';
import { randomBytes } from '../protocol/rng.js';
import { openStore } from '../clients/store/db.js';
import { built, cli, email, passport, range, World, type QueryJson, type ServeProcess } from './client-world.js';

const bothPt = range(900_000, 10);
const bothFr = range(800_000, 5);

let w: World;
let es: string;
let pt: string;
let fr: string;
let ptServe: ServeProcess;

beforeAll(async () => {
  if (!built) throw new Error('the build output is missing: run `npm run build` (npm test builds first)');
  w = await World.start();
  await w.agency('ES-CNP', 'ESP', [...range(100_000, 200), ...bothPt, ...bothFr]);
  await w.agency('PT-PJ', 'PRT', [...range(200_000, 150), ...bothPt]);
  await w.agency('FR-OC', 'FRA', [...range(300_000, 100), ...bothFr]);
  await w.agency('IT-DC', 'ITA', [...range(400_000, 50), ...bothPt.slice(0, 3)]);
  await w.agreement({ id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
  await w.agreement({ id: 'es-fr', parties: ['ES-CNP', 'FR-OC'], kinds: ['email'], purposes: ['terrorism'], queryQuota: { perDay: 3, maxValues: 5 } });
  await w.agreement({ id: 'es-it', parties: ['ES-CNP', 'IT-DC'], kinds: ['passport'], mode: 'count' });
  await w.syncAll();
  es = w.dir('ES-CNP');
  pt = w.dir('PT-PJ');
  fr = w.dir('FR-OC');
});

afterAll(async () => {
  await w?.stop();
});

const q = (extra: string[]) => cli(['query', '--dir', es, '--case', 'OP-TEST/1', '--purpose', 'terrorism', '--officer', 'officer-17', ...extra]);

function valuesFile(name: string, values: string[]): string {
  const f = join(w.work, name);
  writeFileSync(f, `${values.join('\n')}\n`);
  return f;
}

const parse = (stdout: string): QueryJson => JSON.parse(stdout) as QueryJson;

function noValueIn(text: string, values: string[]): void {
  for (const v of values) expect(text).not.toContain(v);
}

describe('concordat query', () => {
  it('answers hit, no-hit and mixed batches from an online responder, in value order, with handles for hits', async () => {
    ptServe = w.serve('PT-PJ');
    await ptServe.waitFor(/answering targeted queries/);

    const values = [passport(bothPt[0] as number), passport(555_555), passport(bothPt[1] as number), '  esp p 0900001 '];
    const r = await q(['--partner', 'PT-PJ', '--kind', 'passport', '--values', valuesFile('mixed.txt', values), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = parse(r.stdout);
    expect(Object.keys(j)).toEqual(['results', 'query_id']);
    expect(j.query_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(j.results.map(({ handle: _h, ...x }) => x)).toEqual([
      { partner: 'PT-PJ', kind: 'passport', value_index: 0, hit: true },
      { partner: 'PT-PJ', kind: 'passport', value_index: 1, hit: false },
      { partner: 'PT-PJ', kind: 'passport', value_index: 2, hit: true },
      { partner: 'PT-PJ', kind: 'passport', value_index: 3, hit: true },
    ]);
    expect(j.results.map((x) => typeof x.handle)).toEqual(['string', 'undefined', 'string', 'string']);
    // The fourth value is the third written differently: same canonical identifier, same handle.
    expect(j.results[3]?.handle).toBe(j.results[2]?.handle);
    noValueIn(r.stdout + r.stderr, values);

    // The responder logged one line per query: who, kind, purpose, case, count — never a value.
    await ptServe.waitFor(new RegExp(`"reqId":"${j.query_id}","from":"ES-CNP","kind":"passport","purpose":"terrorism","case":"OP-TEST/1","values":4`));
    noValueIn(ptServe.out + ptServe.err, values);

    // One value, no hit.
    const none = await q(['--partner', 'PT-PJ', '--kind', 'passport', '--value', passport(123_456), '--json']);
    expect(none.code, none.stderr).toBe(0);
    expect(parse(none.stdout).results).toEqual([{ partner: 'PT-PJ', kind: 'passport', value_index: 0, hit: false }]);

    // Table output refers to values by index only.
    const all = [email(bothPt[2] as number), email(bothPt[3] as number)];
    const t = await q(['--partner', 'PT-PJ', '--kind', 'email', '--values', valuesFile('hits.txt', all)]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/^VALUE\s+PARTNER\s+RESULT\s+HANDLE$/m);
    expect(t.stdout).toMatch(/^0\s+PT-PJ\s+HIT\s+[0-9a-f]{32}$/m);
    expect(t.stdout).toMatch(/^1\s+PT-PJ\s+HIT\s+[0-9a-f]{32}$/m);
    expect(t.stdout).toContain('2 hit(s).');
    noValueIn(t.stdout + t.stderr, all);

    // The blinds are gone once the query is answered and reported.
    const store = openStore(es);
    try {
      const row = store.sqlite.prepare('SELECT blinds, blinded, closed_at AS closedAt FROM queries WHERE id = ?').get(j.query_id) as Record<string, unknown>;
      expect(row).toMatchObject({ blinds: null, blinded: null });
      expect(row.closedAt).toEqual(expect.any(String));
    } finally {
      store.close();
    }
  });

  it('finishes a query when an offline responder comes back: time out, serve, --status', async () => {
    const values = [email(bothFr[0] as number), email(777_777)];
    const file = valuesFile('fr.txt', values);
    const r = await q(['--partner', 'FR-OC', '--kind', 'email', '--values', file, '--json', '--timeout', '1']);
    expect(r.code).toBe(5);
    const j = parse(r.stdout);
    expect(j.results).toEqual([]);
    expect(j.pending).toEqual([{ partner: 'FR-OC', state: 'pending' }]);
    expect(r.stderr).toContain(`resume with: concordat query --dir ${es} --status ${j.query_id}`);

    const frServe = w.serve('FR-OC');
    await frServe.waitFor(new RegExp(`"reqId":"${j.query_id}","from":"ES-CNP"`));
    const later = await cli(['query', '--dir', es, '--status', j.query_id, '--json']);
    expect(later.code, later.stderr).toBe(0);
    const lj = parse(later.stdout);
    expect(lj.query_id).toBe(j.query_id);
    expect(lj.results.map(({ handle: _h, ...x }) => x)).toEqual([
      { partner: 'FR-OC', kind: 'email', value_index: 0, hit: true },
      { partner: 'FR-OC', kind: 'email', value_index: 1, hit: false },
    ]);
    noValueIn(later.stdout + later.stderr + frServe.out, values);

    // A finished query is shown from the local store, even with the coordinator down.
    await w.coord.pause();
    try {
      const again = await cli(['query', '--dir', es, '--status', j.query_id, '--json']);
      expect(again.code, again.stderr).toBe(0);
      expect(parse(again.stdout)).toEqual(lj);
    } finally {
      await w.coord.listen();
    }
    const unknown = await cli(['query', '--dir', es, '--status', 'f'.repeat(32)]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/was not asked from this agency directory/);
  });

  it('--all asks every partner whose agreement allows the kind and purpose', async () => {
    const values = [email(bothPt[4] as number), email(bothFr[1] as number), email(1)];
    const r = await q(['--all', '--kind', 'email', '--values', valuesFile('all.txt', values), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(parse(r.stdout).results.map(({ handle: _h, ...x }) => x)).toEqual([
      { partner: 'FR-OC', kind: 'email', value_index: 0, hit: false },
      { partner: 'PT-PJ', kind: 'email', value_index: 0, hit: true },
      { partner: 'FR-OC', kind: 'email', value_index: 1, hit: true },
      { partner: 'PT-PJ', kind: 'email', value_index: 1, hit: false },
      { partner: 'FR-OC', kind: 'email', value_index: 2, hit: false },
      { partner: 'PT-PJ', kind: 'email', value_index: 2, hit: false },
    ]);
    // Passports only with PT (FR's agreement is email-only, IT's is count-only).
    const p = await q(['--all', '--kind', 'passport', '--value', passport(bothPt[0] as number), '--json']);
    expect(p.code, p.stderr).toBe(0);
    expect(parse(p.stdout).results.map((x) => [x.partner, x.hit])).toEqual([['PT-PJ', true]]);
  });

  it('reports a responder using another key as an ERROR caught by the proof, never as a no-hit', async () => {
    await ptServe.stop();
    // A copy of PT's directory with another epoch seed: same signing key, so the coordinator relays its answers.
    const rogue = join(w.work, 'PT-PJ-rogue');
    mkdirSync(rogue, { mode: 0o700 });
    // Its store too (the agreements PT accepted), so it answers rather than refusing the query.
    for (const f of ['agency.json', 'signing.key', 'signing.pub', 'agency.db', 'agency.db-wal', 'agency.db-shm']) if (existsSync(join(pt, f))) copyFileSync(join(pt, f), join(rogue, f));
    writeFileSync(join(rogue, 'epoch.seed'), `${bytesToHex(randomBytes(32))}\n`, { mode: 0o600 });
    const rogueServe = w.serve('PT-PJ-rogue');
    await rogueServe.waitFor(/answering targeted queries/);
    try {
      const values = [passport(bothPt[0] as number), passport(555_555)];
      const r = await q(['--partner', 'PT-PJ', '--kind', 'passport', '--values', valuesFile('rogue.txt', values), '--json']);
      expect(r.code).toBe(4);
      const j = parse(r.stdout);
      expect(j.results).toEqual([]);
      expect(j.errors).toEqual([{ partner: 'PT-PJ', error: 'bad-proof', detail: expect.stringMatching(/DLEQ proof does not verify/) }]);
      expect(r.stderr).toMatch(/!!! ERROR PT-PJ/);
      expect(r.stderr).toMatch(/this is not a "no hit"/);
      noValueIn(r.stdout + r.stderr, values);

      // The table says ERROR for each value, not "no hit".
      const t = await q(['--partner', 'PT-PJ', '--kind', 'passport', '--value', passport(555_555)]);
      expect(t.code).toBe(4);
      expect(t.stdout).toMatch(/^0\s+PT-PJ\s+ERROR\s+-$/m);
      expect(t.stdout).not.toMatch(/no hit/);

      // The coordinator relayed the answer, flagged it and audited it.
      const audit = await w.coord.store.readAudit(0, 100_000);
      expect(audit.filter((e) => e.action === 'query.bad_proof' && e.subject === j.query_id).length).toBe(1);
    } finally {
      await rogueServe.stop();
      ptServe = w.serve('PT-PJ');
      await ptServe.waitFor(/answering targeted queries/);
    }
  });

  it('surfaces refusals: purpose, kind, count mode, no agreement, values per query, quota, and bad values', async () => {
    const purpose = await cli(['query', '--dir', es, '--partner', 'FR-OC', '--kind', 'email', '--value', email(1), '--case', 'C', '--purpose', 'drug_trafficking', '--officer', 'o']);
    expect(purpose.code).toBe(1);
    // The requester's own client refuses first: its accepted terms do not allow it (protocol/SPEC.md §8.9).
    expect(purpose.stderr).toMatch(/no agreement accepted here with FR-OC, valid today, allows email queries for purpose drug_trafficking; nothing was sent/);

    const kind = await q(['--partner', 'FR-OC', '--kind', 'passport', '--value', passport(1)]);
    expect(kind.code).toBe(1);
    expect(kind.stderr).toMatch(/no agreement accepted here with FR-OC, valid today, allows passport queries/);

    const count = await q(['--partner', 'IT-DC', '--kind', 'passport', '--value', passport(1)]);
    expect(count.code).toBe(1);
    expect(count.stderr).toMatch(/no agreement accepted here with IT-DC/);

    const none = await cli(['query', '--dir', pt, '--partner', 'FR-OC', '--kind', 'email', '--value', email(1), '--case', 'C', '--purpose', 'terrorism', '--officer', 'o']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no agreement accepted here with FR-OC/);

    const six = range(1, 6).map(email);
    const many = await q(['--partner', 'FR-OC', '--kind', 'email', '--values', valuesFile('six.txt', six)]);
    expect(many.code).toBe(1);
    expect(many.stderr).toMatch(/422 .*at most 5 values per query/);

    // FR's quota is 3 queries a day: the earlier tests used two.
    const third = await q(['--partner', 'FR-OC', '--kind', 'email', '--value', email(2), '--json']);
    expect(third.code, third.stderr).toBe(0);
    const fourth = await q(['--partner', 'FR-OC', '--kind', 'email', '--value', email(3)]);
    expect(fourth.code).toBe(1);
    expect(fourth.stderr).toMatch(/429 .*quota/i);
    const midnight = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1)).toISOString();
    expect(fourth.stderr).toContain(`The quota resets at ${midnight}`);

    // Bad values: exit 2, the rule named, the value never echoed; nothing is sent.
    const before = w.coord.seen.length;
    const bad = await q(['--partner', 'PT-PJ', '--kind', 'passport', '--values', valuesFile('bad.txt', [passport(1), 'XXSECRET-NOT-A-PASSPORT'])]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/value 1 \(line 2\): passport identifier rejected \(passport\.\w+\)/);
    expect(bad.stderr).not.toContain('XXSECRET');
    const iban = await q(['--partner', 'PT-PJ', '--kind', 'iban', '--value', 'GB00XXSECRET']);
    expect(iban.code).toBe(2);
    expect(iban.stderr).toMatch(/value 0: iban identifier rejected \(iban\./);
    expect(iban.stderr).not.toContain('XXSECRET');
    const tooMany = await q(['--partner', 'PT-PJ', '--kind', 'email', '--values', valuesFile('101.txt', range(1, 101).map(email))]);
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toMatch(/101 values: a query carries at most 100/);
    const kindBad = await q(['--partner', 'PT-PJ', '--kind', 'shoe_size', '--value', 'x']);
    expect(kindBad.code).toBe(2);
    const both = await q(['--partner', 'PT-PJ', '--all', '--kind', 'email', '--value', email(1)]);
    expect(both.code).toBe(2);
    expect(w.coord.seen.length).toBe(before);
  });

  it('lists hits and lets the holder confirm or decline them; results carry the nightly status', async () => {
    type HitsJson = { hits: Array<{ handle: string; source: string; partner: string; status: string; my_status: string | null; record_ids: string[]; kinds: string[]; query_id?: string; case_ref?: string; position?: number }> };
    const hitsOf = async (dir: string, extra: string[] = []) => {
      const r = await cli(['hits', '--dir', dir, '--format', 'json', ...extra]);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as HitsJson).hits;
    };
    const ptHits = await hitsOf(pt);
    const queryHits = ptHits.filter((h) => h.source === 'query' && h.partner === 'ES-CNP');
    expect(queryHits.length).toBeGreaterThan(0);
    // The holder maps its own position to the record; the case reference comes along.
    const first = queryHits.find((h) => h.kinds.includes('passport') && h.record_ids.includes(`PT-PJ-${bothPt[0]}`));
    expect(first).toMatchObject({ status: 'unverified', my_status: 'unverified', case_ref: 'OP-TEST/1', position: expect.any(Number) });
    // The query hit carries the handle of the nightly match of the same identifier.
    expect(ptHits.some((h) => h.source === 'nightly' && h.handle === first?.handle)).toBe(true);

    // The requester sees the hit and its status.
    const esQuery = (await hitsOf(es)).filter((h) => h.source === 'query' && h.handle === first?.handle);
    expect(esQuery[0]).toMatchObject({ status: 'unverified', my_status: null, partner: 'PT-PJ' });

    // A hit on an identifier only PT holds: no nightly match, so only PT holds the hit and may decide it.
    const ptOnly = await q(['--partner', 'PT-PJ', '--kind', 'passport', '--value', passport(200_005), '--json']);
    expect(ptOnly.code, ptOnly.stderr).toBe(0);
    const solo = parse(ptOnly.stdout).results[0];
    expect(solo).toMatchObject({ hit: true, handle: expect.any(String) });
    expect((await hitsOf(es)).find((h) => h.handle === solo?.handle)).toMatchObject({ source: 'query', my_status: null, record_ids: [], kinds: [] });
    const refused = await cli(['hits', 'confirm', solo?.handle as string, '--dir', es, '--officer', 'es-officer']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/403 .*only the agency holding the hit/);
    expect((await hitsOf(pt)).find((h) => h.handle === solo?.handle)).toMatchObject({ record_ids: ['PT-PJ-200005'], kinds: ['passport'] });

    const confirmed = await cli(['hits', 'confirm', solo?.handle as string, '--dir', pt, '--officer', 'pt-officer-3', '--note', 'identity checked']);
    expect(confirmed.code, confirmed.stderr).toBe(0);
    expect(confirmed.stdout).toMatch(new RegExp(`^${solo?.handle}\\s+query\\s+ES-CNP\\s+PT-PJ-200005\\s+passport\\s+confirmed\\s+confirmed\\s+-\\s+OP-TEST/1`, 'm'));
    expect((await hitsOf(es)).find((h) => h.handle === solo?.handle)?.status).toBe('confirmed');

    // Declining a handle that is also a nightly match declines it for both (any holder declining is final).
    const declined = await cli(['hits', 'decline', first?.handle as string, '--dir', pt, '--officer', 'pt-officer-3']);
    expect(declined.code, declined.stderr).toBe(0);
    const declinedList = await hitsOf(pt, ['--status', 'declined']);
    expect(declinedList.map((h) => h.handle)).toContain(first?.handle);
    expect(declinedList.every((h) => h.status === 'declined')).toBe(true);
    // ES sees it as a nightly match and as the hit of each query that asked for it.
    const esSame = (await hitsOf(es)).filter((h) => h.handle === first?.handle);
    expect(new Set(esSame.map((h) => h.source))).toEqual(new Set(['nightly', 'query']));
    expect(esSame.every((h) => h.status === 'declined')).toBe(true);

    // A nightly match is held by both: confirmed once both confirm; `results` shows it.
    const record = bothPt[7] as number;
    const esResults = async () =>
      (JSON.parse((await cli(['results', '--dir', es, '--format', 'json'])).stdout) as { matches: Array<{ record_id: string; handle: string; status: string }> }).matches;
    const m = (await esResults()).find((x) => x.record_id === `ES-CNP-${record}`);
    expect(m?.status).toBe('unverified');
    expect((await cli(['hits', 'confirm', m?.handle as string, '--dir', es, '--officer', 'es-officer'])).code).toBe(0);
    expect((await esResults()).find((x) => x.record_id === `ES-CNP-${record}`)?.status).toBe('unverified');
    const ptConfirm = await cli(['hits', 'confirm', m?.handle as string, '--dir', pt, '--officer', 'pt-officer-3', '--format', 'json']);
    expect(ptConfirm.code, ptConfirm.stderr).toBe(0);
    expect(JSON.parse(ptConfirm.stdout).hit).toMatchObject({ handle: m?.handle, source: 'nightly', status: 'confirmed', record_ids: [`PT-PJ-${record}`] });
    expect((await esResults()).find((x) => x.record_id === `ES-CNP-${record}`)?.status).toBe('confirmed');
    const table = await cli(['results', '--dir', es]);
    expect(table.stdout).toMatch(new RegExp(`^PT-PJ\\s+ES-CNP-${record}\\s+email;passport\\s+[0-9a-f]{32}\\s+\\S+\\s+confirmed$`, 'm'));
  });

  it('keeps results and handles across an epoch rotation and answers queries of the new epoch once both sides synced', async () => {
    const before = (await cli(['results', '--dir', es, '--format', 'json'])).stdout;
    expect((await w.coord.rotate()).epoch.id).toBe('e2');
    const values = [passport(bothPt[5] as number), passport(42)];
    const file = valuesFile('e2.txt', values);
    // Asked before anyone synced in e2: the responder answers with its e2 key, but this
    // agency holds no tokens of PT's e2 set yet — "incomplete", never a no-hit.
    const early = await q(['--partner', 'PT-PJ', '--kind', 'passport', '--values', file, '--json', '--timeout', '10']);
    expect(early.code).toBe(5);
    const ej = parse(early.stdout);
    expect(ej.results).toEqual([]);
    expect(ej.pending).toEqual([{ partner: 'PT-PJ', state: 'incomplete', detail: expect.stringMatching(/holds no tokens of PT-PJ's set for epoch e2/) }]);
    expect(early.stderr).toContain(`--status ${ej.query_id}`);

    await w.syncAll();
    const after = (await cli(['results', '--dir', es, '--format', 'json'])).stdout;
    expect(JSON.parse(after)).toEqual(JSON.parse(before));

    const done = await cli(['query', '--dir', es, '--status', ej.query_id, '--json']);
    expect(done.code, done.stderr).toBe(0);
    expect(parse(done.stdout).results.map((x) => [x.value_index, x.hit])).toEqual([
      [0, true],
      [1, false],
    ]);
    // The query hit takes the handle of the nightly match, which survived the rotation.
    const matches = (JSON.parse(after) as { matches: Array<{ record_id: string; handle: string }> }).matches;
    const ptHits = (JSON.parse((await cli(['hits', '--dir', pt, '--format', 'json'])).stdout) as { hits: Array<{ handle: string; source: string; query_id?: string; record_ids: string[] }> }).hits;
    const hit = ptHits.find((h) => h.query_id === ej.query_id);
    expect(hit?.record_ids).toEqual([`PT-PJ-${bothPt[5]}`]);
    expect(ptHits.some((h) => h.source === 'nightly' && h.handle === hit?.handle)).toBe(true);
    expect(matches.some((m) => m.record_id === `ES-CNP-${bothPt[5]}`)).toBe(true);
  });
});

