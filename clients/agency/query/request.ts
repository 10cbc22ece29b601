// What a query may ask, checked before anything is sent: the values by their
// kind's canonicalisation rules (protocol/identifiers), the case, officer and
// purpose, and which partners' agreements allow it (src/API.md, "Targeted
// queries"). A refusal names the value's index and the rule, never the value.
import { isIdentifierKind, IDENTIFIER_KINDS, tryCanonicalize } from '../../../protocol/identifiers/index.js';
import { MAX_QUERY_VALUES } from '../../../protocol/query.js';
import type { Me, MePair } from '../../sdk/api.js';
import { AgencyError, UsageError } from '../../sdk/errors.js';
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

/** Does this pair's agreement allow a targeted query of `kind` for `purpose`? (The coordinator decides; this picks partners for --all.) */
export function pairAllows(p: MePair, kind: string, purpose: string): boolean {
  return p.mode === 'reveal' && p.kinds.includes(kind) && (p.purposes === undefined || p.purposes.includes(purpose));
}

/**
 * The pair a query leg runs under: the coordinator uses the first matching
 * agreement by id, so the hit check must use that pair's tokens.
 */
export function pairFor(me: Me, partner: string, kind: string, purpose: string): MePair | undefined {
  return me.pairs
    .filter((p) => p.partner === partner && pairAllows(p, kind, purpose))
    .sort((a, b) => (a.agreement < b.agreement ? -1 : a.agreement > b.agreement ? 1 : 0))[0];
}

/** The partners asked: the ones named, or with --all every partner whose agreement allows the query. */
export function partnersFor(me: Me, r: QueryRequest): string[] {
  if (!r.all) return [...new Set(r.partners ?? [])];
  const partners = [...new Set(me.pairs.filter((p) => pairAllows(p, r.kind, r.purpose)).map((p) => p.partner))].sort();
  if (partners.length === 0) {
    throw new AgencyError(`--all: no partner has a valid reveal agreement with this agency that allows ${r.kind} queries for purpose ${r.purpose}`);
  }
  return partners;
}
