// Every route is mounted from its definition in the wire contract (wire/),
// which also puts it in GET /openapi.json.
//
// The handler validates the request itself, with the definition's schemas:
// path parameters, then access (party of a valid agreement, epoch key), then
// the body, as src/API.md orders the refusals, and the body from the bytes the
// signature covered (src/auth.ts). zod-openapi's request validators would run
// before the handler, parse the body again from its Content-Type and refuse
// other media types, so the definitions are registered, not validated by it.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Handler } from 'hono';
import type { WireRoute } from '../../wire/index.js';
import type { AppEnv } from '../context.js';

/** `/v1/queries/{id}` → `/v1/queries/:id{[0-9a-f]{32}}` with `patterns = { id: '[0-9a-f]{32}' }`. */
function routingPath(path: string, patterns: Readonly<Record<string, string>>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => `:${name}${patterns[name] !== undefined ? `{${patterns[name]}}` : ''}`);
}

/**
 * Mount `handler` on `route`. `patterns` constrain path parameters at routing
 * time (a path that does not match is 404 `not-found`, not a validation error).
 */
export function mount(app: OpenAPIHono<AppEnv>, route: WireRoute, handler: Handler<AppEnv>, patterns: Readonly<Record<string, string>> = {}): void {
  app.openAPIRegistry.registerPath(route);
  app.on(route.method.toUpperCase(), routingPath(route.path, patterns), handler);
}
