// The Node-only part of the coordinator suite: what works on the SQLite
// database file itself, which only the Node store has. Reading and tampering
// with the file, `coordinator audit verify` and `audit export` on it, no
// identifier anywhere in the file (WAL included), and migrating a database
// from before part 2. Everything else runs on both stores (the shared
// coordinator-*.test.ts files).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sha256 } from '@noble/hashes/sha2.js';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { bytesToHex, concatBytes, hexToBytes, utf8 } from '../protocol/bytes.js';
import { loadFastEngine, type Engine } from '../protocol/engine/index.js';
import { identifierInput } from '../protocol/identifiers/index.js';
import { canonicalJSON, chainHash, verifyAuditChain, type AuditEntry } from '../src/audit.js';
import { main } from '../src/cli/main.js';
import { migrationsFolder, openSqliteStore, readAuditFile } from '../src/store/sqlite.js';
import { addAgreement, epochKeyPair, newSigner, publishKey, type Signer } from './coordinator-harness.js';
import { makeSqliteHarness, type SqliteHarness } from './coordinator-harness-sqlite.js';
import { esOnly, ptOnly, query as sceneQuery, setupScene, shared } from './coordinator-scenario.js';
import { item, type Item, type SimAgency } from './coordinator-sim.js';
import { auditLeafHash, storedHashCount, storedHashIndex } from '../protocol/tlog.js';

let engine: Engine;
beforeAll(async () => {
  engine = await loadFastEngine();
});

describe('audit log in the SQLite file', () => {
  let h: SqliteHarness;
  let entries: AuditEntry[];

  beforeAll(async () => {
    h = await makeSqliteHarness();
    const es = await h.addAgency('ES-CNP', 'ESP');
    await h.addAgency('PT-PJ', 'PRT');
    await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
    await publishKey(h, es, epochKeyPair());
    await h.send(newSigner('XX-GHOST'), 'GET', '/v1/me');
    await h.send(es, 'GET', '/v1/admin/agreements');
    await h.send(es, 'GET', '/v1/results');
    entries = await h.store.readAudit(0, 1000);
    await h.store.close();
  });
  afterAll(async () => {
    await h.close();
  });

  it('reads back from the file exactly as the store wrote it, and the chain verifies', () => {
    expect(entries.map((e) => e.action)).toEqual([
      'agency.added',
      'agency.added',
      'agreement.proposed',
      'agreement.accepted',
      'agreement.accepted',
      'agreement.activated',
      'epoch_key.published',
      'auth.refused',
      'authz.refused',
      'results.served',
    ]);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(verifyAuditChain(entries)).toEqual({ ok: true, count: 10 });
    expect(verifyAuditChain([...readAuditFile(h.dbPath)])).toEqual({ ok: true, count: 10 });
  });

  function tampered(name: string, sql: string[]): AuditEntry[] {
    const copy = join(h.dir, `${name}.db`);
    copyFileSync(h.dbPath, copy);
    const db = new Database(copy);
    for (const s of sql) db.exec(s);
    db.close();
    return [...readAuditFile(copy)];
  }

  it('detects an edited entry', () => {
    const r = verifyAuditChain(tampered('edited', ["UPDATE audit_log SET outcome = 'tampered' WHERE seq = 5"]));
    expect(r).toMatchObject({ ok: false, seq: 5 });
    const d = verifyAuditChain(tampered('edited-detail', [`UPDATE audit_log SET detail = '{"country":"PRT"}' WHERE seq = 1`]));
    expect(d).toMatchObject({ ok: false, seq: 1 });
  });

  it('detects a removed entry', () => {
    const r = verifyAuditChain(tampered('removed', ['DELETE FROM audit_log WHERE seq = 3']));
    expect(r).toMatchObject({ ok: false, seq: 4 });
    if (!r.ok) expect(r.reason).toContain('expected seq 3');
  });

  it('detects a removed entry even when later seqs are renumbered', () => {
    const r = verifyAuditChain(tampered('renumbered', ['DELETE FROM audit_log WHERE seq = 3', 'UPDATE audit_log SET seq = seq - 1 WHERE seq > 3']));
    expect(r).toMatchObject({ ok: false, seq: 3 });
  });

  it('detects reordered entries', () => {
    const cols = 'at, actor, action, subject, outcome, detail, hash';
    const r = verifyAuditChain(
      tampered('reordered', [
        `CREATE TEMP TABLE t AS SELECT * FROM audit_log WHERE seq IN (5, 6)`,
        `UPDATE audit_log SET (${cols}) = (SELECT ${cols} FROM t WHERE t.seq = 6) WHERE seq = 5`,
        `UPDATE audit_log SET (${cols}) = (SELECT ${cols} FROM t WHERE t.seq = 5) WHERE seq = 6`,
      ]),
    );
    expect(r).toMatchObject({ ok: false, seq: 5 });
  });

  it('detects a forged hash on an edited entry (the next entry no longer fits)', () => {
    const forged = tampered('forged', ["UPDATE audit_log SET outcome = 'tampered' WHERE seq = 5"]);
    const prev = forged[3] as AuditEntry;
    const e5 = forged[4] as AuditEntry;
    e5.hash = chainHash(prev.hash, e5);
    expect(verifyAuditChain(forged)).toMatchObject({ ok: false, seq: 6 });
  });
});

describe('the coordinator CLI on the database file', () => {
  let h: SqliteHarness;
  let es: SimAgency;
  let pt: SimAgency;
  let fr: Signer;

  afterEach(async () => {
    await h?.close();
  });

  async function setup(agreement: Record<string, unknown> = {}): Promise<void> {
    h = await makeSqliteHarness({ notifier: true });
    ({ es, pt, fr } = await setupScene(h, engine, agreement));
  }

  function query(values: Item[]) {
    return sceneQuery({ h, es, pt, fr }, values);
  }

  async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    try {
      const code = await main(['coordinator', ...args]);
      return { code, out: out.join('\n'), err: err.join('\n') };
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  }

  /** A copy of the harness database in its own data directory, optionally tampered with. */
  function copyData(name: string, sql: string[] = []): string {
    h.store.client.pragma('wal_checkpoint(TRUNCATE)');
    const dir = join(h.dir, name);
    mkdirSync(dir);
    copyFileSync(h.dbPath, join(dir, 'coordinator.db'));
    const db = new Database(join(dir, 'coordinator.db'));
    for (const s of sql) db.exec(s);
    db.close();
    return dir;
  }

  it('audit verify works from the retention checkpoint and names tampering after a purge', async () => {
    await setup();
    expect((await h.json(h.admin, 'PUT', '/v1/admin/config', { body: { retention: { auditDays: 30 } } })).status).toBe(200);
    await query([shared[0] as Item, ptOnly[2] as Item]);
    const before = await h.store.readAudit(0, 100_000);
    h.clock.now = new Date(h.clock.now.getTime() + 31 * 86_400_000);
    // Recent entries, so some remain after the cut.
    for (let i = 0; i < 3; i++) await h.json(es.signer, 'GET', '/v1/results');
    const purged = await h.json(h.admin, 'POST', '/v1/admin/purge', { body: {} });
    expect(purged.body.purged.auditEntries).toBe(before.length);
    const lastRemoved = before.at(-1);
    const after = await h.store.readAudit(0, 100_000);
    const ok = await run(['audit', 'verify', '--data', copyData('ok')]);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain(`audit chain ok: ${after.length} entries after the retention checkpoint at seq ${lastRemoved?.seq}`);

    // Tampering after a purge is still found, and named.
    const first = after[0]?.seq as number;
    const cols = 'at, actor, action, subject, outcome, detail, hash';
    const tamperings: [string, string[], string][] = [
      ['edited', [`UPDATE audit_log SET actor = 'FR-OCRTEH' WHERE seq = ${first + 2}`], `seq ${first + 2}`],
      ['deleted', [`DELETE FROM audit_log WHERE seq = ${first + 1}`], `seq ${first + 2}`],
      [
        'reordered',
        [
          `CREATE TEMP TABLE t AS SELECT * FROM audit_log WHERE seq IN (${first}, ${first + 1})`,
          `UPDATE audit_log SET (${cols}) = (SELECT ${cols} FROM t WHERE t.seq = ${first + 1}) WHERE seq = ${first}`,
          `UPDATE audit_log SET (${cols}) = (SELECT ${cols} FROM t WHERE t.seq = ${first}) WHERE seq = ${first + 1}`,
        ],
        `seq ${first}`,
      ],
      // Removing the oldest remaining rows and moving the checkpoint over them: no retention.purged entry vouches for it.
      [
        'checkpoint-moved',
        [`UPDATE audit_checkpoint SET seq = ${first + 1}, hash = (SELECT hash FROM audit_log WHERE seq = ${first + 1})`, `DELETE FROM audit_log WHERE seq <= ${first + 1}`],
        `seq ${first + 1}`,
      ],
      ['checkpoint-edited', [`UPDATE audit_checkpoint SET hash = zeroblob(32)`], `seq ${first}`],
    ];
    for (const [name, sql, where] of tamperings) {
      const r = await run(['audit', 'verify', '--data', copyData(name, sql)]);
      expect(r.code, name).toBe(1);
      expect(r.err, name).toContain(`audit chain broken at ${where}`);
    }

    // The transparency log (protocol/SPEC.md §9): the purge kept every tree hash and signed its checkpoint head.
    const size = after.at(-1)?.seq as number;
    expect(ok.out).toContain(`audit tree ok: ${size} leaves`);
    expect(ok.out).toMatch(/[1-9][0-9]* signed heads verified/);
    const treeTamperings: [string, string[], string][] = [
      // A leaf of a retained entry, and one of a purged entry (only the hashes above it can tell).
      ['tree-leaf-edited', [`UPDATE audit_tree SET hash = zeroblob(32) WHERE id = ${storedHashIndex(0, first)}`], `seq ${first + 1}`],
      ['tree-purged-leaf-edited', [`UPDATE audit_tree SET hash = zeroblob(32) WHERE id = ${storedHashIndex(0, 0)}`], 'seq 2'],
      ['tree-truncated', [`DELETE FROM audit_tree WHERE id >= ${storedHashCount(size - 1)}`], `seq ${size}`],
      ['head-forged', [`UPDATE audit_heads SET root = zeroblob(32)`], 'the head signed'],
      ['head-resigned-size', [`UPDATE audit_heads SET size = size + 1000`], 'more than the log'],
    ];
    for (const [name, sql, where] of treeTamperings) {
      const r = await run(['audit', 'verify', '--data', copyData(name, sql)]);
      expect(r.code, name).toBe(1);
      expect(r.err, name).toContain('audit tree broken');
      expect(r.err, name).toContain(where);
    }
  });

  it('writes every entry involving the agency as JSON Lines a data-protection authority can check line by line', async () => {
    await setup();
    const q = await query([shared[1] as Item, ptOnly[0] as Item, item('email', 'nobody@nowhere.example')]);
    // A refusal involving ES (count of values over the quota is refused up front).
    const refused = await h.json(es.signer, 'POST', '/v1/queries', {
      body: { partners: ['PT-PJ'], kind: 'email', purpose: 'espionage', caseRef: 'OP-NORTE-8', officer: 'es-officer-1', blinded: [bytesToHex(es.kp.pk)] },
    });
    expect(refused.status).toBe(403);
    const hitHandle = q.handles[1] as string;
    expect((await h.json(pt.signer, 'POST', `/v1/hits/${hitHandle}/confirm`, { body: { officer: 'pt-officer-9' } })).status).toBe(200);
    // FR's own business does not appear in ES's export.
    await h.json(fr, 'GET', '/v1/results');

    const dir = copyData('export');
    const file = join(dir, 'es.jsonl');
    const r = await run(['audit', 'export', '--data', dir, '--agency', 'ES-CNP', '--out', file]);
    expect(r.code, r.err).toBe(0);
    const text = readFileSync(file, 'utf8');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    expect(r.out).toContain(`exported ${lines.length} audit entries involving ES-CNP`);
    const all = await h.store.readAudit(0, 100_000);
    for (const l of lines) {
      expect(Object.keys(l).sort()).toEqual(['action', 'actor', 'at', 'detail', 'hash', 'outcome', 'prevHash', 'salts', 'seq', 'subject']);
      const { hash, prevHash, salts: _salts, ...event } = l;
      expect(bytesToHex(sha256(concatBytes(hexToBytes(prevHash), utf8(canonicalJSON(event)))))).toBe(hash);
      // The salts open the line's leaf in the transparency log (protocol/SPEC.md §9.2): it is the stored one.
      const [stored] = await h.store.readAuditTree([{ level: 0, index: l.seq - 1 }]);
      expect(bytesToHex(auditLeafHash(l))).toBe(bytesToHex(stored as Uint8Array));
      expect(bytesToHex(all.find((e) => e.seq === l.seq)?.hash as Uint8Array)).toBe(hash);
    }
    const actions = lines.map((l) => l.action);
    for (const a of ['agency.added', 'agreement.proposed', 'agreement.accepted', 'agreement.activated', 'chunk.stored', 'pair.complete', 'query.created', 'query.answered', 'query.outcome', 'query.refused', 'hit.confirmed']) {
      expect(actions, a).toContain(a);
    }
    expect(lines.filter((l) => l.action === 'agency.added').map((l) => l.subject)).toEqual(['ES-CNP']);
    expect(lines.some((l) => l.actor === 'FR-OCRTEH')).toBe(false);
    const outcome = lines.find((l) => l.action === 'query.outcome');
    expect(outcome).toMatchObject({ actor: 'ES-CNP', subject: q.id, detail: { requester: 'ES-CNP', officer: 'es-officer-1', caseRef: 'OP-NORTE-7', purpose: 'terrorism', kind: 'email', values: 3, partner: 'PT-PJ', hits: 2, noHits: 1 } });
    expect(lines.find((l) => l.action === 'hit.confirmed')).toMatchObject({ actor: 'PT-PJ', subject: hitHandle, detail: { officer: 'pt-officer-9', queries: [q.id] } });
    expect(lines.find((l) => l.action === 'query.refused')).toMatchObject({ outcome: 'purpose', detail: { caseRef: 'OP-NORTE-8' } });
    // Never an identifier, a blinded or evaluated element, or a token.
    const lower = text.toLowerCase();
    for (const x of [...q.blinded, ...q.tokens]) expect(lower).not.toContain(x);
    for (const it of [...shared, ...ptOnly, ...esOnly]) expect(lower).not.toContain(it.canonical.toLowerCase());

    const forPt = await run(['audit', 'export', '--data', dir, '--agency', 'PT-PJ', '--out', join(dir, 'pt.jsonl')]);
    expect(forPt.code).toBe(0);
    const ptLines = readFileSync(join(dir, 'pt.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    // The asked partner's export shows that ES asked, under which case and purpose, and what came of it.
    expect(ptLines.map((l) => l.action)).toEqual(expect.arrayContaining(['query.created', 'query.answered', 'query.outcome', 'hit.confirmed']));
    const late = await run(['audit', 'export', '--data', dir, '--agency', 'ES-CNP', '--from', '2026-03-11', '--out', join(dir, 'none.jsonl')]);
    expect(late.out).toContain('exported 0 audit entries');
    expect((await run(['audit', 'export', '--data', dir, '--agency', 'es-cnp'])).code).toBe(1);
    expect((await run(['audit', 'export', '--data', dir, '--agency', 'ES-CNP', '--from', '2026-02-30'])).code).toBe(1);
  });

  it('stores no identifier anywhere in the database file, WAL included', async () => {
    await setup();
    await query([shared[0] as Item]);
    await es.results();
    const dbPath = h.dbPath;
    await h.store.close();
    const files = [dbPath, `${dbPath}-wal`, `${dbPath}-shm`].filter((f) => existsSync(f));
    const items = [...es.items, ...pt.items];
    const needles = new Set<string>();
    for (const it of items) {
      needles.add(it.raw);
      needles.add(it.raw.trim());
      needles.add(it.canonical);
    }
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const n of needles) {
        expect(bytes.indexOf(Buffer.from(utf8(n))), `${n} in ${f}`).toBe(-1);
        expect(bytes.indexOf(Buffer.from(utf8(n.toUpperCase()))), `${n} in ${f}`).toBe(-1);
      }
      for (const it of items) expect(bytes.indexOf(Buffer.from(identifierInput(it.kind, it.canonical)))).toBe(-1);
    }
  });
});

describe('migrations', () => {
  it('migrates a database created before targeted queries existed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'concordat-migrate-'));
    try {
      // The migrations folder as it was: only 0000_init.
      const old = join(dir, 'drizzle');
      mkdirSync(join(old, 'meta'), { recursive: true });
      const journal = JSON.parse(readFileSync(join(migrationsFolder(), 'meta', '_journal.json'), 'utf8'));
      journal.entries = journal.entries.slice(0, 1);
      writeFileSync(join(old, 'meta', '_journal.json'), JSON.stringify(journal));
      copyFileSync(join(migrationsFolder(), '0000_init.sql'), join(old, '0000_init.sql'));
      const file = join(dir, 'coordinator.db');
      const client = new Database(file);
      migrate(drizzle({ client }), { migrationsFolder: old });
      client.exec(`INSERT INTO coordinator VALUES (1, x'${'11'.repeat(32)}', x'${'22'.repeat(32)}', '2026-01-01T00:00:00.000Z');
        INSERT INTO epochs VALUES (1, 'e1', '2026-01-01T00:00:00.000Z');
        INSERT INTO agencies VALUES ('ES-CNP', 'x', 'ESP', x'${'33'.repeat(32)}', '2026-01-01T00:00:00.000Z'), ('PT-PJ', 'y', 'PRT', x'${'44'.repeat(32)}', '2026-01-01T00:00:00.000Z');
        INSERT INTO agreements VALUES ('es-pt', '["ES-CNP","PT-PJ"]', '["email"]', 'reveal', '2026-01-01', '2026-12-31', 1000, 'treaty', '2026-01-01T00:00:00.000Z');`);
      client.close();
      const store = openSqliteStore(file);
      try {
        const row = new Database(file, { readonly: true });
        try {
          expect(row.prepare('SELECT purposes, query_per_day AS perDay, query_max_values AS maxValues, max_set_size AS maxSetSize FROM agreements').get()).toEqual({
            purposes: JSON.stringify(['terrorism', 'drug_trafficking', 'human_trafficking', 'cybercrime', 'money_laundering', 'organised_crime']),
            perDay: 50,
            maxValues: 100,
            maxSetSize: 1000,
          });
        } finally {
          row.close();
        }
        // An agreement from before signed terms has no version any party accepted: it governs nothing until proposed again.
        expect(await store.getAgreement('es-pt')).toBeUndefined();
        expect(await store.listAgreementVersions('es-pt')).toEqual([]);
        expect(await store.getConfig()).toEqual({
          purposes: ['terrorism', 'drug_trafficking', 'human_trafficking', 'cybercrime', 'money_laundering', 'organised_crime'],
          // A deployment from before stored no configuration: it runs on the defaults, finite data retention included.
          retention: { dataDays: 7, idleDays: 45, auditDays: 730 },
          epochs: { rotateDays: 30 },
          probing: expect.any(Object),
        });
        expect(await store.getAuditCheckpoint()).toBeUndefined();
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
