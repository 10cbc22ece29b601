// Real agencies against the hostile coordinator of hostile.ts: agency
// directories made by the client's own `initAgency`, planted watchlists
// imported with `importWatchlist`, agreements accepted with the built
// `concordat agreements accept`, syncs run in-process with the library's
// `sync`, and `concordat serve` as a child process — the code the agencies
// run, unmodified. Only the coordinator is the test's.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listAudit, type LocalAuditEntry } from '../../clients/agency/audit.js';
import { initAgency, loadAgency, type Agency } from '../../clients/agency/config.js';
import { sync, type SyncReport } from '../../clients/agency/sync.js';
import { importWatchlist } from '../../clients/agency/watchlist.js';
import { openStore, type Store } from '../../clients/store/db.js';
import { HostileCoordinator, type AgreementInput } from './hostile.js';

// The CLI runner and planted values are the client tests' own (test/client-world.ts).
export { bin, built, cli, email, passport, range, root, type Run } from '../client-world.js';
import { bin, cli, email, passport, type Run } from '../client-world.js';

export function csvOf(prefix: string, people: readonly number[]): string {
  const lines = ['record_id,kind,value'];
  for (const p of people) lines.push(`${prefix}-${p},passport,${passport(p)}`, `${prefix}-${p},email,${email(p)}`);
  return `${lines.join('\n')}\n`;
}

export async function waitUntil<T>(f: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

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

  async waitFor(re: RegExp, ms = 20_000): Promise<void> {
    await waitUntil(() => {
      if (this.child.exitCode !== null) throw new Error(`serve exited (${this.child.exitCode}) before ${re}:\n${this.out}\n${this.err}`);
      return re.test(this.out + this.err);
    }, `serve output ${re}:\n${this.out}\n${this.err}`, ms);
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

export class World {
  readonly work = mkdtempSync(join(tmpdir(), 'concordat-adversary-'));
  readonly agencies = new Map<string, Agency>();
  readonly serves: ServeProcess[] = [];
  /** Every identifier planted in a watchlist, as written in the CSV files. */
  readonly planted: Array<{ kind: 'passport' | 'email'; value: string }> = [];

  private constructor(readonly coord: HostileCoordinator) {}

  static async start(): Promise<World> {
    return new World(await HostileCoordinator.start());
  }

  dir(id: string): string {
    return join(this.work, id);
  }

  get(id: string): Agency {
    const a = this.agencies.get(id);
    if (!a) throw new Error(`no agency ${id}`);
    return a;
  }

  async agency(id: string, country: string, people: readonly number[]): Promise<Agency> {
    const r = initAgency({ dir: this.dir(id), agency: id, coordinator: this.coord.url });
    const agency = loadAgency(r.dir);
    await this.coord.addAgency(id, r.publicKeyHex, country);
    const file = join(this.work, `${id}.csv`);
    writeFileSync(file, csvOf(id, people));
    for (const p of people) this.planted.push({ kind: 'passport', value: passport(p) }, { kind: 'email', value: email(p) });
    await this.withStore(id, (s) => importWatchlist(s, file));
    this.agencies.set(id, agency);
    return agency;
  }

  /** The admin proposes an agreement (the coordinator's own, unsigned act); returns its response. */
  agreement(a: Partial<AgreementInput> & { id: string; parties: string[] }): Promise<any> {
    return this.coord.addAgreement({ kinds: ['passport', 'email'], mode: 'reveal', purposes: ['terrorism'], ...a });
  }

  /** An agency's officer accepts an agreement with the built CLI, as an operator does. */
  async accept(id: string, agreement: string, version?: number): Promise<Run> {
    const r = await cli(['agreements', 'accept', agreement, ...(version ? ['--version', String(version)] : []), '--dir', this.dir(id), '--officer', `${id}-dpo`, '--yes']);
    if (r.code !== 0) throw new Error(`agreements accept ${agreement} (${id}) exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  /** Every party accepts. */
  async acceptAll(agreement: string, parties: readonly string[], version?: number): Promise<void> {
    await Promise.all(parties.map((p) => this.accept(p, agreement, version)));
  }

  async withStore<T>(id: string, f: (s: Store) => T | Promise<T>): Promise<T> {
    const s = openStore(this.dir(id));
    try {
      return await f(s);
    } finally {
      s.close();
    }
  }

  /** One sync of an agency, in-process; errors are reported, not thrown (an attack is expected to cause some). */
  async sync(id: string, warnings?: string[]): Promise<SyncReport> {
    const agency = this.get(id);
    return this.withStore(id, (store) =>
      sync(agency, store, {
        threads: 0,
        chunkElements: 64,
        canaryCount: () => 5,
        client: this.coord.client(agency.agency, agency.signingKey),
        warn: (l) => warnings?.push(l),
      }),
    );
  }

  /** Rounds of sync for the given agencies until every pair of theirs is complete (or `rounds` pass). */
  async syncAll(ids: readonly string[], rounds = 2): Promise<void> {
    for (let i = 0; i < rounds; i++) for (const id of ids) await this.sync(id);
  }

  serve(id: string, env: Record<string, string> = {}): ServeProcess {
    const s = new ServeProcess(
      spawn(process.execPath, [bin, 'serve', '--dir', this.dir(id), '--sync-every', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } }),
    );
    this.serves.push(s);
    return s;
  }

  /** The agency's LOCAL audit trail (what its console's audit page shows), newest first. */
  audit(id: string): Promise<LocalAuditEntry[]> {
    return this.withStore(id, (s) => listAudit(s));
  }

  /** Waits for a local audit entry of `action` matching `f`; returns it. */
  async audited(id: string, action: string, f: (e: LocalAuditEntry) => boolean = () => true, ms = 20_000): Promise<LocalAuditEntry> {
    return waitUntil(async () => (await this.audit(id)).find((e) => e.action === action && f(e)), `a local audit entry ${action} at ${id}`, ms);
  }

  async stop(): Promise<void> {
    await Promise.all(this.serves.map((s) => s.stop()));
    await this.coord.stop();
    rmSync(this.work, { recursive: true, force: true });
  }
}
