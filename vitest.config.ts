import { defineConfig } from 'vitest/config';

// chdb segfaults inside worker threads: keep the default `forks` pool.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
