// Pair routes under /v1/pairs/{pair}/…: the caller's epoch key, own side, partner work, status.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv, Services } from '../../context.js';
import { epochKeyRoutes } from './epoch-key.js';
import { partnerRoutes } from './partner.js';
import { setRoutes } from './set.js';
import { statusRoutes } from './status.js';

export function pairRoutes(svc: Services): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  app.route('/', epochKeyRoutes(svc));
  app.route('/', setRoutes(svc));
  app.route('/', partnerRoutes(svc));
  app.route('/', statusRoutes(svc));
  return app;
}
