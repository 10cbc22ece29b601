// What a sync tells the operator (clients/README-cli.md, "concordat sync"):
// one summary line per pair on stdout, loud warnings for failed pairs on
// stderr, and the report the CLI and the daemon turn into an exit code.
import type { MePair } from '../../sdk/api.js';
import type { PairPull } from '../results.js';

/** What one sync did for one pair; each phase records its part as it goes, so a pair that fails midway shows how far it got. */
export interface PairSyncSummary {
  pair: string;
  partner: string;
  mode: string;
  added: number;
  canaries: number;
  withdrawn: number;
  live: number;
  chunksUploaded: number;
  removalsSent: number;
  canariesRegistered: boolean;
  /** Registered during this sync. */
  canariesRegisteredNow: boolean;
  /** Chunks whose canaries were registered during this sync (every chunk carries its own, protocol/SPEC.md §1.6). */
  canaryChunksRegistered: number;
  partnerChunksTokenized: number;
  waitingForPartnerKey: boolean;
  /** Positions linked to the previous epoch's matches (handle continuity). */
  linked?: number;
  error?: string;
  /** Why nothing was done for the pair (not accepted here, expired, or refused). */
  skipped?: string;
  result?: PairPull;
}

export interface SyncReport {
  epoch: string;
  pairs: PairSyncSummary[];
  partnerChunksTokenized: number;
  failedPairs: PairPull[];
  errors: string[];
  /** The coordinator's audit transparency log failed a check (one of `errors`; already in the local trail). */
  auditLogFailed?: boolean;
  /** Every one of `errors` came from the coordinator being unreachable or answering 503: run sync again later (exit 7). */
  unavailable?: boolean;
}

export function emptySummary(p: MePair): PairSyncSummary {
  return {
    pair: p.pair,
    partner: p.partner,
    mode: p.mode,
    added: 0,
    canaries: 0,
    withdrawn: 0,
    live: 0,
    chunksUploaded: 0,
    removalsSent: 0,
    canariesRegistered: false,
    canariesRegisteredNow: false,
    canaryChunksRegistered: 0,
    partnerChunksTokenized: 0,
    waitingForPartnerKey: false,
  };
}

/**
 * Attaches the pulled results to the pairs' summaries, prints a line per pair
 * and warns about every failed pair; returns the failed pairs.
 */
export function reportPairs(summaries: readonly PairSyncSummary[], pulled: readonly PairPull[], log: (l: string) => void, warn: (l: string) => void): PairPull[] {
  const failed: PairPull[] = [];
  for (const r of pulled) {
    const s = summaries.find((x) => x.pair === r.pair);
    if (s) s.result = r;
    if (r.state === 'failed') failed.push(r);
  }
  for (const s of summaries) log(formatPairSummary(s));
  for (const f of failed) {
    warn(`sync: !!! PAIR FAILED ${f.pair} (partner ${f.partner}): ${f.reason ?? 'no reason given'}`);
    warn('sync: !!! no results are released for this pair for the rest of the epoch; earlier matches with it were cleared.');
  }
  return failed;
}

export function formatPairSummary(s: PairSyncSummary): string {
  const parts = [
    `side ${s.live} live (+${s.added} added${s.canaries ? `, +${s.canaries} canaries` : ''}, -${s.withdrawn} withdrawn)`,
    `${s.chunksUploaded} chunk(s) uploaded`,
  ];
  if (s.removalsSent) parts.push(`${s.removalsSent} removal(s) sent`);
  parts.push(s.canariesRegistered ? (s.canariesRegisteredNow ? `canaries of ${s.canaryChunksRegistered} chunk(s) registered` : 'canaries in place') : s.waitingForPartnerKey ? "canaries wait for the partner's epoch key" : 'canaries not registered');
  parts.push(`${s.partnerChunksTokenized} partner chunk(s) tokenised`);
  const r = s.result;
  if (r) {
    if (r.state === 'complete') parts.push(r.mode === 'count' ? `complete: ${r.count ?? 0} matched` : `complete: ${r.records ?? 0} matched record(s)`);
    else if (r.state === 'failed') parts.push(`FAILED: ${r.reason ?? 'no reason given'}`);
    else parts.push(r.records || r.count ? `waiting (keeping ${r.mode === 'count' ? `count ${r.count}` : `${r.records} earlier matched record(s)`})` : 'waiting');
  }
  if (s.error) parts.push(`ERROR: ${s.error}`);
  else if (s.skipped) return `sync: ${s.pair} with ${s.partner}: SKIPPED: ${s.skipped}`;
  return `sync: ${s.pair} with ${s.partner} (${s.mode}): ${parts.join('; ')}`;
}
