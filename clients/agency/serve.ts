// `concordat serve`: the agency's responder daemon. Agencies never open an
// inbound port: the daemon long-polls the coordinator's query inbox, answers
// each targeted query addressed to this agency with k·R for every blinded
// element R and one batched DLEQ proof (RFC 9497 VOPRF BlindEvaluate), and
// runs `sync` on a schedule.
//
// The answer path does no per-query setup beyond one key derivation per epoch
// (cached) and one engine call: an online responder answers within a few
// milliseconds of the query reaching the coordinator.
import { bytesToHex, hexToBytes } from '../../protocol/bytes.js';
import { CONCORDAT_SUITE, epochInfo } from '../../protocol/constants.js';
import { loadEngine, type Engine, type EngineName } from '../../protocol/engine/index.js';
import { deriveKeyPair } from '../../protocol/keys.js';
import { randomBytes } from '../../protocol/rng.js';
import type { InboxQuery } from '../sdk/api.js';
import type { CoordinatorClient } from '../sdk/client.js';
import { CoordinatorError, describeFailure, EXIT, isEpochKeyRequired } from '../sdk/errors.js';
import { openStore } from '../store/db.js';
import { lockAgency, type Agency } from './config.js';
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

/** The responder: epoch keys derived once per epoch, one engine call and one POST per query. */
export class Responder {
  private readonly keys = new Map<string, Uint8Array>();

  constructor(
    private readonly agency: Agency,
    private readonly engine: Engine,
    private readonly client: CoordinatorClient,
  ) {}

  secretKey(epoch: string): Uint8Array {
    let sk = this.keys.get(epoch);
    if (!sk) {
      sk = deriveKeyPair(CONCORDAT_SUITE, this.agency.epochSeed, epochInfo(epoch)).sk;
      this.keys.set(epoch, sk);
    }
    return sk;
  }

  /** Evaluates and proves the query's elements and posts the answer; false when another answer was already stored. */
  async answer(q: InboxQuery, signal?: AbortSignal): Promise<boolean> {
    const { evaluated, proof } = this.engine.evaluateWithProof(CONCORDAT_SUITE, this.secretKey(q.epoch), q.blinded.map((h) => hexToBytes(h)), randomBytes);
    const answer = { epoch: q.epoch, evaluated: evaluated.map(bytesToHex), proof: bytesToHex(proof) };
    try {
      return await this.client.answerQuery(q.queryId, answer, signal ? { signal } : {});
    } catch (e) {
      // Right after a rotation a query can arrive before this agency's next sync published the new key:
      // the key derives from the seed, so publish it here and answer.
      if (!isEpochKeyRequired(e)) throw e;
      await this.client.putEpochKey(q.epoch, deriveKeyPair(CONCORDAT_SUITE, this.agency.epochSeed, epochInfo(q.epoch)).pk);
      return this.client.answerQuery(q.queryId, answer, signal ? { signal } : {});
    }
  }
}

/** One log line per query: who asked, kind, purpose, case reference, number of values — never a value. */
export function describeQuery(q: InboxQuery): string {
  return `query ${q.queryId} from ${q.from}: kind ${q.kind}, purpose ${q.purpose}, case ${JSON.stringify(printable(q.caseRef))}, ${q.blinded.length} value(s), epoch ${q.epoch}`;
}

/** Runs the daemon until `signal` aborts (or, with `once`, one round). Resolves with the exit code. */
export async function serveAgency(agency: Agency, o: ServeOptions): Promise<number> {
  const { client, log, warn, signal } = o;
  const responder = new Responder(agency, await loadEngine('fast'), client);
  const runSync =
    o.runSync ??
    (async (sig: AbortSignal) => {
      let unlock: () => void;
      try {
        unlock = lockAgency(agency.dir, 'sync (serve)');
      } catch (e) {
        warn(`serve: sync skipped: ${e instanceof Error ? e.message : String(e)}`);
        return undefined;
      }
      const store = openStore(agency.dir);
      try {
        return await sync(agency, store, { log, warn, progress: silentProgress, signal: sig, ...(o.syncEngine ? { engine: o.syncEngine } : {}) });
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
        if (report) log(`serve: sync done in ${((Date.now() - started) / 1000).toFixed(1)} s (epoch ${report.epoch}${report.errors.length ? `, ${report.errors.length} error(s)` : ''})`);
      } catch (e) {
        if (signal.aborted) log('serve: sync interrupted by shutdown; it resumes at the next start');
        else warn(`serve: sync failed: ${describeFailure(e)}`);
      } finally {
        syncing = undefined;
      }
      if (!o.once && everyMs > 0 && !signal.aborted) {
        const next = ok ? Math.max(0, started + everyMs - Date.now()) : Math.min(everyMs, SYNC_RETRY_MAX_MS);
        timer = setTimeout(() => void startSync(), next);
        o.onNextSync?.(new Date(Date.now() + next));
        if (!ok) log(`serve: next sync attempt in ${Math.round(next / 60_000)} min`);
      }
    })();
    return syncing;
  };
  signal.addEventListener('abort', () => timer && clearTimeout(timer), { once: true });

  log(
    `serve: agency ${agency.agency} answering targeted queries from ${agency.coordinator} (long poll, no inbound port)` +
      (o.once ? '; one round' : everyMs > 0 ? `; sync every ${o.syncEveryMinutes} min` : '; scheduled sync off'),
  );

  // ---- the inbox loop ----
  const failedQueries = new Set<string>();
  const answerAll = async (queries: InboxQuery[]): Promise<number> => {
    let answered = 0;
    for (const q of queries) {
      if (signal.aborted) break;
      const t0 = performance.now();
      try {
        const stored = await responder.answer(q, signal);
        const ms = (performance.now() - t0).toFixed(1);
        log(`serve: ${describeQuery(q)}: ${stored ? 'answered' : 'already answered'} in ${ms} ms`);
        answered++;
      } catch (e) {
        if (signal.aborted) break;
        if (e instanceof CoordinatorError && e.status < 500 && e.status !== 429) {
          // The coordinator will not take this answer (e.g. the agreement ended): do not retry it in a loop.
          failedQueries.add(q.queryId);
          warn(`serve: ${describeQuery(q)}: answer refused: ${e.message}`);
        } else throw e;
      }
    }
    return answered;
  };

  if (o.once) {
    let code: number = EXIT.ok;
    try {
      await answerAll(await client.inbox(0, { signal }));
    } catch (e) {
      warn(`serve: inbox: ${describeFailure(e)}`);
      code = EXIT.error;
    }
    await startSync();
    try {
      await answerAll((await client.inbox(0, { signal })).filter((q) => !failedQueries.has(q.queryId)));
    } catch (e) {
      warn(`serve: inbox: ${describeFailure(e)}`);
      code = EXIT.error;
    }
    return code;
  }

  if (everyMs > 0) void startSync();
  let backoff = BACKOFF_MIN_MS;
  let down = false;
  while (!signal.aborted) {
    let queries: InboxQuery[];
    try {
      queries = await client.inbox(INBOX_WAIT_SECONDS, { signal, retries: 0 });
      if (down) log('serve: the coordinator answers again');
      down = false;
      backoff = BACKOFF_MIN_MS;
    } catch (e) {
      if (signal.aborted) break;
      warn(`serve: inbox: ${describeFailure(e)}; retrying in ${(backoff / 1000).toFixed(0)} s`);
      down = true;
      await sleep(backoff, signal);
      backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
      continue;
    }
    const fresh = queries.filter((q) => !failedQueries.has(q.queryId));
    try {
      await answerAll(fresh);
    } catch (e) {
      if (signal.aborted) break;
      warn(`serve: answer: ${describeFailure(e)}; retrying in ${(backoff / 1000).toFixed(0)} s`);
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
