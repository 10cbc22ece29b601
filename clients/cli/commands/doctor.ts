// `concordat doctor --dir DIR`: is this agency directory sound? SQLite's
// integrity_check on agency.db, the migrations applied, the local audit
// trail readable and in order, who holds the directory's locks, file modes
// and free disk space; one line per check, exit 1 when any fails.
import { existsSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { describeLocalError, EPOCH_SECRET_FILE, EPOCH_SEED_FILE, loadAgency, lockAgency, SERVE_LOCK_FILE, SIGNING_KEY_FILE } from '../../agency/config.js';
import { EXIT } from '../../sdk/errors.js';
import { clientMigrationsDir, DB_FILE } from '../../store/db.js';

const DEFAULT_MIN_FREE_MB = 256;

export interface AgencyDoctorResult {
  ok: boolean;
  lines: string[];
}

function integrity(db: Database.Database): string[] {
  try {
    const rows = db.pragma('integrity_check(100)') as Record<string, unknown>[];
    const lines = rows.map((r) => String(Object.values(r)[0]));
    return lines.length === 1 && lines[0] === 'ok' ? [] : lines;
  } catch (e) {
    return [describeLocalError(e) ?? (e instanceof Error ? e.message : String(e))];
  }
}

/** Every check of an agency directory; never writes to agency.db. */
export function agencyDoctor(dirArg: string, minFreeMb = DEFAULT_MIN_FREE_MB): AgencyDoctorResult {
  const agency = loadAgency(dirArg);
  const dir = agency.dir;
  const lines: string[] = [];
  let ok = true;
  const pass = (l: string) => lines.push(`ok   ${l}`);
  const fail = (l: string) => {
    ok = false;
    lines.push(`FAIL ${l}`);
  };
  const dbPath = join(dir, DB_FILE);
  if (!existsSync(dbPath)) fail(`database: ${dbPath} does not exist (run \`concordat import\` first)`);
  else {
    let db: Database.Database | undefined;
    try {
      db = new Database(dbPath, { readonly: true, fileMustExist: true });
      const findings = integrity(db);
      if (findings.length > 0) fail(`integrity: ${findings.length} finding(s): ${findings.slice(0, 5).join('; ')}`);
      else pass('integrity: PRAGMA integrity_check reports ok');
      if (findings.length === 0) {
        const journal = JSON.parse(readFileSync(join(clientMigrationsDir(), 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
        const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get();
        const applied = table ? Number((db.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number }).n) : 0;
        if (applied < journal.entries.length) fail(`migrations: ${applied} of ${journal.entries.length} applied (the next command that opens the directory applies the rest)`);
        else pass(`migrations: ${applied} of ${journal.entries.length} applied`);
        // The local audit trail: every entry readable, in time order.
        let n = 0;
        let last = '';
        let bad: string | undefined;
        for (const r of db.prepare('SELECT seq, at, detail FROM audit_log ORDER BY seq').iterate() as Iterable<{ seq: number; at: string; detail: string }>) {
          n++;
          if (Number.isNaN(Date.parse(r.at))) bad ??= `entry ${r.seq}: time "${r.at.slice(0, 40)}" is not a date`;
          else if (r.at < last) bad ??= `entry ${r.seq}: earlier than the entry before it`;
          try {
            JSON.parse(r.detail);
          } catch {
            bad ??= `entry ${r.seq}: detail is not JSON`;
          }
          last = r.at;
        }
        if (bad) fail(`local audit trail: ${bad}`);
        else pass(`local audit trail: ${n} entries, readable and in time order`);
      }
    } catch (e) {
      fail(`database: ${describeLocalError(e) ?? (e instanceof Error ? e.message : String(e))}`);
    } finally {
      db?.close();
    }
  }
  for (const [file, what] of [
    [undefined, 'sync/import lock'],
    [SERVE_LOCK_FILE, 'serve lock'],
  ] as const) {
    try {
      (file ? lockAgency(dir, 'doctor', file) : lockAgency(dir, 'doctor'))();
      pass(`${what}: free`);
    } catch (e) {
      const m = e instanceof Error ? e.message : String(e);
      // A lock held by a running process is a state, not a fault; one that cannot be taken at all is.
      if (/ is in use by /.test(m)) pass(`${what}: held (${m.replace(/^.* is in use by /, '').replace(/; try again.*$/, '')})`);
      else fail(`${what}: ${m}`);
    }
  }
  let loose = false;
  for (const f of [SIGNING_KEY_FILE, EPOCH_SEED_FILE, EPOCH_SECRET_FILE, DB_FILE]) {
    const p = join(dir, f);
    if (existsSync(p) && (statSync(p).mode & 0o077) !== 0) {
      loose = true;
      fail(`modes: ${p} is readable by other users (chmod 600 ${p})`);
    }
  }
  if (!loose) pass('modes: keys and database owner-only');
  const s = statfsSync(dir);
  const free = Number(s.bavail) * Number(s.bsize);
  const mb = (x: number) => `${Math.floor(x / 1024 / 1024)} MiB`;
  if (free < minFreeMb * 1024 * 1024) fail(`disk: ${mb(free)} free on the directory's file system, below ${mb(minFreeMb * 1024 * 1024)}`);
  else pass(`disk: ${mb(free)} free on the directory's file system`);
  return { ok, lines };
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description("check the agency directory: agency.db integrity, migrations, the local audit trail, the locks, file modes, free disk space")
    .requiredOption('--dir <dir>', 'agency directory')
    .addOption(new Option('--min-free-mb <n>', `fail below this much free disk space (default ${DEFAULT_MIN_FREE_MB})`).argParser((v) => {
      if (!/^[0-9]+$/.test(v)) throw new InvalidArgumentError(`not a number: ${v}`);
      return Number(v);
    }))
    .action((o: { dir: string; minFreeMb?: number }) => {
      const r = agencyDoctor(o.dir, o.minFreeMb);
      for (const l of r.lines) process.stdout.write(`${l}\n`);
      process.exitCode = r.ok ? EXIT.ok : EXIT.error;
    });
}
