// Officers (`concordat officers`), password hashing, sessions and login
// throttling of the investigator console.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../clients/agency/audit.js';
import { initAgency } from '../clients/agency/config.js';
import { authenticate, hashPassword, verifyPassword } from '../clients/agency/officers.js';
import { LoginLimiter, LOGIN_WINDOW_MS, SESSION_IDLE_MS, SESSION_MAX_MS, SessionStore } from '../clients/console/security.js';
import { openStore } from '../clients/store/db.js';
import { bin, built } from './client-world.js';

function run(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('exit', (code) => done({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

let work: string;
let dir: string;

beforeAll(() => {
  if (!built) throw new Error('the build output is missing: run `npm run build` (npm test builds first)');
  work = mkdtempSync(join(tmpdir(), 'concordat-officers-'));
  dir = join(work, 'es');
  initAgency({ dir, agency: 'ES-CNP', coordinator: 'http://127.0.0.1:9' });
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('concordat officers', () => {
  it('adds an officer from --password-stdin; the password is stored only as an scrypt hash', async () => {
    const r = await run(['officers', 'add', '--dir', dir, '--id', 'j.garcia', '--name', 'Inspector J. García', '--password-stdin'], 'a long enough passphrase\n');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/officer j\.garcia \(Inspector J\. García\) added/);
    const store = openStore(dir);
    try {
      const row = store.sqlite.prepare('SELECT password_hash AS h FROM officers WHERE id = ?').get('j.garcia') as { h: string };
      expect(row.h).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
      expect(row.h).not.toContain('passphrase');
      expect(await authenticate(store, 'j.garcia', 'a long enough passphrase')).toMatchObject({ id: 'j.garcia', name: 'Inspector J. García' });
      // The trailing newline was not part of the password.
      expect(await authenticate(store, 'j.garcia', 'a long enough passphrase\n')).toBeUndefined();
      expect(listAudit(store).map((e) => [e.action, e.subject])).toContainEqual(['officer.add', 'j.garcia']);
    } finally {
      store.close();
    }
  });

  it('refuses a short password, a bad id, a duplicate, and a missing terminal', async () => {
    const short = await run(['officers', 'add', '--dir', dir, '--id', 'a.b', '--name', 'A', '--password-stdin'], 'short\n');
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/at least 12 characters/);
    const badId = await run(['officers', 'add', '--dir', dir, '--id', 'no spaces', '--name', 'A', '--password-stdin'], 'a long enough passphrase');
    expect(badId.code).toBe(1);
    expect(badId.stderr).toMatch(/--id: an officer id/);
    const dup = await run(['officers', 'add', '--dir', dir, '--id', 'j.garcia', '--name', 'Again', '--password-stdin'], 'a long enough passphrase');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/already exists/);
    const noTty = await run(['officers', 'add', '--dir', dir, '--id', 'x.y', '--name', 'X']);
    expect(noTty.code).toBe(1);
    expect(noTty.stderr).toMatch(/--password-stdin/);
  });

  it('passwd replaces the password; disable stops the login; list shows both states without hashes', async () => {
    expect((await run(['officers', 'add', '--dir', dir, '--id', 'm.lopez', '--name', 'Sgt. López', '--password-stdin'], 'first passphrase 1')).code).toBe(0);
    expect((await run(['officers', 'passwd', '--dir', dir, '--id', 'm.lopez', '--password-stdin'], 'second passphrase 2')).code).toBe(0);
    expect((await run(['officers', 'disable', '--dir', dir, '--id', 'j.garcia'])).code).toBe(0);
    const store = openStore(dir);
    try {
      expect(await authenticate(store, 'm.lopez', 'first passphrase 1')).toBeUndefined();
      expect(await authenticate(store, 'm.lopez', 'second passphrase 2')).toMatchObject({ id: 'm.lopez' });
      expect(await authenticate(store, 'j.garcia', 'a long enough passphrase')).toBeUndefined();
    } finally {
      store.close();
    }
    const list = await run(['officers', 'list', '--dir', dir, '--json']);
    const officers = JSON.parse(list.stdout).officers;
    expect(officers.map((o: { id: string; disabled: boolean }) => [o.id, o.disabled])).toEqual([
      ['j.garcia', true],
      ['m.lopez', false],
    ]);
    expect(list.stdout).not.toContain('scrypt');
  });
});

describe('password hashing', () => {
  it('verifies the right password only, with the parameters stored in the hash', async () => {
    const h = await hashPassword('correct horse battery staple', { N: 2 ** 10, r: 8, p: 1 });
    expect(h.startsWith('scrypt$1024$8$1$')).toBe(true);
    expect(await verifyPassword('correct horse battery staple', h)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', h)).toBe(false);
    expect(await verifyPassword('correct horse battery staple', 'plain')).toBe(false);
    // Unicode passwords are compared in NFC: the same text typed either way logs in.
    const nfc = await hashPassword('contraseña segura', { N: 2 ** 10, r: 8, p: 1 });
    expect(await verifyPassword('contrasen\u0303a segura', nfc)).toBe(true);
  });
  it('verifies hashes written before the switch to node:crypto (same format, same bytes)', async () => {
    // Written by the earlier pure-JS scrypt: salt 16 × 0x07, N = 2^10, and the default parameters with salt 16 × 0x09.
    expect(await verifyPassword('correct horse battery', 'scrypt$1024$8$1$BwcHBwcHBwcHBwcHBwcHBw$xLp2C-Wt_Nug3CdnAUNywcBXBvlBk1YwC2JqvryP1Zg')).toBe(true);
    expect(await verifyPassword('correct horse battery', 'scrypt$32768$8$1$CQkJCQkJCQkJCQkJCQkJCQ$WladTgcG_sKuSAPEbkjUT9x2b8AB5lyKcRd_5MHDHzs')).toBe(true);
    expect(await hashPassword('correct horse battery', { N: 2 ** 10, r: 8, p: 1 }, new Uint8Array(16).fill(7))).toBe('scrypt$1024$8$1$BwcHBwcHBwcHBwcHBwcHBw$xLp2C-Wt_Nug3CdnAUNywcBXBvlBk1YwC2JqvryP1Zg');
    // Malformed parameters or a truncated key never log in.
    expect(await verifyPassword('correct horse battery', 'scrypt$1000$8$1$BwcHBwcHBwcHBwcHBwcHBw$xLp2C-Wt_Nug3CdnAUNywcBXBvlBk1YwC2JqvryP1Zg')).toBe(false);
    expect(await verifyPassword('correct horse battery', 'scrypt$1024$8$1$BwcHBwcHBwcHBwcHBwcHBw$A')).toBe(false);
  });

  it('hashes off the event loop: other work keeps running during a login', async () => {
    let turns = 0;
    let spinning = true;
    const spin = () => {
      turns++;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    const started = performance.now();
    await hashPassword('correct horse battery staple');
    const ms = performance.now() - started;
    spinning = false;
    // A hash on the event loop yields at best every few milliseconds; on the thread pool the loop turns freely.
    expect(turns, `${turns} turns in ${ms.toFixed(0)} ms`).toBeGreaterThan(Math.max(200, ms * 5));
  });
});

describe('sessions and login throttling', () => {
  it('a session ends after 30 idle minutes, and after 12 hours however busy', () => {
    let t = 0;
    const s = new SessionStore(() => t);
    const { cookie } = s.create({ id: 'a', name: 'A' });
    t += SESSION_IDLE_MS - 1;
    expect(s.get(cookie)).toBeDefined();
    t += SESSION_IDLE_MS - 1;
    expect(s.get(cookie)).toBeDefined();
    t += SESSION_IDLE_MS + 1;
    expect(s.get(cookie)).toBeUndefined();

    t = 0;
    const busy = s.create({ id: 'b', name: 'B' }).cookie;
    while (t < SESSION_MAX_MS - 60_000) {
      t += 20 * 60_000;
      if (t < SESSION_MAX_MS) expect(s.get(busy)).toBeDefined();
    }
    t = SESSION_MAX_MS + 1;
    expect(s.get(busy)).toBeUndefined();
  });

  it('logout and disabling an officer end their sessions', () => {
    const s = new SessionStore(() => 0);
    const a = s.create({ id: 'a', name: 'A' }).cookie;
    const b = s.create({ id: 'b', name: 'B' }).cookie;
    s.delete(a);
    expect(s.get(a)).toBeUndefined();
    s.deleteOfficer('b');
    expect(s.get(b)).toBeUndefined();
  });

  it('blocks a key after its limit of failures within the window, then lets it try again', () => {
    let t = 0;
    const l = new LoginLimiter(() => t);
    const keys = [
      ['officer:a', 5],
      ['address:x', 20],
    ] as const;
    for (let i = 0; i < 4; i++) l.fail(keys);
    expect(l.blockedFor(keys)).toBe(0);
    l.fail(keys);
    expect(l.blockedFor(keys)).toBe(LOGIN_WINDOW_MS);
    t += LOGIN_WINDOW_MS - 1000;
    expect(l.blockedFor(keys)).toBe(1000);
    t += 1000;
    expect(l.blockedFor(keys)).toBe(0);
    // The address limit counts failures across officers.
    for (let i = 0; i < 20; i++) l.fail([[`officer:o${i}`, 5], ['address:y', 20]]);
    expect(l.blockedFor([['officer:fresh', 5], ['address:y', 20]])).toBeGreaterThan(0);
  });
});
