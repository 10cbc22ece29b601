// Epoch-key statements (protocol/SPEC.md §8.7): an agency signs the public
// key it will use in one pair for one epoch. The partner checks the statement
// against the agency's pinned signing key, so a coordinator cannot substitute
// a key of its own (and then read canaries or answer queries in its place).
import { z } from 'zod';
import { hexToBytes } from './bytes.js';
import { V2_DOCUMENT_TYPE } from './constants.js';
import { agreementRefSchema, sameAgreement, type AgreementRef } from './agreement.js';
import { decodePoint } from './group.js';
import { isEpochId } from './ratchet.js';
import { hex32Schema, idSchema, nameSchema, signatureVerifies, signDocument, verifyDocument, type SignedDocument } from './signed.js';

export const epochSchema = z.string().refine(isEpochId, 'must be an epoch name e1, e2, …');
/** `id ~ a ~ b` (§8.5): 128 + 1 + 64 + 1 + 64 code points at most. */
export const pairSchema = nameSchema(258);

export const epochKeyStatementSchema = z.strictObject({
  agency: idSchema(64),
  epoch: epochSchema,
  pair: pairSchema,
  agreement: agreementRefSchema,
  publicKey: hex32Schema,
});
export type EpochKeyStatement = z.infer<typeof epochKeyStatementSchema>;

export function signEpochKey(statement: EpochKeyStatement, secretKey: Uint8Array): Uint8Array {
  return signDocument(V2_DOCUMENT_TYPE.epochKey, epochKeyStatementSchema.parse(statement), secretKey);
}

export function verifyEpochKey(statement: EpochKeyStatement, publicKey: Uint8Array, signature: Uint8Array): boolean {
  return verifyDocument(V2_DOCUMENT_TYPE.epochKey, statement, publicKey, signature);
}

export type EpochKeyRefusal = 'malformed' | 'signature' | 'agency' | 'epoch' | 'pair' | 'agreement' | 'key';
export type EpochKeyCheck =
  | { readonly ok: true; readonly statement: EpochKeyStatement; readonly publicKey: Uint8Array }
  | { readonly ok: false; readonly reason: EpochKeyRefusal; readonly message: string };

export interface EpochKeyExpectation {
  readonly agency: string;
  /** The agency's pinned Ed25519 signing key (compared out of band by fingerprint). */
  readonly signingKey: Uint8Array;
  readonly epoch: string;
  readonly pair: string;
  readonly agreement: AgreementRef;
}

/** A partner's epoch key is usable only if it is signed by the partner and names this pair, epoch and agreement. */
export function checkEpochKey(signed: SignedDocument, expected: EpochKeyExpectation): EpochKeyCheck {
  const refuse = (reason: EpochKeyRefusal, message: string): EpochKeyCheck => ({ ok: false, reason, message });
  const p = epochKeyStatementSchema.safeParse(signed.document);
  if (!p.success) return refuse('malformed', `epoch-key statement: ${p.error.issues[0]?.message ?? 'invalid'}`);
  const st = p.data;
  if (!signatureVerifies(V2_DOCUMENT_TYPE.epochKey, st, expected.signingKey, signed.signature)) {
    return refuse('signature', 'the statement is not signed by the agency’s pinned key');
  }
  if (st.agency !== expected.agency) return refuse('agency', `statement is by ${st.agency}, expected ${expected.agency}`);
  if (st.epoch !== expected.epoch) return refuse('epoch', `statement is for ${st.epoch}, expected ${expected.epoch}`);
  if (st.pair !== expected.pair) return refuse('pair', 'statement is for another pair');
  if (!sameAgreement(st.agreement, expected.agreement)) return refuse('agreement', 'statement is under another agreement or version');
  let publicKey: Uint8Array;
  try {
    publicKey = hexToBytes(st.publicKey);
    decodePoint('publicKey', publicKey);
  } catch {
    return refuse('key', 'publicKey is not a valid ristretto255 element');
  }
  return { ok: true, statement: st, publicKey };
}
