// `concordat coordinator doctor | backup | restore`: what an operator runs
// to see whether a data directory is sound, to copy it while it serves, and
// to put a copy back (README.md, "Backups").
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, statfsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ensurePrivateDir } from '../node/keyfiles.js';
import { integrityFindings, migrationsFolder, openSqliteStore } from '../store/drivers/better-sqlite3.js';
import { COORDINATOR_EXIT, CoordinatorCliError, type CoordinatorExitCode } from './exit-codes.js';
import { DB_FILE, lockDataDir } from './serve.js';

/** `doctor` fails below this much free space on the data directory's file system, unless told otherwise. */
export const DEFAULT_MIN_FREE_MB = 512;

export interface DoctorOptions {
  minFreeMb?: number;
  out?: (line: string) => void;
  /** The audit chain and transparency log check (`audit verify`), given the data directory: its exit code. */
  auditVerify: (dir: string) => number;
}

function openReadonly(file: string): Database.Database {
  return new Database(file, { readonly: true, fileMustExist: true });
}

/** Migrations in drizzle/ against those recorded as applied in the file. */
function migrationState(client: Database.Database): { applied: number; known: number } {
  const journal = JSON.parse(readFileSync(join(migrationsFolder(), 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
  const table = client.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get();
  const applied = table ? Number((client.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number }).n) : 0;
  return { applied, known: journal.entries.length };
}

/** Free bytes for an unprivileged writer on the file system holding `dir`. */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/**
 * Every check of a data directory, one line each ("ok …" / "FAIL …"):
 * SQLite's integrity_check, the audit chain and transparency log, the
 * migrations applied, the free disk space. Exit 3 when the file is damaged,
 * 1 when another check fails.
 */
export function doctor(dir: string, o: DoctorOptions): CoordinatorExitCode {
  const out = o.out ?? ((l: string) => console.log(l));
  const dbPath = join(dir, DB_FILE);
  if (!existsSync(dbPath)) throw new CoordinatorCliError(`${dbPath} does not exist`);
  let code = COORDINATOR_EXIT.ok as CoordinatorExitCode;
  const fail = (c: CoordinatorExitCode, line: string) => {
    out(`FAIL ${line}`);
    if (code === COORDINATOR_EXIT.ok || c === COORDINATOR_EXIT.corrupt) code = c;
  };
  const client = openReadonly(dbPath);
  try {
    const findings = integrityFindings(client, true);
    if (findings.length > 0) fail(COORDINATOR_EXIT.corrupt, `integrity: ${findings.length} finding(s): ${findings.slice(0, 5).join('; ')}`);
    else out('ok   integrity: PRAGMA integrity_check reports ok');
    try {
      const m = migrationState(client);
      if (m.applied < m.known) fail(COORDINATOR_EXIT.error, `migrations: ${m.applied} of ${m.known} applied (start \`coordinator serve\` once to apply the rest)`);
      else out(`ok   migrations: ${m.applied} of ${m.known} applied`);
    } catch (e) {
      fail(COORDINATOR_EXIT.error, `migrations: cannot be read (${e instanceof Error ? e.message : String(e)})`);
    }
  } finally {
    client.close();
  }
  if ((code as CoordinatorExitCode) !== COORDINATOR_EXIT.corrupt) {
    try {
      if (o.auditVerify(dir) !== 0) fail(COORDINATOR_EXIT.error, 'audit: the chain or the transparency log does not verify (see above)');
    } catch (e) {
      fail(COORDINATOR_EXIT.error, `audit: cannot be read (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  const free = freeBytes(dir);
  const min = (o.minFreeMb ?? DEFAULT_MIN_FREE_MB) * 1024 * 1024;
  const mb = (n: number) => `${Math.floor(n / 1024 / 1024)} MiB`;
  if (free < min) fail(COORDINATOR_EXIT.error, `disk: ${mb(free)} free on the data directory's file system, below ${mb(min)}`);
  else out(`ok   disk: ${mb(free)} free on the data directory's file system`);
  return code;
}

/** Creates `file` owner-only and empty, refusing one that exists. */
function createPrivate(file: string): void {
  closeSync(openSync(file, 'wx', 0o600));
}

/**
 * `backup --data DIR --to FILE`: SQLite's online backup API (a consistent
 * snapshot while `serve` keeps writing), then integrity_check on the copy.
 */
export async function backup(dir: string, to: string, out: (line: string) => void = (l) => console.log(l)): Promise<CoordinatorExitCode> {
  const dbPath = join(dir, DB_FILE);
  if (!existsSync(dbPath)) throw new CoordinatorCliError(`${dbPath} does not exist`);
  if (existsSync(to)) throw new CoordinatorCliError(`${to} already exists; refusing to overwrite it (give a new file)`);
  const source = openReadonly(dbPath);
  try {
    const findings = integrityFindings(source);
    if (findings.length > 0) throw new CoordinatorCliError(`${dbPath} is damaged (${findings.slice(0, 3).join('; ')}); a backup of it would be too`, COORDINATOR_EXIT.corrupt);
    createPrivate(to);
    try {
      const r = await source.backup(to);
      const copy = openReadonly(to);
      try {
        const bad = integrityFindings(copy, true);
        if (bad.length > 0) throw new CoordinatorCliError(`the backup ${to} fails its integrity check: ${bad.slice(0, 3).join('; ')}`, COORDINATOR_EXIT.corrupt);
      } finally {
        copy.close();
      }
      out(`backup: ${resolve(to)} (${r.totalPages} pages, integrity ok)`);
    } catch (e) {
      rmSync(to, { force: true });
      throw e;
    }
  } finally {
    source.close();
  }
  return COORDINATOR_EXIT.ok;
}

/**
 * `restore --from FILE --data DIR`: refuses while a coordinator serves DIR
 * (it holds DIR's serve lock) and refuses a damaged or foreign file; keeps the
 * database it replaces (with its -wal and -shm) as coordinator.db.replaced-TIME.
 */
export async function restore(from: string, dir: string, out: (line: string) => void = (l) => console.log(l)): Promise<CoordinatorExitCode> {
  if (!existsSync(from)) throw new CoordinatorCliError(`${from} does not exist`);
  const source = openReadonly(from);
  try {
    const findings = integrityFindings(source, true);
    if (findings.length > 0) throw new CoordinatorCliError(`${from} is damaged (${findings.slice(0, 3).join('; ')}); choose an older backup`, COORDINATOR_EXIT.corrupt);
    const initialised = source.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'coordinator'").get() && source.prepare('SELECT 1 FROM coordinator').get();
    if (!initialised) throw new CoordinatorCliError(`${from} is not a coordinator database`);
    ensurePrivateDir(dir);
    const unlock = lockDataDir(dir, 'restore');
    try {
      const dbPath = join(dir, DB_FILE);
      const tmp = `${dbPath}.restoring`;
      rmSync(tmp, { force: true });
      createPrivate(tmp);
      await source.backup(tmp);
      if (existsSync(dbPath)) {
        const kept = `${dbPath}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        // The -wal belongs to the old file: left beside the restored one, SQLite would replay it into it.
        for (const suffix of ['', '-wal', '-shm']) if (existsSync(dbPath + suffix)) renameSync(dbPath + suffix, kept + suffix);
        out(`restore: kept the replaced database as ${kept}`);
      }
      renameSync(tmp, dbPath);
      // Brings a backup from an older release up to date, as serve would.
      await openSqliteStore(dbPath, { integrity: 'full' }).close();
      out(`restore: ${dbPath} restored from ${resolve(from)}; start \`coordinator serve\`, then let every agency run \`concordat sync\``);
    } finally {
      unlock();
    }
  } finally {
    source.close();
  }
  return COORDINATOR_EXIT.ok;
}
