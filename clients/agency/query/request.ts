// What a query may ask, checked before anything is sent: the values by their
// kind's canonicalisation rules (protocol/identifiers), the case, officer and
// purpose, and which partners' agreements allow it (src/API.md, "Targeted
// queries"). A refusal names the value's index and the rule, never the value.
import { isActiveOn, pairIdOf, partyOf, type AgreementTerms } from '../../../protocol/agreement.js';
import { isIdentifierKind, IDENTIFIER_KINDS, tryCanonicalize } from '../../../protocol/identifiers/index.js';
import { MAX_QUERY_VALUES } from '../../../protocol/query.js';
import type { Me, MePair } from '../../sdk/api.js';
import { AgencyError, UsageError } from '../../sdk/errors.js';
import type { Store } from '../../store/db.js';
import { acceptedTerms } from '../agreements.js';
import { OFFICER_MAX } from '../hits.js';
import type { QueryRequest } from './types.js';

export const CASE_REF_MAX = 100;

export interface QueryValues {
  values: string[];
  /** 1-based line of each value in the --values file (absent for --value). */
  lines?: number[];
}

/** Canonical forms of the values, in order; the first bad one is refused by index, line and rule, never by value. */
export function canonicalizeValues(kind: string, v: QueryValues, defaultCountry?: string): string[] {
  if (!isIdentifierKind(kind)) throw new UsageError(`--kind: not an identifier kind (expected one of ${IDENTIFIER_KINDS.join(', ')})`);
  if (v.values.length === 0) throw new UsageError('no value to query (--value V, or --values FILE with one value per line)');
  if (v.values.length > MAX_QUERY_VALUES) {
    throw new UsageError(`${v.values.length} values: a query carries at most ${MAX_QUERY_VALUES} (split the file)`);
  }
  return v.values.map((raw, i) => {
    const r = tryCanonicalize(kind, raw, defaultCountry ? { defaultCountry } : undefined);
    if (!r.ok) {
      const where = v.lines ? `value ${i} (line ${v.lines[i]})` : `value ${i}`;
      throw new UsageError(`${where}: ${r.error.message}`);
    }
    return r.canonical;
  });
}

export function checkRequest(r: QueryRequest): void {
  if (r.caseRef.length < 1 || r.caseRef.length > CASE_REF_MAX) throw new UsageError(`--case: 1..${CASE_REF_MAX} characters`);
  if (r.officer.length < 1 || r.officer.length > OFFICER_MAX) throw new UsageError(`--officer: 1..${OFFICER_MAX} characters`);
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(r.purpose)) throw new UsageError('--purpose: expected a purpose of the deployment, e.g. terrorism or drug_trafficking');
  if (r.all && r.partners && r.partners.length > 0) throw new UsageError('give either --partner or --all, not both');
  if (!r.all && (!r.partners || r.partners.length === 0)) throw new UsageError('give --partner ID (repeatable) or --all');
}

/** A pair of /v1/me this agency accepted, with the terms of its local copy. */
export interface AcceptedPair {
  pair: MePair;
  terms: AgreementTerms;
}

/**
 * The pairs of /v1/me under an agreement version this agency accepted, whose
 * identifier is the one the accepted terms make (protocol/SPEC.md §8.5).
 */
export function acceptedPairs(store: Store, self: string, me: Me): AcceptedPair[] {
  const out: AcceptedPair[] = [];
  for (const p of me.pairs) {
    const acc = acceptedTerms(store, p.agreement, p.agreementVersion);
    if (!acc.ok || !partyOf(acc.terms, p.partner) || !partyOf(acc.terms, self) || p.partner === self) continue;
    if (pairIdOf(acc.terms, self, p.partner) !== p.pair) continue;
    out.push({ pair: p, terms: acc.terms });
  }
  return out;
}

/** Do the accepted terms allow a targeted query of `kind` for `purpose` today? */
export function termsAllow(t: AgreementTerms, kind: string, purpose: string, today: string): boolean {
  return t.mode === 'reveal' && t.kinds.includes(kind) && t.purposes.includes(purpose) && isActiveOn(t, today) && t.queryQuota.perDay > 0;
}

/** The accepted pair a leg to `partner` runs under: the first allowing agreement by id. */
export function legPairFor(accepted: readonly AcceptedPair[], partner: string, kind: string, purpose: string, today: string): AcceptedPair | undefined {
  return accepted
    .filter((a) => a.pair.partner === partner && termsAllow(a.terms, kind, purpose, today))
    .sort((a, b) => (a.terms.id < b.terms.id ? -1 : a.terms.id > b.terms.id ? 1 : 0))[0];
}

/** The partners asked: the ones named, or with --all every partner whose accepted agreement allows the query. */
export function partnersFor(accepted: readonly AcceptedPair[], r: QueryRequest, today: string): string[] {
  if (!r.all) return [...new Set(r.partners ?? [])];
  const partners = [...new Set(accepted.filter((a) => termsAllow(a.terms, r.kind, r.purpose, today)).map((a) => a.pair.partner))].sort();
  if (partners.length === 0) {
    throw new AgencyError(`--all: no partner has an agreement accepted here, valid today, that allows ${r.kind} queries for purpose ${r.purpose}`);
  }
  return partners;
}

/** Does this pair's agreement (as /v1/me lists it) allow a targeted query of `kind` for `purpose`? For display only: legs use the accepted terms. */
export function pairAllows(p: MePair, kind: string, purpose: string): boolean {
  return p.mode === 'reveal' && p.kinds.includes(kind) && (p.purposes === undefined || p.purposes.includes(purpose));
}
