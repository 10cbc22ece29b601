// What a hostile coordinator can compute on its own: points of its choosing
// (HashToGroup of guessed identifiers, the first step of a dictionary
// attack), keys and Ed25519 signatures of its own, DLEQ proofs under its own
// keys — and, for the collusion cases of protocol/SPEC.md §5.2, statements
// signed with a colluding requester's key.
import { randomUUID } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes } from '../../protocol/bytes.js';
import { CONCORDAT_SUITE } from '../../protocol/constants.js';
import { loadEngine } from '../../protocol/engine/index.js';
import { unpack } from '../../protocol/engine/types.js';
import { identifierInput, tryCanonicalize, type IdentifierKind } from '../../protocol/identifiers/index.js';
import { deriveKeyPair } from '../../protocol/keys.js';
import { randomBytes } from '../../protocol/rng.js';
import { canonicalJson } from '../../protocol/canonical.js';
import { chunkManifest, signChunk, type ChunkManifest } from '../../protocol/manifest.js';
import { signEpochKey, type EpochKeyStatement } from '../../protocol/epoch-key.js';
import { queryValuesDigest, signQuery, type QueryStatement } from '../../protocol/signed-query.js';

export const engine = await loadEngine('fast');

export function canonical(kind: IdentifierKind, raw: string): string {
  const r = tryCanonicalize(kind, raw);
  if (!r.ok) throw new Error(`test: ${kind} ${raw} does not canonicalise`);
  return r.canonical;
}

/** HashToGroup(Input(x)) of each guessed identifier: the unkeyed points a dictionary attack starts from. */
export function guessedPoints(kind: IdentifierKind, raws: readonly string[]): Uint8Array[] {
  const packed = engine.hashToGroup(
    CONCORDAT_SUITE,
    raws.map((r) => identifierInput(kind, canonical(kind, r))),
  );
  return unpack(packed, 32).map((p) => new Uint8Array(p));
}

/** An Ed25519 key of the attacker's own. */
export function attackerSigningKey(): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const secretKey = randomBytes(32);
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

/** A PSI key of the attacker's own, and a proven evaluation under it (a valid DLEQ proof — against the wrong key). */
export function attackerEvaluation(blindedHex: readonly string[]): { publicKey: string; evaluated: string[]; proof: string } {
  const k = deriveKeyPair(CONCORDAT_SUITE, randomBytes(32), new TextEncoder().encode('attacker'));
  const r = engine.evaluateWithProof(CONCORDAT_SUITE, k.sk, blindedHex.map((h) => hexToBytes(h)), randomBytes);
  return { publicKey: bytesToHex(k.pk), evaluated: r.evaluated.map(bytesToHex), proof: bytesToHex(r.proof) };
}

/** A partner epoch key as /v1/me and query legs carry it, signed — by the attacker, not by the partner. */
export function attackerEpochKey(statement: Omit<EpochKeyStatement, 'publicKey'>, publicKey: string): { publicKey: string; signature: string } {
  return { publicKey, signature: bytesToHex(signEpochKey({ ...statement, publicKey }, attackerSigningKey().secretKey)) };
}

/** An inbox entry as wire/queries.ts's inboxQuerySchema has it. */
export interface InboxEntry {
  queryId: string;
  from: string;
  pair: string;
  agreement: { id: string; version: number };
  kind: string;
  purpose: string;
  caseRef: string;
  epoch: string;
  blinded: string[];
  createdAt: string;
  signature: string;
}

/** The `query` statement (protocol/SPEC.md §8.9) the responder rebuilds from an inbox entry. */
export function statementOf(e: InboxEntry, responder: string): QueryStatement {
  return {
    id: e.queryId,
    requester: e.from,
    responder,
    pair: e.pair,
    agreement: { id: e.agreement.id, version: e.agreement.version },
    epoch: e.epoch,
    kind: e.kind,
    purpose: e.purpose,
    caseRef: e.caseRef,
    count: e.blinded.length,
    valuesSha256: queryValuesDigest(e.blinded.map((h) => hexToBytes(h))),
    createdAt: e.createdAt,
  };
}

/** The entry signed with `secretKey` (a colluding requester's, or the attacker's own for a forgery). */
export function signedEntry(e: InboxEntry, responder: string, secretKey: Uint8Array): InboxEntry {
  return { ...e, signature: bytesToHex(signQuery(statementOf(e, responder), secretKey)) };
}

export const freshId = (): string => randomUUID();
export const nowStamp = (): string => new Date().toISOString();

/** RFC 8941 byte sequence, as the chunk headers carry manifests and signatures. */
export const byteSequence = (b: Uint8Array): string => `:${Buffer.from(b).toString('base64')}:`;

/**
 * A chunk of the attacker's choosing with a manifest consistent with its
 * bytes (count, SHA-256, position), signed by the attacker: everything a
 * partner could check without the uploader's pinned key adds up.
 */
export function forgedChunk(at: Omit<ChunkManifest, 'count' | 'sha256'>, points: readonly Uint8Array[]): { bytes: Uint8Array; manifest: ChunkManifest; signature: string; headers: Record<string, string> } {
  const bytes = new Uint8Array(points.length * 32);
  points.forEach((p, i) => bytes.set(p, i * 32));
  const manifest = chunkManifest(at, bytes);
  const sig = signChunk(manifest, attackerSigningKey().secretKey);
  return {
    bytes,
    manifest,
    signature: bytesToHex(sig),
    headers: { 'content-type': 'application/octet-stream', 'concordat-chunk-manifest': byteSequence(canonicalJson(manifest)), 'concordat-chunk-signature': byteSequence(sig) },
  };
}
