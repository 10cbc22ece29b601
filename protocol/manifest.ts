// Chunk manifests (protocol/SPEC.md §8.8): the uploading agency signs, for each
// chunk of its blinded set, where the chunk sits and the SHA-256 of its bytes.
// The partner tokenises only chunks that check, so a coordinator cannot make
// it evaluate elements of another pair, epoch, agreement or agency, or
// elements the uploader never sent.
import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { bytesToHex } from './bytes.js';
import { ELEMENT_BYTES, V2_DOCUMENT_TYPE } from './constants.js';
import { agreementRefSchema, sameAgreement, type AgreementRef } from './agreement.js';
import { epochSchema, pairSchema } from './epoch-key.js';
import { hex32Schema, idSchema, signatureVerifies, signDocument, verifyDocument, type SignedDocument } from './signed.js';

/** Elements per chunk, as in the bulk flow (protocol/SPEC.md §3.1). */
export const MAX_CHUNK_ELEMENTS = 65_536;

export const chunkManifestSchema = z
  .strictObject({
    pair: pairSchema,
    agreement: agreementRefSchema,
    epoch: epochSchema,
    agency: idSchema(64),
    index: z.int().min(0),
    firstPosition: z.int().min(0),
    count: z.int().min(1).max(MAX_CHUNK_ELEMENTS),
    sha256: hex32Schema,
  })
  .refine((m) => Number.isSafeInteger(m.firstPosition + m.count), { path: ['firstPosition'], message: 'firstPosition + count must be a safe integer' });
export type ChunkManifest = z.infer<typeof chunkManifestSchema>;

/** SHA-256 of a chunk's bytes (the concatenated 32-byte elements), hex. */
export function chunkDigest(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

/** The manifest for `bytes` at the given place; the digest and count come from the bytes. */
export function chunkManifest(
  at: { pair: string; agreement: AgreementRef; epoch: string; agency: string; index: number; firstPosition: number },
  bytes: Uint8Array,
): ChunkManifest {
  if (bytes.length === 0 || bytes.length % ELEMENT_BYTES !== 0) throw new RangeError(`chunk: a positive multiple of ${ELEMENT_BYTES} bytes`);
  return chunkManifestSchema.parse({ ...at, agreement: { id: at.agreement.id, version: at.agreement.version }, count: bytes.length / ELEMENT_BYTES, sha256: chunkDigest(bytes) });
}

export function signChunk(manifest: ChunkManifest, secretKey: Uint8Array): Uint8Array {
  return signDocument(V2_DOCUMENT_TYPE.chunk, chunkManifestSchema.parse(manifest), secretKey);
}

export function verifyChunk(manifest: ChunkManifest, publicKey: Uint8Array, signature: Uint8Array): boolean {
  return verifyDocument(V2_DOCUMENT_TYPE.chunk, manifest, publicKey, signature);
}

export type ChunkRefusal = 'malformed' | 'signature' | 'pair' | 'agreement' | 'epoch' | 'agency' | 'index' | 'position' | 'size' | 'count' | 'digest';
export type ChunkCheck =
  | { readonly ok: true; readonly manifest: ChunkManifest }
  | { readonly ok: false; readonly reason: ChunkRefusal; readonly message: string };

export interface ChunkExpectation {
  readonly pair: string;
  readonly agreement: AgreementRef;
  readonly epoch: string;
  /** The uploading side. */
  readonly agency: string;
  /** The uploading agency's pinned Ed25519 signing key. */
  readonly signingKey: Uint8Array;
  readonly index: number;
  /**
   * Where the chunk must start (the sum of the previous chunks' counts), when
   * the downloader tracks it: without it, two signed manifests of the same
   * upload could overlap and the partner would tokenise positions twice.
   */
  readonly firstPosition?: number;
  /**
   * Positions the downloader will tokenise for this side in this epoch at
   * most (the agreement's maxSetSize plus the canaries it allows), so a
   * partner cannot probe with more values than the agreement permits.
   */
  readonly maxPositions?: number;
}

/** Run by the downloading partner before it tokenises a chunk (§8.8). */
export function checkChunk(signed: SignedDocument, expected: ChunkExpectation, bytes: Uint8Array): ChunkCheck {
  const refuse = (reason: ChunkRefusal, message: string): ChunkCheck => ({ ok: false, reason, message });
  const p = chunkManifestSchema.safeParse(signed.document);
  if (!p.success) return refuse('malformed', `chunk manifest: ${p.error.issues[0]?.message ?? 'invalid'}`);
  const m = p.data;
  if (!signatureVerifies(V2_DOCUMENT_TYPE.chunk, m, expected.signingKey, signed.signature)) {
    return refuse('signature', 'the manifest is not signed by the uploading agency’s pinned key');
  }
  if (m.pair !== expected.pair) return refuse('pair', 'manifest is for another pair');
  if (!sameAgreement(m.agreement, expected.agreement)) return refuse('agreement', 'manifest is under another agreement or version');
  if (m.epoch !== expected.epoch) return refuse('epoch', `manifest is for ${m.epoch}, expected ${expected.epoch}`);
  if (m.agency !== expected.agency) return refuse('agency', `manifest is by ${m.agency}, expected ${expected.agency}`);
  if (m.index !== expected.index) return refuse('index', `manifest is for chunk ${m.index}, expected ${expected.index}`);
  if (expected.firstPosition !== undefined && m.firstPosition !== expected.firstPosition) {
    return refuse('position', `manifest starts at ${m.firstPosition}, expected ${expected.firstPosition}`);
  }
  if (expected.maxPositions !== undefined && m.firstPosition + m.count > expected.maxPositions) {
    return refuse('size', `chunk ends at position ${m.firstPosition + m.count}, beyond the ${expected.maxPositions} allowed`);
  }
  if (m.count * ELEMENT_BYTES !== bytes.length) return refuse('count', `manifest says ${m.count} elements, got ${bytes.length} bytes`);
  if (chunkDigest(bytes) !== m.sha256) return refuse('digest', 'the chunk’s SHA-256 differs from the manifest');
  return { ok: true, manifest: m };
}
