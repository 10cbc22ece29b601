// The fault suite's world: a real `coordinator serve` process on a SQLite
// file, agency directories synced by the built `concordat` CLI, and a TCP
// proxy between them that can see each request line, drop connections and
// delay them. A template (enrolled, agreements accepted, watchlists imported)
// is built once and copied for every trial, so trials are independent and
// start in milliseconds; a clean run of the template is the reference every
// faulty trial must reach again.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acceptAgreementVersion } from '../../clients/agency/agreements.js';
import { initAgency, loadAgency } from '../../clients/agency/config.js';
import { listHits, pullHitStatuses } from '../../clients/agency/hits.js';
import { loadResultsView, pullResults } from '../../clients/agency/results.js';
import { importWatchlist } from '../../clients/agency/watchlist.js';
import { agencyClient } from '../../clients/sdk/agency-client.js';
import { openStore } from '../../clients/store/db.js';
import { hexToBytes } from '../../protocol/bytes.js';
import { AdminClient } from '../../src/cli/admin-client.js';
import { makePerson, prng, rowsFor, toCsv, type Person, type Style } from '../../scripts/synthetic.js';

// Compiled to dist/bench/soak/ or run from bench/soak/ (vitest): the repository root is two or three levels up.
export const ROOT = fileURLToPath(new URL(existsSync(fileURLToPath(new URL('../../../bin/concordat.js', import.meta.url))) ? '../../../' : '../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'concordat.js');

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the built CLI to completion. */
export function concordat(args: string[], timeoutMs = 300_000): Promise<Run> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { maxBuffer: 64 << 20, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: unknown; signal?: NodeJS.Signals | null }) | null;
      const code = e ? (typeof e.code === 'number' ? e.code : null) : 0;
      resolve({ code, signal: e?.signal ?? null, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** A CLI process that can be killed while it runs. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly done: Promise<Run>;
  private readonly t0 = performance.now();

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (b: Buffer) => (this.stdout += b.toString()));
    this.child.stderr?.on('data', (b: Buffer) => (this.stderr += b.toString()));
    this.done = new Promise((resolve) =>
      this.child.once('close', (code, signal) => resolve({ code, signal, stdout: this.stdout, stderr: this.stderr, ms: performance.now() - this.t0 })),
    );
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}

import { freePort } from '../util.js';

export { freePort };

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A stack trace in text: a V8 frame line or a source position. */
export const STACK_RE = /\n\s+at [^\n]+[(:]\d+|\bnode_modules\/|\.[jt]s:\d+:\d+/;

/** `coordinator serve` as a child process on a fixed port, so it can be killed and restarted where the proxy expects it. */
export class CoordinatorProcess {
  child: ChildProcess | undefined;
  out = '';
  err = '';
  url = '';

  /** Node options of the server process before the script (`--cpu-prof` for a profile). */
  nodeArgs: string[] = [];

  constructor(
    readonly data: string,
    readonly port: number,
  ) {}

  /** Starts the server; resolves once it listens, rejects with its output if it exits first. */
  async start(timeoutMs = 30_000): Promise<void> {
    this.out = '';
    this.err = '';
    const child = spawn(process.execPath, [...this.nodeArgs, BIN, 'coordinator', 'serve', '--data', this.data, '--host', '127.0.0.1', '--port', String(this.port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.on('data', (b: Buffer) => (this.out = (this.out + b.toString()).slice(-200_000)));
    child.stderr?.on('data', (b: Buffer) => (this.err = (this.err + b.toString()).slice(-200_000)));
    this.url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`coordinator did not listen within ${timeoutMs} ms:\n${this.err}`)), timeoutMs);
      const onData = () => {
        const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(this.out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1] as string);
        }
      };
      child.stdout?.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new CoordinatorExited(code, signal, this.err || this.out));
      });
    });
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** kill -9: no shutdown, no checkpoint, whatever was in flight is lost. */
  async crash(): Promise<void> {
    const c = this.child;
    if (!c || !this.running) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  }

  /** A graceful stop (SIGTERM): the database is closed and its WAL checkpointed. */
  async stop(): Promise<void> {
    const c = this.child;
    if (!c || !this.running) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    const force = setTimeout(() => c.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(force);
  }
}

export class CoordinatorExited extends Error {
  constructor(
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly output: string,
  ) {
    super(`coordinator exited (${code ?? signal}) before listening:\n${output.slice(0, 2000)}`);
  }
}

export interface ProxyFaults {
  /** Share of new connections dropped (half at once, half after a random part of their life). */
  dropRate: number;
  /** Upper bound of the delay before a connection is passed on, ms. */
  maxDelayMs: number;
}

export interface SeenRequest {
  method: string;
  /** The path with ids, numbers and hex replaced: `PUT /v1/pairs/:id/set/chunks/:n`. */
  kind: string;
  at: number;
}

/** Path with its variable segments replaced, so requests of one kind compare equal. */
export function requestKind(method: string, path: string): string {
  const p = path.split('?')[0] as string;
  const segs = p.split('/').map((s) => (/^\d+$/.test(s) ? ':n' : /[~%]|^[0-9a-f]{16,}$|^[A-Z]{2}-[A-Z0-9]+$|^e\d+$|^[A-Za-z0-9_-]{20,}$/.test(s) ? ':id' : s));
  return `${method} ${segs.join('/')}`;
}

/**
 * A TCP proxy on loopback in front of the coordinator. It reads the request
 * lines passing through (HTTP/1.1 is plain text here) for the observers, and
 * with faults set drops or delays connections.
 */
export class FaultProxy {
  faults: ProxyFaults = { dropRate: 0, maxDelayMs: 0 };
  observers: Array<(r: SeenRequest) => void> = [];
  readonly seen: SeenRequest[] = [];
  dropped = 0;
  connections = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly targetPort: () => number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(port = 0): Promise<void> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
  }

  private accept(client: Socket): void {
    this.connections++;
    this.sockets.add(client);
    client.once('close', () => this.sockets.delete(client));
    client.on('error', () => {});
    const f = this.faults;
    const drop = Math.random() < f.dropRate;
    if (drop) this.dropped++;
    if (drop && Math.random() < 0.5) {
      client.destroy();
      return;
    }
    const delay = f.maxDelayMs > 0 ? Math.random() * f.maxDelayMs : 0;
    client.pause();
    const go = () => {
      if (client.destroyed) return;
      const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort() });
      this.sockets.add(upstream);
      upstream.once('close', () => {
        this.sockets.delete(upstream);
        client.destroy();
      });
      upstream.on('error', () => client.destroy());
      client.once('close', () => upstream.destroy());
      client.on('data', (b: Buffer) => {
        this.observe(b);
        if (!upstream.write(b)) client.pause();
      });
      upstream.on('drain', () => client.resume());
      upstream.pipe(client);
      upstream.once('connect', () => client.resume());
      // A dropped connection that got this far dies mid-life: requests may have reached the coordinator, answers are lost.
      if (drop) setTimeout(() => {
        client.destroy();
        upstream.destroy();
      }, Math.random() * 1500);
    };
    if (delay > 0) setTimeout(go, delay);
    else go();
  }

  private observe(b: Buffer): void {
    const text = b.toString('latin1', 0, Math.min(b.length, 4096));
    for (const m of text.matchAll(/(?:^|\r\n)(GET|PUT|POST|DELETE|PATCH) (\/\S*) HTTP\/1\.[01]\r\n/g)) {
      const r: SeenRequest = { method: m[1] as string, kind: requestKind(m[1] as string, m[2] as string), at: performance.now() };
      this.seen.push(r);
      for (const o of this.observers) o(r);
    }
  }

  /** Cuts every open connection (a coordinator crash looks like this to the client). */
  cutAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.cutAll();
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

export interface WorldSpec {
  /** 2: one reveal agreement; 3: the end-to-end world's three agreements, one in count mode. */
  agencies: 2 | 3;
  /** Records of each agency that nobody else holds. */
  own: number;
  seed: number;
}

const AGENCIES: ReadonlyArray<{ id: string; country: string; style: Style }> = [
  { id: 'ES-CNP', country: 'ESP', style: 'es' },
  { id: 'PT-PJ', country: 'PRT', style: 'pt' },
  { id: 'FR-OCRTEH', country: 'FRA', style: 'fr' },
];

/** What a trial is judged on: each agency's matches, counts and hits, none of them depending on random handles or order. */
export interface Snapshot {
  matches: Record<string, string[]>;
  counts: Record<string, string[]>;
  hits: Record<string, string[]>;
  /** Pairs not complete, per agency (`pair state`). */
  pending: Record<string, string[]>;
}

/** Differences between a reference snapshot and a trial's, one line each (record ids are synthetic). */
export function diffSnapshots(ref: Snapshot, got: Snapshot): string[] {
  const out: string[] = [];
  for (const field of ['matches', 'counts', 'hits', 'pending'] as const) {
    for (const agency of new Set([...Object.keys(ref[field]), ...Object.keys(got[field])])) {
      const a = new Set(ref[field][agency] ?? []);
      const b = new Set(got[field][agency] ?? []);
      const missing = [...a].filter((x) => !b.has(x));
      const extra = [...b].filter((x) => !a.has(x));
      if (missing.length) out.push(`${agency} ${field}: ${missing.length} missing (e.g. ${missing.slice(0, 2).join(', ')})`);
      if (extra.length) out.push(`${agency} ${field}: ${extra.length} extra (e.g. ${extra.slice(0, 2).join(', ')})`);
    }
  }
  return out;
}

/** An enrolled, imported, never synced world on disk (coordinator stopped), copied for every trial. */
export class Template {
  private constructor(
    readonly dir: string,
    readonly spec: WorldSpec,
    readonly agencies: string[],
    readonly people: Map<number, Person>,
    readonly members: Map<string, number[]>,
  ) {}

  static async build(spec: WorldSpec): Promise<Template> {
    const dir = mkdtempSync(join(tmpdir(), 'concordat-soak-template-'));
    const agencies = AGENCIES.slice(0, spec.agencies);
    const init = await concordat(['coordinator', 'init', '--data', join(dir, 'coord')]);
    if (init.code !== 0) throw new Error(`coordinator init: ${init.stderr}`);
    const coord = new CoordinatorProcess(join(dir, 'coord'), await freePort());
    await coord.start();
    try {
      const admin = new AdminClient(coord.url, hexToBytes(readFileSync(join(dir, 'coord', 'admin.key'), 'utf8').trim()));
      for (const a of agencies) {
        const r = initAgency({ dir: join(dir, a.id), agency: a.id, coordinator: coord.url });
        await admin.post('/v1/admin/agencies', { id: a.id, name: a.id, country: a.country, signingKey: r.publicKeyHex });
      }
      const agreements: Array<[string, string[], string[], 'reveal' | 'count']> =
        spec.agencies === 2
          ? [['es-pt', ['ES-CNP', 'PT-PJ'], ['passport', 'email', 'phone', 'name_dob'], 'reveal']]
          : [
              ['es-pt', ['ES-CNP', 'PT-PJ'], ['passport', 'email', 'phone', 'name_dob'], 'reveal'],
              ['es-fr', ['ES-CNP', 'FR-OCRTEH'], ['passport', 'phone', 'iban'], 'reveal'],
              ['pt-fr', ['PT-PJ', 'FR-OCRTEH'], ['passport', 'email'], 'count'],
            ];
      for (const [id, parties, kinds, mode] of agreements) {
        await admin.post('/v1/admin/agreements', { id, parties, kinds, mode, validUntil: '2030-12-31', legalBasis: 'fault suite' });
        for (const p of parties) {
          const agency = loadAgency(join(dir, p));
          const store = openStore(agency.dir);
          try {
            await acceptAgreementVersion(agency, store, agencyClient(agency, { retries: 2 }), { id, officer: `ops.${p}` });
          } finally {
            store.close();
          }
        }
      }
      // Planted two- and three-way overlaps, then each agency's own records.
      const rnd = prng(spec.seed);
      const members = new Map<string, number[]>(agencies.map((a) => [a.id, []]));
      const groups: Array<[string, number]> =
        spec.agencies === 2 ? [['ES-CNP+PT-PJ', 15]] : [['ES-CNP+PT-PJ', 12], ['ES-CNP+FR-OCRTEH', 9], ['PT-PJ+FR-OCRTEH', 7], ['ES-CNP+PT-PJ+FR-OCRTEH', 5]];
      let next = 1;
      for (const [group, n] of groups) for (let i = 0; i < n; i++, next++) for (const a of group.split('+')) members.get(a)?.push(next);
      for (const a of agencies) for (let i = 0; i < spec.own; i++) members.get(a.id)?.push(next++);
      const people = new Map<number, Person>();
      for (let id = 1; id < next; id++) people.set(id, makePerson(id, rnd));
      for (const a of agencies) {
        const file = join(dir, `${a.id}.csv`);
        writeFileSync(file, toCsv((members.get(a.id) ?? []).flatMap((id) => rowsFor(people.get(id) as Person, `${a.id}-${id}`, a.style))));
        const store = openStore(join(dir, a.id));
        try {
          await importWatchlist(store, file);
        } finally {
          store.close();
        }
      }
      return new Template(dir, spec, agencies.map((a) => a.id), people, members);
    } finally {
      await coord.stop();
    }
  }

  /** A copy of the template in a directory of its own, coordinator not started. */
  async trial(from: string = this.dir): Promise<Trial> {
    const dir = mkdtempSync(join(tmpdir(), 'concordat-soak-trial-'));
    cpSync(from, dir, { recursive: true });
    return new Trial(dir, this.agencies, await freePort());
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface SyncRound {
  agency: string;
  run: Run;
}

/** One trial's copy of the world: its coordinator behind its proxy, and the agency directories pointed at the proxy. */
export class Trial {
  readonly coord: CoordinatorProcess;
  readonly proxy: FaultProxy;
  /** Every sync this trial ran, in order. */
  readonly syncs: SyncRound[] = [];

  constructor(
    readonly dir: string,
    readonly agencies: string[],
    coordPort: number,
    coordData: string = join(dir, 'coord'),
  ) {
    this.coord = new CoordinatorProcess(coordData, coordPort);
    this.proxy = new FaultProxy(() => this.coord.port);
  }

  /** Starts the proxy and points every agency at it; then the coordinator unless `coordinator` is false. */
  async start(coordinator = true): Promise<void> {
    await this.proxy.listen();
    for (const a of this.agencies) {
      const file = join(this.dir, a, 'agency.json');
      const j = JSON.parse(readFileSync(file, 'utf8')) as { coordinator: string };
      j.coordinator = this.proxy.url;
      writeFileSync(file, `${JSON.stringify(j, null, 2)}\n`, { mode: 0o600 });
    }
    if (coordinator) await this.coord.start();
  }

  agencyDir(a: string): string {
    return join(this.dir, a);
  }

  /** `concordat sync` of one agency, run to its end. */
  async sync(agency: string): Promise<Run> {
    const run = await concordat(['sync', '--dir', this.agencyDir(agency)]);
    this.syncs.push({ agency, run });
    return run;
  }

  /** `concordat sync` of one agency, as a process the caller may kill. */
  spawnSync(agency: string): CliProcess {
    return new CliProcess(['sync', '--dir', this.agencyDir(agency)]);
  }

  /**
   * Rounds of every agency's sync, as the nightly job runs them after any
   * failure, until a round in which every sync exited 0 leaves every pair
   * complete (at least `minRounds` rounds).
   */
  async converge(minRounds = 1, maxRounds = 6): Promise<{ rounds: number; failed: string[] }> {
    const failed: string[] = [];
    for (let round = 1; round <= maxRounds; round++) {
      let clean = true;
      for (const a of this.agencies) {
        const r = await this.sync(a);
        if (r.code !== 0) {
          clean = false;
          failed.push(`${a} round ${round}: exit ${r.code ?? r.signal}: ${lastLine(r.stderr)}`);
        }
      }
      if (clean && round >= minRounds && this.pendingPairs().length === 0) return { rounds: round, failed };
    }
    return { rounds: maxRounds, failed: [...failed, `no clean round in ${maxRounds}`] };
  }

  /** Pairs some agency's store does not hold as complete (after its last sync). */
  pendingPairs(): string[] {
    const out: string[] = [];
    for (const a of this.agencies) {
      const store = openStore(this.agencyDir(a));
      try {
        const rows = store.sqlite.prepare("SELECT pair, state FROM pair_results").all() as Array<{ pair: string; state: string }>;
        if (rows.length === 0) out.push(`${a}: no pair results`);
        for (const r of rows) if (r.state !== 'complete') out.push(`${a}: ${r.pair} ${r.state}`);
      } finally {
        store.close();
      }
    }
    return out;
  }

  /** Each agency's results and hits, pulled from the coordinator as `results` and `hits` do. */
  async snapshot(): Promise<Snapshot> {
    const s: Snapshot = { matches: {}, counts: {}, hits: {}, pending: {} };
    for (const a of this.agencies) {
      const agency = loadAgency(this.agencyDir(a));
      const store = openStore(agency.dir);
      try {
        const client = agencyClient(agency, { retries: 3, timeoutMs: 30_000, label: 'snapshot' });
        await pullResults(client, store);
        await pullHitStatuses(client, store);
        const view = loadResultsView(store);
        s.matches[a] = view.matches.map((m) => `${m.partner}|${m.record_id}|${m.kinds.join('+')}`).sort();
        s.counts[a] = view.counts.map((c) => `${c.partner}|${c.count}`).sort();
        s.pending[a] = view.pairs.filter((p) => p.state !== 'complete').map((p) => `${p.pair}|${p.state}`).sort();
        s.hits[a] = (await listHits(client, store)).filter((h) => h.source === 'nightly').map((h) => `${h.partner}|${[...h.record_ids].sort().join(';')}|${[...h.kinds].sort().join('+')}`).sort();
      } finally {
        store.close();
      }
    }
    return s;
  }

  /** `coordinator audit verify` on the trial's database (coordinator stopped first). */
  async auditVerify(): Promise<string | undefined> {
    await this.coord.stop();
    const r = await concordat(['coordinator', 'audit', 'verify', '--data', this.coord.data]);
    return r.code === 0 ? undefined : `audit verify exit ${r.code ?? r.signal}: ${lastLine(r.stderr || r.stdout)}`;
  }

  async stop(): Promise<void> {
    await this.proxy.close();
    await this.coord.stop();
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function lastLine(s: string): string {
  const lines = s.trim().split('\n').filter((l) => l.trim() !== '');
  return (lines.at(-1) ?? '').slice(0, 300);
}
