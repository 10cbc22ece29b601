// The agency directory's lock with real processes: three `concordat sync`
// started at once against a stale lock never run together, kill -9 of the
// holder frees the lock at once, and a directory that cannot be written is
// named by its errno, exits non-zero and leaves no lock behind.
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initAgency, lockAgency } from '../clients/agency/config.js';
import { bin, built, cli, World, type Run } from './client-world.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function runSync(dir: string): { pid: number; done: Promise<Run> } {
  const child = spawn(process.execPath, [bin, 'sync', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<Run>((resolve) => child.once('exit', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr })));
  return { pid: child.pid as number, done };
}

describe.runIf(built)('agency directory lock (built CLI, real processes)', () => {
  let w: World;
  let dir: string;
  // GET / is every sync's first request, made while it holds the lock: two in flight at once means two syncs ran together.
  let inFlight = 0;
  let maxInFlight = 0;
  let rootRequests = 0;
  let hold: Promise<void> | undefined;

  beforeAll(async () => {
    w = await World.start();
    await w.agency('ES-CNP', 'ESP', [1, 2, 3]);
    dir = w.dir('ES-CNP');
    w.coord.faults.push(async (r) => {
      if (r.method !== 'GET' || r.path !== '/') return undefined;
      rootRequests++;
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        await (hold ?? sleep(700));
      } finally {
        inFlight--;
      }
      return undefined;
    });
  }, 60_000);
  afterAll(async () => {
    await w.stop();
  });

  it('three syncs started at once against a stale lock: exactly one runs at a time, in 12 trials', async () => {
    for (let trial = 0; trial < 12; trial++) {
      // Stale: a holder file naming a process long gone, and the lock database a killed holder left.
      writeFileSync(join(dir, '.lock'), '999999 sync\n');
      const before = rootRequests;
      const runs = [runSync(dir), runSync(dir), runSync(dir)];
      const results = await Promise.all(runs.map((r) => r.done));
      const ran = results.filter((r) => r.code === 0);
      const refused = results.filter((r) => r.code !== 0);
      expect(ran.length, `trial ${trial}: ${results.map((r) => r.stderr).join('\n')}`).toBeGreaterThanOrEqual(1);
      for (const r of refused) {
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/is in use by process \d+ \(sync\); try again when it has finished/);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
      // Every sync that ran reached the coordinator; the refused ones never did.
      expect(rootRequests - before).toBe(ran.length);
      expect(maxInFlight, `trial ${trial}`).toBe(1);
      expect(existsSync(join(dir, '.lock')), 'the holder file goes with the lock').toBe(false);
    }
  }, 600_000);

  it('kill -9 of the holder frees the lock at once', async () => {
    let release: () => void = () => {};
    hold = new Promise<void>((r) => (release = r));
    const before = rootRequests;
    const holder = runSync(dir);
    while (rootRequests === before) await sleep(20);
    // The holder is inside its sync, holding the lock: a second sync is refused and names it.
    const second = await cli(['sync', '--dir', dir]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`is in use by process ${holder.pid} (sync)`);
    process.kill(holder.pid, 'SIGKILL');
    const killed = await holder.done;
    expect(killed.code).toBe(128);
    hold = undefined;
    release();
    // Its holder file is left behind, naming a dead process; the kernel dropped the lock itself.
    expect(existsSync(join(dir, '.lock'))).toBe(true);
    const after = await cli(['sync', '--dir', dir]);
    expect(after.code, after.stderr).toBe(0);
  }, 60_000);

  it('within one process a second taker is refused too (fcntl locks belong to the process)', () => {
    const unlock = lockAgency(dir, 'import');
    try {
      expect(() => lockAgency(dir, 'sync')).toThrow(/in use by this process \(import\)/);
    } finally {
      unlock();
    }
    lockAgency(dir, 'sync')();
  });
});

// A read-only file system needs a mount of its own: root only (the CI machine runs as root).
const canMount = process.getuid?.() === 0 && process.platform === 'linux';
describe.runIf(built && canMount)('a directory that cannot be written (tmpfs remounted read-only)', () => {
  let mnt: string;
  beforeAll(() => {
    mnt = mkdtempSync(join(tmpdir(), 'concordat-ro-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mnt]);
  });
  afterAll(() => {
    try {
      execFileSync('umount', [mnt]);
    } finally {
      rmSync(mnt, { recursive: true, force: true });
    }
  });

  it('sync names EROFS, exits 1, and leaves no lock behind', async () => {
    const dir = join(mnt, 'agency');
    mkdirSync(dir);
    initAgency({ dir, agency: 'ES-CNP', coordinator: 'http://127.0.0.1:9' });
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    try {
      const r = await cli(['sync', '--dir', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot lock .*: EROFS \(read-only file system\)/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mnt]);
    }
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    // Writable again: the next taker gets the lock at once.
    lockAgency(dir, 'sync')();
  });
});
