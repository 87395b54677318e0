import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Rebuilds dist/ when src/ is newer: the simulator and the built-CLI tests run dist/.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: one on a two-core machine. The slow files
    // mostly wait on processes they spawned (the built CLI, the simulator, an agent's debounce), so
    // three files at a time overlap that waiting. Measured on this two-core machine, idle, December
    // 2026, whole suite: 149 s with two workers, 127-136 s with three.
    maxWorkers: 3,
  },
});
