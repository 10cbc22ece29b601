// Backup and restore with the built CLI: three agencies sync against a
// coordinator, `coordinator backup` copies its database while it serves, the
// database is then damaged (serve refuses it), `coordinator restore` (refused
// while a coordinator serves the directory) puts the backup back, and the
// agencies' next syncs reach exactly the results they had, which equal the
// planted overlaps.
import { readFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/cli/serve.js';
import { built } from './client-world.js';
import { AGENCIES, cli, ok, recs, World } from './e2e-world.js';

const work = mkdtempSync(join(tmpdir(), 'concordat-backup-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function serveOn(data: string, port: number): Promise<{ server: RunningServer; stop: () => Promise<number> }> {
  const ac = new AbortController();
  const server = await startServer({ data, host: '127.0.0.1', port, signal: ac.signal, out: () => {}, integrityEveryMs: 0 });
  return { server, stop: () => (ac.abort(), server.closed) };
}

describe.runIf(built)('coordinator backup and restore', () => {
  it('a restored backup plus the agencies\' next syncs reach the same results', async () => {
    const data = join(work, 'coord');
    await ok(['coordinator', 'init', '--data', data]);
    let c = await serveOn(data, 0);
    const url = c.server.url;
    const port = Number(new URL(url).port);
    const w = new World(work);
    await w.enrol(url);
    await w.plant(17);
    await w.syncAll();
    // Matches and counts, in no particular order.
    const resultsOf = async (id: string) => {
      const r = await w.results(id);
      const key = (x: object) => JSON.stringify(x);
      return { matches: r.matches.map(key).sort(), counts: r.counts.map(key).sort() };
    };
    const before = new Map<string, unknown>();
    for (const a of AGENCIES) before.set(a.id, await resultsOf(a.id));
    for (const [me, partner] of [['ES-CNP', 'PT-PJ'], ['ES-CNP', 'FR-OCRTEH']] as const) expect(recs(await w.results(me), partner)).toEqual(w.expected(me, partner));

    // Online: the backup is taken while the coordinator serves.
    const file = join(work, 'coordinator-backup.db');
    const b = await cli(['coordinator', 'backup', '--data', data, '--to', file]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/integrity ok/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await cli(['coordinator', 'backup', '--data', data, '--to', file])).code, 'never overwritten').toBe(1);

    // Restore is refused while the coordinator serves the directory.
    const busy = await cli(['coordinator', 'restore', '--from', file, '--data', data]);
    expect(busy.code).toBe(4);
    expect(busy.stderr).toMatch(/in use by another coordinator process/);
    expect(await c.stop()).toBe(0);

    // The live database is damaged: its b-tree page headers overwritten. serve refuses it.
    const db = readFileSync(join(data, 'coordinator.db'));
    const pageSize = db.readUInt16BE(16);
    for (let page = 1; page * pageSize < db.length; page += 3) db.fill(0xa5, page * pageSize, page * pageSize + 12);
    writeFileSync(join(data, 'coordinator.db'), db);
    const refused = await cli(['coordinator', 'serve', '--data', data, '--port', String(port)]);
    expect(refused.code).toBe(3);
    expect((await cli(['coordinator', 'doctor', '--data', data])).code).toBe(3);

    const r = await cli(['coordinator', 'restore', '--from', file, '--data', data]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/kept the replaced database as .*coordinator\.db\.replaced-/);
    const doctor = await cli(['coordinator', 'doctor', '--data', data]);
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
    expect(statSync(join(data, 'coordinator.db')).mode & 0o777).toBe(0o600);

    c = await serveOn(data, port);
    try {
      await w.syncAll();
      for (const a of AGENCIES) expect(await resultsOf(a.id), a.id).toEqual(before.get(a.id));
      // The agencies' own audit checks against the restored log pass.
      for (const a of AGENCIES) await ok(['audit', 'check', '--dir', join(work, a.id)]);
    } finally {
      expect(await c.stop()).toBe(0);
    }
  }, 900_000);
});
