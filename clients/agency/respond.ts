// The responder's check of a received query (protocol/SPEC.md §8.9, §5.3
// "Requester (active)"), run by `concordat serve` before it evaluates
// anything: the requester's signature under the key pinned in the agreement
// version this agency accepted, the accepted terms (reveal mode, kind,
// purpose, values per query, validity), the epochs it answers in, the clock,
// its own replay table and per-requester per-day count. The coordinator's
// checks do not count here: a query it forged or stretched is refused.
import { hexToBytes } from '../../protocol/bytes.js';
import { partyOf, type AgreementTerms } from '../../protocol/agreement.js';
import { checkQuery, queryValuesDigest, type QueryStatement } from '../../protocol/signed-query.js';
import type { InboxQuery } from '../sdk/api.js';
import type { Store } from '../store/db.js';
import { acceptedTerms } from './agreements.js';
import { appendAudit } from './audit.js';
import type { Agency } from './config.js';

/** Clock skew tolerated between requester and responder. */
export const MAX_SKEW_S = 300;
/** A query older than this is not answered (query ids are kept at least this long plus the skew). */
export const MAX_AGE_S = 7 * 24 * 60 * 60;

export type ResponderCheck =
  | { readonly ok: true; readonly query: QueryStatement; readonly terms: AgreementTerms; readonly values: Uint8Array[] }
  | { readonly ok: false; readonly reason: string; readonly message: string };

const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Has this query id been decided on (answered or refused) before? */
export function seenQuery(store: Store, id: string): boolean {
  return store.sqlite.prepare('SELECT 1 FROM seen_queries WHERE id = ?').pluck().get(id) !== undefined;
}

/** Queries of `requester` answered on the UTC day of `now`. */
export function answeredToday(store: Store, requester: string, now: number): number {
  return store.sqlite.prepare("SELECT count(*) FROM seen_queries WHERE requester = ? AND day = ? AND decision = 'answered'").pluck().get(requester, utcDay(now)) as number;
}

/** Checks one inbox query against what this agency accepted; pure but for reading the local store. */
export function checkInboxQuery(agency: Agency, store: Store, q: InboxQuery, now: number): ResponderCheck {
  const acc = acceptedTerms(store, q.agreement.id, q.agreement.version);
  if (!acc.ok) return { ok: false, reason: 'not-accepted', message: acc.message };
  const requester = partyOf(acc.terms, q.from);
  if (!requester) return { ok: false, reason: 'parties', message: `${q.from} is not a party to agreement ${q.agreement.id} v${q.agreement.version}` };
  const values = q.blinded.map((h) => hexToBytes(h));
  const document = {
    id: q.queryId,
    requester: q.from,
    responder: agency.agency,
    pair: q.pair,
    agreement: { id: q.agreement.id, version: q.agreement.version },
    epoch: q.epoch,
    kind: q.kind,
    purpose: q.purpose,
    caseRef: q.caseRef,
    count: values.length,
    valuesSha256: queryValuesDigest(values),
    createdAt: q.createdAt,
  };
  const r = checkQuery(
    { document, signature: hexToBytes(q.signature) },
    {
      requesterKey: hexToBytes(requester.signingKey),
      terms: acc.terms,
      self: agency.agency,
      epochs: agency.secrets.answerable(),
      values,
      now,
      maxSkewS: MAX_SKEW_S,
      maxAgeS: MAX_AGE_S,
      seen: (id) => seenQuery(store, id),
      todayCount: answeredToday(store, q.from, now),
    },
  );
  return r.ok ? { ok: true, query: r.query, terms: acc.terms, values } : { ok: false, reason: r.reason, message: r.message };
}

/**
 * Records the decision in the replay table and the local audit trail (the
 * console's audit page shows both answers and refusals). Never a value.
 */
export function recordDecision(
  store: Store,
  q: { queryId: string | null; from: string; kind?: string; purpose?: string; caseRef?: string | null; count?: number; epoch?: string },
  decision: { answered: true } | { answered: false; reason: string; message: string },
  now: number,
): void {
  const at = new Date(now).toISOString();
  store.sqlite.transaction(() => {
    if (q.queryId !== null) {
      store.sqlite
        .prepare('INSERT OR IGNORE INTO seen_queries (id, requester, day, decision, reason, at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(q.queryId, q.from, utcDay(now), decision.answered ? 'answered' : 'refused', decision.answered ? null : decision.reason, at);
    }
    appendAudit(
      store,
      {
        officer: null,
        action: decision.answered ? 'query.answered' : 'query.refused',
        subject: q.queryId ?? 'query',
        outcome: decision.answered ? 'ok' : 'refused',
        caseRef: q.caseRef ?? null,
        detail: {
          from: q.from,
          ...(q.kind !== undefined ? { kind: q.kind } : {}),
          ...(q.purpose !== undefined ? { purpose: q.purpose } : {}),
          ...(q.count !== undefined ? { values: q.count } : {}),
          ...(q.epoch !== undefined ? { epoch: q.epoch } : {}),
          ...(decision.answered ? {} : { reason: decision.reason, message: decision.message }),
        },
      },
      new Date(now),
    );
  })();
}
