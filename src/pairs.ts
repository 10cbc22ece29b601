// Pairs: who may touch which pair, and the pair state machine.
// An agency sees a pair only while it is a party of an agreement valid today
// (UTC); anything else is one indistinguishable `no-agreement` refusal, so a
// non-party learns nothing, not even whether the pair exists.
import type { AuditInput } from './audit.js';
import type { AuditRecordInput, Caller, Services } from './context.js';
import { purgeBehind } from './epochs.js';
import { syncNightlyHits } from './hits.js';
import { ProblemError } from './problem.js';
import type { AgreementRecord, EpochRecord, PairRecord, PairStateRecord, PairStore, PairSummary, Side } from './store/types.js';
import { todayUTC } from './validation.js';

export function pairId(agreementId: string, a: string, b: string): string {
  const [x, y] = a < b ? [a, b] : [b, a];
  return `${agreementId}~${x}~${y}`;
}

/** Every pair of an agreement: n·(n−1)/2 of them, agencies sorted within each. */
export function pairsOf(agreementId: string, parties: readonly string[]): PairRecord[] {
  const sorted = [...parties].sort();
  const out: PairRecord[] = [];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const a = sorted[i] as string;
      const b = sorted[j] as string;
      out.push({ id: pairId(agreementId, a, b), agreementId, agencies: [a, b] });
    }
  }
  return out;
}

export function agreementValidOn(a: AgreementRecord, now: Date): boolean {
  const today = todayUTC(now);
  return a.validFrom <= today && today <= a.validUntil;
}

/**
 * Only a version every party accepted makes pairs (src/API.md,
 * "Agreements"), and only between the parties that version lists: a pair of
 * an earlier version's parties is gone with it.
 */
export function pairInForce(pair: PairRecord, a: AgreementRecord, now: Date): boolean {
  return a.status === 'active' && a.parties.includes(pair.agencies[0]) && a.parties.includes(pair.agencies[1]) && agreementValidOn(a, now);
}

export function sideOf(pair: PairRecord, agency: string): Side | undefined {
  if (pair.agencies[0] === agency) return 0;
  if (pair.agencies[1] === agency) return 1;
  return undefined;
}

export interface PairContext {
  pair: PairRecord;
  agreement: AgreementRecord;
  epoch: EpochRecord;
  me: string;
  partner: string;
  side: Side;
  partnerSide: Side;
  ps: PairStore;
}

/** Pairs the agency may use today, with the active versions of their agreements. */
export async function activePairsOf(svc: Services, agency: string): Promise<{ pair: PairRecord; agreement: AgreementRecord }[]> {
  const now = svc.now();
  const out: { pair: PairRecord; agreement: AgreementRecord }[] = [];
  const cache = new Map<string, AgreementRecord | undefined>();
  for (const pair of await svc.store.listPairsOf(agency)) {
    if (!cache.has(pair.agreementId)) cache.set(pair.agreementId, await svc.store.getAgreement(pair.agreementId));
    const agreement = cache.get(pair.agreementId);
    if (agreement && pairInForce(pair, agreement, now)) out.push({ pair, agreement });
  }
  return out;
}

export function contextFor(svc: Services, pair: PairRecord, agreement: AgreementRecord, epoch: EpochRecord, me: string): PairContext {
  const side = sideOf(pair, me) as Side;
  const partnerSide = (1 - side) as Side;
  return { pair, agreement, epoch, me, partner: pair.agencies[partnerSide], side, partnerSide, ps: svc.store.pair(pair.id) };
}

/**
 * Authorise an agency for a pair route: a party of the active, currently
 * valid version of the agreement, with its key for this pair published for
 * the current epoch. Uploads pass
 * the `Concordat-Epoch` header they carry: naming another epoch than the
 * current one is `stale-epoch`; without the header the upload is taken as
 * meant for the current epoch.
 */
export async function pairAccess(svc: Services, caller: Caller, id: string, epochHeader?: string, requireKey = true): Promise<PairContext> {
  const me = caller.agency?.id;
  const pair = await svc.store.getPair(id);
  const agreement = pair ? await svc.store.getAgreement(pair.agreementId) : undefined;
  if (!me || !pair || !agreement || sideOf(pair, me) === undefined || !pairInForce(pair, agreement, svc.now())) {
    throw new ProblemError('no-agreement', 'no active agreement valid today makes the caller a party of this pair', {
      audit: { action: 'pair.refused', subject: id },
    });
  }
  const epoch = await svc.store.currentEpoch();
  if (epochHeader !== undefined && epochHeader.trim() !== epoch.id) {
    throw new ProblemError('stale-epoch', `the current epoch is ${epoch.id}`, {
      field: 'header.concordat-epoch',
      audit: { action: 'pair.refused', subject: id, detail: { epoch: epoch.id } },
    });
  }
  if (requireKey && !(await svc.store.getPairEpochKey(me, epoch.id, pair.id))) {
    throw new ProblemError('epoch-key-required', 'publish the epoch key for this pair first', { audit: { action: 'pair.refused', subject: id, detail: { epoch: epoch.id } } });
  }
  const ctx = contextFor(svc, pair, agreement, epoch, me);
  // Whatever an earlier request committed but did not publish is published before this one reads.
  await settlePair(svc, ctx);
  return ctx;
}

/** An audit entry as `svc.audit` appends it, for a store method to commit with its change. */
export function auditEntry(svc: Services, e: AuditRecordInput): AuditInput {
  return { at: svc.now().toISOString(), actor: e.actor, action: e.action, subject: e.subject, outcome: e.outcome ?? 'ok', detail: e.detail ?? {} };
}

/**
 * Publish what the pair's committed state changes imply outside the pair
 * (docs/ARCHITECTURE.md §Coordinator, "One transaction per state change"):
 * each change wrote its audit entry and, when its matches changed, a hits-due
 * mark in its own transaction; here the entries are appended to the chain
 * (once each, keyed by their outbox id) and the nightly hits follow the
 * matches. Idempotent, so a crash anywhere in it is repaired by the next
 * request that touches the pair. True when anything was pending.
 */
export async function settlePair(svc: Services, ctx: Pick<PairContext, 'pair' | 'agreement' | 'ps'>): Promise<boolean> {
  const pending = await ctx.ps.pending();
  if (pending.audits.length > 0) {
    for (const a of pending.audits) await svc.store.appendAudit(a.entry, `${ctx.pair.id}#${a.id}`);
    await ctx.ps.clearAudits(pending.audits.map((a) => a.id));
  }
  for (const h of pending.hits) {
    if (ctx.agreement.mode === 'reveal') await syncNightlyHits(svc, ctx.pair.id, ctx.ps, h.epoch, h.complete);
    await ctx.ps.clearHitsDue(h.epoch, h.mark);
  }
  return pending.audits.length > 0 || pending.hits.length > 0;
}

/** Settle every pair the agency is or was a party of (before listing its hits). */
export async function settlePairsOf(svc: Services, agency: string): Promise<void> {
  for (const pair of await svc.store.listPairsOf(agency)) {
    const agreement = await svc.store.getAgreement(pair.agreementId);
    if (agreement) await settlePair(svc, { pair, agreement, ps: svc.store.pair(pair.id) });
  }
}

export function canaryFailureReason(agency: string, failed: number, checked: number): string {
  return `canary check failed: ${failed} of ${checked} canaries in ${agency}'s side did not match`;
}

export interface EvaluatedState {
  state: PairStateRecord;
  summary: PairSummary;
}

/**
 * Recompute a pair's state for the epoch and record transitions:
 * `failed` (sticky) as soon as any canary token differs from its expected
 * value; `complete` when every chunk of both sides has tokens and each side's
 * last `canaries/done` covers every chunk it holds (every chunk carries its
 * own canaries, protocol/SPEC.md §1.6: a chunk uploaded after `done` keeps the
 * pair waiting until the side registers its canaries and calls again);
 * otherwise `waiting`.
 */
export async function refreshPairState(svc: Services, ctx: Pick<PairContext, 'pair' | 'agreement' | 'epoch' | 'ps'>): Promise<EvaluatedState> {
  await settlePair(svc, ctx);
  const summary = await ctx.ps.summary(ctx.epoch.id);
  const current = summary.state;
  if (current?.state === 'failed') return { state: current, summary };
  const at = svc.now().toISOString();
  let next: PairStateRecord;
  let failedSide: Side | undefined;
  if (summary.sides[0].canariesFailed > 0) failedSide = 0;
  else if (summary.sides[1].canariesFailed > 0) failedSide = 1;
  if (failedSide !== undefined) {
    const s = summary.sides[failedSide];
    next = { state: 'failed', reason: canaryFailureReason(ctx.pair.agencies[failedSide], s.canariesFailed, s.canariesChecked), updatedAt: at };
  } else if (summary.sides.every((s) => s.tokenizedChunks === s.chunks && s.canariesDone && s.canaryChunks >= s.chunks)) {
    next = { state: 'complete', reason: null, updatedAt: at };
  } else {
    next = { state: 'waiting', reason: null, updatedAt: at };
  }
  const from = current?.state;
  if (next.state === (from ?? 'waiting')) return { state: current ?? next, summary };
  const s = failedSide === undefined ? undefined : summary.sides[failedSide];
  const audit = auditEntry(
    svc,
    s && failedSide !== undefined
      ? {
          actor: 'coordinator',
          action: 'pair.canary_failed',
          subject: ctx.pair.id,
          outcome: 'failed',
          detail: { epoch: ctx.epoch.id, side: ctx.pair.agencies[failedSide], failed: s.canariesFailed, checked: s.canariesChecked },
        }
      : { actor: 'coordinator', action: `pair.${next.state}`, subject: ctx.pair.id, detail: { epoch: ctx.epoch.id } },
  );
  // The state, its audit entry and (on completion) the hits it releases commit together; settling publishes them.
  if (await ctx.ps.transitionState(ctx.epoch.id, from, next, audit)) {
    await settlePair(svc, ctx);
    // What earlier epochs left of the pair (src/API.md, "Epochs"); retention purges it too if this does not finish.
    if (next.state === 'complete') await purgeBehind(svc, ctx.pair.id, ctx.ps, ctx.epoch.id);
    return { state: next, summary };
  }
  const again = await ctx.ps.summary(ctx.epoch.id);
  return { state: again.state ?? next, summary: again };
}
