// Per-pair epoch keys (protocol/SPEC.md §8.5): RFC 9497 §3.2.1 DeriveKeyPair
// from the epoch secret, with the epoch and the pair in `info`. A separate key
// per pair means an identifier an agency holds blinds to a different element
// in each pair, so submissions cannot be linked across pairs (§6).
import { concatBytes, lengthPrefixed, utf8 } from './bytes.js';
import { pairKeyLabel, type Suite } from './constants.js';
import { ProtocolError } from './errors.js';
import { deriveKeyPair, type KeyPair } from './keys.js';
import { epochNumber } from './ratchet.js';

/** LP(UTF8(x)) must fit its 2-byte length, and the whole info must too (§1.4). */
const MAX_PAIR_ID_BYTES = 4096;

/** info = UTF8("PairKey-" ‖ contextString) ‖ LP(UTF8(epochId)) ‖ LP(UTF8(pairId)). */
export function pairKeyInfo(suite: Suite, epochId: string, pairId: string): Uint8Array {
  epochNumber(epochId);
  // A lone surrogate would be UTF-8-encoded as U+FFFD, making two pair ids one.
  if (typeof pairId !== 'string' || /\p{Cs}/u.test(pairId)) throw new ProtocolError('pair: must be a well-formed string');
  const pair = utf8(pairId);
  if (pair.length === 0 || pair.length > MAX_PAIR_ID_BYTES) throw new ProtocolError(`pair: 1..${MAX_PAIR_ID_BYTES} UTF-8 bytes`);
  return concatBytes(pairKeyLabel(suite), lengthPrefixed(utf8(epochId)), lengthPrefixed(pair));
}

/** The agency's key pair for one pair in epoch `epochId`, from that epoch's secret s_n (§8.4). */
export function pairKeyPair(suite: Suite, epochSecret: Uint8Array, epochId: string, pairId: string, publicKey?: (sk: Uint8Array) => Uint8Array): KeyPair {
  return deriveKeyPair(suite, epochSecret, pairKeyInfo(suite, epochId, pairId), publicKey);
}
