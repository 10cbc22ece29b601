// `concordat coordinator serve`: the app on @hono/node-server over the SQLite store.
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createApp } from '../app.js';
import { loadSodiumElementChecker } from '../node/elements.js';
import { openSqliteStore } from '../store/sqlite.js';

export const DB_FILE = 'coordinator.db';
export const ADMIN_KEY_FILE = 'admin.key';

export interface ServeOptions {
  data: string;
  host: string;
  port: number;
  /** Aborting stops the server gracefully (SIGINT/SIGTERM in the CLI). */
  signal: AbortSignal;
  /** Where the listening line and the request log go (stdout in the CLI). */
  out: (line: string) => void;
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
  const app = createApp({
    store,
    checkElements: await loadSodiumElementChecker(),
    log: (entry) => o.out(JSON.stringify(entry)),
  });
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
    await store.close();
    throw err;
  }
  const url = `http://${hostForUrl(o.host)}:${info.port}`;
  o.out(`concordat coordinator listening on ${url}`);

  const closed = new Promise<number>((resolve) => {
    const stop = () => {
      // Let in-flight requests finish, drop idle keep-alive sockets, give up after 10 s.
      const force = setTimeout(() => {
        if ('closeAllConnections' in server) server.closeAllConnections();
      }, 10_000);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        void store.close().then(
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
