import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Rebuilds dist/ when src/ is newer: the simulator and the built-CLI tests run dist/.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    pool: 'forks',
    // One module graph per worker instead of one per test file: the suite is CPU-bound on two cores,
    // and re-importing src/ and the libraries for each of the hundred files cost about a third of its
    // CPU time. Nothing here relies on a fresh module: no mocks, no state at module level in src/ or
    // the helpers, and hooks are registered by each test file (see test/e2e/watch-harness.ts).
    isolate: false,
    // Vitest's default is one worker fewer than the cores: one on a two-core machine. The slow files
    // mostly wait on processes they spawned (the built CLI, the simulator, an agent's debounce), so
    // three files at a time overlap that waiting. Measured on this two-core machine, idle, December
    // 2026, whole suite: 149 s with two workers, 127-136 s with three.
    maxWorkers: 3,
  },
});
