import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { runCommand } from '../../src/host/run-command.js';

const node = process.execPath;

/** Dead, or a zombie waiting for a reaper (PID 1 in a container may be slow to reap). */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

describe('runCommand', () => {
  it('captures stdout, stderr and the exit code, feeding stdin', async () => {
    const result = await runCommand(
      node,
      [
        '-e',
        'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{process.stdout.write(s.toUpperCase());process.stderr.write("warn\\n");process.exit(3)})',
      ],
      { stdin: 'hello' },
    );
    expect(result).toMatchObject({ kind: 'completed', exitCode: 3, signal: null, stdout: 'HELLO', stderr: 'warn\n' });
  });

  it('passes arguments without a shell', async () => {
    const result = await runCommand(node, [
      '-e',
      'process.stdout.write(JSON.stringify(process.argv.slice(1)))',
      '$(id)',
      'a b;c',
    ]);
    expect(result.kind === 'completed' && JSON.parse(result.stdout)).toEqual(['$(id)', 'a b;c']);
  });

  it('reports a missing program as a value', async () => {
    const result = await runCommand('/nonexistent/pfctl', ['-s', 'info']);
    expect(result).toMatchObject({ kind: 'spawn-failed', errno: 'ENOENT' });
    expect(result.kind === 'spawn-failed' && result.message).toContain('/nonexistent/pfctl: program not found');
  });

  it('kills the whole process group after the timeout', async () => {
    // The child starts a grandchild that would outlive a plain kill of the child.
    const script =
      'const {spawn}=require("child_process");const g=spawn(process.execPath,["-e","setTimeout(()=>{},60000)"],{stdio:"inherit"});process.stdout.write(String(g.pid)+"\\n");setTimeout(()=>{},60000)';
    const started = Date.now();
    const result = await runCommand(node, ['-e', script], { timeoutMs: 700 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result).toMatchObject({ kind: 'timed-out', timeoutMs: 700, message: 'timed out after 700 ms' });
    const grandchild = Number(result.kind === 'timed-out' ? result.stdout.trim() : NaN);
    expect(grandchild).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(isGone(grandchild)).toBe(true);
  });

  it('reports a signal that ended the program', async () => {
    const result = await runCommand(node, ['-e', 'process.kill(process.pid, "SIGKILL")']);
    expect(result).toMatchObject({ kind: 'completed', exitCode: null, signal: 'SIGKILL' });
  });

  it('survives a program that exits without reading its input', async () => {
    const result = await runCommand(node, ['-e', 'process.exit(0)'], { stdin: 'x'.repeat(4 * 1024 * 1024) });
    expect(result).toMatchObject({ kind: 'completed', exitCode: 0 });
  });
});
