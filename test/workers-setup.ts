// Setup of every test file run inside workerd (vitest.workers.config.ts): D1
// starts empty in every test file, so apply the same drizzle migrations that
// `wrangler d1 migrations apply` applies to a deployment (pair objects apply
// them themselves, src/store/do-migrations.js); then register the
// Workers runtime for the shared suite (test/coordinator-runtime.ts).
import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { useRuntime } from './coordinator-runtime.js';
import { workersRuntime } from './coordinator-runtime.workers.js';

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS as unknown[]);
useRuntime(workersRuntime);
