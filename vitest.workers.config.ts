// The shared suite inside workerd (@cloudflare/vitest-pool-workers): every
// test file under test/shared/ (the store contract and the coordinator over
// HTTP, the same files vitest.config.ts runs on Node) on the Workers store —
// D1 and one SQLite Durable Object per pair, the bindings of wrangler.toml —
// with the Worker (src/worker.ts) as the pool's main module so its Durable
// Object class runs here. test/workers-setup.ts registers the Workers runtime
// the suite asks for its stores (test/coordinator-runtime.ts). Node-only files
// (the CLI, the SQLite file, the 100k perf run) stay outside test/shared/.
//   npm run test:workers
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig(async () => ({
  plugins: [
    cloudflareTest({
      main: './src/worker.ts',
      wrangler: { configPath: './wrangler.toml' },
      // Test-only binding: the D1 migrations, applied by test/workers-setup.ts.
      miniflare: { bindings: { TEST_MIGRATIONS: await readD1Migrations(join(root, 'drizzle')) } },
    }),
  ],
  test: {
    name: 'workers',
    // The shared suite, and the tests of the Worker entry that only make sense inside workerd.
    include: ['test/shared/**/*.test.ts', 'test/**/*.workerd.test.ts'],
    setupFiles: ['./test/workers-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
}));
