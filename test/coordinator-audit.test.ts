import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, utf8 } from '../protocol/bytes.js';
import { AUDIT_GENESIS_HASH, canonicalJSON, chainHash, verifyAuditChain, type AuditEntry } from '../src/audit.js';
import { readAuditFile } from '../src/store/sqlite.js';
import { addAgreement, epochKeyPair, makeHarness, newSigner, publishKey, type Harness } from './coordinator-harness.js';

describe('canonical JSON and the hash chain', () => {
  it('sorts keys recursively and writes no whitespace', () => {
    expect(canonicalJSON({ b: 1, a: { d: [1, { z: true, y: null }], c: 'x' } })).toBe('{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}');
    expect(() => canonicalJSON({ a: Number.NaN })).toThrow();
  });

  it('hash_1 = SHA-256(32 zero bytes ‖ canonicalJSON(event))', () => {
    const event = { seq: 1, at: '2026-03-10T12:00:00.000Z', actor: 'admin', action: 'agency.added', subject: 'ES-CNP', outcome: 'ok', detail: { country: 'ESP' } };
    const expected = sha256(
      concatBytes(
        new Uint8Array(32),
        utf8('{"action":"agency.added","actor":"admin","at":"2026-03-10T12:00:00.000Z","detail":{"country":"ESP"},"outcome":"ok","seq":1,"subject":"ES-CNP"}'),
      ),
    );
    expect(bytesToHex(chainHash(AUDIT_GENESIS_HASH, event))).toBe(bytesToHex(expected));
  });
});

describe('audit log in SQLite', () => {
  let h: Harness;
  let entries: AuditEntry[];

  beforeAll(async () => {
    h = await makeHarness();
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

  it('records state changes and refusals, and the chain verifies', () => {
    expect(entries.map((e) => e.action)).toEqual([
      'agency.added',
      'agency.added',
      'agreement.added',
      'epoch_key.published',
      'auth.refused',
      'authz.refused',
      'results.served',
    ]);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(verifyAuditChain(entries)).toEqual({ ok: true, count: 7 });
    expect(verifyAuditChain([...readAuditFile(h.dbPath)])).toEqual({ ok: true, count: 7 });
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
    const r = verifyAuditChain(tampered('edited', ["UPDATE audit_log SET outcome = 'ok' WHERE seq = 5"]));
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
    const forged = tampered('forged', ["UPDATE audit_log SET outcome = 'ok' WHERE seq = 5"]);
    const prev = forged[3] as AuditEntry;
    const e5 = forged[4] as AuditEntry;
    e5.hash = chainHash(prev.hash, e5);
    expect(verifyAuditChain(forged)).toMatchObject({ ok: false, seq: 6 });
  });
});
