// Officers of the investigator console. Passwords are stored as scrypt
// hashes (RFC 7914) with the parameters beside them, so they can be raised
// later without invalidating existing logins. scrypt is node:crypto's
// (OpenSSL, on libuv's thread pool): a login never stalls the event loop.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Store } from '../store/db.js';
import { AgencyError } from '../sdk/errors.js';

export const OFFICER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const OFFICER_NAME_MAX = 100;
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 1024;

/** N = 2^15, r = 8, p = 1: the interactive-login parameters RFC 7914 §2 suggests (32 MiB, ~0.1–0.3 s). */
export const SCRYPT_DEFAULT = { N: 2 ** 15, r: 8, p: 1 } as const;
const DK_LEN = 32;

export interface Officer {
  id: string;
  name: string;
  createdAt: string;
  disabled: boolean;
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64url'));

/** scrypt(password, salt, N, r, p, dkLen) off the event loop; the same bytes as any RFC 7914 implementation. */
function scryptOff(password: string, salt: Uint8Array, params: { N: number; r: number; p: number }, dkLen: number): Promise<Uint8Array> {
  const opts: ScryptOptions = { ...params, maxmem: 256 * params.r * params.N + 1024 };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, dkLen, opts, (err, dk) => (err ? reject(err) : resolve(new Uint8Array(dk)))));
}

export function checkOfficerId(id: string): string {
  if (!OFFICER_ID_RE.test(id)) throw new AgencyError('--id: an officer id is 1..64 of A-Z a-z 0-9 . _ - (starting with a letter or digit)');
  return id;
}

export function checkPassword(password: string): string {
  if (password.length < PASSWORD_MIN) throw new AgencyError(`password: at least ${PASSWORD_MIN} characters`);
  if (password.length > PASSWORD_MAX) throw new AgencyError(`password: at most ${PASSWORD_MAX} characters`);
  return password;
}

export async function hashPassword(password: string, params: { N: number; r: number; p: number } = SCRYPT_DEFAULT, salt = new Uint8Array(randomBytes(16))): Promise<string> {
  const dk = await scryptOff(password, salt, params, DK_LEN);
  return `scrypt$${params.N}$${params.r}$${params.p}$${b64(salt)}$${b64(dk)}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(stored);
  if (!m) return false;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const expected = unb64(m[5] as string);
  if (expected.length < 16) return false;
  let dk: Uint8Array;
  try {
    dk = await scryptOff(password, unb64(m[4] as string), { N, r, p }, expected.length);
  } catch {
    // Parameters OpenSSL refuses (N not a power of two, memory beyond maxmem): no login.
    return false;
  }
  return dk.length === expected.length && timingSafeEqual(dk, expected);
}

function rowToOfficer(r: { id: string; name: string; createdAt: string; passwordHash: string; disabledAt: string | null }): Officer {
  return { id: r.id, name: r.name, createdAt: r.createdAt, disabled: r.disabledAt !== null };
}

const SELECT = 'SELECT id, name, created_at AS createdAt, password_hash AS passwordHash, disabled_at AS disabledAt FROM officers';

export function listOfficers(store: Store): Officer[] {
  return (store.sqlite.prepare(`${SELECT} ORDER BY id`).all() as Parameters<typeof rowToOfficer>[0][]).map(rowToOfficer);
}

/** Officers who can log in now. */
export function activeOfficerCount(store: Store): number {
  return store.sqlite.prepare('SELECT count(*) FROM officers WHERE disabled_at IS NULL').pluck().get() as number;
}

export interface AddOfficer {
  id: string;
  name: string;
  password: string;
  params?: { N: number; r: number; p: number };
}

export async function addOfficer(store: Store, o: AddOfficer, now = new Date()): Promise<Officer> {
  checkOfficerId(o.id);
  const name = o.name.trim();
  if (name.length < 1 || name.length > OFFICER_NAME_MAX) throw new AgencyError(`--name: 1..${OFFICER_NAME_MAX} characters`);
  if (store.sqlite.prepare('SELECT 1 FROM officers WHERE id = ?').get(o.id)) throw new AgencyError(`officer ${o.id} already exists`);
  const passwordHash = await hashPassword(checkPassword(o.password), o.params);
  store.sqlite.prepare('INSERT INTO officers (id, name, password_hash, created_at) VALUES (?, ?, ?, ?)').run(o.id, name, passwordHash, now.toISOString());
  return { id: o.id, name, createdAt: now.toISOString(), disabled: false };
}

/** Replaces an officer's password. */
export async function setPassword(store: Store, id: string, password: string, params?: { N: number; r: number; p: number }): Promise<void> {
  const hash = await hashPassword(checkPassword(password), params);
  const r = store.sqlite.prepare('UPDATE officers SET password_hash = ? WHERE id = ?').run(hash, id);
  if (r.changes === 0) throw new AgencyError(`no officer ${id}`);
}

export function disableOfficer(store: Store, id: string, now = new Date()): void {
  const r = store.sqlite.prepare('UPDATE officers SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL').run(now.toISOString(), id);
  if (r.changes === 0) throw new AgencyError(`no active officer ${id}`);
}

/**
 * Checks a login. The same work (one scrypt) is done for an unknown officer,
 * so the answer time does not tell which officer ids exist.
 */
export async function authenticate(store: Store, id: string, password: string): Promise<Officer | undefined> {
  const row = OFFICER_ID_RE.test(id)
    ? (store.sqlite.prepare(`${SELECT} WHERE id = ?`).get(id) as Parameters<typeof rowToOfficer>[0] | undefined)
    : undefined;
  const usable = row !== undefined && row.disabledAt === null;
  const ok = await verifyPassword(password, usable ? row.passwordHash : DUMMY_HASH);
  return ok && usable ? rowToOfficer(row) : undefined;
}

/** A well-formed hash of a random password nobody knows (the unknown-officer path). */
const DUMMY_HASH = `scrypt$${SCRYPT_DEFAULT.N}$${SCRYPT_DEFAULT.r}$${SCRYPT_DEFAULT.p}$${b64(new Uint8Array(16))}$${b64(new Uint8Array(DK_LEN).fill(1))}`;

/** The console's languages (clients/console/ui/src/i18n.ts has their labels). */
export const LANGUAGES = ['en', 'es', 'pt', 'fr'] as const;
export type Language = (typeof LANGUAGES)[number];

export interface OfficerPreferences {
  language: Language;
}

const DEFAULT_PREFERENCES: OfficerPreferences = { language: 'en' };
/** Kept in local_state, one JSON row per officer: the preferences are the console's, not the officer's identity. */
const prefsKey = (id: string): string => `officer.preferences:${id}`;

export function officerPreferences(store: Store, id: string): OfficerPreferences {
  const raw = store.sqlite.prepare('SELECT value FROM local_state WHERE key = ?').pluck().get(prefsKey(id)) as string | undefined;
  if (raw === undefined) return { ...DEFAULT_PREFERENCES };
  try {
    const v = JSON.parse(raw) as { language?: unknown };
    const language = (LANGUAGES as readonly unknown[]).includes(v.language) ? (v.language as Language) : DEFAULT_PREFERENCES.language;
    return { language };
  } catch {
    // A row another version wrote and this one cannot read: the defaults, not a failed login.
    return { ...DEFAULT_PREFERENCES };
  }
}

export function setOfficerPreferences(store: Store, id: string, p: OfficerPreferences): OfficerPreferences {
  if (!store.sqlite.prepare('SELECT 1 FROM officers WHERE id = ?').get(id)) throw new AgencyError(`no officer ${id}`);
  const value: OfficerPreferences = { language: p.language };
  store.sqlite
    .prepare('INSERT INTO local_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
    .run(prefsKey(id), JSON.stringify(value));
  return value;
}

/**
 * When the officer last signed in before now (the newest successful
 * `session.login` in the local audit trail), or when the officer was added
 * if never: what "since your last sign-in" counts from.
 */
export function lastSignIn(store: Store, id: string): string | null {
  const at = store.sqlite
    .prepare("SELECT at FROM audit_log WHERE action = 'session.login' AND outcome = 'ok' AND officer = ? ORDER BY seq DESC LIMIT 1")
    .pluck()
    .get(id) as string | undefined;
  if (at !== undefined) return at;
  return (store.sqlite.prepare('SELECT created_at FROM officers WHERE id = ?').pluck().get(id) as string | undefined) ?? null;
}
