// The coordinator as a Hono app, built from its storage so the same app runs
// on Node (SQLite) and on Cloudflare Workers (D1 + Durable Objects). Nothing
// here may use a Node API.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { matchedRoutes } from 'hono/route';
import type { z } from 'zod';
import { clientSource, flushRefusalSummaries, roleMiddleware, signatureMiddleware, signaturePrecheck } from './auth.js';
import type { AppEnv, AuditRecordInput, LogEntry, Services } from './context.js';
import { checkElements as portableCheckElements, type ElementChecker } from './elements.js';
import { verifyProof as nobleVerifyProof } from '../protocol/dleq.js';
import { CONCORDAT_SUITE } from '../protocol/constants.js';
import {
  getHealthz,
  getReadyz,
  getService,
  MAX_BODY_BYTES,
  PROTOCOL_NAME,
  OPENAPI_PATH,
  openApiObject,
  registerComponents,
  REQUEST_ID_HEADER,
  REQUEST_ID_MAX,
  type healthResponse,
  type readyResponse,
  type serviceResponse,
} from '../wire/index.js';
import type { ProofVerifier } from './context.js';
import type { Notifier } from './notify.js';
import { ProblemError, problemDocument, problemResponse, STORAGE_RETRY_AFTER_S, storageFailure, storageProblem } from './problem.js';
import { RefusalTracker } from './refusals.js';
import { adminRoutes } from './routes/admin/index.js';
import { agreementRoutes } from './routes/agreements/index.js';
import { auditRoutes } from './routes/audit/index.js';
import { hitRoutes } from './routes/hits/index.js';
import { meRoutes } from './routes/me/index.js';
import { pairRoutes } from './routes/pairs/index.js';
import { mount } from './routes/mount.js';
import { queryRoutes } from './routes/queries/index.js';
import { resultsRoutes } from './routes/results/index.js';
import { workRoutes } from './routes/work/index.js';
import { validationProblem } from './validation.js';
import type { CoordinatorSecrets, Store } from './store/types.js';
import { COORDINATOR_VERSION, SERVICE_NAME } from './version.js';

export type { LogEntry } from './context.js';
export type { Notifier } from './notify.js';

export interface AppDeps {
  store: Store;
  now?: () => Date;
  log?: (entry: LogEntry) => void;
  /** Element validation for uploads; defaults to the portable @noble/curves decoder. */
  checkElements?: ElementChecker;
  /** Wakes long polls at once (src/node/notifier.ts on Node); without one they poll the store every 250 ms. */
  notifier?: Notifier;
  /**
   * Aborted when the server begins to stop (`coordinator serve` on SIGTERM):
   * open long polls answer at once with what they have, as when their wait
   * runs out, so the stop never cuts a request off or reads a closed store.
   */
  draining?: AbortSignal;
  /** DLEQ proof check for query answers; defaults to the portable @noble/curves verifier (RFC 9497 §2.2.2). */
  verifyProof?: ProofVerifier;
  /**
   * Why the coordinator should not take traffic, when it should not (e.g. the
   * periodic integrity check of `coordinator serve` failed): /readyz answers 503 with it.
   */
  unready?: () => string | undefined;
}

const portableVerifyProof: ProofVerifier = (suite, pk, blinded, evaluated, proof) => nobleVerifyProof(suite, pk, [...blinded], [...evaluated], proof);

/** Where a failed zod-openapi validation points its `field` (as the routes' own parsing does). */
const FIELD_PREFIX: Record<string, string> = { json: 'body', form: 'body', param: 'path', query: 'query', header: 'header', cookie: 'cookie' };

/** A Hono route pattern in OpenAPI form: `/v1/queries/:id{[0-9a-f]{32}}` → `/v1/queries/{id}`. */
function openApiPath(route: string): string {
  return route.replace(/:(\w+)(\{(?:[^{}]|\{[^{}]*\})*\})?/g, '{$1}');
}

/** Route pattern of the handler that answered, or the raw path when none did. */
function routeOf(c: Context): string {
  const handler = matchedRoutes(c)
    .filter((r) => r.method !== 'ALL')
    .at(-1);
  return handler?.path ?? c.req.path;
}

/** The services the routes share; also what scheduled work (the retention purge) runs on. */
export function createServices(deps: AppDeps): Services {
  const now = deps.now ?? (() => new Date());
  let secrets: Promise<CoordinatorSecrets> | undefined;
  return {
    store: deps.store,
    now,
    checkElements: deps.checkElements ?? portableCheckElements,
    verifyProof: deps.verifyProof ?? portableVerifyProof,
    notifier: deps.notifier,
    draining: deps.draining,
    refusals: new RefusalTracker(),
    secrets() {
      secrets ??= deps.store.getSecrets().then((s) => {
        if (!s) {
          secrets = undefined;
          throw new Error('coordinator: the database is not initialised');
        }
        return s;
      });
      return secrets;
    },
    async audit(e: AuditRecordInput) {
      await deps.store.appendAudit({
        at: now().toISOString(),
        actor: e.actor,
        action: e.action,
        subject: e.subject,
        outcome: e.outcome ?? 'ok',
        detail: e.detail ?? {},
      });
    },
  };
}

export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const svc = createServices(deps);
  // The last storage failure a request met (disk full, read-only, I/O error): /readyz stays unready for the Retry-After it announced.
  let storageFailedAt = -Infinity;
  let storageCode = '';
  // No route lets zod-openapi validate its request (src/routes/mount.ts); should
  // one ever do, its refusal is the same 422 problem the routes' parsing gives.
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationProblem(result.error, FIELD_PREFIX[result.target] ?? result.target);
    },
  });

  // Every answer carries its request id (a caller's sane X-Request-Id, else a UUID), also problem documents and the log line.
  app.use('*', requestId({ headerName: REQUEST_ID_HEADER, limitLength: REQUEST_ID_MAX }));
  app.use('*', async (c, next) => {
    const started = Date.now();
    await next();
    // A signed request that got through wrote its nonce: the storage takes writes again.
    if (c.res.status < 400 && c.req.path.startsWith('/v1/')) storageFailedAt = -Infinity;
    // A problem built outside the context (onError, notFound) carries no header set on it yet.
    if (!c.res.headers.has(REQUEST_ID_HEADER)) c.res.headers.set(REQUEST_ID_HEADER, c.get('requestId'));
    if (deps.log) {
      const entry: LogEntry = {
        at: new Date(started).toISOString(),
        reqId: c.get('requestId'),
        method: c.req.method,
        route: routeOf(c),
        status: c.res.status,
        ms: Date.now() - started,
        actor: c.get('caller')?.keyid ?? null,
      };
      const failure = c.error instanceof ProblemError ? (c.error.status >= 500 ? c.error.cause : undefined) : c.error;
      if (failure) entry.error = (failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure)).slice(0, 300);
      deps.log(entry);
    }
  });

  mount(app, getService, async (c) => {
    const epoch = await svc.store.currentEpoch();
    return c.json({ service: SERVICE_NAME, version: COORDINATOR_VERSION, protocol: PROTOCOL_NAME, epoch: epoch.id } satisfies z.infer<typeof serviceResponse>);
  });
  // Liveness and readiness probes: unsigned, unaudited, outside /v1 like GET /.
  mount(app, getHealthz, (c) => c.json({ status: 'ok' } satisfies z.infer<typeof healthResponse>));
  mount(app, getReadyz, async (c) => {
    const unready = deps.unready?.();
    if (unready !== undefined) throw new ProblemError('unavailable', unready, { audit: false });
    if (Date.now() - storageFailedAt < STORAGE_RETRY_AFTER_S * 1000) {
      throw new ProblemError('unavailable', `the coordinator's storage failed a write (${storageCode}) in the last ${STORAGE_RETRY_AFTER_S} s`, {
        audit: false,
        extensions: { storage: storageCode },
        headers: { 'Retry-After': String(STORAGE_RETRY_AFTER_S) },
      });
    }
    let epoch: string;
    try {
      epoch = (await svc.store.currentEpoch()).id;
    } catch (cause) {
      throw new ProblemError('unavailable', 'the database cannot be read, is not migrated or not initialised', { audit: false, cause });
    }
    return c.json({ status: 'ready', epoch } satisfies z.infer<typeof readyResponse>);
  });
  // The contract as OpenAPI 3.1, generated from the route definitions (wire/); unsigned and unaudited like GET /.
  registerComponents(app.openAPIRegistry);
  app.doc31(OPENAPI_PATH, openApiObject(COORDINATOR_VERSION));

  app.use('/v1/*', signaturePrecheck(svc));
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ProblemError('too-large', `request bodies are limited to ${MAX_BODY_BYTES} bytes`, { field: 'body' });
      },
    }),
  );
  app.use('/v1/*', signatureMiddleware(svc));
  app.use('/v1/*', roleMiddleware());
  // Only routes whose definition has query parameters (the long polls, the hit list, the audit list) take
  // any; refuse them elsewhere rather than ignore them. Each such route validates its own.
  let withQuery: ReadonlySet<string> | undefined;
  app.use('/v1/*', async (c, next) => {
    withQuery ??= new Set(app.openAPIRegistry.definitions.flatMap((d) => (d.type === 'route' && d.route.request?.query ? [`${d.route.method.toUpperCase()} ${d.route.path}`] : [])));
    if (new URL(c.req.url).search !== '' && !withQuery.has(`${c.req.method} ${openApiPath(routeOf(c))}`)) {
      throw new ProblemError('validation', 'this route takes no query parameters', { field: 'query' });
    }
    await next();
  });

  // Every route's path is the full path of its definition in wire/.
  app.route('/', adminRoutes(svc));
  app.route('/', meRoutes(svc));
  app.route('/', agreementRoutes(svc));
  app.route('/', pairRoutes(svc));
  app.route('/', workRoutes(svc));
  app.route('/', resultsRoutes(svc));
  app.route('/', queryRoutes(svc));
  app.route('/', hitRoutes(svc));
  app.route('/', auditRoutes(svc));

  app.notFound((c) => problemResponse({ ...problemDocument('not-found', 'no such route'), requestId: c.get('requestId') }));

  app.onError(async (err, c) => {
    let problem: ProblemError;
    if (err instanceof ProblemError) problem = err;
    else if (err instanceof HTTPException && err.status < 500) {
      problem = new ProblemError(err.status === 413 ? 'too-large' : 'validation', err.status === 413 ? 'request body too large' : 'malformed request');
    } else {
      const storage = storageFailure(err);
      if (storage !== undefined) {
        storageFailedAt = Date.now();
        storageCode = storage;
        problem = storageProblem(storage, err);
      } else problem = new ProblemError('internal', 'internal error', { audit: false });
    }
    // Refused authentication is anonymous traffic: audited in full once per source, hour and reason, else counted.
    if (problem.audit !== false && problem.audit.action === 'auth.refused') {
      const now = svc.now();
      await flushRefusalSummaries(svc, now);
      if (!svc.refusals.refused(clientSource(c), problem.audit.outcome ?? problem.slug, now)) return problemResponse(problem.toJSON(), problem.headers);
    }
    if (problem.audit !== false) {
      const caller = c.get('caller');
      const route = routeOf(c);
      try {
        await svc.audit({
          actor: problem.audit.actor ?? caller?.keyid ?? 'unknown',
          action: problem.audit.action ?? 'request.refused',
          subject: problem.audit.subject ?? route,
          outcome: problem.audit.outcome ?? problem.slug,
          detail: { status: problem.status, method: c.req.method, route, ...(problem.field ? { field: problem.field } : {}), ...(problem.audit.detail ?? {}) },
        });
      } catch {
        // The refusal still goes out; a failing audit write is visible in the request log.
      }
    }
    return problemResponse({ ...problem.toJSON(), requestId: c.get('requestId') }, problem.headers);
  });

  return app;
}
