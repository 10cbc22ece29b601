// `concordat serve`: the agency's responder daemon. Agencies never open an
// inbound port: the daemon long-polls the coordinator's query inbox, answers
// each targeted query addressed to this agency with k·R for every blinded
// element R and one batched DLEQ proof (RFC 9497 VOPRF BlindEvaluate), and
// runs `sync` on a schedule.
//
// A query is evaluated only after respond.ts checked it against the agreement
// this agency accepted (protocol/SPEC.md §8.9): the requester's signature
// under its pinned key, kind, purpose, values, epoch, age, replay and the
// per-day quota. Every answer and every refusal goes to the local audit
// trail; a refusal is also posted to the coordinator, so the requester's leg
// ends `refused` instead of waiting.
//
// The answer path does no per-query setup beyond one key derivation per pair
// and epoch (cached) and one engine call: an online responder answers within
// a few milliseconds of the query reaching the coordinator.
import { pino, type Logger } from 'pino';
import { bytesToHex } from '../../protocol/bytes.js';
import { CONCORDAT_SUITE } from '../../protocol/constants.js';
import { loadEngine, type Engine, type EngineName } from '../../protocol/engine/index.js';
import { signEpochKey } from '../../protocol/epoch-key.js';
import { epochNumber } from '../../protocol/ratchet.js';
import { randomBytes } from '../../protocol/rng.js';
import type { InboxQuery } from '../sdk/api.js';
import type { CoordinatorClient, InboxEntry } from '../sdk/client.js';
import { CoordinatorError, describeFailure, EXIT, exitCodeFor, isEpochKeyRequired } from '../sdk/errors.js';
import { openStore, type Store } from '../store/db.js';
import { lockAgency, type Agency } from './config.js';
import { observeEpoch } from './epoch-secret.js';
import { checkInboxQuery, recordDecision } from './respond.js';
import { printable } from './text.js';
import { silentProgress } from './progress.js';
import { sync, type SyncReport } from './sync.js';

/** API.md: the inbox long poll holds a request for up to 30 s; 25 s stays clear of proxies' 30 s idle limits. */
export const INBOX_WAIT_SECONDS = 25;
const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;
/** After a failed sync, try again sooner than the schedule (the coordinator may just have restarted). */
const SYNC_RETRY_MAX_MS = 5 * 60_000;

export interface ServeOptions {
  client: CoordinatorClient;
  /** Minutes between the starts of two syncs; 0 disables the scheduled sync. */
  syncEveryMinutes: number;
  /** Sync once, answer every pending query, exit. */
  once?: boolean;
  signal: AbortSignal;
  log: (line: string) => void;
  warn: (line: string) => void;
  /** Engine of the scheduled sync (the responder always uses the fast engine). */
  syncEngine?: EngineName;
  /** Hears when the next scheduled sync will start (undefined: none scheduled, or one is running). */
  onNextSync?: (at: Date | undefined) => void;
  /** The sync the daemon runs (tests substitute it). */
  runSync?: (signal: AbortSignal) => Promise<SyncReport | undefined>;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** What the responder did with one query. */
export type Handled = { answered: true; stored: boolean } | { answered: false; reason: string; message: string };

/** The responder: checks, then one engine call and one POST per query. */
export class Responder {
  private readonly keys = new Map<string, Uint8Array>();

  constructor(
    private readonly agency: Agency,
    private readonly engine: Engine,
    private readonly client: CoordinatorClient,
    private readonly store: Store,
    private readonly now: () => number = () => Date.now(),
  ) {}

  private secretKey(epoch: string, pair: string): Uint8Array {
    const k = `${epoch} ${pair}`;
    let sk = this.keys.get(k);
    if (!sk) {
      sk = this.agency.secrets.pairKey(epoch, pair).sk;
      this.keys.set(k, sk);
    }
    return sk;
  }

  /**
   * A query of a later epoch than this agency reached: move forward to the
   * coordinator's current epoch first (only /v1/me moves an agency's epoch).
   */
  private async catchUp(q: InboxQuery): Promise<void> {
    let n: number;
    try {
      n = epochNumber(q.epoch);
    } catch {
      return;
    }
    if (n <= this.agency.secrets.highest()) return;
    const me = await this.client.me();
    observeEpoch(this.store, this.agency.secrets, me.epoch.id, 'GET /v1/me');
    this.keys.clear();
  }

  /** Refuses an entry that is not a query the contract describes (an unsigned one, say). */
  async refuseMalformed(e: Extract<InboxEntry, { ok: false }>, signal?: AbortSignal): Promise<void> {
    const message = `the inbox entry does not match the contract (${e.issue})`;
    recordDecision(this.store, { queryId: e.queryId, from: 'unknown' }, { answered: false, reason: 'malformed', message }, this.now());
    if (e.queryId !== null && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(e.queryId)) {
      await this.client.refuseQuery(e.queryId, 'malformed', signal ? { signal } : {});
    }
  }

  /** Checks the query; evaluates, proves and posts the answer, or records and posts the refusal. */
  async handle(q: InboxQuery, signal?: AbortSignal): Promise<Handled> {
    await this.catchUp(q);
    const check = checkInboxQuery(this.agency, this.store, q, this.now());
    const about = { queryId: q.queryId, from: q.from, kind: q.kind, purpose: q.purpose, caseRef: q.caseRef, count: q.blinded.length, epoch: q.epoch };
    if (!check.ok) {
      recordDecision(this.store, about, { answered: false, reason: check.reason, message: check.message }, this.now());
      await this.client.refuseQuery(q.queryId, check.reason, signal ? { signal } : {});
      return { answered: false, reason: check.reason, message: check.message };
    }
    const { evaluated, proof } = this.engine.evaluateWithProof(CONCORDAT_SUITE, this.secretKey(q.epoch, q.pair), check.values, randomBytes);
    const answer = { epoch: q.epoch, evaluated: evaluated.map(bytesToHex), proof: bytesToHex(proof) };
    let stored: boolean;
    try {
      stored = await this.client.answerQuery(q.queryId, answer, signal ? { signal } : {});
    } catch (e) {
      // Right after a rotation a query can arrive before this agency's next sync published the pair's key:
      // publish it here (signed, under the accepted agreement) and answer.
      if (!isEpochKeyRequired(e)) throw e;
      const pk = this.agency.secrets.pairKey(q.epoch, q.pair).pk;
      const statement = { agency: this.agency.agency, epoch: q.epoch, pair: q.pair, agreement: { id: check.terms.id, version: check.terms.version }, publicKey: bytesToHex(pk) };
      await this.client.putPairEpochKey(q.pair, { epoch: q.epoch, publicKey: pk, signature: signEpochKey(statement, this.agency.signingKey) });
      stored = await this.client.answerQuery(q.queryId, answer, signal ? { signal } : {});
    }
    recordDecision(this.store, about, { answered: true }, this.now());
    return { answered: true, stored };
  }
}

/**
 * The daemon's log: one JSON object per line with `level` as a name, `time`
 * in ISO 8601, `msg` and the event's fields, as `coordinator serve` writes
 * its own; info and debug lines go to `log`, warnings and errors to `warn`.
 * Level from $CONCORDAT_LOG_LEVEL, else info.
 */
export function serveLoggers(log: (line: string) => void, warn: (line: string) => void): { out: Logger; err: Logger } {
  const make = (write: (line: string) => void) =>
    pino(
      { level: process.env.CONCORDAT_LOG_LEVEL || 'info', base: undefined, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
      { write: (s: string) => write(s.endsWith('\n') ? s.slice(0, -1) : s) },
    );
  return { out: make(log), err: make(warn) };
}

/**
 * A query's log fields: its id (`reqId`, the coordinator's id of the request
 * being answered), who asked, kind, purpose, case reference and number of
 * values — never a value.
 */
export function queryFields(q: InboxQuery): Record<string, string | number> {
  return { reqId: q.queryId, from: q.from, kind: q.kind, purpose: q.purpose, case: printable(q.caseRef), values: q.blinded.length, epoch: q.epoch };
}

/** Runs the daemon until `signal` aborts (or, with `once`, one round). Resolves with the exit code. */
export async function serveAgency(agency: Agency, o: ServeOptions): Promise<number> {
  const { client } = o;
  const store = openStore(agency.dir);
  try {
    return await serveWith(agency, o, new Responder(agency, await loadEngine(), client, store));
  } finally {
    store.close();
  }
}

async function serveWith(agency: Agency, o: ServeOptions, responder: Responder): Promise<number> {
  const { client, signal } = o;
  const logs = serveLoggers(o.log, o.warn);
  const log = (msg: string, fields: Record<string, unknown> = {}): void => logs.out.info(fields, msg);
  const warn = (msg: string, fields: Record<string, unknown> = {}): void => logs.err.warn(fields, msg);
  const syncLog = (line: string): void => logs.out.info(line);
  const syncWarn = (line: string): void => logs.err.warn(line);
  const runSync =
    o.runSync ??
    (async (sig: AbortSignal) => {
      let unlock: () => void;
      try {
        unlock = lockAgency(agency.dir, 'sync (serve)');
      } catch (e) {
        warn('serve: sync skipped', { err: e instanceof Error ? e.message : String(e) });
        return undefined;
      }
      const store = openStore(agency.dir);
      try {
        return await sync(agency, store, { log: syncLog, warn: syncWarn, progress: silentProgress, signal: sig, ...(o.syncEngine ? { engine: o.syncEngine } : {}) });
      } finally {
        store.close();
        unlock();
      }
    });

  // ---- scheduled sync: never two at once ----
  let syncing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const everyMs = Math.max(0, o.syncEveryMinutes) * 60_000;
  const startSync = (): Promise<void> => {
    if (syncing) return syncing;
    const started = Date.now();
    o.onNextSync?.(undefined);
    syncing = (async () => {
      let ok = false;
      try {
        log('serve: sync starting');
        const report = await runSync(signal);
        ok = report !== undefined && report.errors.length === 0;
        if (report) {
          const seconds = Number(((Date.now() - started) / 1000).toFixed(1));
          (report.errors.length ? warn : log)('serve: sync done', { seconds, epoch: report.epoch, errors: report.errors.length });
        }
      } catch (e) {
        if (signal.aborted) log('serve: sync interrupted by shutdown; it resumes at the next start');
        else logs.err.error({ err: describeFailure(e) }, 'serve: sync failed');
      } finally {
        syncing = undefined;
      }
      if (!o.once && everyMs > 0 && !signal.aborted) {
        const next = ok ? Math.max(0, started + everyMs - Date.now()) : Math.min(everyMs, SYNC_RETRY_MAX_MS);
        timer = setTimeout(() => void startSync(), next);
        o.onNextSync?.(new Date(Date.now() + next));
        if (!ok) log('serve: next sync attempt', { inMinutes: Math.round(next / 60_000) });
      }
    })();
    return syncing;
  };
  signal.addEventListener('abort', () => timer && clearTimeout(timer), { once: true });

  log('serve: answering targeted queries (long poll, no inbound port)', {
    agency: agency.agency,
    coordinator: agency.coordinator,
    schedule: o.once ? 'one round' : everyMs > 0 ? `sync every ${o.syncEveryMinutes} min` : 'scheduled sync off',
  });

  // ---- the inbox loop ----
  const failedQueries = new Set<string>();
  const answerAll = async (entries: InboxEntry[]): Promise<number> => {
    let answered = 0;
    for (const entry of entries) {
      if (signal.aborted) break;
      if (!entry.ok) {
        if (entry.queryId !== null) failedQueries.add(entry.queryId);
        warn('serve: !!! QUERY REFUSED: malformed', { reqId: entry.queryId, issue: entry.issue });
        try {
          await responder.refuseMalformed(entry, signal);
        } catch (e) {
          if (signal.aborted) break;
          warn('serve: refusal not delivered', { reqId: entry.queryId, err: describeFailure(e) });
        }
        continue;
      }
      const q = entry.query;
      const t0 = performance.now();
      try {
        const h = await responder.handle(q, signal);
        const ms = Number((performance.now() - t0).toFixed(1));
        if (!h.answered) {
          failedQueries.add(q.queryId);
          warn('serve: !!! QUERY REFUSED', { ...queryFields(q), reason: h.reason, detail: h.message });
          continue;
        }
        log(h.stored ? 'serve: query answered' : 'serve: query already answered', { ...queryFields(q), ms });
        answered++;
      } catch (e) {
        if (signal.aborted) break;
        if (e instanceof CoordinatorError && e.status < 500 && e.status !== 429) {
          // The coordinator will not take this answer (e.g. the agreement ended): do not retry it in a loop.
          failedQueries.add(q.queryId);
          warn('serve: answer refused by the coordinator', { ...queryFields(q), err: e.message });
        } else throw e;
      }
    }
    return answered;
  };

  if (o.once) {
    let code: number = EXIT.ok;
    try {
      await answerAll(await client.inboxEntries(0, { signal }));
    } catch (e) {
      logs.err.error({ err: describeFailure(e) }, 'serve: inbox');
      code = exitCodeFor(e);
    }
    await startSync();
    try {
      await answerAll((await client.inboxEntries(0, { signal })).filter((e) => !e.ok || !failedQueries.has(e.query.queryId)));
    } catch (e) {
      logs.err.error({ err: describeFailure(e) }, 'serve: inbox');
      code = exitCodeFor(e);
    }
    return code;
  }

  if (everyMs > 0) void startSync();
  let backoff = BACKOFF_MIN_MS;
  let down = false;
  while (!signal.aborted) {
    let queries: InboxEntry[];
    try {
      queries = await client.inboxEntries(INBOX_WAIT_SECONDS, { signal, retries: 0 });
      if (down) log('serve: the coordinator answers again');
      down = false;
      backoff = BACKOFF_MIN_MS;
    } catch (e) {
      if (signal.aborted) break;
      warn('serve: inbox unreachable', { err: describeFailure(e), retryInSeconds: Math.round(backoff / 1000) });
      down = true;
      await sleep(backoff, signal);
      backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
      continue;
    }
    const fresh = queries.filter((e) => (e.ok ? !failedQueries.has(e.query.queryId) : e.queryId === null || !failedQueries.has(e.queryId)));
    try {
      await answerAll(fresh);
    } catch (e) {
      if (signal.aborted) break;
      warn('serve: answer failed', { err: describeFailure(e), retryInSeconds: Math.round(backoff / 1000) });
      await sleep(backoff, signal);
      backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
      continue;
    }
    // Only refused queries pending: the inbox would answer at once; do not spin on them.
    if (fresh.length === 0 && queries.length > 0) await sleep(2_000, signal);
  }
  if (syncing) {
    log('serve: stopping: waiting for the running sync to stop at its next step');
    await syncing;
  }
  log('serve: stopped');
  return EXIT.ok;
}
