// The fault scenarios. Each runs `trials` independent copies of the
// template world, injects its fault with real processes (kill -9 of the CLI
// or of the coordinator, a flaky proxy, a flipped bit in the stopped
// database, a full filesystem), lets the agencies sync to convergence as
// their nightly job would, and compares the outcome with the clean reference.
import { execFileSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinatorExited, diffSnapshots, lastLine, sleep, STACK_RE, Template, Trial, type SeenRequest, type Snapshot } from './world.js';

export interface ScenarioResult {
  scenario: string;
  trials: number;
  failures: number;
  /** What diverged, one line per failed trial (the first few). */
  diverged: string[];
  /** Facts of the runs that are not failures (how often a sync was cut before its end, refusals to start…). */
  notes: string[];
  seconds: number;
}

export interface ReferenceSync {
  agency: string;
  ms: number;
  /** Request kinds in the order the proxy saw them during this sync. */
  requests: string[];
}

export interface Reference {
  template: Template;
  snapshot: Snapshot;
  syncs: ReferenceSync[];
  /** A stopped copy of the world after the clean run: bit-flip trials start from it. */
  converged: string;
  seconds: number;
}

export type Rng = () => number;

const pick = <T>(rnd: Rng, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;

/** Builds the template and runs it cleanly: two rounds of every agency's sync. */
export async function reference(template: Template): Promise<Reference> {
  const t0 = performance.now();
  const t = await template.trial();
  try {
    await t.start();
    const syncs: ReferenceSync[] = [];
    for (let round = 0; round < 2; round++) {
      for (const a of t.agencies) {
        const from = t.proxy.seen.length;
        const r = await t.sync(a);
        if (r.code !== 0) throw new Error(`reference sync ${a} exited ${r.code ?? r.signal}:\n${r.stderr}`);
        syncs.push({ agency: a, ms: r.ms, requests: t.proxy.seen.slice(from).map((s) => s.kind) });
      }
    }
    const snapshot = await t.snapshot();
    const planted = plantedDiff(template, snapshot);
    if (planted.length) throw new Error(`the clean run differs from the planted overlaps: ${planted.join('; ')}`);
    const audit = await t.auditVerify();
    if (audit) throw new Error(`the clean run: ${audit}`);
    await t.stop();
    return { template, snapshot, syncs, converged: t.dir, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    await t.stop();
    t.remove();
    throw e;
  }
}

/** The reveal agreements' matches the planted data implies, against the snapshot. */
function plantedDiff(template: Template, s: Snapshot): string[] {
  const reveal = template.spec.agencies === 2 ? [['ES-CNP', 'PT-PJ']] : [['ES-CNP', 'PT-PJ'], ['ES-CNP', 'FR-OCRTEH']];
  const out: string[] = [];
  for (const [x, y] of reveal as Array<[string, string]>) {
    for (const [me, partner] of [[x, y], [y, x]] as Array<[string, string]>) {
      const theirs = new Set(template.members.get(partner));
      const want = (template.members.get(me) ?? []).filter((id) => theirs.has(id)).map((id) => `${me}-${id}`).sort();
      const got = (s.matches[me] ?? []).filter((m) => m.startsWith(`${partner}|`)).map((m) => m.split('|')[1] as string).sort();
      if (want.join() !== got.join()) out.push(`${me} with ${partner}: ${got.length} matches, ${want.length} planted`);
    }
  }
  return out;
}

/** Converges, snapshots, verifies the audit chain, and says what differs from the reference. */
async function judge(t: Trial, ref: Reference, minRounds = 1): Promise<string[]> {
  const c = await t.converge(minRounds);
  const out: string[] = c.failed.some((f) => f.startsWith('no clean round')) ? c.failed.slice(-2) : [];
  for (const r of t.syncs) {
    if (!STACK_RE.test(r.run.stderr)) continue;
    // The line above the first frame names the error.
    const lines = r.run.stderr.split('\n');
    const frame = lines.findIndex((l) => /^\s+at /.test(l));
    out.push(`sync ${r.agency}: a stack trace on stderr ("${(lines[Math.max(0, frame - 1)] ?? '').trim().slice(0, 200)}" ${(lines[frame] ?? '').trim().slice(0, 120)})`);
  }
  out.push(...diffSnapshots(ref.snapshot, await t.snapshot()));
  const audit = await t.auditVerify();
  if (audit) out.push(audit);
  return out;
}

class Tally {
  trials = 0;
  failures = 0;
  readonly diverged: string[] = [];
  readonly notes = new Map<string, number>();
  private readonly t0 = performance.now();
  constructor(readonly scenario: string) {}

  record(trial: number, what: string[]): void {
    this.trials++;
    if (what.length === 0) return;
    this.failures++;
    if (this.diverged.length < 8) this.diverged.push(`#${trial}: ${what.slice(0, 3).join('; ')}`);
  }

  note(n: string): void {
    this.notes.set(n, (this.notes.get(n) ?? 0) + 1);
  }

  result(): ScenarioResult {
    return {
      scenario: this.scenario,
      trials: this.trials,
      failures: this.failures,
      diverged: this.diverged,
      notes: [...this.notes].map(([n, k]) => `${n}: ${k}`),
      seconds: Number(((performance.now() - this.t0) / 1000).toFixed(1)),
    };
  }
}

/** Runs the reference's sync sequence up to (not including) index `k`; false if one of them failed. */
async function replayUntil(t: Trial, ref: Reference, k: number): Promise<string | undefined> {
  for (let i = 0; i < k; i++) {
    const s = ref.syncs[i] as ReferenceSync;
    const r = await t.sync(s.agency);
    if (r.code !== 0) return `replayed sync ${s.agency} exited ${r.code ?? r.signal}: ${lastLine(r.stderr)}`;
  }
  return undefined;
}

/** Starts the trial and replays the reference up to a random one of its first `o.maxSyncIndex` syncs: that sync, or why the replay broke. */
async function startAtRandomSync(t: Trial, ref: Reference, o: ScenarioOptions): Promise<{ k: number; s: ReferenceSync; broken: string | undefined }> {
  await t.start();
  const last = Math.min(ref.syncs.length, o.maxSyncIndex ?? ref.syncs.length);
  const k = Math.floor(o.rnd() * last);
  return { k, s: ref.syncs[k] as ReferenceSync, broken: await replayUntil(t, ref, k) };
}

export interface ScenarioOptions {
  trials: number;
  rnd: Rng;
  /** Only the first this many syncs of the reference sequence are faulted (the short run keeps it small). */
  maxSyncIndex?: number;
  /** read-only-agency: make the files immutable too (default: a coin flip per trial). */
  immutableFiles?: boolean;
  log?: (line: string) => void;
}

/** A request the proxy sees after `after`: its n-th occurrence (1-based) of `kind` resolves the promise. */
function whenSeen(t: Trial, kind: string, n: number, signal: { done: boolean }): Promise<SeenRequest | undefined> {
  return new Promise((resolve) => {
    let count = 0;
    const o = (r: SeenRequest) => {
      if (signal.done) return;
      if (r.kind === kind && ++count === n) {
        t.proxy.observers = t.proxy.observers.filter((x) => x !== o);
        resolve(r);
      }
    };
    t.proxy.observers.push(o);
  });
}

/** (a) kill -9 of `concordat sync` at a random moment, or just after a random request of its reached the coordinator. */
export async function killSync(ref: Reference, o: ScenarioOptions): Promise<ScenarioResult> {
  const tally = new Tally('kill -9 sync');
  for (let i = 1; i <= o.trials; i++) {
    const t = await ref.template.trial();
    try {
      const { k, s, broken } = await startAtRandomSync(t, ref, o);
      if (broken) {
        tally.record(i, [broken]);
        continue;
      }
      const p = t.spawnSync(s.agency);
      const done = { done: false };
      let how: string;
      if (s.requests.length > 0 && o.rnd() < 0.6) {
        const j = Math.floor(o.rnd() * s.requests.length);
        const kind = s.requests[j] as string;
        const n = s.requests.slice(0, j + 1).filter((x) => x === kind).length;
        const extra = Math.floor(o.rnd() * 30);
        how = `after ${kind}`;
        void whenSeen(t, kind, n, done).then(async (r) => {
          if (!r) return;
          await sleep(extra);
          p.kill('SIGKILL');
        });
      } else {
        const at = o.rnd() * s.ms;
        how = 'at a random moment';
        setTimeout(() => p.kill('SIGKILL'), at);
      }
      const r = await p.done;
      done.done = true;
      tally.note(r.signal === 'SIGKILL' ? `killed ${how.startsWith('after') ? 'after a request' : 'at a random moment'}` : 'finished before the kill');
      if (r.signal !== 'SIGKILL' && r.code !== 0) tally.note(`the sync to kill exited ${r.code}`);
      tally.record(i, await judge(t, ref));
      o.log?.(`  kill -9 sync #${i}: ${s.agency} sync ${k + 1} ${how} → ${tally.failures} failure(s) so far`);
    } finally {
      await t.stop();
      t.remove();
    }
  }
  return tally.result();
}

const UPLOAD_RE = /^PUT \/v1\/pairs\/:id\/(set|partner-set)\/chunks\/:n(\/tokens)?$/;

/** (b) kill -9 of `coordinator serve` just after a chunk or token upload reached it, restarted on the same data; the syncs go on. */
export async function crashCoordinator(ref: Reference, o: ScenarioOptions): Promise<ScenarioResult> {
  const tally = new Tally('coordinator crash mid-upload');
  const candidates = ref.syncs.map((s, k) => ({ s, k })).filter(({ s, k }) => k < (o.maxSyncIndex ?? Infinity) && s.requests.some((r) => UPLOAD_RE.test(r)));
  if (candidates.length === 0) throw new Error('the reference run made no chunk or token upload');
  for (let i = 1; i <= o.trials; i++) {
    const t = await ref.template.trial();
    try {
      await t.start();
      const { s, k } = pick(o.rnd, candidates);
      const uploads = s.requests.map((r, j) => ({ r, j })).filter(({ r }) => UPLOAD_RE.test(r));
      const { r: kind, j } = pick(o.rnd, uploads);
      const n = s.requests.slice(0, j + 1).filter((x) => x === kind).length;
      const broken = await replayUntil(t, ref, k);
      if (broken) {
        tally.record(i, [broken]);
        continue;
      }
      const done = { done: false };
      const extra = Math.floor(o.rnd() * 40);
      let restarted: Promise<string | undefined> = Promise.resolve(undefined);
      void whenSeen(t, kind, n, done).then((seen) => {
        if (!seen) return;
        restarted = (async () => {
          await sleep(extra);
          await t.coord.crash();
          tally.note('coordinator killed');
          try {
            await t.coord.start();
            return undefined;
          } catch (e) {
            return `coordinator did not restart: ${e instanceof Error ? lastLine(e.message) : String(e)}`;
          }
        })();
      });
      const r = await t.sync(s.agency);
      done.done = true;
      const restartFailure = await restarted;
      if (restartFailure) {
        tally.record(i, [restartFailure]);
        continue;
      }
      tally.note(r.code === 0 ? 'the interrupted sync recovered by itself' : 'the interrupted sync failed, resumed by the next');
      tally.record(i, await judge(t, ref));
      o.log?.(`  coordinator crash #${i}: during ${s.agency} sync ${k + 1} after ${kind} #${n} → ${tally.failures} failure(s) so far`);
    } finally {
      await t.stop();
      t.remove();
    }
  }
  return tally.result();
}

/** (c) every sync through a proxy dropping ~10 % of connections and delaying the rest by up to 2 s; then the nightly job converges. */
export async function flakyProxy(ref: Reference, o: ScenarioOptions & { dropRate?: number; maxDelayMs?: number }): Promise<ScenarioResult> {
  const tally = new Tally('flaky proxy');
  for (let i = 1; i <= o.trials; i++) {
    const t = await ref.template.trial();
    try {
      await t.start();
      t.proxy.faults = { dropRate: o.dropRate ?? 0.1, maxDelayMs: o.maxDelayMs ?? 2000 };
      const under = await t.converge(1, 4);
      for (const f of under.failed) tally.note(f.startsWith('no clean') ? 'no clean round while flaky' : 'a sync failed while flaky');
      tally.note(`connections dropped ${t.proxy.dropped} of ${t.proxy.connections}`.replace(/\d+ of \d+/, 'n'));
      const dropped = t.proxy.dropped;
      t.proxy.faults = { dropRate: 0, maxDelayMs: 0 };
      const what = await judge(t, ref);
      tally.record(i, what);
      o.log?.(`  flaky proxy #${i}: ${dropped}/${t.proxy.connections} connections dropped, ${under.failed.length} failed sync(s) while flaky → ${what.length ? what[0] : 'same as reference'}`);
    } finally {
      await t.stop();
      t.remove();
    }
  }
  return tally.result();
}

/** Flips one bit of `file` at a random position. */
export function flipBit(file: string, rnd: Rng): { offset: number; bit: number } {
  const size = statSync(file).size;
  const offset = Math.floor(rnd() * size);
  const bit = Math.floor(rnd() * 8);
  const fd = openSync(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, offset);
    b[0] = (b[0] as number) ^ (1 << bit);
    writeSync(fd, b, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
  return { offset, bit };
}

/**
 * (d) one bit flipped in the stopped coordinator's database: it must refuse
 * to start (naming the problem, no stack trace), or the agencies' next syncs
 * must give the reference results; a different result is a failure, and a
 * silent one (every sync exiting 0) is called so.
 */
export async function bitFlips(ref: Reference, o: ScenarioOptions): Promise<ScenarioResult> {
  const tally = new Tally('bit flip in coordinator.db');
  for (let i = 1; i <= o.trials; i++) {
    const t = await ref.template.trial(ref.converged);
    try {
      const db = join(t.coord.data, 'coordinator.db');
      for (const side of ['-wal', '-shm']) if (existsSync(db + side) && statSync(db + side).size > 0 && side === '-wal') throw new Error('the stopped database still has a WAL');
      const { offset, bit } = flipBit(db, o.rnd);
      const page = Math.floor(offset / 4096) + 1;
      try {
        await t.start();
      } catch (e) {
        if (e instanceof CoordinatorExited) {
          const what: string[] = [];
          if (STACK_RE.test(e.output)) what.push('refused to start with a stack trace');
          if (e.output.trim() === '') what.push('refused to start without a message');
          tally.note('refused to start');
          tally.record(i, what);
          o.log?.(`  bit flip #${i}: page ${page} bit ${bit} → refused: ${lastLine(e.output)}`);
          continue;
        }
        throw e;
      }
      const c = await t.converge(1, 3);
      const diff = diffSnapshots(ref.snapshot, await t.snapshot().catch(() => ({ matches: {}, counts: {}, hits: {}, pending: { all: ['snapshot failed'] } })));
      const crashed = !t.coord.running;
      if (diff.length === 0) {
        tally.note(c.failed.length ? 'served, syncs failed, results still equal' : 'served, results equal');
        tally.record(i, []);
      } else {
        const silent = c.failed.length === 0 && !crashed;
        tally.note(silent ? 'served a different result silently' : 'served, a sync failed, results differ');
        tally.record(i, [`page ${page} bit ${bit}: ${silent ? 'SILENTLY ' : ''}${diff.slice(0, 2).join('; ')}${c.failed[0] ? ` (sync: ${c.failed[0]})` : ''}`]);
      }
      o.log?.(`  bit flip #${i}: page ${page} bit ${bit} → served, ${diff.length ? `${diff.length} difference(s)` : 'same as reference'}`);
    } finally {
      await t.stop();
      t.remove();
    }
  }
  return tally.result();
}

/** Whether this process may mount a tmpfs (root or CAP_SYS_ADMIN): tried once on a scratch directory. */
export function canMountTmpfs(): { ok: true } | { ok: false; why: string } {
  const dir = mkdtempSync(join(tmpdir(), 'concordat-soak-mnt-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' });
    execFileSync('umount', [dir], { stdio: 'pipe' });
    return { ok: true };
  } catch (e) {
    const err = (e as { stderr?: Buffer }).stderr?.toString().trim();
    return { ok: false, why: err || (e instanceof Error ? e.message : String(e)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Fills the filesystem holding `dir` with a ballast file until writes fail with ENOSPC. */
function fill(dir: string): string {
  const file = join(dir, 'ballast');
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(64 * 1024, 0xa5);
  try {
    for (;;) {
      try {
        writeSync(fd, block);
      } catch (e) {
        if ((e as { code?: string }).code !== 'ENOSPC') throw e;
        // The last partial block: as close to full as the filesystem allows.
        for (let n = 4096; n >= 1; n >>= 1) {
          try {
            for (;;) writeSync(fd, block.subarray(0, n));
          } catch {
            // next smaller size
          }
        }
        return file;
      }
    }
  } finally {
    closeSync(fd);
  }
}

const CLEAR_STORAGE_RE = /\b503\b|storage|disk|space|ENOSPC|full/i;

/**
 * (e) the coordinator's data directory on a small tmpfs filled to the last
 * byte: the syncs must fail saying so (503, storage full; not "500 Internal
 * error"), then converge to the reference once the ballast is removed.
 */
export async function fullDisk(ref: Reference, o: ScenarioOptions): Promise<ScenarioResult> {
  const tally = new Tally('full disk (tmpfs)');
  const can = canMountTmpfs();
  if (!can.ok) {
    tally.trials = 0;
    tally.failures = 1;
    tally.diverged.push(`cannot mount a tmpfs here (${can.why}): run the suite as root or with CAP_SYS_ADMIN`);
    return tally.result();
  }
  for (let i = 1; i <= o.trials; i++) {
    const t0 = await ref.template.trial();
    const mnt = join(t0.dir, 'coord-tmpfs');
    mkdirSync(mnt);
    const used = dirSize(join(t0.dir, 'coord'));
    // Room for the database as it is and its growth through a whole night's syncs, no more.
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${Math.ceil((used * 3 + 8 * 1024 * 1024) / 4096) * 4096},mode=0700`, 'tmpfs', mnt]);
    const t = new Trial(t0.dir, t0.agencies, t0.coord.port, mnt);
    try {
      cpSync(join(t0.dir, 'coord'), mnt, { recursive: true });
      await t.start();
      // Let the first agency's first sync write part of its set, then the disk is full.
      const first = ref.syncs[0] as ReferenceSync;
      const k = Math.floor(o.rnd() * Math.max(1, (first.requests.filter((r) => UPLOAD_RE.test(r)).length)));
      let ballast: string | undefined;
      const full = k === 0 ? ((ballast = fill(mnt)), Promise.resolve()) : whenSeen(t, first.requests.filter((r) => UPLOAD_RE.test(r))[0] as string, k, { done: false }).then(() => void (ballast = fill(mnt)));
      const p = t.spawnSync(first.agency);
      // The client retries a failing write with backoff; its first retry lines (or its exit) say how the failure reads.
      const until = Date.now() + 20_000;
      await full;
      const seenFrom = p.stderr.length;
      while (Date.now() < until && p.child.exitCode === null && !/retry \d|error/i.test(p.stderr.slice(seenFrom))) await sleep(100);
      await sleep(200);
      p.kill('SIGKILL');
      const r = await p.done;
      const said = r.stderr.slice(seenFrom).split('\n').filter((l) => /retry \d|error|fail/i.test(l));
      const what: string[] = [];
      if (said.length === 0) what.push('the sync said nothing within 20 s of the disk filling');
      else if (!CLEAR_STORAGE_RE.test(said.join('\n')) || /\b500\b/.test(said.join('\n'))) what.push(`the failure does not say the coordinator is out of space: "${said[0]?.trim().slice(0, 160)}"`);
      if (STACK_RE.test(r.stderr)) what.push('a stack trace on stderr');
      if (ballast) unlinkSync(ballast);
      if (!t.coord.running) {
        tally.note('the coordinator died when the disk filled');
        await t.coord.start();
      }
      what.push(...(await judge(t, ref)));
      tally.record(i, what);
      o.log?.(`  full disk #${i}: filled after upload ${k}; the sync said "${said[0]?.trim().slice(0, 120) ?? 'nothing'}" → ${what.length ? what[0] : 'converged to the reference'}`);
    } finally {
      await t.stop();
      try {
        execFileSync('umount', [mnt], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
      }
      t0.remove();
    }
  }
  return tally.result();
}

function dirSize(dir: string): number {
  let n = 0;
  for (const f of ['coordinator.db', 'coordinator.db-wal', 'admin.key']) if (existsSync(join(dir, f))) n += statSync(join(dir, f)).size;
  return n;
}


/** Whether `chattr` can set the immutable attribute under `dir` (root on ext4, xfs, btrfs…). */
function canChattr(dir: string): { ok: true } | { ok: false; why: string } {
  const probe = mkdtempSync(join(dir, 'chattr-'));
  try {
    execFileSync('chattr', ['+i', probe], { stdio: 'pipe' });
    execFileSync('chattr', ['-i', probe], { stdio: 'pipe' });
    return { ok: true };
  } catch (e) {
    return { ok: false, why: lastLine(String((e as { stderr?: unknown }).stderr ?? e)) };
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** Its cause named: what the agency says when its own directory cannot be written. */
const CLEAR_LOCAL_RE = /EPERM|EROFS|EACCES|read-only|readonly|not permitted|permission/i;

/**
 * (f) the agency's own directory made immutable in the middle of a sync
 * (`chattr +i`: the directory alone, or with every file in it): the sync
 * must end by itself with an exit code and a message naming the cause —
 * never a signal such as SIGBUS, never a stack trace — and, once the
 * attribute is cleared, the next syncs converge to the reference.
 */
export async function readOnlyAgency(ref: Reference, o: ScenarioOptions): Promise<ScenarioResult> {
  const tally = new Tally('agency directory immutable mid-sync');
  for (let i = 1; i <= o.trials; i++) {
    const t = await ref.template.trial();
    const can = canChattr(t.dir);
    if (!can.ok) {
      t.remove();
      tally.failures = 1;
      tally.diverged.push(`cannot set the immutable attribute here (${can.why}): run the suite as root on a filesystem with chattr`);
      return tally.result();
    }
    let locked: string[] = [];
    try {
      const { k, s, broken } = await startAtRandomSync(t, ref, o);
      if (broken) {
        tally.record(i, [broken]);
        continue;
      }
      const dir = t.agencyDir(s.agency);
      const withFiles = o.immutableFiles ?? o.rnd() < 0.5;
      const p = t.spawnSync(s.agency);
      const done = { done: false };
      const j = Math.floor(o.rnd() * Math.max(1, s.requests.length));
      const kind = s.requests[j];
      const lock = (): void => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) return;
        locked = withFiles ? [dir, ...readdirSync(dir).map((f) => join(dir, f))] : [dir];
        execFileSync('chattr', ['+i', ...locked], { stdio: 'pipe' });
      };
      if (kind === undefined) setTimeout(lock, o.rnd() * s.ms);
      else {
        const n = s.requests.slice(0, j + 1).filter((x) => x === kind).length;
        void whenSeen(t, kind, n, done).then((r) => (r ? lock() : undefined));
      }
      const hung = setTimeout(() => p.kill('SIGKILL'), 120_000);
      const r = await p.done;
      clearTimeout(hung);
      done.done = true;
      const what: string[] = [];
      if (locked.length === 0) tally.note('finished before the directory was made immutable');
      else if (r.signal === 'SIGKILL') what.push('the sync hung for 120 s once its directory was immutable');
      else if (r.signal !== null) what.push(`the sync died of ${r.signal}`);
      else if (r.code === 0) tally.note('finished with nothing left to write');
      else if (!CLEAR_LOCAL_RE.test(r.stderr)) what.push(`exit ${r.code}, the cause not named: "${lastLine(r.stderr).slice(0, 160)}"`);
      else tally.note(`refused by name (exit ${r.code})`);
      if (STACK_RE.test(r.stderr)) what.push('a stack trace on stderr');
      if (locked.length) execFileSync('chattr', ['-i', ...locked], { stdio: 'pipe' });
      locked = [];
      what.push(...(await judge(t, ref)));
      tally.record(i, what);
      o.log?.(
        `  immutable agency #${i}: ${s.agency} sync ${k + 1}, ${withFiles ? 'directory and files' : 'directory'} after ${kind ?? 'a random moment'}; ` +
          `exit ${r.code ?? r.signal} "${lastLine(r.stderr).slice(0, 100)}" → ${what.length ? what[0] : 'converged to the reference'}`,
      );
    } finally {
      if (locked.length) execFileSync('chattr', ['-i', ...locked], { stdio: 'pipe' });
      await t.stop();
      t.remove();
    }
  }
  return tally.result();
}
