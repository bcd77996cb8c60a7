import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-tmp.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each file runs its own worker threads; two files at a time suit a 2-core machine.
    maxWorkers: 2,
  },
});
