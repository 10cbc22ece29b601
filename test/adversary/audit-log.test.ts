// The coordinator's audit transparency log against a hostile coordinator
// (protocol/SPEC.md §9.6, §5.3 Coordinator (active) item 6): real agencies
// pin the log key on first use, and every sync (and `concordat audit check`)
// verifies the signed head under it, its consistency with the last head kept
// locally, and the inclusion of every entry involving the agency since the
// last check. The coordinator edits a stored entry, rolls its log back,
// changes its log key, serves one agency a forked tree, and hands out
// exports with a byte changed: each is detected by the agency's own client,
// written to its LOCAL audit trail, and ends in a non-zero exit.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes } from '../../protocol/bytes.js';
import { randomBytes } from '../../protocol/rng.js';
import { auditLogId, consistencyProof, inclusionProof, nodeHash, signTreeHead, storedHashIndex, treeRoot, type HashAt } from '../../protocol/tlog.js';
import { verifyExport } from '../../clients/agency/transparency.js';
import { EXIT } from '../../clients/sdk/errors.js';
import { json, rewriteJson, type Exchange } from './hostile.js';
import { bin, built, cli, range, World } from './world.js';
import { spawn } from 'node:child_process';

const ES = 'ES-CNP';
const PT = 'PT-PJ';
const FR = 'FR-OC';

let w: World;

const from = (id: string) => (x: Exchange) => x.agency === id;
const get = (path: string) => (x: Exchange) => x.method === 'GET' && x.path === path;

/** The coordinator's log key, as its database holds it (the operator has it). */
function logSecret(): Uint8Array {
  const r = w.coord.db.prepare('SELECT log_key AS k FROM audit_keys WHERE id = 1').get() as { k: Buffer };
  return new Uint8Array(r.k);
}

/** The leaf hashes of the coordinator's tree, as stored. */
function storedLeaves(): Uint8Array[] {
  const size = (w.coord.db.prepare('SELECT max(seq) AS n FROM audit_log').get() as { n: number }).n;
  const get = w.coord.db.prepare('SELECT hash FROM audit_tree WHERE id = ?');
  return range(0, size).map((i) => new Uint8Array((get.get(storedHashIndex(0, i)) as { hash: Buffer }).hash));
}

/** A tree over `leaves` held in memory: what a coordinator forking its log computes for the agency it shows the fork. */
function treeOf(leaves: readonly Uint8Array[]): HashAt {
  const memo = new Map<string, Uint8Array>();
  const at: HashAt = (level, index) => {
    if (level === 0) return leaves[index] as Uint8Array;
    const k = `${level}/${index}`;
    let h = memo.get(k);
    if (!h) memo.set(k, (h = nodeHash(at(level - 1, 2 * index), at(level - 1, 2 * index + 1))));
    return h;
  };
  return at;
}

async function localTrail(id: string, action: string, mark: number) {
  return (await w.audit(id)).filter((e) => e.seq > mark && e.action === action);
}
const mark = async (id: string) => (await w.audit(id))[0]?.seq ?? 0;

const check = (id: string) => cli(['audit', 'check', '--dir', w.dir(id)]);
async function headJson(id: string): Promise<any> {
  const r = await cli(['audit', 'head', '--dir', w.dir(id), '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** `concordat coordinator audit export` on the hostile coordinator's own database. */
function coordinatorExport(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [bin, 'coordinator', 'audit', 'export', '--data', w.coord.dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    c.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  if (!built) throw new Error('the build output is missing: run `npm run build`');
  w = await World.start();
  await w.agency(ES, 'ESP', range(100_000, 10));
  await w.agency(PT, 'PRT', range(200_000, 10));
  await w.agency(FR, 'FRA', range(300_000, 5));
  await w.agreement({ id: 'es-pt', parties: [ES, PT] });
  await w.acceptAll('es-pt', [ES, PT]);
  await w.syncAll([ES, PT], 2);
}, 120_000);

afterAll(async () => {
  await w?.stop();
});

describe('agencies check the transparency log', () => {
  it('pins the log key on first use; every sync then verifies the head, its consistency and the entries of the agency', async () => {
    const pinned = (await w.audit(ES)).find((e) => e.action === 'audit_log.key_pinned');
    expect(pinned?.outcome).toBe('ok');
    const logKey = bytesToHex(ed25519.getPublicKey(logSecret()));
    const h = await headJson(ES);
    expect(h.logKey).toBe(logKey);
    expect(h.head.log).toBe(auditLogId(hexToBytes(logKey)));
    expect(pinned?.detail.fingerprint).toBe(h.fingerprint);
    const r = await check(ES);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/head of \d+ entries verified, consistent with the head of \d+/);
    expect((await w.audit(ES)).filter((e) => e.action === 'audit_log.inconsistent')).toEqual([]);
  });

  it('(a) an entry edited in the coordinator’s database is detected by audit check', async () => {
    expect((await check(ES)).code).toBe(0);
    // A new entry involving ES after its last check: the operator proposes another agreement.
    await w.agreement({ id: 'es-pt-extra', parties: [ES, PT] });
    const row = w.coord.db.prepare("SELECT seq, detail FROM audit_log WHERE subject = 'es-pt-extra' AND action = 'agreement.proposed'").get() as { seq: number; detail: string };
    expect(row).toBeDefined();
    const m = await mark(ES);
    expect(row.detail).toContain('"mode":"reveal"');
    w.coord.db.prepare('UPDATE audit_log SET detail = ? WHERE seq = ?').run(row.detail.replace('"mode":"reveal"', '"mode":"count"'), row.seq);
    try {
      const r = await check(ES);
      expect(r.code).toBe(EXIT.auditLog);
      expect(r.stderr).toContain(`entry ${row.seq}`);
      const [e] = await localTrail(ES, 'audit_log.inconsistent', m);
      expect(e?.outcome).toBe('refused');
      expect(e?.detail).toMatchObject({ check: 'inclusion', seq: row.seq });
      // Nothing was kept from the failed check: it fails again until the entry is restored.
      expect((await check(ES)).code).toBe(EXIT.auditLog);
    } finally {
      w.coord.db.prepare('UPDATE audit_log SET detail = ? WHERE seq = ?').run(row.detail, row.seq);
    }
    expect((await check(ES)).code).toBe(0);
  });

  it('(a) an entry rewritten in GET /v1/audit fails the sync: !!! warning, report error, local trail', async () => {
    await w.agreement({ id: 'es-pt-third', parties: [ES, PT] });
    const m = await mark(ES);
    const stop = w.coord.use({
      label: 'rewrite the outcome of the entries listed to ES',
      when: (x) => from(ES)(x) && get('/v1/audit')(x),
      response: (res) => rewriteJson(res, (b) => ({ ...b, entries: b.entries.map((e: any) => (e.subject === 'es-pt-third' ? { ...e, subject: 'es-pt-forged' } : e)) })),
    });
    const warnings: string[] = [];
    try {
      const report = await w.sync(ES, warnings);
      expect(report.auditLogFailed).toBe(true);
      expect(report.errors.some((e) => e.startsWith('audit log:'))).toBe(true);
      expect(warnings.some((l) => l.includes('!!! AUDIT LOG INCLUSION CHECK FAILED'))).toBe(true);
      expect((await localTrail(ES, 'audit_log.inconsistent', m))[0]?.detail.check).toBe('inclusion');
    } finally {
      stop();
    }
    expect((await w.sync(ES)).auditLogFailed).toBe(false);
  });

  it('(b) a rolled-back log (an older, smaller head) is detected', async () => {
    const old = await headJson(ES);
    // The log grows past the head ES holds, ES checks it, then the coordinator rolls back to the old head.
    await w.agreement({ id: 'es-pt-fourth', parties: [ES, PT] });
    expect((await check(ES)).code).toBe(0);
    const newer = await headJson(ES);
    expect(newer.head.size).toBeGreaterThan(old.head.size);
    const m = await mark(ES);
    const stop = w.coord.use({ label: 'serve the older head', when: (x) => from(ES)(x) && get('/v1/audit/head')(x), answer: () => json({ head: old.head, signature: old.signature }) });
    try {
      const r = await check(ES);
      expect(r.code).toBe(EXIT.auditLog);
      expect(r.stderr).toMatch(/rollback/);
      expect((await localTrail(ES, 'audit_log.inconsistent', m))[0]?.detail).toMatchObject({ check: 'rollback', size: old.head.size, previousSize: newer.head.size });
    } finally {
      stop();
    }
    expect((await check(ES)).code).toBe(0);
  });

  it('(b) a rewritten history (a same-size head of another tree, or of one that drops the newest leaves) fails consistency', async () => {
    expect((await check(ES)).code).toBe(0);
    const held = await headJson(ES);
    await w.agreement({ id: 'es-pt-fifth', parties: [ES, PT] });
    // The coordinator deletes the entries since ES's head and logs others in their place: a tree of a larger
    // size whose first leaves are not the ones ES verified.
    const leaves = storedLeaves();
    const forked = leaves.map((l, i) => (i === held.head.size - 1 ? randomBytes(32) : l));
    const hashAt = treeOf(forked);
    const signed = signTreeHead(forked.length, treeRoot(forked.length, hashAt), new Date().toISOString(), logSecret());
    const m = await mark(ES);
    const stops = [
      w.coord.use({ label: 'forked head', when: (x) => from(ES)(x) && get('/v1/audit/head')(x), answer: () => json({ head: signed.head, signature: bytesToHex(signed.signature) }) }),
      w.coord.use({
        label: 'consistency over the fork',
        when: (x) => from(ES)(x) && get('/v1/audit/proof/consistency')(x),
        answer: (x) => {
          const q = new URLSearchParams(x.search);
          const [f, t] = [Number(q.get('from')), Number(q.get('to'))];
          return json({ from: f, to: t, proof: consistencyProof(f, t, hashAt).map(bytesToHex) });
        },
      }),
    ];
    try {
      const r = await check(ES);
      expect(r.code).toBe(EXIT.auditLog);
      expect((await localTrail(ES, 'audit_log.inconsistent', m))[0]?.detail).toMatchObject({ check: 'consistency', previousSize: held.head.size, size: forked.length });
    } finally {
      for (const s of stops) s();
    }
    expect((await check(ES)).code).toBe(0);
  });

  it('a changed log key is refused: audit_log.key_changed, non-zero exit', async () => {
    const other = ed25519.getPublicKey(randomBytes(32));
    const m = await mark(ES);
    const stop = w.coord.use({
      label: 'show another log key',
      when: (x) => from(ES)(x) && get('/v1/me')(x),
      response: (res) => rewriteJson(res, (b) => ({ ...b, auditLog: { publicKey: bytesToHex(other), log: auditLogId(other) } })),
    });
    try {
      const r = await check(ES);
      expect(r.code).toBe(EXIT.auditLog);
      const warnings: string[] = [];
      const report = await w.sync(ES, warnings);
      expect(report.auditLogFailed).toBe(true);
      expect(warnings.some((l) => l.includes('!!! AUDIT LOG LOG-KEY CHECK FAILED'))).toBe(true);
      const changed = await localTrail(ES, 'audit_log.key_changed', m);
      expect(changed.length).toBe(2);
      expect(changed[0]?.outcome).toBe('refused');
    } finally {
      stop();
    }
    expect((await check(ES)).code).toBe(0);
  });

  it('(c) a split view (FR shown a forked tree) is detected when the heads are compared', async () => {
    expect((await check(ES)).code).toBe(0);
    // FR has never checked: it pins the key and accepts whatever consistent tree it is shown first.
    const leaves = storedLeaves();
    const size = leaves.length;
    // The fork hides an entry that does not involve FR: FR's own entries still prove against it.
    const hidden = (w.coord.db.prepare("SELECT seq FROM audit_log WHERE actor <> ? AND detail NOT LIKE ? AND subject NOT LIKE ? ORDER BY seq DESC LIMIT 1").get(FR, `%${FR}%`, `%${FR}%`) as { seq: number }).seq;
    const forked = leaves.map((l, i) => (i === hidden - 1 ? randomBytes(32) : l));
    const hashAt = treeOf(forked);
    const signed = signTreeHead(size, treeRoot(size, hashAt), new Date().toISOString(), logSecret());
    const stops = [
      w.coord.use({ label: 'fork: head', when: (x) => from(FR)(x) && get('/v1/audit/head')(x), answer: () => json({ head: signed.head, signature: bytesToHex(signed.signature) }) }),
      w.coord.use({
        label: 'fork: inclusion',
        when: (x) => from(FR)(x) && get('/v1/audit/proof/inclusion')(x),
        answer: (x) => {
          const q = new URLSearchParams(x.search);
          const [seq, n] = [Number(q.get('seq')), Number(q.get('size'))];
          return json({ seq, index: seq - 1, size: n, proof: inclusionProof(seq - 1, n, hashAt).map(bytesToHex) });
        },
      }),
    ];
    try {
      const r = await check(FR);
      expect(r.code, r.stderr).toBe(0);
    } finally {
      for (const s of stops) s();
    }
    expect((await check(ES)).code).toBe(0);
    const [es, fr] = [await headJson(ES), await headJson(FR)];
    expect(es.head.size).toBe(size);
    expect(fr.head.size).toBe(size);
    expect(fr.head.root).not.toBe(es.head.root);
    writeFileSync(join(w.work, 'es-head.json'), JSON.stringify(es));
    writeFileSync(join(w.work, 'fr-head.json'), JSON.stringify(fr));
    const m = await mark(ES);
    const r = await cli(['audit', 'compare', '--dir', w.dir(ES), join(w.work, 'es-head.json'), join(w.work, 'fr-head.json')]);
    expect(r.code).toBe(EXIT.auditLog);
    expect(r.stderr).toMatch(/SPLIT VIEW: .* with different roots/);
    expect((await localTrail(ES, 'audit_log.inconsistent', m))[0]?.detail.check).toBe('split-view');
    // A later honest check of FR against the real tree fails consistency with the forked head it kept.
    await w.agreement({ id: 'pt-fr', parties: [PT, FR] });
    const mf = await mark(FR);
    expect((await check(FR)).code).toBe(EXIT.auditLog);
    expect((await localTrail(FR, 'audit_log.inconsistent', mf))[0]?.detail.check).toBe('consistency');
    // Heads of different sizes: compare proves the smaller a prefix of the larger through the coordinator.
    writeFileSync(join(w.work, 'es-old.json'), JSON.stringify(es));
    expect((await check(ES)).code).toBe(0);
    writeFileSync(join(w.work, 'es-new.json'), JSON.stringify(await headJson(ES)));
    const ok = await cli(['audit', 'compare', '--dir', w.dir(ES), join(w.work, 'es-old.json'), join(w.work, 'es-new.json')]);
    expect(ok.code, ok.stderr).toBe(0);
    const bad = await cli(['audit', 'compare', '--dir', w.dir(ES), join(w.work, 'fr-head.json'), join(w.work, 'es-new.json')]);
    expect(bad.code).toBe(EXIT.auditLog);
    expect(bad.stderr).toMatch(/is not a prefix/);
  });

  it('(d) exports with proofs verify offline, redacted entries too; one byte changed anywhere fails with its line', async () => {
    // PT's officer asks ES a targeted query: ES reads the entry with PT's officer withheld (sealed).
    const q = await cli(['query', '--dir', w.dir(PT), '--partner', ES, '--kind', 'passport', '--value', 'ESP:P0100001', '--case', 'CASE-1', '--purpose', 'terrorism', '--officer', 'pt-officer', '--timeout', '1']);
    expect(q.code, q.stderr).toBe(EXIT.unanswered);
    expect((await check(ES)).code).toBe(0);
    const key = (await headJson(ES)).logKey as string;
    const agencyFile = join(w.work, 'es-export.jsonl');
    const r = await cli(['audit', 'check', '--dir', w.dir(ES), '--export', agencyFile]);
    expect(r.code, r.stderr).toBe(0);
    const coordFile = join(w.work, 'coordinator-export.jsonl');
    const c = await coordinatorExport(['--agency', ES, '--proofs', '--out', coordFile]);
    expect(c.code, c.stderr).toBe(0);
    for (const file of [agencyFile, coordFile]) {
      const text = readFileSync(file, 'utf8');
      const lines = text.trimEnd().split('\n');
      expect(lines.length).toBeGreaterThan(5);
      const ok = await cli(['audit', 'verify-export', file, '--log-key', key]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain(`${lines.length - 1} entries verified`);
      if (file === agencyFile) expect(lines.some((l) => JSON.parse(l).sealed !== undefined)).toBe(true);
      // One byte changed on each line in turn (and at several places on one line): every change fails, naming its line.
      const targets = lines.flatMap((l, i) => (i === 1 ? [5, 20, Math.floor(l.length / 2), l.length - 3].map((p) => [i, p] as const) : [[i, Math.floor(l.length / 2)] as const]));
      const changedAt = (i: number, pos: number): string => {
        const line = lines[i] as string;
        const ch = line[pos] as string;
        const changed = ch === '0' ? '1' : /[0-9a-f]/.test(ch) ? '0' : ch === 'x' ? 'y' : 'x';
        const copy = [...lines];
        copy[i] = line.slice(0, pos) + changed + line.slice(pos + 1);
        return `${copy.join('\n')}\n`;
      };
      for (const [i, pos] of targets) {
        const v = verifyExport(changedAt(i, pos), hexToBytes(key));
        expect(v.ok, `line ${i + 1} pos ${pos}`).toBe(false);
        expect(v.line, `line ${i + 1} pos ${pos}: ${v.reason}`).toBe(i + 1);
      }
      // The CLI on a few of them: exit 6, the line named, the refusal in the local trail.
      for (const [i, pos] of [targets[0], targets[4], targets.at(-1)] as Array<readonly [number, number]>) {
        const f = join(w.work, 'changed.jsonl');
        writeFileSync(f, changedAt(i, pos));
        const m = await mark(ES);
        const bad = await cli(['audit', 'verify-export', f, '--log-key', key, '--dir', w.dir(ES)]);
        expect(bad.code, `line ${i + 1} pos ${pos}: ${bad.stderr}`).toBe(EXIT.auditLog);
        expect(bad.stderr).toContain(`changed.jsonl:${i + 1}:`);
        expect((await localTrail(ES, 'audit_log.export_refused', m))[0]?.detail).toMatchObject({ line: i + 1 });
      }
    }
  }, 180_000);
});
