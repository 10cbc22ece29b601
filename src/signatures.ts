// What the coordinator checks of the agencies' signed documents
// (protocol/SPEC.md §8.3, §8.7–§8.9). The agencies do not rely on these checks
// (each verifies its partners' signatures itself, §5.3); the coordinator makes
// them so that a forged or misaddressed document is refused, and audited,
// where it first arrives (src/API.md, "Signed documents").
import { SIGNATURE_BYTES } from '../protocol/signed.js';
import { ProblemError, type ProblemAudit } from './problem.js';

/** RFC 8941 §3.3.5 byte sequence `:base64:` → bytes; undefined when malformed. */
export function parseByteSequence(value: string | undefined): Uint8Array | undefined {
  if (value === undefined) return undefined;
  const m = /^:([A-Za-z0-9+/]*={0,2}):$/.exec(value.trim());
  if (!m || (m[1] as string).length % 4 !== 0) return undefined;
  try {
    const bin = atob(m[1] as string);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

/** Bytes → RFC 8941 byte sequence `:base64:`. */
export function byteSequence(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return `:${btoa(bin)}:`;
}

/** Run a protocol/ verifier; any throw (a malformed input) counts as "does not verify". */
export function verifies(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

/** The `bad-signature` refusal of a document signature, audited under `action`. */
export function badSignature(field: string, detail: string, audit: ProblemAudit): ProblemError {
  return new ProblemError('bad-signature', detail, { field, audit: { outcome: 'bad-signature', ...audit } });
}

export function isSignature(b: Uint8Array | undefined): b is Uint8Array {
  return b !== undefined && b.length === SIGNATURE_BYTES;
}
