// Forward-secure epoch secrets (protocol/SPEC.md §8.4). Each epoch's secret is
// a one-way hash of the previous one, so an agency that deletes s_n when it
// moves to epoch n+1 cannot be made to reveal (and cannot lose to a break-in)
// any earlier epoch's keys: SHA-512 is preimage resistant.
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes } from './bytes.js';
import { V2_LABEL } from './constants.js';
import { DecodeError, ProtocolError } from './errors.js';

export const EPOCH_SECRET_BYTES = 32;

/**
 * Epoch numbers stop at 1,000,000 (monthly epochs for 83,000 years) so that a
 * claimed epoch can never make an agency hash for hours: ratcheting the whole
 * range is a million SHA-512 calls.
 */
export const MAX_EPOCH_NUMBER = 1_000_000;

const EPOCH_RE = /^e[1-9][0-9]{0,6}$/;

/** `e7` → 7. Strict: `e`, then a positive decimal without leading zeros, at most MAX_EPOCH_NUMBER. */
export function epochNumber(epochId: string): number {
  if (typeof epochId !== 'string' || !EPOCH_RE.test(epochId)) {
    throw new ProtocolError(`epoch: expected "e" and a positive number without leading zeros, got ${JSON.stringify(String(epochId)).slice(0, 40)}`);
  }
  const n = Number(epochId.slice(1));
  if (n > MAX_EPOCH_NUMBER) throw new ProtocolError(`epoch: at most e${MAX_EPOCH_NUMBER}`);
  return n;
}

/** 7 → `e7`. */
export function epochId(n: number): string {
  checkNumber('epoch', n);
  return `e${n}`;
}

/** True when `epochId` is a well-formed epoch name. */
export function isEpochId(epochId: string): boolean {
  try {
    epochNumber(epochId);
    return true;
  } catch {
    return false;
  }
}

function checkNumber(field: string, n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_EPOCH_NUMBER) throw new ProtocolError(`${field}: epoch numbers are integers 1..${MAX_EPOCH_NUMBER}, got ${n}`);
}

function checkSecret(s: Uint8Array): void {
  if (!(s instanceof Uint8Array) || s.length !== EPOCH_SECRET_BYTES) {
    throw new DecodeError('secret', 'length', `expected ${EPOCH_SECRET_BYTES} bytes`);
  }
}

/** s_{n+1} = SHA512(UTF8("Ratchet-" ‖ contextString) ‖ s_n)[0..32). */
export function nextEpochSecret(s: Uint8Array): Uint8Array {
  checkSecret(s);
  return sha512(concatBytes(V2_LABEL.ratchet, s)).slice(0, EPOCH_SECRET_BYTES);
}

/**
 * s_m from s_n (m ≥ n). Refuses m < n: epochs only move forward, and an
 * earlier secret is not computable from a later one anyway.
 */
export function ratchetTo(s: Uint8Array, n: number, m: number): Uint8Array {
  checkSecret(s);
  checkNumber('from', n);
  checkNumber('to', m);
  if (m < n) throw new ProtocolError(`ratchet: cannot go back from e${n} to e${m}`);
  let out: Uint8Array = s.slice();
  for (let i = n; i < m; i++) out = nextEpochSecret(out);
  return out;
}
