// Hits (src/API.md, "Hits"): every nightly match handle of a complete reveal
// pair and every hit a requester reports after a targeted query, with a status
// per holding agency. Statuses are keyed by handle, so a record that matched
// nightly and was also hit by a query carries one status per holder, and a
// handle taken over across rotation keeps its status. Hits are control-plane
// rows: they outlive pair data purges.
import type { Services } from './context.js';
import type { HitStatusName, HitStatusRecord, NightlyHitRecord, PairRecord, PairStore, QueryHitRecord, Side } from './store/types.js';

export interface HitView {
  handle: string;
  pair: string;
  partner: string;
  source: 'nightly' | 'query';
  position?: number;
  epoch: string;
  status: HitStatusName;
  /** The caller's status; null when the caller does not hold the hit (a query's requester). */
  myStatus: HitStatusName | null;
  /** The partner's status; null when the partner does not hold the hit. */
  partnerStatus: HitStatusName | null;
  queryId?: string;
  caseRef?: string;
  purpose?: string;
  createdAt: string;
  confirmedAt?: string;
}

/**
 * Make a reveal pair's nightly hits of `epoch` follow its matches: with
 * `complete`, every matched handle is a hit; hits of the epoch that no longer
 * match (withdrawn, retracted by a canary, taken over by a continued handle)
 * go, unless a holder already decided them. Idempotent: running it again
 * writes nothing.
 */
export async function syncNightlyHits(svc: Services, pairId: string, ps: PairStore, epoch: string, complete: boolean): Promise<void> {
  await svc.store.syncNightlyHits(pairId, epoch, await ps.matchedHandles(epoch), complete);
}

export class StatusBook {
  private readonly byKey = new Map<string, HitStatusRecord>();

  constructor(records: readonly HitStatusRecord[]) {
    for (const r of records) this.byKey.set(`${r.handle}|${r.agency}`, r);
  }

  get(handle: string, agency: string): HitStatusRecord | undefined {
    return this.byKey.get(`${handle}|${agency}`);
  }

  statusOf(handle: string, agency: string): HitStatusName {
    return this.get(handle, agency)?.status ?? 'unverified';
  }

  /** `confirmed` once every holder confirmed, `declined` if any declined, else `unverified`. */
  aggregate(handle: string, holders: readonly string[]): { status: HitStatusName; confirmedAt?: string } {
    const rs = holders.map((h) => this.get(handle, h));
    if (rs.some((r) => r?.status === 'declined')) return { status: 'declined' };
    if (rs.every((r) => r?.status === 'confirmed')) {
      return { status: 'confirmed', confirmedAt: rs.map((r) => r?.updatedAt ?? '').sort().at(-1) as string };
    }
    return { status: 'unverified' };
  }

  /** Latest status change of any holder, for `since` filters. */
  lastChange(handle: string, holders: readonly string[]): string | undefined {
    return holders
      .map((h) => this.get(handle, h)?.updatedAt)
      .filter((x): x is string => x !== undefined)
      .sort()
      .at(-1);
  }
}

export function nightlyView(h: NightlyHitRecord, pair: PairRecord, me: string, book: StatusBook): HitView {
  const side: Side = pair.agencies[0] === me ? 0 : 1;
  const partner = pair.agencies[1 - side] as string;
  const agg = book.aggregate(h.handle, pair.agencies);
  return {
    handle: h.handle,
    pair: h.pairId,
    partner,
    source: 'nightly',
    position: side === 0 ? h.posA : h.posB,
    epoch: h.epoch,
    status: agg.status,
    myStatus: book.statusOf(h.handle, me),
    partnerStatus: book.statusOf(h.handle, partner),
    createdAt: h.createdAt,
    ...(agg.confirmedAt ? { confirmedAt: agg.confirmedAt } : {}),
  };
}

export function queryView(h: QueryHitRecord, me: string, book: StatusBook): HitView {
  const holder = h.partner;
  const iHold = me === holder;
  const agg = book.aggregate(h.handle, [holder]);
  return {
    handle: h.handle,
    pair: h.pairId,
    partner: iHold ? h.requester : holder,
    source: 'query',
    ...(iHold && h.position !== null ? { position: h.position } : {}),
    epoch: h.epoch,
    status: agg.status,
    myStatus: iHold ? book.statusOf(h.handle, me) : null,
    partnerStatus: iHold ? null : book.statusOf(h.handle, holder),
    queryId: h.queryId,
    caseRef: h.caseRef,
    purpose: h.purpose,
    createdAt: h.createdAt,
    ...(agg.confirmedAt ? { confirmedAt: agg.confirmedAt } : {}),
  };
}
