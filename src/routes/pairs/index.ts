// Pair routes under /v1/pairs/{pair}/…: own side, partner work, status.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv, Services } from '../../context.js';
import { partnerRoutes } from './partner.js';
import { setRoutes } from './set.js';
import { statusRoutes } from './status.js';

export function pairRoutes(svc: Services): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  app.route('/', setRoutes(svc));
  app.route('/', partnerRoutes(svc));
  app.route('/', statusRoutes(svc));
  return app;
}
