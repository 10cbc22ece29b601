import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Run inside workerd by vitest.workers.config.ts (npm run test:workers), never on Node.
    exclude: [...configDefaults.exclude, 'test/**/*.workerd.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
