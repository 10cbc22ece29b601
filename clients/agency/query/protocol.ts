// The cryptographic steps of a targeted query (protocol/SPEC.md §3.2), on
// bytes only: blind each value with a fresh scalar, and turn a partner's
// answer into tokens — verifying its batched DLEQ proof against the
// partner's published epoch key first (the coordinator's `proofValid` is only
// a relay's opinion), then unblinding and applying this agency's epoch key —
// and, for each hit, the evidence the coordinator records it on
// (protocol/SPEC.md §8.11).
import { bytesToHex, hexToBytes } from '../../../protocol/bytes.js';
import { CONCORDAT_SUITE } from '../../../protocol/constants.js';
import type { Engine } from '../../../protocol/engine/index.js';
import { DecodeError, ProofError, ProtocolError } from '../../../protocol/errors.js';
import { identifierInput, type IdentifierKind } from '../../../protocol/identifiers/index.js';
import { hitEvidenceOn } from '../../../protocol/hit-evidence.js';
import { blindQuery, finishQuery } from '../../../protocol/query.js';
import { randomBytes } from '../../../protocol/rng.js';

export interface Blinded {
  /** The secret scalars r, one per value: kept locally until the query is closed. */
  blinds: Uint8Array[];
  /** r·HashToGroup(Input(x)), one per value: what is sent. */
  blinded: Uint8Array[];
}

export function blindValues(engine: Engine, kind: IdentifierKind, canonical: readonly string[]): Blinded {
  const q = blindQuery(
    CONCORDAT_SUITE,
    engine,
    canonical.map((c) => identifierInput(kind, c)),
    randomBytes,
  );
  return { blinds: q.blinds, blinded: q.blinded };
}

export interface Answer {
  /** The partner's published epoch key the proof is against (hex). */
  partnerEpochKey: string;
  /** k_partner·R per value (hex). */
  evaluated: readonly string[];
  /** The batched DLEQ proof (hex). */
  proof: string;
}

/**
 * Token(k_mine · r⁻¹ · E) per value, or why the answer cannot be trusted:
 * malformed elements, or a proof that does not verify. The caller reports
 * the latter as an ERROR, never as a "no hit".
 */
export function tokensFromAnswer(engine: Engine, q: Blinded, a: Answer, mySecretKey: Uint8Array): { tokens: Uint8Array[] } | { proofFailure: string } {
  try {
    const evaluated = a.evaluated.map((h) => {
      if (!/^[0-9a-f]{64}$/.test(h)) throw new ProofError('evaluated: expected 32 bytes of lower-case hex');
      return hexToBytes(h);
    });
    if (!/^[0-9a-f]{128}$/.test(a.proof)) throw new ProofError('proof: expected 64 bytes of lower-case hex');
    return { tokens: finishQuery(CONCORDAT_SUITE, engine, q, hexToBytes(a.partnerEpochKey), evaluated, hexToBytes(a.proof), mySecretKey) };
  } catch (e) {
    if (e instanceof ProofError || e instanceof DecodeError || e instanceof ProtocolError) return { proofFailure: e.message };
    throw e;
  }
}

/** The §8.11 evidence of a hit on value `index` (hex, as POST /v1/queries/{id}/outcome takes it). */
export function evidenceOfHit(engine: Engine, q: Blinded, evaluated: readonly string[], index: number): { index: number; element: string; blindPublic: string; proof: string } {
  const ev = hitEvidenceOn(engine, CONCORDAT_SUITE, q.blinds[index] as Uint8Array, hexToBytes(evaluated[index] as string), randomBytes);
  return { index, element: bytesToHex(ev.element), blindPublic: bytesToHex(ev.blindPublic), proof: bytesToHex(ev.proof) };
}
