// Starts the investigator console beside `concordat serve`: loopback only
// unless the operator names another address, and never without an officer
// who can log in.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Engine } from '../../protocol/engine/index.js';
import type { Agency } from '../agency/config.js';
import { activeOfficerCount } from '../agency/officers.js';
import type { CoordinatorClient } from '../sdk/client.js';
import { AgencyError } from '../sdk/errors.js';
import { openStore } from '../store/db.js';
import { createConsoleApp } from './app.js';
import { defaultAssetsDir, loadAssets } from './assets.js';

import { DEFAULT_UI_HOST, DEFAULT_UI_PORT } from './defaults.js';

export { DEFAULT_UI_HOST, DEFAULT_UI_PORT };
/** A console query waits on a sync that holds the database for a batch of positions. */
const BUSY_TIMEOUT_MS = 60_000;

export interface ConsoleServerOptions {
  agency: Agency;
  client: CoordinatorClient;
  engine: Engine;
  host?: string;
  port?: number;
  log: (line: string) => void;
  warn: (line: string) => void;
  nextSync?: () => Date | undefined;
  assetsDir?: string;
  queryWaitMaxSeconds?: number;
}

export interface ConsoleServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const hostForUrl = (h: string): string => (h.includes(':') ? `[${h}]` : h);

export async function startConsole(o: ConsoleServerOptions): Promise<ConsoleServer> {
  const host = o.host ?? DEFAULT_UI_HOST;
  const store = openStore(o.agency.dir);
  store.sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  try {
    if (activeOfficerCount(store) === 0) {
      throw new AgencyError(
        `the console needs at least one officer who can log in; add one with: concordat officers add --dir ${o.agency.dir} --id ID --name "NAME"`,
      );
    }
    const dir = o.assetsDir ?? defaultAssetsDir();
    if (!dir) throw new AgencyError('the console files (dist/console-ui) are missing from this installation; run `npm run build`');
    const assets = loadAssets(dir);
    let port = o.port ?? DEFAULT_UI_PORT;
    const hosts = (p: number) => [...new Set([`${hostForUrl(host)}:${p}`, ...(isLoopback(host) ? [`127.0.0.1:${p}`, `localhost:${p}`, `[::1]:${p}`] : [])])];
    // The Host check needs the port, which is known only once listening when 0 was asked.
    let allowed: string[] = port === 0 ? [] : hosts(port);
    const app = createConsoleApp(
      {
        agency: o.agency,
        store,
        client: o.client,
        engine: o.engine,
        log: o.log,
        ...(o.nextSync ? { nextSync: o.nextSync } : {}),
        get allowedHosts() {
          return allowed;
        },
        addressOf: (c) => getConnInfo(c).remote.address ?? 'unknown',
        ...(o.queryWaitMaxSeconds !== undefined ? { queryWaitMaxSeconds: o.queryWaitMaxSeconds } : {}),
      },
      assets,
    );
    let closeServer: () => Promise<void> = async () => {};
    const info = await new Promise<AddressInfo>((resolve, reject) => {
      const server = serve({ fetch: app.fetch, hostname: host, port }, (i) => resolve(i));
      server.once('error', reject);
      closeServer = () =>
        new Promise<void>((res) => {
          const force = setTimeout(() => 'closeAllConnections' in server && server.closeAllConnections(), 5_000);
          force.unref();
          server.close(() => {
            clearTimeout(force);
            res();
          });
        });
    });
    port = info.port;
    allowed = hosts(port);
    if (!isLoopback(host)) {
      o.warn(`serve: WARNING: the console listens on ${host}, reachable from other machines; put it behind TLS and restrict who can reach it`);
    }
    const url = `http://${hostForUrl(host)}:${port}/`;
    return {
      url,
      port,
      async close() {
        await closeServer();
        store.close();
      },
    };
  } catch (e) {
    store.close();
    throw e;
  }
}

