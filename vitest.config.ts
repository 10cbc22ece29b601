import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Run inside workerd by vitest.workers.config.ts (npm run test:workers), never on Node.
    exclude: [...configDefaults.exclude, 'test/**/*.workerd.test.ts'],
    // The shared suite (test/shared/) runs here on the SQLite store; the setup registers it.
    setupFiles: ['./test/coordinator-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
