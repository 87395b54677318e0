import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Rebuilds dist/ when src/ is newer: the simulator and the built-CLI tests run dist/.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: one on a two-core machine. Most of the
    // slow files wait on processes they spawned (the built CLI, the simulator, an agent's debounce),
    // so two files at a time overlap that waiting (test/e2e on a loaded machine, December 2026:
    // 5.2 min with two workers; with one, the five slowest files alone took 14 min).
    maxWorkers: 2,
  },
});
