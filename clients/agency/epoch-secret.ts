// Forward-secure epoch secrets at the agency (protocol/SPEC.md §8.4, §5.3
// items 4 and 5). `epoch.seed` is s_1; `epoch.secret` holds the secret of the
// highest epoch this agency reached and, during a grace period, the one
// before it. Moving forward ratchets and erases: once s_2 exists the seed is
// wiped, and a previous secret is dropped when its grace ends, so a directory
// stolen later yields no earlier epoch's keys. Epochs never move back: a
// coordinator presenting an older epoch than already seen is refused.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { bytesToHex, hexToBytes } from '../../protocol/bytes.js';
import { CONCORDAT_SUITE } from '../../protocol/constants.js';
import { loadNativeEngine, nativeAvailable } from '../../protocol/engine/native.js';
import type { KeyPair } from '../../protocol/keys.js';
import { pairKeyPair } from '../../protocol/pair-key.js';
import { epochId, epochNumber, ratchetTo } from '../../protocol/ratchet.js';
import { AgencyError } from '../sdk/errors.js';
import type { Store } from '../store/db.js';
import { appendAudit } from './audit.js';

export const EPOCH_SECRET_FILE = 'epoch.secret';
export const EPOCH_SEED_FILE = 'epoch.seed';
/** How long the previous epoch's secret is kept after a move forward (queries and uploads still in flight). */
export const DEFAULT_GRACE_HOURS = 48;

const HEX32 = /^[0-9a-f]{64}$/;
const stateSchema = z.strictObject({
  epoch: z.int().min(1),
  secret: z.string().regex(HEX32),
  previous: z
    .strictObject({
      epoch: z.int().min(1),
      secret: z.string().regex(HEX32),
      eraseAfter: z.string(),
    })
    .nullable(),
});
export type EpochSecretState = z.infer<typeof stateSchema>;

/** The coordinator presented an epoch older than one this agency already reached. */
export class EpochRollbackError extends AgencyError {
  override readonly name = 'EpochRollbackError';
}

/** Grace in hours from CONCORDAT_EPOCH_GRACE_HOURS (a non-negative number), else the default. */
export function graceHours(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.CONCORDAT_EPOCH_GRACE_HOURS;
  if (raw === undefined || raw === '') return DEFAULT_GRACE_HOURS;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new AgencyError('CONCORDAT_EPOCH_GRACE_HOURS: expected a number of hours ≥ 0');
  return n;
}

/** temp file, fsync, rename: a crash leaves the old file or the new one, never half of either. */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function readHex32(path: string): Uint8Array | undefined {
  if (!existsSync(path)) return undefined;
  const hex = readFileSync(path, 'utf8').trim().toLowerCase();
  if (!HEX32.test(hex) || /^0+$/.test(hex)) return undefined;
  return hexToBytes(hex);
}

/**
 * Overwrites the seed with zeros, syncs, then removes it: s_1 must not
 * survive once the agency has moved past epoch 1.
 */
function wipeSeed(dir: string): void {
  const path = join(dir, EPOCH_SEED_FILE);
  if (!existsSync(path)) return;
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, `${'0'.repeat(64)}\n`, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  unlinkSync(path);
}

/**
 * The agency's epoch secrets (one per agency directory). Every method reads
 * the file afresh, so a daemon and a sync in the same directory see each
 * other's moves.
 */
export class EpochSecrets {
  private readonly path: string;
  /**
   * Pair key pairs derived in this process, by epoch and pair, with the
   * secret they came from: a daemon answering queries derives each once
   * (a scalar multiplication in portable code) instead of per query. An
   * entry is used only while its epoch's secret is still held and is
   * dropped once it is not, so erasure (§8.5) reaches the memory as well.
   */
  private readonly keys = new Map<string, { epoch: number; secret: string; kp: KeyPair }>();

  constructor(
    readonly dir: string,
    private readonly o: { graceHours?: number; now?: () => Date } = {},
  ) {
    this.path = join(dir, EPOCH_SECRET_FILE);
  }

  private now(): Date {
    return this.o.now?.() ?? new Date();
  }

  /** The state, with an expired previous secret erased (and the erasure written). */
  load(): EpochSecretState {
    let state: EpochSecretState;
    if (existsSync(this.path)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(this.path, 'utf8'));
      } catch {
        throw new AgencyError(`${this.path}: not valid JSON`);
      }
      const r = stateSchema.safeParse(parsed);
      if (!r.success) throw new AgencyError(`${this.path}: ${r.error.issues[0]?.path.join('.') || '(file)'}: ${r.error.issues[0]?.message ?? 'invalid'}`);
      state = r.data;
    } else {
      const seed = readHex32(join(this.dir, EPOCH_SEED_FILE));
      if (!seed) throw new AgencyError(`${this.dir}: neither ${EPOCH_SECRET_FILE} nor a valid ${EPOCH_SEED_FILE}; the agency's epoch secrets are lost`);
      state = { epoch: 1, secret: bytesToHex(seed), previous: null };
      this.save(state);
    }
    if (state.previous && Date.parse(state.previous.eraseAfter) <= this.now().getTime()) {
      state = { ...state, previous: null };
      this.save(state);
    }
    if (state.epoch >= 2) wipeSeed(this.dir);
    return state;
  }

  private save(state: EpochSecretState): void {
    writeAtomic(this.path, `${JSON.stringify(state)}\n`);
  }

  /** The highest epoch this agency reached. */
  highest(): number {
    return this.load().epoch;
  }

  /**
   * Moves to the coordinator's current epoch `id`: ratchets forward (keeping
   * the secret before it for the grace period), or refuses an older epoch.
   * Returns the epoch's secret.
   */
  advanceTo(id: string): Uint8Array {
    const m = epochNumber(id);
    const state = this.load();
    if (m < state.epoch) {
      throw new EpochRollbackError(`the coordinator presents ${id}, older than ${epochId(state.epoch)} already seen: refusing (possible rollback)`);
    }
    if (m === state.epoch) return hexToBytes(state.secret);
    const current = hexToBytes(state.secret);
    const before = ratchetTo(current, state.epoch, m - 1);
    const secret = ratchetTo(before, m - 1, m);
    const eraseAfter = new Date(this.now().getTime() + (this.o.graceHours ?? graceHours()) * 3_600_000).toISOString();
    this.save({ epoch: m, secret: bytesToHex(secret), previous: { epoch: m - 1, secret: bytesToHex(before), eraseAfter } });
    wipeSeed(this.dir);
    return secret;
  }

  /**
   * The secret of epoch `id` if this agency still holds it: the current one,
   * or the previous during its grace. Never ratchets (a received query or
   * answer must not move the agency's epoch).
   */
  secretOf(id: string): Uint8Array | undefined {
    const s = this.held().get(epochNumber(id));
    return s === undefined ? undefined : hexToBytes(s);
  }

  /** Epochs this agency answers in now: the current and, during grace, the previous (protocol/SPEC.md §8.9). */
  answerable(): string[] {
    return [...this.held().keys()].map(epochId);
  }

  /** The secrets held now (hex) by epoch number: the current, then the previous during its grace. */
  private held(): Map<number, string> {
    const state = this.load();
    return new Map([[state.epoch, state.secret], ...(state.previous ? ([[state.previous.epoch, state.previous.secret]] as const) : [])]);
  }

  /** The agency's key pair for `pair` in epoch `id` (§8.5), or an error when that epoch's secret is gone. */
  pairKey(id: string, pair: string): KeyPair {
    const held = this.held();
    for (const [k, v] of this.keys) if (held.get(v.epoch) !== v.secret) this.keys.delete(k);
    const m = epochNumber(id);
    const secret = held.get(m);
    if (secret === undefined) throw new AgencyError(`the epoch secret of ${id} is no longer held (epochs before the current one are erased after the grace period)`);
    const key = `${id}\n${pair}`;
    const cached = this.keys.get(key);
    if (cached) return { sk: cached.kp.sk.slice(), pk: cached.kp.pk.slice() };
    // The native engine's k·G where it loads: the same bytes, without @noble/curves building its tables in every sync.
    const kp = pairKeyPair(CONCORDAT_SUITE, hexToBytes(secret), id, pair, nativeAvailable() ? (sk) => loadNativeEngine().publicKey(sk) : undefined);
    this.keys.set(key, { epoch: m, secret, kp: { sk: kp.sk.slice(), pk: kp.pk.slice() } });
    return kp;
  }
}

const HIGHEST_KEY = 'highest_epoch';

/** The highest epoch number recorded in the local store (0 when none). */
export function highestEpochSeen(store: Store): number {
  const v = store.sqlite.prepare('SELECT value FROM local_state WHERE key = ?').pluck().get(HIGHEST_KEY) as string | undefined;
  return v === undefined ? 0 : Number(v);
}

/**
 * Checks the epoch the coordinator presents against the highest seen — in
 * the local store and in epoch.secret, so restoring either from an older
 * backup does not reopen a rollback — writes a refusal to the local audit
 * trail, and moves forward to it. Returns the epoch's secret.
 */
export function observeEpoch(store: Store, secrets: EpochSecrets, id: string, source: string): Uint8Array {
  const m = epochNumber(id);
  const highest = Math.max(highestEpochSeen(store), secrets.highest());
  try {
    if (m < highest) throw new EpochRollbackError(`the coordinator presents ${id}, older than ${epochId(highest)} already seen: refusing (possible rollback)`);
    const secret = secrets.advanceTo(id);
    store.sqlite
      .prepare('INSERT INTO local_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE CAST(value AS INTEGER) < CAST(excluded.value AS INTEGER)')
      .run(HIGHEST_KEY, String(m));
    return secret;
  } catch (e) {
    if (e instanceof EpochRollbackError) {
      appendAudit(store, { officer: null, action: 'epoch.rollback_refused', subject: id, outcome: 'refused', detail: { source, highest: epochId(highest) } });
    }
    throw e;
  }
}
