// The agent's reaction time at 1,000 containers: `pfexpose watch` runs against the pfctl simulator,
// one manifest file is rewritten, and the time from that write to the simulator's log entry of
// the load (`pfctl -f -`) is measured, a few times. Also split: write -> the apply's first pfctl
// run (the agent's own part: debounce, settle, re-read, compile, compare) and the pfctl runs the
// apply makes before its load (preflight, read-back, dry run), whose cost is the simulator's
// start-up. The agent runs with the default --settle (2 s): a changed file counts only once two
// reads at least that far apart agree, so the settle period is most of the reaction.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTree } from './generate.mjs';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function readCalls(simDir) {
  const path = join(simDir, 'calls.log');
  if (!existsSync(path)) return [];
  return (
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line))
      // When the agent started the pfctl process (the simulator's own start-up is not the agent's).
      .map((call) => ({ ...call, ms: Date.parse(call.started ?? call.time) }))
  );
}

const isLoad = (call) => call.argv.includes('-f') && !call.argv.includes('-n');

async function waitFor(what, probe, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`agent bench: timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * Runs the measurement; returns { containers, debounceMs, samples: [{ reactionMs, agentMs, preLoadRuns }] }.
 * root: the repository; work: a scratch directory.
 */
export async function measureAgentReaction({
  root,
  work,
  containers = 1000,
  debounceMs = 500,
  settleMs = 2000,
  rounds = 5,
}) {
  const tree = join(work, `agent-tree-${containers}`);
  generateTree(tree, containers);
  const simDir = mkdtempSync(join(tmpdir(), 'pfexpose-bench-sim-'));
  mkdirSync(join(simDir, 'anchors'));
  const state = join(simDir, 'state');
  const child = spawn(
    process.execPath,
    [
      join(root, 'bin/pfexpose.js'),
      'watch',
      tree,
      '--pfctl',
      join(root, 'test/pfctl-sim/pfctl'),
      '--state-dir',
      state,
      '--debounce',
      `${debounceMs}ms`,
      '--settle',
      `${settleMs}ms`,
      '--interval',
      '0',
      '--log-format',
      'json',
    ],
    { env: { ...process.env, PFCTL_SIM_DIR: simDir, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const events = [];
  let stderr = '';
  let buffer = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    buffer += chunk;
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) if (line !== '') events.push(JSON.parse(line));
  });
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    stderr += chunk;
  });
  const samples = [];
  try {
    await waitFor(
      'the first apply',
      () => events.some((e) => e.event === 'applied') || child.exitCode !== null,
      120_000,
    );
    if (child.exitCode !== null) throw new Error(`pfexpose watch exited ${child.exitCode}: ${stderr}`);
    const file = join(tree, 'part-000.yaml');
    const original = readFileSync(file, 'utf8');
    for (let round = 0; round < rounds; round += 1) {
      const before = readCalls(simDir).length;
      const applied = events.filter((e) => e.event === 'applied').length;
      const written = Date.now();
      writeFileSync(file, original.replace('- em0:10000:80', `- em0:${30000 + round}:80`));
      await waitFor('the load', () => readCalls(simDir).slice(before).some(isLoad), 60_000);
      const calls = readCalls(simDir).slice(before);
      const load = calls.find(isLoad);
      samples.push({
        reactionMs: load.ms - written,
        agentMs: calls[0].ms - written,
        preLoadRuns: calls.indexOf(load),
      });
      // Let the apply finish (read-back, record) before the next write.
      await waitFor('the apply to finish', () => events.filter((e) => e.event === 'applied').length > applied, 60_000);
      await sleep(200);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => {
      if (child.exitCode !== null) resolve();
      else child.once('exit', resolve);
    });
    rmSync(simDir, { recursive: true, force: true });
  }
  return { containers, debounceMs, settleMs, samples };
}

/** The figures as run.mjs prints them. */
export function summarizeAgentReaction(result) {
  const reaction = median(result.samples.map((s) => s.reactionMs));
  const agent = median(result.samples.map((s) => s.agentMs));
  const runs = median(result.samples.map((s) => s.preLoadRuns));
  return {
    reaction,
    agent,
    runs,
    perRun: runs > 0 ? (reaction - agent) / runs : 0,
    // The settle period begins with the first read of the change, at the latest when the quiet
    // period ends (in practice a fifth into it, when the agent warms its caches).
    target: result.debounceMs + result.settleMs + 100,
  };
}

// Run by itself: node bench/agent-reaction.mjs (after npm run build).
if (import.meta.url === `file://${process.argv[1]}`) {
  const root = new URL('..', import.meta.url).pathname;
  const work = join(root, '.bench');
  mkdirSync(work, { recursive: true });
  const result = await measureAgentReaction({ root, work, rounds: Number(process.env.BENCH_AGENT_ROUNDS ?? 5) });
  console.log(JSON.stringify({ ...result, summary: summarizeAgentReaction(result) }, null, 2));
}
