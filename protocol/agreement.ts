// Agreement terms (protocol/SPEC.md §8.6): the document every party signs
// before any data flows. Each party's acceptance is its own Ed25519 signature
// over the canonical terms, so the terms the coordinator enforces are the
// terms the agencies enforce on each other.
import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { bytesToHex, equalBytes, hexToBytes } from './bytes.js';
import { canonicalJson } from './canonical.js';
import { V2_DOCUMENT_TYPE } from './constants.js';
import { DocumentError, hex32Schema, idSchema, nameSchema, PAIR_SEPARATOR, parseDocument, signDocument, signingPublicKey, textSchema, verifyDocument } from './signed.js';

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** A real calendar date, `YYYY-MM-DD` (proleptic Gregorian, years 0000..9999). */
export function isCalendarDate(s: string): boolean {
  if (!DATE_RE.test(s)) return false;
  const [y, m, d] = s.split('-').map(Number) as [number, number, number];
  if (m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] as number;
  return d <= days;
}

export const dateSchema = z.string().refine(isCalendarDate, 'must be a calendar date YYYY-MM-DD');

/** Code-unit order, the order RFC 8785 §3.2.3 sorts keys in: the same in every language that compares UTF-16. */
const before = (a: string, b: string): boolean => a < b;

function sortedDistinct(ctx: z.RefinementCtx, values: readonly string[], path: (string | number)[], what: string): void {
  for (let i = 1; i < values.length; i++) {
    if (!before(values[i - 1] as string, values[i] as string)) {
      ctx.addIssue({ code: 'custom', path: [...path, i], message: `${what} must be sorted and distinct` });
      return;
    }
  }
}

export const agreementRefSchema = z.strictObject({
  id: idSchema(128),
  version: z.int().min(1),
});
/** Which agreement, and which version of it, a statement is made under. */
export type AgreementRef = z.infer<typeof agreementRefSchema>;

export const partySchema = z.strictObject({
  agency: idSchema(64),
  signingKey: hex32Schema,
});
export type Party = z.infer<typeof partySchema>;

export const agreementTermsSchema = z
  .strictObject({
    id: idSchema(128),
    version: z.int().min(1),
    parties: z.array(partySchema).min(2),
    kinds: z.array(nameSchema(64)).min(1),
    mode: z.enum(['reveal', 'count']),
    purposes: z.array(nameSchema(200)),
    validFrom: dateSchema,
    validUntil: dateSchema,
    maxSetSize: z.int().min(1),
    queryQuota: z.strictObject({
      perDay: z.int().min(0),
      maxValues: z.int().min(1).max(100),
    }),
    legalBasis: textSchema(1000),
  })
  .superRefine((t, ctx) => {
    sortedDistinct(
      ctx,
      t.parties.map((p) => p.agency),
      ['parties'],
      'parties (by agency)',
    );
    // One key per party: otherwise one signature would count as two acceptances.
    const keys = new Set<string>();
    t.parties.forEach((p, i) => {
      if (keys.has(p.signingKey)) ctx.addIssue({ code: 'custom', path: ['parties', i, 'signingKey'], message: 'signing keys must be distinct' });
      keys.add(p.signingKey);
    });
    sortedDistinct(ctx, t.kinds, ['kinds'], 'kinds');
    sortedDistinct(ctx, t.purposes, ['purposes'], 'purposes');
    if (t.validUntil < t.validFrom) ctx.addIssue({ code: 'custom', path: ['validUntil'], message: 'must not be before validFrom' });
  });
export type AgreementTerms = z.infer<typeof agreementTermsSchema>;

/** Validate terms (throws DocumentError naming the field) and return them as parsed. */
export function parseAgreement(value: unknown): AgreementTerms {
  return parseDocument(agreementTermsSchema, value, '');
}

/** RFC 8785 canonical bytes of valid terms: what each party signs (§8.6). */
export function canonicalAgreement(terms: AgreementTerms): Uint8Array {
  return canonicalJson(parseAgreement(terms));
}

/** SHA-256 of the canonical terms, hex: for showing a person which terms they accept. */
export function agreementDigest(terms: AgreementTerms): string {
  return bytesToHex(sha256(canonicalAgreement(terms)));
}

/** The party entry for `agency`, or undefined. */
export function partyOf(terms: AgreementTerms, agency: string): Party | undefined {
  return terms.parties.find((p) => p.agency === agency);
}

/** `{ id, version }` of the terms. */
export function agreementRef(terms: AgreementTerms): AgreementRef {
  return { id: terms.id, version: terms.version };
}

/**
 * `agency` accepts the terms: its signature over them (type `agreement`).
 * Refuses to sign for an agency that is not a party or with a key other than
 * the one the terms list for it, so an acceptance always verifies.
 */
export function acceptAgreement(terms: AgreementTerms, agency: string, secretKey: Uint8Array): Uint8Array {
  const t = parseAgreement(terms);
  const party = partyOf(t, agency);
  if (!party) throw new DocumentError('agency', `"${agency}" is not a party to the agreement`);
  if (!equalBytes(signingPublicKey(secretKey), hexToBytes(party.signingKey))) {
    throw new DocumentError('secretKey', `not the signing key the agreement lists for "${agency}"`);
  }
  return signDocument(V2_DOCUMENT_TYPE.agreement, t, secretKey);
}

/** Does `signature` show that `agency` accepted these terms, under the key the terms list for it? */
export function verifyAcceptance(terms: AgreementTerms, agency: string, signature: Uint8Array): boolean {
  const t = parseAgreement(terms);
  const party = partyOf(t, agency);
  if (!party) return false;
  return verifyDocument(V2_DOCUMENT_TYPE.agreement, t, hexToBytes(party.signingKey), signature);
}

/** True when `date` (YYYY-MM-DD) lies in [validFrom, validUntil], both inclusive. */
export function isActiveOn(terms: AgreementTerms, date: string): boolean {
  if (!isCalendarDate(date)) throw new DocumentError('date', 'must be a calendar date YYYY-MM-DD');
  return terms.validFrom <= date && date <= terms.validUntil;
}

/**
 * §8.5 pair identifier: `id ~ a ~ b` with the two agencies in code-unit
 * order. Each agency computes it from the accepted terms; taking it from the
 * coordinator would let the coordinator give two pairs one key.
 */
export function pairIdOf(terms: AgreementTerms, agencyA: string, agencyB: string): string {
  if (agencyA === agencyB || !partyOf(terms, agencyA) || !partyOf(terms, agencyB)) {
    throw new DocumentError('agency', 'a pair is two different parties to the agreement');
  }
  const [x, y] = agencyA < agencyB ? [agencyA, agencyB] : [agencyB, agencyA];
  return [terms.id, x, y].join(PAIR_SEPARATOR);
}

/** Same agreement and version? */
export function sameAgreement(a: AgreementRef, b: AgreementRef): boolean {
  return a.id === b.id && a.version === b.version;
}
