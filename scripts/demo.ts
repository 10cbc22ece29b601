// `npm run demo`: the nightly job end to end, as operators run it. Starts a
// coordinator on a temporary SQLite file, enrols three agencies with
// agreements (one in count mode), generates watchlists with planted two- and
// three-way overlaps written in each agency's national format, runs the
// nightly syncs, prints each agency's overlaps and verifies the audit chain.
// With `-- --console` it then serves ES-CNP's investigator console until Ctrl-C.
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makePerson, prng, rowsFor, toCsv, type Style } from './synthetic.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/concordat.js', import.meta.url));
const t0 = performance.now();
const say = (s: string): void => console.log(s);
const elapsed = (): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

async function concordat(args: string[]): Promise<string> {
  try {
    const { stdout } = await run(BIN, args, { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`concordat ${args.slice(0, 2).join(' ')} failed:\n${err.stderr || err.stdout || err.message}`);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

interface Agency {
  id: string;
  country: string;
  style: Style;
}
const AGENCIES: Agency[] = [
  { id: 'ES-CNP', country: 'ESP', style: 'es' },
  { id: 'PT-PJ', country: 'PRT', style: 'pt' },
  { id: 'FR-OCRTEH', country: 'FRA', style: 'fr' },
];
const AGREEMENTS = [
  { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], kinds: 'passport,email,phone,name_dob', mode: 'reveal', basis: 'Bilateral police cooperation agreement ES-PT' },
  { id: 'es-fr', parties: ['ES-CNP', 'FR-OCRTEH'], kinds: 'passport,phone,iban', mode: 'reveal', basis: 'Prüm-style exchange ES-FR' },
  { id: 'pt-fr', parties: ['PT-PJ', 'FR-OCRTEH'], kinds: 'passport,email', mode: 'count', basis: 'Statistical overlap study PT-FR' },
];

async function main(): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'concordat-demo-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let server: ReturnType<typeof spawn> | undefined;
  try {
    say(`Concordat demo — working in ${work}`);
    await concordat(['coordinator', 'init', '--data', join(work, 'coordinator')]);
    server = spawn(BIN, ['coordinator', 'serve', '--data', join(work, 'coordinator'), '--host', '127.0.0.1', '--port', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const srv = server;
    let serverErr = '';
    srv.stderr?.on('data', (d: Buffer) => (serverErr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`coordinator did not start:\n${serverErr}`)), 20000);
      srv.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('listening')) {
          clearTimeout(timer);
          resolve();
        }
      });
      srv.once('exit', (code) => reject(new Error(`coordinator exited (${code}):\n${serverErr}`)));
    });
    say(`coordinator listening on ${url} (SQLite: ${join(work, 'coordinator', 'coordinator.db')})`);

    const admin = (args: string[]): Promise<string> =>
      concordat(['coordinator', 'admin', '--url', url, '--admin-key', join(work, 'coordinator', 'admin.key'), ...args]);
    for (const a of AGENCIES) {
      await concordat(['init', '--dir', join(work, a.id), '--agency', a.id, '--coordinator', url]);
      await admin(['agency', 'add', '--id', a.id, '--name', a.id, '--country', a.country, '--key', join(work, a.id, 'signing.pub')]);
    }
    for (const g of AGREEMENTS) {
      await admin(['agreement', 'add', '--id', g.id, '--parties', g.parties.join(','), '--kinds', g.kinds, '--mode', g.mode, '--until', '2030-12-31', '--legal-basis', g.basis]);
      // Each party's officer accepts the terms with the agency's own key (protocol/SPEC.md §8.6); nothing flows before.
      for (const p of g.parties) await concordat(['agreements', 'accept', g.id, '--dir', join(work, p), '--officer', `duty.${p}`, '--yes']);
    }
    say(`enrolled ${AGENCIES.map((a) => a.id).join(', ')}; agreements ${AGREEMENTS.map((g) => `${g.id} (${g.mode})`).join(', ')}`);

    // Watchlists: each agency's own suspects plus planted overlaps.
    const rnd = prng(20261128);
    const PER_AGENCY = 3000;
    const planted = { 'ES-CNP+PT-PJ': 40, 'ES-CNP+FR-OCRTEH': 30, 'PT-PJ+FR-OCRTEH': 25, 'ES-CNP+PT-PJ+FR-OCRTEH': 15 };
    const members = new Map<string, number[]>(AGENCIES.map((a) => [a.id, []]));
    let next = 1;
    for (const [group, count] of Object.entries(planted)) {
      for (let i = 0; i < count; i++) {
        const id = next++;
        for (const a of group.split('+')) members.get(a)!.push(id);
      }
    }
    for (const a of AGENCIES) {
      const m = members.get(a.id)!;
      while (m.length < PER_AGENCY) m.push(next++);
    }
    const people = new Map<number, ReturnType<typeof makePerson>>();
    for (let id = 1; id < next; id++) people.set(id, makePerson(id, rnd));
    for (const a of AGENCIES) {
      const rows = members.get(a.id)!.flatMap((id) => rowsFor(people.get(id)!, `${a.id}-${id}`, a.style));
      writeFileSync(join(work, `${a.id}.csv`), toCsv(rows));
      const out = await concordat(['import', '--dir', join(work, a.id), join(work, `${a.id}.csv`)]);
      say(`${a.id}: ${out.trim().split('\n').at(-1)}`);
    }

    say(`nightly sync (two rounds, every agency) …`);
    for (let round = 1; round <= 2; round++) {
      for (const a of AGENCIES) {
        const t = performance.now();
        await concordat(['sync', '--dir', join(work, a.id)]);
        say(`  round ${round}: ${a.id} synced in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      }
    }

    let ok = true;
    const expectWith = (me: string, partner: string): Set<string> =>
      new Set(members.get(me)!.filter((id) => members.get(partner)!.includes(id)).map((id) => `${me}-${id}`));
    for (const a of AGENCIES) {
      const res = JSON.parse(await concordat(['results', '--dir', join(work, a.id), '--format', 'json'])) as {
        matches: Array<{ partner: string; record_id: string; kinds: string[]; handle: string }>;
        counts: Array<{ partner: string; count: number }>;
      };
      say(`\n${a.id} overlaps:`);
      for (const g of AGREEMENTS.filter((x) => x.parties.includes(a.id))) {
        const partner = g.parties.find((p) => p !== a.id)!;
        const want = expectWith(a.id, partner);
        if (g.mode === 'reveal') {
          const got = new Set(res.matches.filter((m) => m.partner === partner).map((m) => m.record_id));
          const found = [...want].filter((r) => got.has(r)).length;
          const extra = [...got].filter((r) => !want.has(r)).length;
          ok &&= found === want.size && extra === 0;
          say(`  with ${partner} (reveal, ${g.kinds}): ${got.size} records match — ${found}/${want.size} planted found, ${extra} unexpected`);
          for (const m of res.matches.filter((x) => x.partner === partner).slice(0, 3)) {
            say(`    ${m.record_id.padEnd(16)} kinds ${m.kinds.join('+').padEnd(32)} handle ${m.handle}`);
          }
        } else {
          const c = res.counts.find((x) => x.partner === partner)?.count;
          const kinds = g.kinds.split(',').length;
          ok &&= c === want.size * kinds;
          say(`  with ${partner} (count, ${g.kinds}): ${c ?? 'no result'} matched identifiers — ${want.size} planted people × ${kinds} kinds, no records revealed`);
        }
      }
    }

    // A targeted query: an investigator at ES-CNP asks PT-PJ about two passports, one of them planted.
    say(`\ntargeted query: ES-CNP asks PT-PJ about two passports (PT-PJ's responder online) …`);
    const responder = spawn(BIN, ['serve', '--dir', join(work, 'PT-PJ'), '--sync-every', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const plantedId = members.get('ES-CNP')!.find((id) => members.get('PT-PJ')!.includes(id))!;
      const p = people.get(plantedId)!;
      const valuesFile = join(work, 'query-values.txt');
      writeFileSync(valuesFile, `${p.passportState}:${p.passportNumber}\nESP:Z9999999\n`);
      const t = performance.now();
      const q = JSON.parse(
        await concordat(['query', '--dir', join(work, 'ES-CNP'), '--partner', 'PT-PJ', '--kind', 'passport', '--values', valuesFile, '--case', 'OP-DEMO-1', '--purpose', 'drug_trafficking', '--officer', 'es.officer.1', '--json', '--timeout', '20']),
      ) as { results: Array<{ partner: string; value_index: number; hit: boolean; handle?: string }>; query_id: string };
      const ms = performance.now() - t;
      for (const r of q.results) say(`  value #${r.value_index + 1} at ${r.partner}: ${r.hit ? `HIT (handle ${r.handle}, unverified until PT-PJ confirms)` : 'no hit'}`);
      say(`  query ${q.query_id} answered with a verified DLEQ proof in ${ms.toFixed(0)} ms (including process start-up)`);
      ok &&= q.results.length === 2 && q.results[0]?.hit === true && q.results[1]?.hit === false;
      const hit = q.results[0]?.handle;
      if (hit) {
        await concordat(['hits', 'confirm', hit, '--dir', join(work, 'PT-PJ'), '--officer', 'pt.officer.7', '--note', 'record checked']);
        say(`  PT-PJ officer confirmed hit ${hit}`);
      }
    } finally {
      responder.kill('SIGTERM');
    }

    if (process.argv.includes('--console')) await showConsole(work);

    server.kill('SIGTERM');
    await new Promise((r) => server!.once('exit', r));
    server = undefined;
    const audit = await concordat(['coordinator', 'audit', 'verify', '--data', join(work, 'coordinator')]);
    say(`\n${audit.trim()}`);
    say(ok ? `\nAll planted overlaps found, nothing else. Done in ${elapsed()}.` : `\nRESULTS DIFFER FROM THE PLANTED OVERLAPS (${elapsed()}).`);
    return ok ? 0 : 1;
  } finally {
    if (server) server.kill('SIGTERM');
    if (!process.env.CONCORDAT_DEMO_KEEP) rmSync(work, { recursive: true, force: true });
  }
}

/**
 * `npm run demo -- --console`: after the run, serves ES-CNP's investigator
 * console (with PT-PJ's responder online for queries) until Ctrl-C.
 */
async function showConsole(work: string): Promise<void> {
  const password = randomBytes(12).toString('base64url');
  await new Promise<void>((resolve, reject) => {
    const add = spawn(process.execPath, [BIN, 'officers', 'add', '--dir', join(work, 'ES-CNP'), '--id', 'demo.officer', '--name', 'Demo Officer', '--password-stdin'], { stdio: ['pipe', 'ignore', 'inherit'] });
    add.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`officers add exited ${code}`))));
    add.stdin?.end(`${password}\n`);
  });
  const responder = spawn(process.execPath, [BIN, 'serve', '--dir', join(work, 'PT-PJ'), '--sync-every', '0'], { stdio: 'ignore' });
  const ui = spawn(process.execPath, [BIN, 'serve', '--dir', join(work, 'ES-CNP'), '--sync-every', '0', '--ui', '--ui-port', String(await freePort())], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    ui.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /investigator console on (\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    ui.once('exit', (code) => reject(new Error(`serve --ui exited ${code}`)));
  });
  say(`\nES-CNP's investigator console: ${url}\n  officer demo.officer, password ${password}\n  (PT-PJ answers queries, e.g. for the planted passports above). Ctrl-C to stop.`);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  for (const p of [ui, responder]) p.kill('SIGTERM');
  await Promise.all([ui, responder].map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : undefined)));
}

process.exitCode = await main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  return 1;
});
