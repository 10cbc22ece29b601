// `npm run bench -- load [--connections 50] [--own N] [--seconds S] [--profile] [--json]`:
// signed `GET /v1/me` from autocannon on loopback against `coordinator serve`
// while two agencies sync (the built CLI, both at once, two rounds). Each
// request carries its own RFC 9421 signature and nonce, signed in
// autocannon's setupRequest as the SDK signs (clients/sdk/client.ts). Beside
// it, in the same run: the same load with no sync, unsigned `GET /healthz`
// (the HTTP stack's own limit, no signature check, no database write) and the
// syncs alone; the syncs' results under load must equal theirs alone.
// --profile writes a V8 CPU profile of the coordinator during the signed load
// alone and prints where its time goes.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon, { type Result } from 'autocannon';
import { newNonce } from '../clients/sdk/client.js';
import { nodeEd25519Sign } from '../clients/sdk/node-ed25519.js';
import { hexToBytes } from '../protocol/bytes.js';
import { signRequest } from '../protocol/http-signature.js';
import { diffSnapshots, lastLine, Template, type Trial } from './soak/world.js';
import { intFlag } from './util.js';

export interface LoadFigures {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  requests: number;
  errors: number;
  non2xx: number;
  status: Record<string, number>;
}

export interface LoadResult {
  connections: number;
  records_per_agency: number;
  healthz_unsigned: LoadFigures;
  me_signed_alone: LoadFigures;
  me_signed_during_syncs: LoadFigures;
  syncs_alone_s: number;
  syncs_under_load_s: number;
  /** Syncs that failed (and were run again) alone and under load. */
  sync_failures_alone: string[];
  sync_failures_under_load: string[];
  /** With --profile: the coordinator's top self time during the signed load alone. */
  profile?: string[];
  /** Load average (1 min) of the machine at the start and the end: the figures are only as good as the CPU left to them. */
  loadavg: [number, number];
  sync_slowdown: number;
  results_equal: boolean;
  differences: string[];
  /**
   * Where the CPU went while the syncs ran, alone and under load (Linux: from
   * /proc): on a small machine the load and the syncs share the cores, and
   * the syncs' slowdown is bounded by the CPU the load leaves them.
   */
  cpu?: { cores: number; alone: CpuShare; under_load: CpuShare };
  target: { rps: 1000; p99_ms: 100; slowdown: 1.5 };
  target_met: boolean;
}

export interface CpuShare {
  wall_s: number;
  /** The whole machine's busy CPU seconds. */
  machine_s: number;
  coordinator_s: number;
  /** This process: autocannon and its request signing. */
  generator_s: number;
  /** The rest: the agencies' syncs (and anything else running). */
  syncs_s: number;
  /** Share of the cores busy over the wall time. */
  busy: number;
}

interface CpuClock {
  at: number;
  machine: number;
  coordinator: number;
  generator: number;
}

/** CPU seconds so far (clock ticks of 1/100 s, as Linux reports them), or undefined where /proc is not there. */
function cpuClock(coordinator: number | undefined): CpuClock | undefined {
  try {
    const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] as string).trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    let coord = 0;
    if (coordinator !== undefined) {
      const st = readFileSync(`/proc/${coordinator}/stat`, 'utf8');
      // Fields after the command name: state is field 3, utime and stime fields 14 and 15.
      const after = st.slice(st.lastIndexOf(')') + 2).split(' ');
      coord = (Number(after[11]) + Number(after[12])) / 100;
    }
    const u = process.cpuUsage();
    return { at: performance.now(), machine: (user + nice + system + irq + softirq + steal) / 100, coordinator: coord, generator: (u.user + u.system) / 1e6 };
  } catch {
    return undefined;
  }
}

function share(a: CpuClock | undefined, b: CpuClock | undefined, cores: number): CpuShare | undefined {
  if (!a || !b) return undefined;
  const r = (x: number): number => Number(x.toFixed(2));
  const wall = (b.at - a.at) / 1000;
  const machine = b.machine - a.machine;
  const coordinator = b.coordinator - a.coordinator;
  const generator = b.generator - a.generator;
  return { wall_s: r(wall), machine_s: r(machine), coordinator_s: r(coordinator), generator_s: r(generator), syncs_s: r(machine - coordinator - generator), busy: r(machine / (wall * cores)) };
}

function figures(r: Result): LoadFigures {
  const status: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.statusCodeStats ?? {})) status[k] = v.count;
  return {
    rps: Math.round(r.requests.total / r.duration),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    requests: r.requests.total,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    status,
  };
}

// The generator shares the machine with the coordinator: it signs through
// node:crypto as the agency client does (clients/sdk/node-ed25519.ts), so the
// figures measure the coordinator, not the signer.
/** Starts autocannon; `stop()` ends it and resolves with its figures. */
function cannon(url: string, connections: number, signed: { keyid: string; key: Uint8Array }[] | undefined, path: string): { stop: () => Promise<LoadFigures> } {
  let n = 0;
  let resolve: (r: LoadFigures) => void = () => {};
  let reject: (e: Error) => void = () => {};
  const done = new Promise<LoadFigures>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const target = new URL(path, url);
  const inst = autocannon(
    {
      url,
      connections,
      duration: 3600,
      requests: [
        {
          method: 'GET',
          path,
          setupRequest: (req) => {
            if (!signed) return req;
            // A fresh nonce and `created` for every request: the coordinator accepts a nonce once (src/API.md, "Authentication").
            const who = signed[n++ % signed.length] as { keyid: string; key: Uint8Array };
            const sig = signRequest({ method: 'GET', url: target, body: new Uint8Array(0), keyid: who.keyid, secretKey: who.key, created: Math.floor(Date.now() / 1000), nonce: newNonce(), sign: nodeEd25519Sign });
            return { ...req, headers: { ...req.headers, ...sig, accept: 'application/json' } };
          },
        },
      ],
    },
    (err, r) => (err ? reject(err) : resolve(figures(r))),
  );
  return {
    stop: () => {
      inst.stop();
      return done;
    },
  };
}

/**
 * Both agencies' syncs at once, rounds until every pair is complete; a failed
 * sync is run again, as the nightly job would. Wall seconds and the failures.
 */
async function nightlySyncs(t: Trial): Promise<{ seconds: number; failures: string[] }> {
  const t0 = performance.now();
  const failures: string[] = [];
  for (let round = 1; round <= 6; round++) {
    const runs = await Promise.all(t.agencies.map((a) => t.sync(a)));
    for (const [i, r] of runs.entries()) if (r.code !== 0) failures.push(`${t.agencies[i]} round ${round}: exit ${r.code ?? r.signal}: ${lastLine(r.stderr)}`);
    if (round >= 2 && runs.every((r) => r.code === 0) && t.pendingPairs().length === 0) break;
  }
  return { seconds: (performance.now() - t0) / 1000, failures };
}

/** Self time per function of a V8 .cpuprofile, the top `n`, in percent. */
function topSelf(dir: string, n = 8): string[] {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return ['no profile written'];
  const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
    samples: number[];
  };
  const byId = new Map(p.nodes.map((x) => [x.id, x.callFrame]));
  const self = new Map<string, number>();
  for (const id of p.samples) {
    const f = byId.get(id);
    const key = f ? `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}` : '?';
    self.set(key, (self.get(key) ?? 0) + 1);
  }
  const total = p.samples.length || 1;
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${((100 * v) / total).toFixed(1)} % ${k}`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function benchLoad(flags: Map<string, string | true>, log: (s: string) => void): Promise<LoadResult> {
  const connections = intFlag(flags, 'connections', 50);
  const own = intFlag(flags, 'own', 1000);
  const seconds = intFlag(flags, 'seconds', 10);
  const profile = flags.has('profile');
  const load0 = Number(loadavg()[0]?.toFixed(2));
  const template = await Template.build({ agencies: 2, own, seed: 4242 });
  const alone = await template.trial();
  const loaded = await template.trial();
  const profDir = mkdtempSync(join(tmpdir(), 'concordat-load-prof-'));
  try {
    if (profile) alone.coord.nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${profDir}`];
    await alone.start();
    const keys = alone.agencies.map((a) => ({ keyid: a, key: hexToBytes(readFileSync(join(alone.agencyDir(a), 'signing.key'), 'utf8').trim()) }));
    log(`load: ${connections} connections on ${alone.coord.url}, two agencies of ${own + 15} records; load average ${load0}`);

    const hz = cannon(alone.coord.url, connections, undefined, '/healthz');
    await sleep(seconds * 1000);
    const healthz = await hz.stop();
    log(`GET /healthz (unsigned): ${healthz.rps} req/s, p50 ${healthz.p50_ms} ms, p99 ${healthz.p99_ms} ms`);
    const me = cannon(alone.coord.url, connections, keys, '/v1/me');
    await sleep(seconds * 1000);
    const meAlone = await me.stop();
    log(`signed GET /v1/me, no sync: ${meAlone.rps} req/s, p50 ${meAlone.p50_ms} ms, p99 ${meAlone.p99_ms} ms, ${meAlone.errors} errors, ${meAlone.non2xx} non-2xx`);
    let top: string[] | undefined;
    if (profile) {
      // The profile is written when the process exits: this phase's coordinator stops, a plain one takes over on the same data.
      await alone.coord.stop();
      top = topSelf(profDir);
      for (const l of top) log(`  profile: ${l}`);
      alone.coord.nodeArgs = [];
      await alone.coord.start();
    }

    const cores = availableParallelism();
    const c0 = cpuClock(alone.coord.child?.pid);
    const a = await nightlySyncs(alone);
    const c1 = cpuClock(alone.coord.child?.pid);
    const ref = await alone.snapshot();
    log(`syncs alone: ${a.seconds.toFixed(1)} s${a.failures.length ? ` (${a.failures.length} failed and were run again: ${a.failures[0]})` : ''}`);

    await loaded.start();
    const keys2 = loaded.agencies.map((x) => ({ keyid: x, key: hexToBytes(readFileSync(join(loaded.agencyDir(x), 'signing.key'), 'utf8').trim()) }));
    const during = cannon(loaded.coord.url, connections, keys2, '/v1/me');
    const c2 = cpuClock(loaded.coord.child?.pid);
    const l = await nightlySyncs(loaded);
    const c3 = cpuClock(loaded.coord.child?.pid);
    const meDuring = await during.stop();
    const got = await loaded.snapshot();
    const differences = diffSnapshots(ref, got);
    log(`signed GET /v1/me during the syncs: ${meDuring.rps} req/s, p50 ${meDuring.p50_ms} ms, p99 ${meDuring.p99_ms} ms, ${meDuring.errors} errors, ${meDuring.non2xx} non-2xx`);
    log(`syncs under load: ${l.seconds.toFixed(1)} s (${(l.seconds / a.seconds).toFixed(2)}× alone)${l.failures.length ? `, ${l.failures.length} failed and were run again: ${l.failures[0]}` : ''}; results ${differences.length ? `DIFFER: ${differences.join('; ')}` : 'equal to the syncs alone'}`);
    const slowdown = Number((l.seconds / a.seconds).toFixed(3));
    const cpuAlone = share(c0, c1, cores);
    const cpuLoaded = share(c2, c3, cores);
    if (cpuAlone && cpuLoaded) {
      for (const [name, x] of [['alone', cpuAlone], ['under load', cpuLoaded]] as const) {
        log(
          `  CPU, syncs ${name}: ${x.wall_s} s wall, the ${cores} cores ${Math.round(x.busy * 100)} % busy: ` +
            `coordinator ${x.coordinator_s} s, load generator ${x.generator_s} s, syncs ${x.syncs_s} s`,
        );
      }
    }
    return {
      connections,
      records_per_agency: own + 15,
      healthz_unsigned: healthz,
      me_signed_alone: meAlone,
      me_signed_during_syncs: meDuring,
      syncs_alone_s: Number(a.seconds.toFixed(2)),
      syncs_under_load_s: Number(l.seconds.toFixed(2)),
      sync_failures_alone: a.failures,
      sync_failures_under_load: l.failures,
      sync_slowdown: slowdown,
      results_equal: differences.length === 0,
      differences,
      ...(top ? { profile: top } : {}),
      ...(cpuAlone && cpuLoaded ? { cpu: { cores, alone: cpuAlone, under_load: cpuLoaded } } : {}),
      loadavg: [load0, Number(loadavg()[0]?.toFixed(2))],
      target: { rps: 1000, p99_ms: 100, slowdown: 1.5 },
      target_met:
        meDuring.rps >= 1000 && meDuring.p99_ms <= 100 && slowdown <= 1.5 && differences.length === 0 && meDuring.errors === 0 && meDuring.non2xx === 0 && l.failures.length === 0,
    };
  } finally {
    await alone.stop();
    await loaded.stop();
    alone.remove();
    loaded.remove();
    template.remove();
    rmSync(profDir, { recursive: true, force: true });
  }
}


