// Every blinded element an agency uploads is strictly decoded before it is
// stored (RFC 9497 §4.1 DeserializeElement via protocol/group.ts): canonical
// ristretto255 encodings only, never the identity. A partner would otherwise
// be asked to evaluate garbage, and a canary check could be sidestepped.
import { ELEMENT_BYTES } from '../protocol/constants.js';
import { decodePoint } from '../protocol/group.js';

/** Throws a DecodeError naming `${label}[i]` for the first bad element of a packed n×32 buffer. */
export type ElementChecker = (packed: Uint8Array, label: string) => void;

/** Portable checker (@noble/curves): runs on Node and Workers alike. */
export const checkElements: ElementChecker = (packed, label) => {
  const n = packed.length / ELEMENT_BYTES;
  for (let i = 0; i < n; i++) decodePoint(`${label}[${i}]`, packed.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES));
};
