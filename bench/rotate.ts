// `npm run bench -- rotate [--size N] [--json]`: two agencies with N records
// each (10% overlap, passport + email + phone per record), a first night,
// then an epoch rotation (`coordinator admin … epoch rotate`) and the night
// after it: both sides re-blind every identifier under the new epoch's keys,
// send their handle links and keep every match's handle (src/API.md,
// "Epochs"). Every agency step runs in its own process (bench/agency-step.ts)
// for its own peak RSS. The rotation night should cost no more than the first.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AGENCIES, enrolBenchAgencies, rows, startNodeCoordinator } from './nightly.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL(existsSync(fileURLToPath(new URL('../../bin/concordat.js', import.meta.url))) ? '../../' : '../', import.meta.url));
const BIN = join(ROOT, 'bin', 'concordat.js');
const STEP = fileURLToPath(new URL('./agency-step.js', import.meta.url));

export interface RotateResult {
  size: number;
  first_night_s: number;
  rotation_night_s: number;
  rotation_vs_first: number;
  /** Seconds of each sync of the rotation night, per agency and round, with its phases. */
  rotation_syncs: Array<{ agency: string; round: number; seconds: number; phases: Record<string, number> }>;
  matches_before: number;
  matches_after: number;
  /** Matches of the rotation night whose (record, kind) kept the handle it had before. */
  handles_kept: number;
  /** The epoch the rotation started. */
  epoch_after: string;
  peak_rss_mb_by_process: Record<string, number>;
}

interface StepResult {
  seconds: number;
  phases: Record<string, number>;
  peak_rss_mb: number;
}

interface MatchJson {
  record_id: string;
  kinds: string[];
  handle: string;
}

export async function benchRotate(size: number, log: (s: string) => void): Promise<RotateResult> {
  if (!Number.isInteger(size) || size < 10) throw new Error('--size: at least 10 records');
  const work = mkdtempSync(join(tmpdir(), 'concordat-bench-rotate-'));
  const rss: Record<string, number> = {};
  const bump = (who: string, mb: number): void => {
    rss[who] = Math.max(rss[who] ?? 0, Math.round(mb));
  };
  await run(BIN, ['coordinator', 'init', '--data', join(work, 'coord')]);
  const server = await startNodeCoordinator(join(work, 'coord'));
  const url = server.url;
  const step = async (agency: string, name: string, file?: string): Promise<StepResult> => {
    const { stdout } = await run(process.execPath, [STEP, name, join(work, agency), ...(file ? [file] : [])], { maxBuffer: 64 << 20 });
    const r = JSON.parse(stdout.trim().split('\n').at(-1) as string) as StepResult;
    bump(agency, r.peak_rss_mb);
    return r;
  };
  const matchesOf = async (agency: string): Promise<MatchJson[]> => {
    const { stdout } = await run(BIN, ['results', '--dir', join(work, agency), '--format', 'json', '--no-refresh'], { maxBuffer: 256 << 20 });
    return (JSON.parse(stdout) as { matches: MatchJson[] }).matches;
  };
  try {
    await enrolBenchAgencies(work, url, size);
    const admin = ['coordinator', 'admin', '--url', url, '--admin-key', join(work, 'coord', 'admin.key')];
    const shared = Math.round(size * 0.1);
    let next = shared;
    for (const a of AGENCIES) {
      const ids = [...Array.from({ length: shared }, (_, i) => i), ...Array.from({ length: size - shared }, () => next++)];
      const file = join(work, `${a.id}.csv`);
      writeFileSync(file, rows(a.id, ids));
      await step(a.id, 'import', file);
    }
    log(`imported ${AGENCIES.length} × ${size} records`);

    const night = async (label: string) => {
      const t0 = performance.now();
      const syncs: RotateResult['rotation_syncs'] = [];
      for (let round = 1; round <= 2; round++) {
        for (const a of AGENCIES) {
          const r = await step(a.id, 'sync');
          syncs.push({ agency: a.id, round, seconds: Number(r.seconds.toFixed(2)), phases: Object.fromEntries(Object.entries(r.phases).map(([k, v]) => [k, Number(v.toFixed(2))])) });
          log(`${label}: sync ${round} ${a.id} ${r.seconds.toFixed(1)} s (${Object.entries(r.phases).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ') || 'nothing to do'})`);
        }
      }
      for (const a of AGENCIES) await step(a.id, 'results');
      bump('coordinator', server.peakRssMb());
      return { seconds: (performance.now() - t0) / 1000, syncs };
    };

    const first = await night('first night');
    const before = await matchesOf('ES-CNP');
    const epochAfter = (await run(BIN, [...admin, 'epoch', 'rotate'])).stdout.trim();
    log(`rotated the epoch: now ${epochAfter}`);
    const rotation = await night('rotation night');
    const after = await matchesOf('ES-CNP');
    const handleOf = new Map(before.map((m) => [`${m.record_id}\u0000${m.kinds.join(';')}`, m.handle]));
    const kept = after.filter((m) => handleOf.get(`${m.record_id}\u0000${m.kinds.join(';')}`) === m.handle).length;
    log(`first night ${first.seconds.toFixed(1)} s, rotation night ${rotation.seconds.toFixed(1)} s (${(rotation.seconds / first.seconds).toFixed(3)}×); ${kept} of ${after.length} matches kept their handle`);
    return {
      size,
      first_night_s: Number(first.seconds.toFixed(2)),
      rotation_night_s: Number(rotation.seconds.toFixed(2)),
      rotation_vs_first: Number((rotation.seconds / first.seconds).toFixed(3)),
      rotation_syncs: rotation.syncs,
      matches_before: before.length,
      matches_after: after.length,
      handles_kept: kept,
      epoch_after: epochAfter,
      peak_rss_mb_by_process: rss,
    };
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
