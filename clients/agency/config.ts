// The agency directory: agency.json (who we are, which coordinator),
// signing.key / signing.pub (Ed25519 request and document signing),
// epoch.seed (s_1, wiped once the agency reaches epoch 2) and epoch.secret
// (the current epoch's secret, protocol/SPEC.md §8.4; see epoch-secret.ts)
// and agency.db (the local store).
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
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

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive lock on the agency directory, so two syncs (or a sync and an
 * import) never assign the same positions twice. A lock left by a killed
 * process is taken over once its pid is gone.
 */
export function lockAgency(dir: string, what: string, file = LOCK_FILE): () => void {
  const path = join(dir, file);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid} ${what}\n`);
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          unlinkSync(path);
        } catch {
          // Already gone.
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = '';
      try {
        holder = readFileSync(path, 'utf8').trim();
      } catch {
        continue;
      }
      const pid = Number(holder.split(' ')[0]);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) {
        throw new AgencyError(`${dir} is in use by process ${pid} (${holder.split(' ').slice(1).join(' ') || 'unknown'}); try again when it has finished`);
      }
      try {
        unlinkSync(path);
      } catch {
        // Someone else removed it first.
      }
    }
  }
  throw new AgencyError(`cannot lock ${dir}`);
}
