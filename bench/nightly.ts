// `npm run bench -- nightly [--size N] [--coordinator node|workers] [--json]`:
// two agencies with N records each (10% overlap, passport + email + phone per
// record), a coordinator on this machine, first night then a second night
// with 1% churn. Every agency step runs in its own process
// (bench/agency-step.ts) for its own peak RSS; the coordinator's share of
// matching comes from its request log. `--coordinator workers` runs the
// Workers coordinator under `wrangler dev --local` (workerd, local D1 and
// Durable Objects) instead of `coordinator serve`; the JSON has the same shape.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CONCORDAT_SUITE } from '../protocol/constants.js';
import { loadEngine, nativeAvailable, type EngineName } from '../protocol/engine/index.js';
import { encodePoint, reduceScalarLE, scalarMulBase } from '../protocol/group.js';
import { randomBytes } from '../protocol/rng.js';
import { freePort, parseFlags } from './util.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL(existsSync(fileURLToPath(new URL('../../bin/concordat.js', import.meta.url))) ? '../../' : '../', import.meta.url));
const BIN = join(ROOT, 'bin', 'concordat.js');
const STEP = fileURLToPath(new URL('./agency-step.js', import.meta.url));
const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');

export type CoordinatorKind = 'node' | 'workers';

/** `--coordinator` of the bench command line (bench/main.ts passes the size and the log only). */
export function coordinatorFromArgv(argv: string[] = process.argv.slice(2)): CoordinatorKind {
  const v = parseFlags(argv).flags.get('coordinator') ?? 'node';
  if (v !== 'node' && v !== 'workers') throw new Error('--coordinator: node or workers');
  return v;
}

/** Environment for wrangler here: no network, no telemetry. */
function wranglerEnv(): NodeJS.ProcessEnv {
  return { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', FORCE_COLOR: '0' };
}

export interface RunningCoordinator {
  url: string;
  /**
   * Peak RSS of the coordinator in MB: the server process on Node; under
   * `wrangler dev` the sum of the peaks of its workerd processes (the proxy and
   * the runtime holding D1 and the Durable Objects), an upper bound.
   */
  peakRssMb(): number;
  /** Everything the coordinator wrote (one JSON line per request among it). */
  output(): string;
  stop(): Promise<void>;
}

/** Direct children of a process, from /proc (Linux). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** workerd processes started (directly or not) by `root`. */
function workerdPids(root: number): number[] {
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    try {
      if (/workerd/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))) out.push(pid);
    } catch {
      // exited
    }
    queue.push(...childrenOf(pid));
  }
  return out;
}

/**
 * The Workers coordinator under `wrangler dev --local` on a free loopback
 * port, persisting D1 and the Durable Objects in `persistTo`: applies the D1
 * migrations first, passes the admin public key as ADMIN_PUBLIC_KEY, and
 * resolves once wrangler reports it ready.
 */
export async function startWorkersCoordinator(persistTo: string, adminPublicKey: string): Promise<RunningCoordinator> {
  await run(process.execPath, [WRANGLER, 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistTo], { cwd: ROOT, env: wranglerEnv() });
  const port = await freePort();
  const inspector = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [WRANGLER, 'dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspector), '--persist-to', persistTo,
      '--var', `ADMIN_PUBLIC_KEY:${adminPublicKey}`, '--show-interactive-dev-session=false'],
    { cwd: ROOT, env: wranglerEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /Ready on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) resolve(m[1] as string);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (c) => reject(new Error(`wrangler dev exited ${c}:\n${out}`)));
  });
  return {
    url,
    peakRssMb: () => workerdPids(child.pid as number).reduce((mb, pid) => mb + vmHwmMb(pid), 0),
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.pid === undefined) return;
      const exited = new Promise((r) => child.once('exit', r));
      // wrangler and the workerd it started form one process group.
      process.kill(-child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(-child.pid, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function startNodeCoordinator(data: string): Promise<RunningCoordinator> {
  const server = spawn(BIN, ['coordinator', 'serve', '--data', data, '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    server.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    server.once('exit', (c) => reject(new Error(`coordinator exited ${c}`)));
  });
  return {
    url,
    peakRssMb: () => vmHwmMb(server.pid ?? 0),
    output: () => out,
    async stop() {
      if (server.exitCode !== null) return;
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    },
  };
}
export const AGENCIES = [
  { id: 'ES-CNP', country: 'ESP' },
  { id: 'PT-PJ', country: 'PRT' },
] as const;

/**
 * The two bench agencies in `work`, enrolled at the coordinator at `url`, and
 * the "bench" reveal agreement both accepted, as operators do it with the CLI.
 */
export async function enrolBenchAgencies(work: string, url: string, size: number): Promise<void> {
  const admin = ['coordinator', 'admin', '--url', url, '--admin-key', join(work, 'coord', 'admin.key')];
  for (const a of AGENCIES) {
    await run(BIN, ['init', '--dir', join(work, a.id), '--agency', a.id, '--coordinator', url]);
    await run(BIN, [...admin, 'agency', 'add', '--id', a.id, '--name', a.id, '--country', a.country, '--key', join(work, a.id, 'signing.pub')]);
  }
  await run(BIN, [...admin, 'agreement', 'add', '--id', 'bench', '--parties', AGENCIES.map((a) => a.id).join(','), '--kinds', 'passport,email,phone', '--mode', 'reveal', '--until', '2030-12-31', '--legal-basis', 'bench', '--max-set-size', String(4 * size + 1000)]);
  // Every party accepts the agreement with its own key before anything flows (protocol/SPEC.md §8.6).
  for (const a of AGENCIES) await run(BIN, ['agreements', 'accept', 'bench', '--dir', join(work, a.id), '--officer', 'bench', '--yes']);
}

interface StepResult {
  step: string;
  seconds: number;
  phases: Record<string, number>;
  /** Items done per progress phase. */
  counts?: Record<string, number>;
  peak_rss_mb: number;
}

interface NightFigures {
  wall_s: number;
  import_s: number;
  blind_s: number;
  upload_s: number;
  tokenise_s: number;
  match_s: number;
  results_s: number;
  chunks_uploaded: number;
  /** Identifiers blinded and partner elements tokenised, over both agencies. */
  blinded: number;
  tokenised: number;
}

/**
 * What the night's crypto costs on this machine at best: the per-operation
 * CPU cost of the native engine (the fast engine where native libsodium does
 * not load), measured here in this run on one thread, times the blindings and
 * tokenisations the night did, spread over every core.
 */
export interface NativeFloor {
  engine: EngineName;
  cores: number;
  blind_us: number;
  tokenise_us: number;
  blinded: number;
  tokenised: number;
  floor_s: number;
  /** floor ÷ wall: 1 means the night ran at the native limit. */
  ratio: number;
}

/** Median µs per operation of `engine` over a few rounds of `n` (after a warm-up). */
export async function nativeCosts(n = 2000): Promise<{ engine: EngineName; blind_us: number; tokenise_us: number }> {
  const name: EngineName = nativeAvailable() ? 'native' : 'fast';
  const engine = await loadEngine(name);
  const sk = new Uint8Array(32);
  sk[0] = 7;
  const inputs = Array.from({ length: n }, (_, i) => new TextEncoder().encode(`passport\u0000ESP:P${String(i).padStart(8, '0')}`));
  const elements = new Uint8Array(n * 32);
  for (let i = 0; i < n; i++) {
    elements.set(encodePoint(scalarMulBase(reduceScalarLE(randomBytes(64)))), i * 32);
  }
  engine.blind(CONCORDAT_SUITE, sk, inputs.slice(0, 100));
  engine.tokenize(CONCORDAT_SUITE, sk, elements.subarray(0, 3200));
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const blind: number[] = [];
  const tok: number[] = [];
  for (let round = 0; round < 5; round++) {
    let t = process.cpuUsage();
    engine.blind(CONCORDAT_SUITE, sk, inputs);
    let d = process.cpuUsage(t);
    blind.push((d.user + d.system) / n);
    t = process.cpuUsage();
    engine.tokenize(CONCORDAT_SUITE, sk, elements);
    d = process.cpuUsage(t);
    tok.push((d.user + d.system) / n);
  }
  return { engine: name, blind_us: Number(median(blind).toFixed(1)), tokenise_us: Number(median(tok).toFixed(1)) };
}

function floorOf(costs: { engine: EngineName; blind_us: number; tokenise_us: number }, blinded: number, tokenised: number, wallS: number): NativeFloor {
  const cores = availableParallelism();
  const floorS = (blinded * costs.blind_us + tokenised * costs.tokenise_us) / 1e6 / cores;
  return { ...costs, cores, blinded, tokenised, floor_s: Number(floorS.toFixed(2)), ratio: Number((floorS / wallS).toFixed(3)) };
}

export interface NightlyResult {
  size: number;
  overlap: number;
  identifiers_per_agency: number;
  first_night_s: number;
  second_night_s: number;
  second_vs_first: number;
  peak_rss_mb: number;
  peak_rss_mb_by_process: Record<string, number>;
  first_night: NightFigures;
  second_night: NightFigures;
  /** The native floor of each night, measured in this run. */
  native_floor: { first_night: NativeFloor; second_night: NativeFloor };
  matches_found: number;
  matches_expected: number;
}

export function rows(prefix: string, ids: Iterable<number>): string {
  const out = ['record_id,kind,value'];
  for (const p of ids) {
    out.push(`${prefix}-${p},passport,ESP:P${String(p).padStart(8, '0')}`, `${prefix}-${p},email,person${p}@bench.example`, `${prefix}-${p},phone,+3460${String(p).padStart(7, '0')}`);
  }
  return `${out.join('\n')}\n`;
}

function vmHwmMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

export async function benchNightly(size: number, log: (s: string) => void, coordinator: CoordinatorKind = coordinatorFromArgv()): Promise<NightlyResult> {
  const work = mkdtempSync(join(tmpdir(), 'concordat-bench-nightly-'));
  const rss: Record<string, number> = {};
  const bump = (who: string, mb: number): void => {
    rss[who] = Math.max(rss[who] ?? 0, Math.round(mb));
  };
  // `coordinator init` makes the admin key either way; the Workers coordinator takes its public half.
  const { stdout: adminPublicKey } = await run(BIN, ['coordinator', 'init', '--data', join(work, 'coord')]);
  const server =
    coordinator === 'workers' ? await startWorkersCoordinator(join(work, 'workers-state'), adminPublicKey.trim()) : await startNodeCoordinator(join(work, 'coord'));
  const url = server.url;
  log(`coordinator: ${coordinator} at ${url}`);
  const coordinatorMs = (from: number, re: RegExp): number => {
    let ms = 0;
    for (const line of server.output().slice(from).split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const e = JSON.parse(line) as { method?: string; path?: string; route?: string; ms?: number };
        if (re.test(`${e.method} ${e.route ?? e.path}`)) ms += e.ms ?? 0;
      } catch {
        // not a log line
      }
    }
    return ms / 1000;
  };
  const step = async (agency: string, name: string, file?: string): Promise<StepResult> => {
    const { stdout } = await run(process.execPath, [STEP, name, join(work, agency), ...(file ? [file] : [])], { maxBuffer: 64 << 20 });
    const r = JSON.parse(stdout.trim().split('\n').at(-1) as string) as StepResult;
    bump(agency, r.peak_rss_mb);
    return r;
  };
  try {
    await enrolBenchAgencies(work, url, size);

    const shared = Math.round(size * 0.1);
    const sets: Record<string, number[]> = { 'ES-CNP': [], 'PT-PJ': [] };
    for (let i = 0; i < shared; i++) for (const a of AGENCIES) sets[a.id]!.push(i);
    let next = shared;
    for (const a of AGENCIES) for (let i = shared; i < size; i++) sets[a.id]!.push(next++);

    const night = async (label: string): Promise<NightFigures> => {
      // The night's export files exist before it starts: writing them is the agencies' case systems' work, not ours.
      const files = AGENCIES.map((a) => {
        const file = join(work, `${a.id}-${label}.csv`);
        writeFileSync(file, rows(a.id, sets[a.id]!));
        return file;
      });
      const logFrom = server.output().length;
      const t0 = performance.now();
      const f: NightFigures = { wall_s: 0, import_s: 0, blind_s: 0, upload_s: 0, tokenise_s: 0, match_s: 0, results_s: 0, chunks_uploaded: 0, blinded: 0, tokenised: 0 };
      for (const [i, a] of AGENCIES.entries()) f.import_s += (await step(a.id, 'import', files[i])).seconds;
      log(`${label}: imported ${AGENCIES.length} × ${size} records`);
      for (let round = 1; round <= 2; round++) {
        for (const a of AGENCIES) {
          const r = await step(a.id, 'sync');
          f.blind_s += r.phases.blinding ?? 0;
          f.upload_s += r.phases.uploading ?? 0;
          f.tokenise_s += r.phases.tokenising ?? 0;
          f.blinded += r.counts?.blinding ?? 0;
          f.tokenised += r.counts?.tokenising ?? 0;
          log(`${label}: sync ${round} ${a.id} ${r.seconds.toFixed(1)} s (${Object.entries(r.phases).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ') || 'nothing to do'})`);
        }
      }
      for (const a of AGENCIES) f.results_s += (await step(a.id, 'results')).seconds;
      f.wall_s = (performance.now() - t0) / 1000;
      f.match_s = coordinatorMs(logFrom, /^PUT .*\/tokens$/);
      for (const line of server.output().slice(logFrom).split('\n')) {
        if (/"method":"PUT"/.test(line) && /\/set\/chunks\/:index"/.test(line) && /"status":201/.test(line)) f.chunks_uploaded++;
      }
      bump('coordinator', server.peakRssMb());
      return f;
    };

    const costs = await nativeCosts();
    log(`native floor: ${costs.engine} engine, ${costs.blind_us} µs per blind, ${costs.tokenise_us} µs per token, ${availableParallelism()} core(s)`);
    const first = await night('night 1');
    const floor1 = floorOf(costs, first.blinded, first.tokenised, first.wall_s);
    log(`night 1: ${first.wall_s.toFixed(1)} s wall, native floor ${floor1.floor_s} s (${floor1.ratio}× of it)`);
    // 1% churn: 0.5% of each agency's records withdrawn, as many new ones added.
    const churn = Math.max(1, Math.round(size * 0.005));
    for (const a of AGENCIES) {
      const s = sets[a.id]!;
      s.splice(shared, churn);
      for (let i = 0; i < churn; i++) s.push(next++);
    }
    const second = await night('night 2');
    const floor2 = floorOf(costs, second.blinded, second.tokenised, second.wall_s);
    log(`night 2: ${second.wall_s.toFixed(1)} s wall (${(second.wall_s / first.wall_s).toFixed(3)}× the first), native floor ${floor2.floor_s} s; peak RSS ${JSON.stringify(rss)} MB`);

    const { stdout } = await run(BIN, ['results', '--dir', join(work, 'ES-CNP'), '--format', 'json', '--no-refresh'], { maxBuffer: 256 << 20 });
    const found = (JSON.parse(stdout) as { matches: unknown[] }).matches.length;
    const peak = Math.max(...Object.values(rss));
    return {
      size,
      overlap: shared,
      identifiers_per_agency: 3 * size,
      first_night_s: Number(first.wall_s.toFixed(2)),
      second_night_s: Number(second.wall_s.toFixed(2)),
      second_vs_first: Number((second.wall_s / first.wall_s).toFixed(3)),
      peak_rss_mb: peak,
      peak_rss_mb_by_process: rss,
      first_night: round(first),
      second_night: round(second),
      native_floor: { first_night: floor1, second_night: floor2 },
      matches_found: found,
      matches_expected: shared,
    };
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

function round(f: NightFigures): NightFigures {
  return Object.fromEntries(Object.entries(f).map(([k, v]) => [k, Number.isInteger(v) ? v : Number(v.toFixed(2))])) as unknown as NightFigures;
}
