// A small world for the targeted-query tests: the real coordinator
// (client-coordinator.ts) on 127.0.0.1, agency directories with planted
// watchlists synced in-process, and the built `concordat` binary for
// `query`, `serve` and `hits` in child processes, as operators run them.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acceptAgreementVersion } from '../clients/agency/agreements.js';
import { initAgency, loadAgency, type Agency } from '../clients/agency/config.js';
import { sync } from '../clients/agency/sync.js';
import { importWatchlist } from '../clients/agency/watchlist.js';
import { openStore } from '../clients/store/db.js';
import { RealCoordinator, type AgreementInput } from './client-coordinator.js';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const bin = join(root, 'bin', 'concordat.js');
export const built = existsSync(join(root, 'dist', 'clients', 'cli', 'main.js'));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export const passport = (p: number): string => `ESP:P${String(p).padStart(7, '0')}`;
export const email = (p: number): string => `person${p}@mail.example`;

export function csvOf(prefix: string, people: readonly number[]): string {
  const lines = ['record_id,kind,value'];
  for (const p of people) lines.push(`${prefix}-${p},passport,${passport(p)}`, `${prefix}-${p},email,${email(p)}`);
  return `${lines.join('\n')}\n`;
}

export const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

/** A running `concordat serve` child process. */
export class ServeProcess {
  out = '';
  err = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (b: Buffer) => (this.out += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (this.err += b.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Resolves once stdout matches `re` (or rejects after `ms`). */
  async waitFor(re: RegExp, ms = 20_000): Promise<void> {
    const until = Date.now() + ms;
    while (!re.test(this.out)) {
      if (this.child.exitCode !== null) throw new Error(`serve exited (${this.child.exitCode}) before ${re}:\n${this.out}\n${this.err}`);
      if (Date.now() > until) throw new Error(`serve: no ${re} within ${ms} ms:\n${this.out}\n${this.err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

export function startServe(dir: string, args: string[] = ['--sync-every', '0']): ServeProcess {
  return new ServeProcess(spawn(process.execPath, [bin, 'serve', '--dir', dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

export class World {
  readonly work = mkdtempSync(join(tmpdir(), 'concordat-world-'));
  readonly agencies = new Map<string, Agency>();
  readonly serves: ServeProcess[] = [];

  private constructor(readonly coord: RealCoordinator) {}

  static async start(): Promise<World> {
    return new World(await RealCoordinator.start());
  }

  dir(id: string): string {
    return join(this.work, id);
  }

  async agency(id: string, country: string, people: readonly number[]): Promise<Agency> {
    const r = initAgency({ dir: this.dir(id), agency: id, coordinator: this.coord.url });
    const agency = loadAgency(r.dir);
    await this.coord.addAgency(id, r.publicKeyHex, country, agency.signingKey);
    const file = join(this.work, `${id}.csv`);
    writeFileSync(file, csvOf(id, people));
    const store = openStore(r.dir);
    try {
      await importWatchlist(store, file);
    } finally {
      store.close();
    }
    this.agencies.set(id, agency);
    return agency;
  }

  /** Proposes an agreement and, unless `accept` is false, has every party of this world accept it (protocol/SPEC.md §8.6). */
  async agreement(a: Partial<AgreementInput> & { id: string; parties: string[] }, accept = true): Promise<unknown> {
    const r = await this.coord.addAgreement({ kinds: ['passport', 'email'], mode: 'reveal', ...a });
    if (accept) for (const id of a.parties) if (this.agencies.has(id)) await this.accept(id, a.id);
    return r;
  }

  /** `id` accepts the latest version of `agreement`, locally and at the coordinator, as `concordat agreements accept --yes` does. */
  async accept(id: string, agreement: string, version?: number): Promise<void> {
    const agency = this.agencies.get(id) as Agency;
    const store = openStore(agency.dir);
    try {
      await acceptAgreementVersion(agency, store, this.coord.client(agency.agency, agency.signingKey), { id: agreement, ...(version ? { version } : {}), officer: 'test.officer' });
    } finally {
      store.close();
    }
  }

  async sync(id: string): Promise<void> {
    const agency = this.agencies.get(id) as Agency;
    const store = openStore(agency.dir);
    try {
      const r = await sync(agency, store, { threads: 0, canaryCount: () => 5, client: this.coord.client(agency.agency, agency.signingKey) });
      if (r.errors.length > 0) throw new Error(`sync ${id}: ${r.errors.join('; ')}`);
    } finally {
      store.close();
    }
  }

  /** Two rounds of sync for every agency: every pair complete. */
  async syncAll(): Promise<void> {
    for (let round = 0; round < 2; round++) for (const id of this.agencies.keys()) await this.sync(id);
  }

  serve(id: string, args?: string[]): ServeProcess {
    const s = startServe(this.dir(id), args);
    this.serves.push(s);
    return s;
  }

  async stop(): Promise<void> {
    await Promise.all(this.serves.map((s) => s.stop()));
    await this.coord.stop();
    rmSync(this.work, { recursive: true, force: true });
  }
}

/** `concordat query … --json`, parsed. */
export interface QueryJson {
  results: Array<{ partner: string; kind: string; value_index: number; hit: boolean; handle?: string }>;
  query_id: string;
  errors?: Array<{ partner: string; error: string; detail?: string }>;
  pending?: Array<{ partner: string; state: string; detail?: string }>;
}
