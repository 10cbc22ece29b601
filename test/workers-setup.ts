// Setup of the Workers runs of the coordinator suite (vitest.workers.config.ts):
// D1 starts empty in every test file; apply the same drizzle migrations that
// `wrangler d1 migrations apply` applies to a deployment. Pair objects apply
// them themselves (src/store/do-migrations.js).
import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS as unknown[]);
