// `concordat coordinator serve`: the app on @hono/node-server over the SQLite store.
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createApp, createServices, type AppDeps } from '../app.js';
import { loadSodiumElementChecker, loadSodiumProofVerifier } from '../node/elements.js';
import { createLogger, requestLogger } from '../node/log.js';
import { memoryNotifier } from '../node/notifier.js';
import { maintenanceTick } from '../maintenance.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite.js';
import { tryLock, type LockResult } from '../node/lock.js';
import { COORDINATOR_EXIT, CoordinatorCliError } from './exit-codes.js';
import { problemDocument } from '../problem.js';
import { PROBLEM_TYPE } from '../../wire/index.js';
import { CORRUPT_RECOVERY, integrityFindings } from '../store/drivers/better-sqlite3.js';

export const DB_FILE = 'coordinator.db';
export const ADMIN_KEY_FILE = 'admin.key';
/** The maintenance tick (scheduled rotation, then the retention purge) runs this often inside `serve` (src/API.md, "Epochs", "Audit export and retention"). */
export const PURGE_INTERVAL_MS = 3_600_000;
/** PRAGMA quick_check runs this often inside `serve` (README.md, "Backups"); a failure turns /readyz unready. */
export const INTEGRITY_INTERVAL_MS = 6 * 3_600_000;

export interface ServeOptions {
  data: string;
  host: string;
  port: number;
  /** Aborting stops the server gracefully (SIGINT/SIGTERM in the CLI). */
  signal: AbortSignal;
  /** Where the log's JSON lines go, one per call (stdout in the CLI): the listening line, one per request, the maintenance ticks. */
  out: (line: string) => void;
  /** Maintenance tick period (rotation when due, retention purge); hourly by default. */
  purgeEveryMs?: number;
  /** Period of the integrity check (PRAGMA quick_check) while serving; every 6 hours by default, 0 for never. */
  integrityEveryMs?: number;
}

export interface RunningServer {
  url: string;
  /** Resolves with the exit code once the server has stopped and the database is closed. */
  closed: Promise<number>;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Held by `coordinator serve` for its lifetime (and by `restore` while it replaces the database): one process per data directory. */
export const SERVE_LOCK_FILE = 'serve.lock';

/** Takes the data directory's serve lock, or throws naming why not (another coordinator, or the errno). */
export function lockDataDir(data: string, what: string): () => void {
  let r: LockResult;
  try {
    r = tryLock(join(data, SERVE_LOCK_FILE));
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new CoordinatorCliError(`cannot lock ${data}${typeof code === 'string' ? `: ${code}` : ''} (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!r.ok) throw new CoordinatorCliError(`${data} is in use by another coordinator process (serve or restore); ${what} refused`, COORDINATOR_EXIT.inUse);
  return r.release;
}

export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const dbPath = join(o.data, DB_FILE);
  if (!existsSync(dbPath)) throw new Error(`${dbPath} does not exist; run \`concordat coordinator init --data ${o.data}\` first`);
  const unlock = lockDataDir(o.data, 'serve');
  let store: SqliteStore;
  try {
    // The full integrity check before anything is served or migrated: a damaged file is refused (DatabaseCorruptError).
    store = openSqliteStore(dbPath, { integrity: 'full' });
  } catch (e) {
    unlock();
    throw e;
  }
  const logger = createLogger(o.out);
  let damaged: string | undefined;
  const draining = new AbortController();
  const deps: AppDeps = {
    draining: draining.signal,
    unready: () => damaged,
    store,
    checkElements: await loadSodiumElementChecker(),
    verifyProof: await loadSodiumProofVerifier(),
    notifier: memoryNotifier(),
    log: requestLogger(logger),
  };
  const app = createApp(deps);
  const svc = createServices(deps);
  let purging: Promise<unknown> | undefined;
  const purge = () => {
    // A tick still running (a large epoch's purge) is not started twice.
    if (purging) return;
    purging = maintenanceTick(svc)
      .then(
        (r) => logger.info({ ...(r.rotated ? { rotated: r.rotated } : {}), purge: r.purged }, 'maintenance'),
        (err: unknown) => logger.error({ purge: 'failed', error: err instanceof Error ? err.message : String(err) }, 'maintenance failed'),
      )
      .finally(() => {
        purging = undefined;
      });
  };
  // Unref'd: the hourly tick never keeps the process alive on its own.
  const timer = setInterval(purge, o.purgeEveryMs ?? PURGE_INTERVAL_MS);
  timer.unref();
  const check = () => {
    let findings: string[];
    try {
      findings = integrityFindings(store.client);
    } catch (err) {
      findings = [err instanceof Error ? err.message : String(err)];
    }
    if (findings.length === 0) {
      if (damaged !== undefined) logger.info({ integrity: 'ok' }, 'integrity check passed again');
      damaged = undefined;
      return;
    }
    damaged = `the database failed its integrity check: ${findings.slice(0, 3).join('; ')}`;
    logger.error({ integrity: 'failed', findings: findings.slice(0, 20), recovery: CORRUPT_RECOVERY }, 'integrity check failed');
  };
  const integrityEvery = o.integrityEveryMs ?? INTEGRITY_INTERVAL_MS;
  const integrityTimer = integrityEvery > 0 ? setInterval(check, integrityEvery) : undefined;
  integrityTimer?.unref();
  let listening: (info: AddressInfo) => void = () => {};
  let failed: (err: Error) => void = () => {};
  const ready = new Promise<AddressInfo>((resolve, reject) => {
    listening = resolve;
    failed = reject;
  });
  // Requests still being handled: the store is closed only once none is, so
  // a handler never reads a closed database on the way out.
  let inFlight = 0;
  let settled: (() => void) | undefined;
  const fetch = async (req: Request, env: unknown): Promise<Response> => {
    inFlight++;
    try {
      return await app.fetch(req, env);
    } finally {
      if (--inFlight === 0) settled?.();
      // Once stopping, a keep-alive socket whose last answer has gone out is dropped at once.
      if (draining.signal.aborted) setImmediate(dropIdle);
    }
  };
  const allSettled = (): Promise<void> => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (settled = resolve)));
  const server = serve({ fetch, hostname: o.host, port: o.port }, (info) => listening(info));
  const dropIdle = (): void => {
    if ('closeIdleConnections' in server) server.closeIdleConnections();
  };
  server.once('error', (err: Error) => failed(err));
  // Requests Node's HTTP parser refuses (oversized headers, bad framing)
  // never reach the app; they still get a problem document, not a bare status line.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const doc = {
      ...problemDocument('validation', tooLarge ? 'request header fields too large' : 'malformed HTTP request'),
      ...(tooLarge ? { title: 'Request header fields too large', status: 431 } : { title: 'Bad request', status: 400 }),
    };
    const body = JSON.stringify(doc);
    socket.end(
      `HTTP/1.1 ${doc.status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nContent-Type: ${PROBLEM_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  let info: AddressInfo;
  try {
    info = await ready;
  } catch (err) {
    clearInterval(timer);
    clearInterval(integrityTimer);
    await store.close();
    unlock();
    throw err;
  }
  const url = `http://${hostForUrl(o.host)}:${info.port}`;
  logger.info({ url }, `concordat coordinator listening on ${url}`);

  const closed = new Promise<number>((resolve) => {
    const stop = () => {
      // Open long polls answer now; other in-flight requests finish; idle
      // keep-alive sockets are dropped; after 10 s the rest are cut off.
      draining.abort();
      const force = setTimeout(() => {
        if ('closeAllConnections' in server) server.closeAllConnections();
      }, 10_000);
      force.unref();
      clearInterval(timer);
      clearInterval(integrityTimer);
      server.close(() => {
        clearTimeout(force);
        void Promise.all([purging, allSettled()])
          .then(() => store.close())
          .finally(unlock)
          .then(
            () => resolve(0),
            () => resolve(1),
          );
      });
      dropIdle();
    };
    if (o.signal.aborted) stop();
    else o.signal.addEventListener('abort', stop, { once: true });
  });
  return { url, closed };
}
