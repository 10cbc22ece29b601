// `concordat coordinator serve`: the app on @hono/node-server over the SQLite store.
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createApp, createServices, type AppDeps } from '../app.js';
import { loadSodiumElementChecker, loadSodiumProofVerifier } from '../node/elements.js';
import { createLogger, requestLogger } from '../node/log.js';
import { memoryNotifier } from '../node/notifier.js';
import { maintenanceTick } from '../maintenance.js';
import { openSqliteStore } from '../store/sqlite.js';

export const DB_FILE = 'coordinator.db';
export const ADMIN_KEY_FILE = 'admin.key';
/** The maintenance tick (scheduled rotation, then the retention purge) runs this often inside `serve` (src/API.md, "Epochs", "Audit export and retention"). */
export const PURGE_INTERVAL_MS = 3_600_000;

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
}

export interface RunningServer {
  url: string;
  /** Resolves with the exit code once the server has stopped and the database is closed. */
  closed: Promise<number>;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const dbPath = join(o.data, DB_FILE);
  if (!existsSync(dbPath)) throw new Error(`${dbPath} does not exist; run \`concordat coordinator init --data ${o.data}\` first`);
  const store = openSqliteStore(dbPath);
  const logger = createLogger(o.out);
  const deps: AppDeps = {
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
  let listening: (info: AddressInfo) => void = () => {};
  let failed: (err: Error) => void = () => {};
  const ready = new Promise<AddressInfo>((resolve, reject) => {
    listening = resolve;
    failed = reject;
  });
  const server = serve({ fetch: app.fetch, hostname: o.host, port: o.port }, (info) => listening(info));
  server.once('error', (err: Error) => failed(err));
  let info: AddressInfo;
  try {
    info = await ready;
  } catch (err) {
    clearInterval(timer);
    await store.close();
    throw err;
  }
  const url = `http://${hostForUrl(o.host)}:${info.port}`;
  logger.info({ url }, `concordat coordinator listening on ${url}`);

  const closed = new Promise<number>((resolve) => {
    const stop = () => {
      // Let in-flight requests finish, drop idle keep-alive sockets, give up after 10 s.
      const force = setTimeout(() => {
        if ('closeAllConnections' in server) server.closeAllConnections();
      }, 10_000);
      force.unref();
      clearInterval(timer);
      server.close(() => {
        clearTimeout(force);
        void (purging ?? Promise.resolve()).then(() => store.close()).then(
          () => resolve(0),
          () => resolve(1),
        );
      });
      if ('closeIdleConnections' in server) server.closeIdleConnections();
    };
    if (o.signal.aborted) stop();
    else o.signal.addEventListener('abort', stop, { once: true });
  });
  return { url, closed };
}
