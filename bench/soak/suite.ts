// The scenarios of the fault suite by name, and the table `npm run soak` prints.
import { fuzz } from './fuzz.js';
import { bitFlips, crashCoordinator, flakyProxy, fullDisk, killSync, readOnlyAgency, type Reference, type ScenarioOptions, type ScenarioResult } from './scenarios.js';

export const SCENARIOS: Record<string, (ref: Reference, o: ScenarioOptions) => Promise<ScenarioResult>> = {
  'kill-sync': killSync,
  'coordinator-crash': crashCoordinator,
  'flaky-proxy': flakyProxy,
  'bit-flip': bitFlips,
  'full-disk': fullDisk,
  'read-only-agency': readOnlyAgency,
  // Each trial is 250 requests over the routes plus 25 import files.
  fuzz: (ref, o) => fuzz(ref, { ...o, cases: o.trials * 250 }),
};

export function formatTable(results: readonly ScenarioResult[]): string {
  const head = ['scenario', 'trials', 'failures', 'seconds', 'what diverged'];
  const rows = results.map((r) => [r.scenario, String(r.trials), String(r.failures), String(r.seconds), r.diverged.length ? (r.diverged[0] as string) : '—']);
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (i < 4 ? (r[i] as string).length : 0))));
  const line = (cells: string[]) => cells.map((c, i) => (i < 4 ? c.padEnd(width[i] as number) : c)).join('  ');
  const out = [line(head), line(width.map((w, i) => (i < 4 ? '-'.repeat(w) : '-------------')))];
  for (const [i, r] of rows.entries()) {
    out.push(line(r));
    const res = results[i] as ScenarioResult;
    for (const d of res.diverged.slice(1)) out.push(`${' '.repeat(width.slice(0, 4).reduce((a, b) => a + b + 2, 0))}${d}`);
    if (res.notes.length) out.push(`${' '.repeat(width.slice(0, 4).reduce((a, b) => a + b + 2, 0))}(${res.notes.join(', ')})`);
  }
  return out.join('\n');
}

