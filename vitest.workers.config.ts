// The shared coordinator suite inside workerd (@cloudflare/vitest-pool-workers):
// the same test files as on Node, on the Workers store (D1 and one SQLite
// Durable Object per pair, the bindings of wrangler.toml), with the Worker
// (src/worker.ts) as the pool's main module so its Durable Object class runs
// here. The runtime module the suite imports (test/coordinator-runtime.ts on
// Node) is swapped for its Workers twin. Node-only files (the CLI, the SQLite
// file, the 100k perf run) stay in vitest.config.ts.
//   npm run test:workers
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

/** The shared suite: every coordinator test file that runs on both stores. */
export const SHARED_SUITE = [
  'test/coordinator-admin.test.ts',
  'test/coordinator-audit.test.ts',
  'test/coordinator-auth.test.ts',
  'test/coordinator-chunks.test.ts',
  'test/coordinator-flow.test.ts',
  'test/coordinator-governance.test.ts',
  'test/coordinator-queries.test.ts',
];

/** Tests of the Worker entry that only make sense inside workerd. */
const WORKERD_ONLY = ['test/**/*.workerd.test.ts'];

export default defineConfig(async () => ({
  plugins: [
    cloudflareTest({
      main: './src/worker.ts',
      wrangler: { configPath: './wrangler.toml' },
      // Test-only binding: the D1 migrations, applied by test/workers-setup.ts.
      miniflare: { bindings: { TEST_MIGRATIONS: await readD1Migrations(join(root, 'drizzle')) } },
    }),
  ],
  resolve: {
    alias: [{ find: /^\.\/coordinator-runtime\.js$/, replacement: join(root, 'test', 'coordinator-runtime.workers.ts') }],
  },
  test: {
    name: 'workers',
    include: [...SHARED_SUITE, ...WORKERD_ONLY],
    setupFiles: ['./test/workers-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
}));
