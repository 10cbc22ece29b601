// The agency directory: agency.json (who we are, which coordinator),
// signing.key / signing.pub (Ed25519 request and document signing),
// epoch.seed (s_1, wiped once the agency reaches epoch 2) and epoch.secret
// (the current epoch's secret, protocol/SPEC.md §8.4; see epoch-secret.ts)
// and agency.db (the local store).
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { bytesToHex, hexToBytes } from '../../protocol/bytes.js';
import { generateSigningKey } from '../../protocol/http-signature.js';
import { AgencyError } from '../sdk/errors.js';
import { EPOCH_SECRET_FILE, EPOCH_SEED_FILE, EpochSecrets } from './epoch-secret.js';
import { checkCoordinatorUrl } from './transport.js';

export const AGENCY_FILE = 'agency.json';
export const SIGNING_KEY_FILE = 'signing.key';
export const SIGNING_PUB_FILE = 'signing.pub';
export { EPOCH_SEED_FILE, EPOCH_SECRET_FILE };
const LOCK_FILE = '.lock';
/** Held by `concordat serve` for its lifetime: one responder daemon per agency directory. */
export const SERVE_LOCK_FILE = '.serve.lock';

export const AGENCY_ID_RE = /^[A-Z]{2}-[A-Z0-9]{2,16}$/;

const agencyJsonSchema = z.object({
  agency: z.string().regex(AGENCY_ID_RE),
  coordinator: z.string().url(),
  createdAt: z.string(),
});
export type AgencyJson = z.infer<typeof agencyJsonSchema>;

export interface Agency {
  dir: string;
  agency: string;
  coordinator: string;
  signingKey: Uint8Array;
  /** The epoch secrets (epoch.seed / epoch.secret): every PSI key derives from them. */
  secrets: EpochSecrets;
}

function rng(n: number): Uint8Array {
  return new Uint8Array(randomBytes(n));
}

function normaliseCoordinatorUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new AgencyError(`--coordinator: not a URL: ${url}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new AgencyError('--coordinator: the URL must start with http:// or https://');
  if (u.search || u.hash) throw new AgencyError('--coordinator: the URL must not carry a query or fragment');
  const href = u.href.replace(/\/+$/, '');
  checkCoordinatorUrl(href, '--coordinator');
  return href;
}

export interface InitResult {
  dir: string;
  agency: string;
  publicKeyPath: string;
  publicKeyHex: string;
}

/**
 * Creates the agency directory. Refuses to touch a directory that already
 * holds keys: overwriting signing.key locks the agency out of the
 * coordinator, and overwriting epoch.seed orphans every blinded upload.
 */
export function initAgency(o: { dir: string; agency: string; coordinator: string }): InitResult {
  const dir = resolve(o.dir);
  if (!AGENCY_ID_RE.test(o.agency)) {
    throw new AgencyError(`--agency: "${o.agency}" is not an agency id (two upper-case letters, "-", then 2..16 of A-Z 0-9, e.g. FR-OCRTEH)`);
  }
  const coordinator = normaliseCoordinatorUrl(o.coordinator);
  for (const f of [SIGNING_KEY_FILE, EPOCH_SEED_FILE, EPOCH_SECRET_FILE, SIGNING_PUB_FILE, AGENCY_FILE]) {
    if (existsSync(join(dir, f))) {
      throw new AgencyError(`${join(dir, f)} already exists; refusing to overwrite an agency's keys (use another --dir, or remove the directory to start over)`);
    }
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { secretKey, publicKey } = generateSigningKey(rng);
  const seed = rng(32);
  // 'wx' fails if another init raced us to the same file.
  writeFileSync(join(dir, SIGNING_KEY_FILE), `${bytesToHex(secretKey)}\n`, { mode: 0o600, flag: 'wx' });
  writeFileSync(join(dir, EPOCH_SEED_FILE), `${bytesToHex(seed)}\n`, { mode: 0o600, flag: 'wx' });
  writeFileSync(join(dir, SIGNING_PUB_FILE), `${bytesToHex(publicKey)}\n`, { mode: 0o644, flag: 'wx' });
  const json: AgencyJson = { agency: o.agency, coordinator, createdAt: new Date().toISOString() };
  writeFileSync(join(dir, AGENCY_FILE), `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return { dir, agency: o.agency, publicKeyPath: join(dir, SIGNING_PUB_FILE), publicKeyHex: bytesToHex(publicKey) };
}

function readHexKey(path: string, what: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new AgencyError(`cannot read ${what} ${path}`);
  }
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new AgencyError(`${path}: expected 64 hex digits (a 32-byte ${what})`);
  return hexToBytes(hex.toLowerCase());
}

/** Loads an agency directory created by {@link initAgency}; `warn` hears about loose file permissions. */
const noWarn = (): void => {};

export function loadAgency(dirArg: string, warn: (msg: string) => void = noWarn): Agency {
  const dir = resolve(dirArg);
  const jsonPath = join(dir, AGENCY_FILE);
  if (!existsSync(jsonPath)) throw new AgencyError(`${dir} is not an agency directory (no ${AGENCY_FILE}); run \`concordat init --dir ${dirArg} …\` first`);
  let parsed: AgencyJson;
  try {
    const r = agencyJsonSchema.safeParse(JSON.parse(readFileSync(jsonPath, 'utf8')));
    if (!r.success) throw new Error(r.error.issues[0]?.message ?? 'invalid');
    parsed = r.data;
  } catch (e) {
    throw new AgencyError(`${jsonPath}: not a valid agency file (${e instanceof Error ? e.message : String(e)})`);
  }
  for (const f of [SIGNING_KEY_FILE, EPOCH_SEED_FILE, EPOCH_SECRET_FILE]) {
    const p = join(dir, f);
    if (!existsSync(p)) continue;
    try {
      if ((statSync(p).mode & 0o077) !== 0) warn(`warning: ${p} is readable by other users; run chmod 600 ${p}`);
    } catch {
      // Reported by readHexKey below.
    }
  }
  checkCoordinatorUrl(parsed.coordinator, jsonPath, warn === noWarn ? undefined : warn);
  return {
    dir,
    agency: parsed.agency,
    coordinator: parsed.coordinator,
    signingKey: readHexKey(join(dir, SIGNING_KEY_FILE), 'signing key'),
    secrets: new EpochSecrets(dir),
  };
}

/** What a failed file or SQLite operation on the agency directory was, by its name (ENOSPC, EROFS, SQLITE_FULL …). */
const LOCAL_CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted (an immutable file or directory?)',
  EIO: 'input/output error',
  ENOENT: 'no such file or directory',
  SQLITE_FULL: 'the database or the disk is full',
  SQLITE_READONLY: 'the database is read-only',
  SQLITE_CANTOPEN: 'the database file cannot be opened',
  SQLITE_IOERR: 'a disk I/O error',
  SQLITE_CORRUPT: 'the database file is damaged',
  SQLITE_NOTADB: 'the file is not a database',
};

/** The error code of a local file or database failure (`ENOSPC`, `SQLITE_READONLY_DBMOVED` …), if `e` is one. */
export function localErrorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  return code in LOCAL_CAUSES || /^SQLITE_(FULL|READONLY|CANTOPEN|IOERR|CORRUPT|NOTADB)/.test(code) ? code : undefined;
}

/** "EROFS (read-only file system)": a local failure named by its code and what the code means. */
export function describeLocalError(e: unknown): string | undefined {
  const code = localErrorCode(e);
  if (code === undefined) return undefined;
  const base = Object.keys(LOCAL_CAUSES).find((k) => code === k || code.startsWith(`${k}_`));
  return `${code} (${base ? LOCAL_CAUSES[base] : 'storage error'})`;
}

function lockFailure(dir: string, path: string, e: unknown): AgencyError {
  const named = describeLocalError(e) ?? (e instanceof Error ? e.message : String(e));
  return new AgencyError(`cannot lock ${dir}: ${named} on ${path}`);
}

/** Locks this process holds, by lock file; the map also keeps each connection reachable (a collected connection is closed, and its lock with it). */
const held = new Map<string, { what: string; conn: Database.Database }>();

/**
 * An exclusive lock on the agency directory, so two syncs (or a sync and an
 * import) never assign the same positions twice. The lock is SQLite's own
 * EXCLUSIVE lock on a small lock database (`.lock.db`, or `.serve.lock.db`
 * for `serve`), an fcntl record lock held by the kernel for as long as the
 * connection is open: a killed process (kill -9 included) loses it with its
 * file descriptors, so there is nothing stale to take over and no window in
 * which two takers both win. `.lock` beside it names the holder for the
 * message only; it decides nothing.
 */
export function lockAgency(dir: string, what: string, file = LOCK_FILE): () => void {
  const info = join(dir, file);
  const path = `${info}.db`;
  // fcntl locks belong to the process: a second connection in this process would not be refused by the kernel.
  const mine = held.get(path);
  if (mine !== undefined) throw new AgencyError(`${dir} is in use by this process (${mine.what}); try again when it has finished`);
  try {
    // Created (or opened for writing) by hand first, so a read-only, full or immutable directory is reported by its errno.
    closeSync(openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600));
  } catch (e) {
    throw lockFailure(dir, path, e);
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: 0 });
    // No rollback journal beside the lock: nothing is ever written to it.
    db.pragma('journal_mode = OFF');
    db.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    db?.close();
    const code = (e as { code?: unknown }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      let holder = '';
      try {
        holder = readFileSync(info, 'utf8').trim();
      } catch {
        // Not written yet, or already removed: the holder is unknown.
      }
      const m = /^(\d+) (.+)$/.exec(holder);
      throw new AgencyError(`${dir} is in use by ${m ? `process ${m[1]} (${m[2]})` : 'another process'}; try again when it has finished`);
    }
    throw lockFailure(dir, path, e);
  }
  const conn = db;
  held.set(path, { what, conn });
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    try {
      unlinkSync(info);
    } catch {
      // Already gone, or the directory turned read-only: the lock itself goes with the connection.
    }
    held.delete(path);
    try {
      conn.exec('ROLLBACK');
    } finally {
      conn.close();
    }
  };
  try {
    // The process the operator started: under bin/concordat.js's watch, the watcher (a stop sent to it is passed on).
    const pid = Number(process.env.CONCORDAT_SUPERVISOR_PID) || process.pid;
    writeFileSync(info, `${pid} ${what}\n`, { mode: 0o600 });
  } catch (e) {
    release();
    throw lockFailure(dir, info, e);
  }
  return release;
}
