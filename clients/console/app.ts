// The investigator console's local server (clients/console/API.md): a Hono
// app built by a factory over the agency's own client, store and engine. The
// browser talks only to it; it does every protocol step and every call to
// the coordinator. Security at a glance: an HttpOnly SameSite=Strict session
// cookie, a CSRF token on every state change, an Origin and Host check, a
// strict CSP on every response, throttled logins, and no identifier value in
// any URL, header or log line (query values arrive in POST bodies only).
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import { appendAudit } from '../agency/audit.js';
import { authenticate, lastSignIn, officerPreferences } from '../agency/officers.js';
import type { Assets } from './assets.js';
import { ConsoleProblem, problemBody, type ConsoleDeps, type ConsoleEnv } from './context.js';
import { auditRoutes } from './routes/audit.js';
import { matchRoutes } from './routes/matches.js';
import { overviewRoutes } from './routes/overview.js';
import { preferenceRoutes } from './routes/preferences.js';
import { queryRoutes } from './routes/queries.js';
import { reportRoutes } from './routes/reports.js';
import { trendRoutes } from './routes/trends.js';
import { jsonBody } from './validation.js';
import { CSRF_HEADER, csrfMatches, LOGIN_MAX_FAILURES, LOGIN_MAX_FAILURES_PER_ADDRESS, LoginLimiter, SECURITY_HEADERS, SESSION_COOKIE, SESSION_IDLE_MS, SessionStore, type Session } from './security.js';

const loginBody = z.object({ officer: z.string().min(1).max(64), password: z.string().min(1).max(1024) }).strict();

export function createConsoleApp(deps: ConsoleDeps, assets: Assets): Hono<ConsoleEnv> {
  const now = deps.now ?? (() => new Date());
  const log = deps.log ?? (() => {});
  const sessions = new SessionStore(() => now().getTime());
  const limiter = new LoginLimiter(() => now().getTime());
  const addressOf = deps.addressOf ?? (() => 'local');
  const app = new Hono<ConsoleEnv>();
  const stillActive = deps.store.sqlite.prepare('SELECT 1 FROM officers WHERE id = ? AND disabled_at IS NULL');

  app.use('*', async (c, next) => {
    const t0 = performance.now();
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
    if (c.req.path.startsWith('/api/')) c.res.headers.set('Cache-Control', 'no-store');
    // The path only: filters in the query string name officers and cases, which stay out of logs too.
    log(`console: ${c.req.method} ${c.req.path} ${c.res.status} ${(performance.now() - t0).toFixed(0)} ms`);
  });

  // DNS rebinding: a hostile page whose name resolves to 127.0.0.1 would be same-origin with itself, not with us.
  app.use('*', async (c, next) => {
    const allowed = deps.allowedHosts ?? [];
    const host = (c.req.header('host') ?? '').toLowerCase();
    if (allowed.length > 0 && !allowed.some((h) => h.toLowerCase() === host)) {
      throw new ConsoleProblem(403, 'host', 'this console answers only to the address it was started on');
    }
    await next();
  });

  app.use('/api/*', async (c, next) => {
    const m = c.req.method;
    const changing = m !== 'GET' && m !== 'HEAD' && m !== 'OPTIONS';
    if (changing) {
      const origin = c.req.header('origin');
      if (origin !== undefined && origin !== new URL(c.req.url).origin && !sameHostOrigin(origin, c.req.header('host'))) {
        throw new ConsoleProblem(403, 'origin', 'requests from another origin are refused');
      }
    }
    if (c.req.path === '/api/session' && m === 'POST') return next();
    const session = sessions.get(getCookie(c, SESSION_COOKIE));
    if (!session) throw new ConsoleProblem(401, 'unauthenticated', 'log in first');
    // `concordat officers disable` runs in another process: it takes effect at the officer's next request.
    if (!stillActive.get(session.officer.id)) {
      sessions.deleteOfficer(session.officer.id);
      throw new ConsoleProblem(401, 'unauthenticated', 'this officer can no longer log in');
    }
    if (changing && !csrfMatches(session.csrf, c.req.header(CSRF_HEADER))) {
      throw new ConsoleProblem(403, 'csrf', `send the session's CSRF token in the ${CSRF_HEADER} header`);
    }
    c.set('session', session);
    return next();
  });

  // The agency's display name is the coordinator's; until it answers once, the id stands in.
  let agencyName: string | undefined;
  const agencyInfo = async () => {
    if (agencyName === undefined) agencyName = await deps.client.me().then((m) => m.agency.name, () => undefined);
    return { id: deps.agency.agency, name: agencyName ?? deps.agency.agency };
  };

  const sessionReply = async (s: Session) => ({
    officer: s.officer,
    csrf: s.csrf,
    agency: await agencyInfo(),
    preferences: officerPreferences(deps.store, s.officer.id),
    since: s.since,
    idleTimeoutSeconds: SESSION_IDLE_MS / 1000,
  });

  app.post('/api/session', async (c) => {
    const body = await jsonBody(c, loginBody);
    const keys = [
      [`officer:${body.officer}`, LOGIN_MAX_FAILURES],
      [`address:${addressOf(c)}`, LOGIN_MAX_FAILURES_PER_ADDRESS],
    ] as const;
    const wait = limiter.blockedFor(keys);
    if (wait > 0) {
      const secs = Math.ceil(wait / 1000);
      throw new ConsoleProblem(429, 'rate-limited', `too many failed logins; try again in ${secs} s`, undefined, { 'Retry-After': String(secs) });
    }
    const officer = await authenticate(deps.store, body.officer, body.password);
    if (!officer) {
      limiter.fail(keys);
      // A known officer id is recorded so a supervisor sees who was tried; anything else typed
      // there (a password in the wrong field, say) is not.
      const known = deps.store.sqlite.prepare('SELECT 1 FROM officers WHERE id = ?').get(body.officer) !== undefined;
      appendAudit(
        deps.store,
        { officer: null, action: 'session.login', subject: known ? body.officer : 'console', outcome: 'refused', detail: { knownOfficer: known, address: addressOf(c) } },
        now(),
      );
      throw new ConsoleProblem(401, 'bad-credentials', 'wrong officer id or password');
    }
    limiter.succeed(keys[0][0]);
    // Read before this sign-in is recorded: the overview counts from the one before.
    const { cookie, session } = sessions.create({ id: officer.id, name: officer.name }, lastSignIn(deps.store, officer.id));
    setCookie(c, SESSION_COOKIE, cookie, { httpOnly: true, sameSite: 'Strict', path: '/', secure: deps.secureCookie === true });
    appendAudit(deps.store, { officer: officer.id, action: 'session.login', subject: 'console', outcome: 'ok', detail: { address: addressOf(c) } }, now());
    return c.json(await sessionReply(session));
  });

  app.get('/api/session', async (c) => c.json(await sessionReply(c.get('session'))));

  app.delete('/api/session', (c) => {
    const s = c.get('session');
    sessions.delete(getCookie(c, SESSION_COOKIE));
    deleteCookie(c, SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'Strict', secure: deps.secureCookie === true });
    appendAudit(deps.store, { officer: s.officer.id, action: 'session.logout', subject: 'console', outcome: 'ok' }, now());
    return c.body(null, 204);
  });

  app.route('/api', overviewRoutes(deps));
  app.route('/api', matchRoutes(deps));
  app.route('/api', queryRoutes(deps));
  app.route('/api', reportRoutes(deps));
  app.route('/api', auditRoutes(deps));
  app.route('/api', trendRoutes(deps));
  app.route('/api', preferenceRoutes(deps));
  app.all('/api/*', () => {
    throw new ConsoleProblem(404, 'not-found', 'no such route');
  });

  // Static files; any other GET is the single page (its router reads the hash).
  app.get('*', (c) => {
    const a = assets.get(c.req.path) ?? assets.get('/index.html');
    if (!a) throw new ConsoleProblem(404, 'not-found', 'no such file');
    const isIndex = a === assets.get('/index.html');
    return c.body(a.body as Uint8Array<ArrayBuffer>, 200, {
      'Content-Type': a.type,
      'Cache-Control': a.immutable && !isIndex ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
  });

  app.onError((err, c) => {
    let p: ConsoleProblem;
    if (err instanceof ConsoleProblem) p = err;
    else if (err instanceof HTTPException) p = new ConsoleProblem(err.status === 413 ? 413 : 400, err.status === 413 ? 'too-large' : 'invalid', 'malformed request');
    else {
      // The message may carry anything (a driver error quoting SQL): the log gets its class only.
      log(`console: internal error on ${c.req.method} ${c.req.path}: ${err instanceof Error ? err.name : 'error'}`);
      p = new ConsoleProblem(500, 'internal', 'internal error');
    }
    const res = c.json(problemBody(p), p.status, { 'Content-Type': 'application/problem+json', ...p.headers });
    return res;
  });

  return app;
}

/** `Origin: http://127.0.0.1:8788` against `Host: 127.0.0.1:8788` (behind no proxy the request URL says the same). */
function sameHostOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}
