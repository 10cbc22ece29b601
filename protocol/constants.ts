// The one table of domain-separation labels. Every DST in the protocol is
// derived here from a context string, so Concordat outputs can never collide
// with RFC 9497 outputs or any other protocol's (RFC 9380 §3.1).
import { concatBytes, i2osp, utf8 } from './bytes.js';

/** Concordat PSI v1 context string: kept only to check the v1 vectors (protocol/SPEC.md §4). */
export const CONCORDAT_V1_CONTEXT = 'CONCORDAT-V1-ristretto255-SHA512';

/** Concordat PSI v2 context string (protocol/SPEC.md §0, §8). Defined once. */
export const CONCORDAT_V2_CONTEXT = 'CONCORDAT-V2-ristretto255-SHA512';

/** The context string of the protocol the client and coordinator speak: v2. */
export const CONCORDAT_CONTEXT = CONCORDAT_V2_CONTEXT;

/** RFC 9497 §3.1 modes, used only to replay the RFC's own vectors. */
export const RFC9497_MODE = { OPRF: 0x00, VOPRF: 0x01, POPRF: 0x02 } as const;
export type Rfc9497Mode = keyof typeof RFC9497_MODE;

/** RFC 9497 §3.1: contextString = "OPRFV1-" ‖ I2OSP(mode, 1) ‖ "-" ‖ identifier. */
export function rfc9497Context(mode: Rfc9497Mode): Uint8Array {
  return concatBytes(utf8('OPRFV1-'), i2osp(RFC9497_MODE[mode], 1), utf8('-ristretto255-SHA512'));
}

/** Element and scalar sizes for ristretto255 (RFC 9496 §4.3, RFC 9497 §4.1). */
export const ELEMENT_BYTES = 32;
export const SCALAR_BYTES = 32;
export const TOKEN_BYTES = 16;
export const PROOF_BYTES = 2 * SCALAR_BYTES;

/**
 * A suite fixes the context string and every label derived from it.
 * Constructions take a Suite so that one implementation serves both the
 * Concordat context and RFC 9497's (for the official vectors).
 */
export interface Suite {
  readonly context: Uint8Array;
  /** RFC 9497 §4.1 HashToGroup DST. */
  readonly hashToGroupDST: Uint8Array;
  /** RFC 9497 §4.1 HashToScalar DST. */
  readonly hashToScalarDST: Uint8Array;
  /** RFC 9497 §3.2.1 DeriveKeyPair DST (no hyphen, as the RFC writes it). */
  readonly deriveKeyPairDST: Uint8Array;
  /** RFC 9497 §2.2.1 ComputeComposites seed DST. */
  readonly seedDST: Uint8Array;
  /** protocol/SPEC.md §1.6 Token prefix: "Token-" ‖ contextString. */
  readonly tokenPrefix: Uint8Array;
}

export function makeSuite(context: Uint8Array | string): Suite {
  const ctx = typeof context === 'string' ? utf8(context) : context;
  return Object.freeze({
    context: ctx,
    hashToGroupDST: concatBytes(utf8('HashToGroup-'), ctx),
    hashToScalarDST: concatBytes(utf8('HashToScalar-'), ctx),
    deriveKeyPairDST: concatBytes(utf8('DeriveKeyPair'), ctx),
    seedDST: concatBytes(utf8('Seed-'), ctx),
    tokenPrefix: concatBytes(utf8('Token-'), ctx),
  });
}

/** The Concordat PSI v1 suite (v1 vectors only). */
export const CONCORDAT_V1_SUITE: Suite = makeSuite(CONCORDAT_V1_CONTEXT);

/** The Concordat PSI v2 suite: every RFC 9497 DST re-derived from the v2 context. */
export const CONCORDAT_V2_SUITE: Suite = makeSuite(CONCORDAT_V2_CONTEXT);

/** The suite of the protocol in use (v2). */
export const CONCORDAT_SUITE: Suite = CONCORDAT_V2_SUITE;

/** Literal labels RFC 9497 appends to transcripts (§2.2.1, §3.3.1). */
export const LABEL = {
  challenge: utf8('Challenge'),
  composite: utf8('Composite'),
  finalize: utf8('Finalize'),
} as const;

/** `info` for an epoch key: "epoch:" ‖ epochId (protocol/SPEC.md §1.4). */
export function epochInfo(epochId: string): Uint8Array {
  return utf8(`epoch:${epochId}`);
}

// ---- Concordat PSI v2 signed structures and labels (protocol/SPEC.md §8).

/** Signed document types (protocol/SPEC.md §8.3): the type is part of every signing input. */
export const V2_DOCUMENT_TYPE = {
  agreement: 'agreement',
  epochKey: 'epoch-key',
  chunk: 'chunk',
  query: 'query',
  /** §9.4: a signed head of the coordinator's audit transparency log. */
  treeHead: 'tree-head',
} as const;
export type DocumentType = (typeof V2_DOCUMENT_TYPE)[keyof typeof V2_DOCUMENT_TYPE];

/** Prefixes that, followed by a context string, make the v2 labels (protocol/SPEC.md §0.1). */
export const V2_LABEL_PREFIX = {
  ratchet: 'Ratchet-',
  pairKey: 'PairKey-',
  fingerprint: 'Fingerprint-',
  auditSalt: 'AuditSalt-',
  auditCommitment: 'AuditCommitment-',
  auditLog: 'AuditLog-',
  hitEvidence: 'HitEvidence-',
} as const;

/** The v2 labels for CONCORDAT_V2_CONTEXT (protocol/SPEC.md §0.1, §8). */
export const V2_LABEL = {
  /** §8.4: s_{n+1} = SHA512(ratchet ‖ s_n)[0..32). */
  ratchet: utf8(V2_LABEL_PREFIX.ratchet + CONCORDAT_V2_CONTEXT),
  /** §8.5: first part of the pair-key DeriveKeyPair info. */
  pairKey: utf8(V2_LABEL_PREFIX.pairKey + CONCORDAT_V2_CONTEXT),
  /** §8.3: every signing input starts with the context string itself, then 0x00. */
  signature: utf8(CONCORDAT_V2_CONTEXT),
  /** §8.3: fingerprint = SHA-256(fingerprint ‖ key)[0..16). */
  fingerprint: utf8(V2_LABEL_PREFIX.fingerprint + CONCORDAT_V2_CONTEXT),
  /** §8.3: document type names. */
  document: V2_DOCUMENT_TYPE,
  /** §9.2: salt_f = HMAC-SHA256(saltKey, auditSalt ‖ 0x00 ‖ I2OSP(seq, 8) ‖ UTF8(f)). */
  auditSalt: utf8(V2_LABEL_PREFIX.auditSalt + CONCORDAT_V2_CONTEXT),
  /** §9.2: commitment_f = SHA-256(auditCommitment ‖ 0x00 ‖ salt_f ‖ UTF8(f) ‖ 0x00 ‖ JCS(value)). */
  auditCommitment: utf8(V2_LABEL_PREFIX.auditCommitment + CONCORDAT_V2_CONTEXT),
  /** §9.4: log id = SHA-256(auditLog ‖ log public key). */
  auditLog: utf8(V2_LABEL_PREFIX.auditLog + CONCORDAT_V2_CONTEXT),
} as const;

/** §8.5 pair-key label for any suite's context ("PairKey-" ‖ contextString). */
export function pairKeyLabel(suite: Suite): Uint8Array {
  return concatBytes(utf8(V2_LABEL_PREFIX.pairKey), suite.context);
}

/**
 * §8.11 hit evidence: its DLEQ proof runs under the suite whose context string
 * is "HitEvidence-" ‖ contextString, so a responder's query proof (the same
 * statement shape, with the responder's key as P) never verifies as evidence.
 */
export function hitEvidenceSuite(suite: Suite): Suite {
  return makeSuite(concatBytes(utf8(V2_LABEL_PREFIX.hitEvidence), suite.context));
}
