// The coordinator on Cloudflare Workers (docs/ARCHITECTURE.md §Coordinator): the same Hono app as
// `coordinator serve`, over D1 for the control plane and one Durable Object
// with SQLite storage per agency pair (src/store/drivers/d1.ts,
// src/store/drivers/durable-object.ts).
// Bindings are declared in wrangler.toml; README.md, "Deploying to
// Cloudflare", explains them.
//
// First run: the D1 database (migrated with `wrangler d1 migrations apply`)
// holds no coordinator yet. The first request initialises it with the admin
// public key from the ADMIN_PUBLIC_KEY secret (hex, e.g. printed by
// `concordat coordinator init`), a fresh random handle key and epoch e1, and
// audits it as `coordinator init` does. ADMIN_PUBLIC_KEY stays authoritative:
// when the secret changes, the stored key follows on the next isolate start.
//
// Long polls have no in-memory notifier across isolates: they re-read D1
// every 250 ms (src/notify.ts). Elements are validated with @noble/curves.
import { bytesToHex, equalBytes, hexToBytes } from '../protocol/bytes.js';
import { randomBytes } from '../protocol/rng.js';
import { createApp, createServices, type AppDeps } from './app.js';
import { defaultConfig } from './config.js';
import { FIRST_EPOCH } from './epochs.js';
import { consoleLog, requestFields, requestLevel } from './log.js';
import { problemDocument, problemResponse } from './problem.js';
import { REQUEST_ID_HEADER } from '../wire/index.js';
import { maintenanceTick } from './maintenance.js';
import { openD1Store, type D1Store, type PairNamespace } from './store/drivers/d1.js';

export { PairObject } from './store/drivers/durable-object.js';

export interface Env {
  /** D1: the control plane. */
  DB: unknown;
  /** Durable Object namespace: one SQLite-backed object per agency pair. */
  PAIRS: PairNamespace;
  /** Ed25519 public key of the `admin` keyid, 64 hex characters (a secret: `wrangler secret put ADMIN_PUBLIC_KEY`). */
  ADMIN_PUBLIC_KEY?: string;
}

interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
}

class ConfigurationError extends Error {}

function adminKeyFrom(env: Env): Uint8Array | undefined {
  const hex = env.ADMIN_PUBLIC_KEY?.trim().toLowerCase();
  if (!hex) return undefined;
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new ConfigurationError('ADMIN_PUBLIC_KEY must be an Ed25519 public key as 64 hex characters');
  return hexToBytes(hex);
}

/** Initialise the D1 control plane on first run, and follow a changed ADMIN_PUBLIC_KEY. */
export async function ensureInitialised(store: D1Store, env: Env, now: Date = new Date()): Promise<void> {
  const adminKey = adminKeyFrom(env);
  const secrets = await store.getSecrets();
  const at = now.toISOString();
  if (!secrets) {
    if (!adminKey) throw new ConfigurationError('the coordinator is not initialised: set the ADMIN_PUBLIC_KEY secret');
    const config = defaultConfig();
    try {
      await store.initialise({ adminKey, handleKey: randomBytes(32), epoch: { id: FIRST_EPOCH, startedAt: at }, at, config });
    } catch (err) {
      // Another isolate initialised it first.
      if (await store.getSecrets()) return ensureInitialised(store, env, now);
      throw err;
    }
    await store.appendAudit({
      at,
      actor: 'admin',
      action: 'coordinator.initialised',
      subject: 'coordinator',
      outcome: 'ok',
      detail: { epoch: FIRST_EPOCH, adminKey: bytesToHex(adminKey), purposes: config.purposes, retention: { ...config.retention } },
    });
    return;
  }
  if (adminKey && !equalBytes(adminKey, secrets.adminKey)) {
    await store.setAdminKey(adminKey);
    await store.appendAudit({
      at,
      actor: 'coordinator',
      action: 'coordinator.admin_key_changed',
      subject: 'coordinator',
      outcome: 'ok',
      detail: { adminKey: bytesToHex(adminKey), previous: bytesToHex(secrets.adminKey) },
    });
  }
}

interface Coordinator {
  deps: AppDeps;
  app: ReturnType<typeof createApp>;
  ready: Promise<void>;
}

/** One app per isolate (bindings do not change within one). */
let cached: { env: Env; coordinator: Coordinator } | undefined;

function coordinatorFor(env: Env): Coordinator {
  if (cached?.env === env) return cached.coordinator;
  const store = openD1Store(env.DB, env.PAIRS);
  const deps: AppDeps = { store, log: (entry) => consoleLog(requestLevel(entry), 'request', requestFields(entry)) };
  const coordinator: Coordinator = { deps, app: createApp(deps), ready: ensureInitialised(store, env) };
  // A failed start (missing secret, D1 not migrated) is retried by the next request.
  coordinator.ready.catch(() => {
    if (cached?.coordinator === coordinator) cached = undefined;
  });
  cached = { env, coordinator };
  return coordinator;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const c = coordinatorFor(env);
    try {
      await c.ready;
    } catch (err) {
      // The isolate answers (liveness) but cannot serve the API (readiness, everything else).
      if (new URL(request.url).pathname === '/healthz') return c.app.fetch(request);
      const requestId = crypto.randomUUID();
      const detail = err instanceof ConfigurationError ? err.message : 'the coordinator could not start; see the Worker log';
      consoleLog('error', 'start failed', { reqId: requestId, error: err instanceof Error ? err.message : String(err) });
      const slug = new URL(request.url).pathname === '/readyz' ? 'unavailable' : 'internal';
      return problemResponse({ ...problemDocument(slug, detail), requestId }, { [REQUEST_ID_HEADER]: requestId });
    }
    return c.app.fetch(request);
  },

  /** The hourly maintenance tick (wrangler.toml `[triggers] crons`): scheduled rotation, then the retention purge, as `coordinator serve` runs it. */
  async scheduled(_controller: unknown, env: Env, ctx: ExecutionContextLike): Promise<void> {
    const c = coordinatorFor(env);
    ctx.waitUntil(
      c.ready
        .then(() => maintenanceTick(createServices(c.deps)))
        .then(
          (r) => consoleLog('info', 'maintenance', { ...(r.rotated ? { rotated: r.rotated } : {}), purge: r.purged }),
          (err: unknown) => {
            consoleLog('error', 'maintenance failed', { purge: 'failed', error: err instanceof Error ? err.message : String(err) });
            throw err;
          },
        ),
    );
  },
};
