// How `concordat query` reads its values and shows its results
// (clients/README-cli.md, "concordat query"): the --values file, the JSON and
// table outputs — which refer to values by index only — the warnings on
// stderr, and the exit code.
import { readFileSync } from 'node:fs';
import { EXIT, UsageError, type CoordinatorError, type ExitCode } from '../../sdk/errors.js';
import { printable, table } from '../text.js';
import type { QueryValues } from './request.js';
import type { QueryReport } from './types.js';

/** One value per line; blank lines are skipped (a trailing newline is not a value). */
export function readValuesFile(path: string): QueryValues {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`--values: cannot read ${path}`);
  }
  const values: string[] = [];
  const lines: number[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line.trim() === '') return;
      values.push(line);
      lines.push(i + 1);
    });
  return { values, lines };
}

export interface QueryJsonEntry {
  partner: string;
  kind: string;
  value_index: number;
  hit: boolean;
  handle?: string;
}

/** One entry per value × partner with a result, in value order (then partner order as asked). */
export function resultEntries(r: QueryReport): QueryJsonEntry[] {
  const out: QueryJsonEntry[] = [];
  for (let i = 0; i < r.values; i++) {
    for (const leg of r.legs) {
      const v = leg.results?.find((x) => x.index === i);
      if (!v) continue;
      out.push({ partner: leg.partner, kind: r.kind, value_index: i, hit: v.hit, ...(v.handle ? { handle: v.handle } : {}) });
    }
  }
  return out;
}

/**
 * `{"results":[…],"query_id"}`; legs that failed (bad proof, expired) appear
 * only in `"errors"` and legs still open only in `"pending"` — never as a
 * result entry, so no consumer can read them as "no hit".
 */
export function formatQueryJson(r: QueryReport): string {
  const out: Record<string, unknown> = { results: resultEntries(r), query_id: r.queryId };
  const errors = r.legs.filter((l) => l.state === 'error' || l.state === 'expired');
  if (errors.length > 0) out.errors = errors.map((l) => ({ partner: l.partner, error: l.error ?? l.state, ...(l.detail ? { detail: l.detail } : {}) }));
  const pending = r.legs.filter((l) => l.state === 'pending' || l.state === 'incomplete');
  if (pending.length > 0) out.pending = pending.map((l) => ({ partner: l.partner, state: l.state, ...(l.detail ? { detail: l.detail } : {}) }));
  return JSON.stringify(out);
}

const RESULT_WORDS = { error: 'ERROR', expired: 'expired', incomplete: 'answered, not checked yet', pending: 'pending' } as const;

export function formatQueryTable(r: QueryReport): string {
  const lines = [
    `query ${r.queryId}: ${r.kind}, purpose ${r.purpose}, case ${JSON.stringify(printable(r.caseRef))}, ${r.values} value(s), ${r.legs.length} partner(s)`,
  ];
  const rows: string[][] = [];
  for (let i = 0; i < r.values; i++) {
    for (const leg of r.legs) {
      const v = leg.results?.find((x) => x.index === i);
      const result = leg.state === 'done' ? (v?.hit ? 'HIT' : 'no hit') : RESULT_WORDS[leg.state];
      rows.push([String(i), leg.partner, result, v?.handle ?? '-']);
    }
  }
  lines.push(...table(['VALUE', 'PARTNER', 'RESULT', 'HANDLE'], rows));
  const hits = resultEntries(r).filter((e) => e.hit).length;
  lines.push('', `${hits} hit(s). VALUE is the index of the value in the order given (0 = first).`);
  return `${lines.join('\n')}\n`;
}

/** Lines for stderr: errors loudly, open legs with how to resume. */
export function queryWarnings(r: QueryReport, dir: string): string[] {
  const out: string[] = [];
  for (const l of r.legs) {
    if (l.state === 'error') {
      out.push(`query: !!! ERROR ${l.partner}: ${l.detail ?? l.error ?? 'the answer could not be verified'}`);
      out.push(`query: !!! the values asked of ${l.partner} have NO result — this is not a "no hit". The coordinator was told (bad-proof).`);
    } else if (l.state === 'expired') out.push(`query: ${l.partner}: the query expired unanswered (no result for its values)`);
    else if (l.state === 'incomplete') out.push(`query: ${l.partner}: answered, but ${l.detail ?? 'its set is not fully tokenised locally'}`);
  }
  const pending = r.legs.filter((l) => l.state === 'pending').map((l) => l.partner);
  if (pending.length > 0) {
    out.push(`query: no answer yet from ${pending.join(', ')} (its responder may be offline; a query stays open for 7 days).`);
  }
  if (pending.length > 0 || r.legs.some((l) => l.state === 'incomplete')) {
    out.push(`query: resume with: concordat query --dir ${dir} --status ${r.queryId}`);
  }
  return out;
}

export function queryExitCode(r: QueryReport): ExitCode {
  if (r.legs.some((l) => l.state === 'error')) return EXIT.badProof;
  if (!r.legs.some((l) => l.state === 'done')) return EXIT.unanswered;
  return EXIT.ok;
}

/** A coordinator refusal of a query, with what the operator needs (a quota's reset time). */
export function describeRefusal(e: CoordinatorError, nowMs = Date.now()): string {
  const head = `query refused by the coordinator: ${e.status} ${e.title}${e.detail ? `: ${e.detail}` : ''}${e.field ? ` (field ${e.field})` : ''}`;
  if (e.status !== 429) return head;
  const at = e.resetsAt ? Date.parse(e.resetsAt) : e.retryAfter && /^\d+$/.test(e.retryAfter) ? nowMs + Number(e.retryAfter) * 1000 : NaN;
  if (Number.isNaN(at)) return head;
  const mins = Math.max(0, Math.ceil((at - nowMs) / 60_000));
  return `${head}. The quota resets at ${new Date(at).toISOString()} (in ${mins >= 60 ? `${Math.floor(mins / 60)} h ${mins % 60} min` : `${mins} min`}).`;
}
