// `concordat doctor --dir DIR` on a real agency directory: a sound one
// passes every check; a damaged agency.db, a held lock and loose file modes
// are reported by name; the lock database and agency.db are created 0600.
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agencyDoctor } from '../clients/cli/commands/doctor.js';
import { describeLocalError, initAgency, lockAgency } from '../clients/agency/config.js';
import { openStore } from '../clients/store/db.js';

const work = mkdtempSync(join(tmpdir(), 'concordat-agency-doctor-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function agencyDir(name: string): string {
  const dir = join(work, name);
  initAgency({ dir, agency: 'ES-CNP', coordinator: 'http://127.0.0.1:9' });
  const store = openStore(dir);
  // Some pages to damage: a local audit trail of 300 entries.
  const insert = store.sqlite.prepare("INSERT INTO audit_log (at, officer, action, subject, outcome, case_ref, detail) VALUES (?, 'o', 'query', 'x', 'ok', NULL, '{}')");
  for (let i = 0; i < 300; i++) insert.run(new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString());
  store.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  store.close();
  return dir;
}

describe('concordat doctor --dir', () => {
  it('a sound directory passes every check; agency.db and the lock database are 0600', () => {
    const dir = agencyDir('sound');
    const r = agencyDoctor(dir);
    expect(r.ok, r.lines.join('\n')).toBe(true);
    const text = r.lines.join('\n');
    expect(text).toMatch(/^ok {3}integrity: PRAGMA integrity_check reports ok$/m);
    expect(text).toMatch(/^ok {3}migrations: (\d+) of \1 applied$/m);
    expect(text).toMatch(/^ok {3}local audit trail: 300 entries, readable and in time order$/m);
    expect(text).toMatch(/^ok {3}sync\/import lock: free$/m);
    expect(text).toMatch(/^ok {3}disk: \d+ MiB free/m);
    for (const f of ['agency.db', '.lock.db', '.serve.lock.db']) expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
  });

  it('names a held lock, a damaged database, loose modes and too little space', () => {
    const dir = agencyDir('damaged');
    const unlock = lockAgency(dir, 'sync');
    try {
      expect(agencyDoctor(dir).lines.join('\n')).toMatch(/^ok {3}sync\/import lock: held \(this process \(sync\)\)$/m);
    } finally {
      unlock();
    }
    chmodSync(join(dir, 'signing.key'), 0o644);
    expect(agencyDoctor(dir).lines.join('\n')).toMatch(/^FAIL modes: .*signing\.key is readable by other users/m);
    chmodSync(join(dir, 'signing.key'), 0o600);
    expect(agencyDoctor(dir, 1 << 30).lines.join('\n')).toMatch(/^FAIL disk: /m);
    const db = readFileSync(join(dir, 'agency.db'));
    const pageSize = db.readUInt16BE(16);
    for (let page = 1; page * pageSize < db.length; page += 2) db.fill(0x5a, page * pageSize, page * pageSize + 12);
    writeFileSync(join(dir, 'agency.db'), db);
    const r = agencyDoctor(dir);
    expect(r.ok).toBe(false);
    expect(r.lines.join('\n')).toMatch(/^FAIL (integrity|database): /m);
  });

  it('local disk errors are named by their code', () => {
    expect(describeLocalError(Object.assign(new Error('x'), { code: 'ENOSPC' }))).toBe('ENOSPC (no space left on the device)');
    expect(describeLocalError(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }))).toBe('SQLITE_FULL (the database or the disk is full)');
    expect(describeLocalError(Object.assign(new Error('attempt to write a readonly database'), { code: 'SQLITE_READONLY_DBMOVED' }))).toBe('SQLITE_READONLY_DBMOVED (the database is read-only)');
    expect(describeLocalError(new Error('plain'))).toBeUndefined();
  });
});
