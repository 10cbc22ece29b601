// Match handles (src/API.md, "Matching, canaries, results"):
//   handle = hex(HMAC-SHA256(handleKey, UTF8(pair) ‖ 0x00 ‖ token))[0:32]
// Keyed with a coordinator secret, so a handle reveals nothing about the
// token to either party (RFC 2104), is identical for both sides of a match,
// and stays the same when an item is removed and added again in the epoch.
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, utf8 } from '../protocol/bytes.js';

export const HANDLE_HEX_CHARS = 32;

const SEPARATOR = new Uint8Array([0]);

export function matchHandle(handleKey: Uint8Array, pairId: string, token: Uint8Array): string {
  return bytesToHex(hmac(sha256, handleKey, concatBytes(utf8(pairId), SEPARATOR, token))).slice(0, HANDLE_HEX_CHARS);
}
