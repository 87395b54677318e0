// An in-memory pf for the apply core's tests: the pfctl simulator's behaviour (test/pfctl-sim) as a
// runner plugged under the real adapter (createPfctl's `runner`), so no process is spawned and
// nothing needs a build. The adapter still builds every command line and reads every answer, so
// what a test sees (outcomes, messages, the argv of each call) is what it sees with the simulator.
// Rules are checked and printed back with src/pf's parser and printer, as the simulator does.
// Loads read the ruleset file the adapter wrote; everything else lives in this object.
import { readFileSync } from 'node:fs';
import { createPfctl, type PfctlOptions } from '../../src/host/pfctl.js';
import type { Pfctl } from '../../src/pf/pfctl-api.js';
import type { RunOptions, RunResult } from '../../src/host/run-command.js';
import { normalizeAsLoaded, parsePfctlOutput, printRuleLines } from '../../src/pf/parse-pfctl.js';
import { ANCHOR_NAME_PATTERN } from '../../src/pf/pfctl-output.js';
import type { ParsedRule } from '../../src/pf/rule.js';
import type { RouteTable } from '../../src/model/default-route.js';
import type { SimCounters } from '../pfctl-sim/sim-control.js';

type Operation = 'status' | 'show' | 'tables' | 'labels' | 'anchors' | 'dry-run' | 'load' | 'kill' | 'flush';

/** The simulator's faults (see test/pfctl-sim/pfctl-sim.mjs), as far as the apply core meets them. */
export interface MemoryPfControl {
  /** Every run prints "pfctl: MSG" and exits 1. */
  fail?: string;
  /** The next N loads print "pfctl: DIOCXBEGIN: Device busy" and exit 1. */
  busyLoads?: number;
  /** Runs (of hangOn's operations, default all) take this long: past the adapter's timeout, they time out. */
  hangMs?: number | 'forever';
  hangOn?: Operation[];
  /** The next N loads are killed by SIGKILL, before (default) or after they committed. */
  dieLoads?: number;
  dieWhen?: 'before-commit' | 'after-commit';
  /** Show runs (-s) print "pfctl: MSG" on stderr, nothing on stdout, and exit 0. */
  showError?: string;
  /** What `-k label -k L` reports killing (default 0). */
  killedStates?: number;
  /** What `-a NAME -s labels` prints per labelled filter rule (a list: the label's 1st, 2nd, ... rule). */
  labelCounters?: Record<string, SimCounters | SimCounters[]>;
}

export interface MemoryPfCall {
  argv: string[];
}

export interface MemoryPf {
  /** createPfctl's runner: answers as pfctl would, from memory. */
  runner(program: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** The real adapter over this pf. */
  pfctl(options?: Partial<PfctlOptions>): Pfctl;
  setControl(control: MemoryPfControl): Promise<void>;
  /** The main ruleset in printed form; default calls anchor "pfexpose". */
  writeMain(text: string): Promise<void>;
  setEnabled(enabled: boolean): Promise<void>;
  /** An anchor's rules as last loaded, or undefined when it was never loaded. */
  readAnchor(name: string): Promise<string | undefined>;
  writeAnchor(name: string, text: string): Promise<void>;
  calls(): Promise<MemoryPfCall[]>;
  /** Runs that tried to load (pfctl -f without -n), whatever their outcome. */
  loadCalls(): Promise<MemoryPfCall[]>;
  cleanup(): Promise<void>;
}

const DEFAULT_MAIN = 'rdr-anchor "pfexpose" all\nanchor "pfexpose" all\n';
const WITH_VALUE = new Set(['a', 's', 'o', 'f', 'k', 'F', 't', 'T']);
const FLAGS = new Set(['n', 'P', 'v', 'q', 'e', 'd']);

interface Args {
  anchor?: string;
  show?: string;
  file?: string;
  kill: string[];
  flush?: string;
  table?: string;
  tableCommand?: string;
  noAction: boolean;
  numeric: boolean;
}

export function createMemoryPf(): MemoryPf {
  let main = DEFAULT_MAIN;
  let enabled = true;
  let control: MemoryPfControl = {};
  const anchors = new Map<string, string>();
  const log: MemoryPfCall[] = [];

  /** An anchor exists once loaded, or while the main ruleset calls it (pf creates it then). */
  const anchorText = (name: string): string | undefined =>
    anchors.get(name) ?? (main.includes(`anchor "${name}"`) ? '' : undefined);

  const answer = (argv: readonly string[], timeoutMs: number): RunResult => {
    const parsed = parseArgs(argv);
    if (typeof parsed === 'string') return done(2, '', `pfctl-sim: ${parsed}\n`);
    const op = operation(parsed);
    if (op === undefined) return done(2, '', `pfctl-sim: unsupported arguments: ${argv.join(' ')}\n`);
    const hang = control.hangMs;
    if (hang !== undefined && (control.hangOn === undefined || control.hangOn.includes(op))) {
      // No real wait: a run longer than the timeout is killed at the timeout, as runCommand does.
      if (hang === 'forever' || hang >= timeoutMs) {
        return {
          kind: 'timed-out',
          timeoutMs,
          message: `timed out after ${timeoutMs} ms`,
          stdout: '',
          stderr: '',
          truncated: false,
          durationMs: timeoutMs,
        };
      }
    }
    if (typeof control.fail === 'string') return done(1, '', `pfctl: ${control.fail}\n`);
    if (typeof control.showError === 'string' && ['show', 'tables', 'labels', 'status'].includes(op)) {
      return done(0, '', `pfctl: ${control.showError}\n`);
    }
    if (parsed.anchor !== undefined && !ANCHOR_NAME_PATTERN.test(parsed.anchor)) {
      return done(1, '', `pfctl: anchor name "${parsed.anchor}" not supported by the simulator\n`);
    }
    switch (op) {
      case 'status':
        return done(0, statusText(enabled), '');
      case 'show':
        return show(parsed);
      case 'tables':
        return tables(parsed);
      case 'anchors':
        return done(0, block(listAnchors().map((name) => `  ${name}`)), '');
      case 'labels':
        return labels(parsed);
      case 'kill':
        return done(0, '', `killed ${Number(control.killedStates ?? 0)} states\n`);
      case 'flush':
        anchors.set(parsed.anchor ?? '', '');
        return done(0, '', 'rules cleared\nnat cleared\n0 tables deleted.\n');
      case 'dry-run':
      case 'load':
        return load(parsed, op === 'dry-run');
    }
  };

  const show = (p: Args): RunResult => {
    const translation = p.show === 'n' || p.show === 'nat';
    if (p.anchor === undefined) {
      const printed = printRuleset(main, true);
      return done(0, block(translation ? printed.nat : printed.filter), '');
    }
    const text = anchorText(p.anchor);
    // FreeBSD's pfctl warns and still exits 0 here: the adapter must look at stderr.
    if (text === undefined) return done(0, '', 'pfctl: DIOCGETRULES: Invalid argument\n');
    const printed = printRuleset(text, p.numeric);
    return done(0, block(translation ? printed.nat : printed.filter), '');
  };

  /** `-a NAME -s labels`: per labelled filter rule, the label and eight counts (from control.labelCounters). */
  const labels = (p: Args): RunResult => {
    const text = anchorText(p.anchor ?? '');
    if (text === undefined) return done(0, '', 'pfctl: DIOCGETRULES: Invalid argument\n');
    const seen = new Map<string, number>();
    const lines: string[] = [];
    for (const rule of printRuleset(text, true).filter) {
      const label = /\slabel "([^"]*)"/.exec(rule)?.[1];
      if (label === undefined || label === '') continue;
      const index = seen.get(label) ?? 0;
      seen.set(label, index + 1);
      const given = control.labelCounters?.[label];
      const counts: SimCounters = (Array.isArray(given) ? given[index] : index === 0 ? given : undefined) ?? {};
      const keys = [
        'evaluations',
        'packets',
        'bytes',
        'inPackets',
        'inBytes',
        'outPackets',
        'outBytes',
        'states',
      ] as const;
      lines.push([label, ...keys.map((key) => counts[key] ?? 0)].join(' '));
    }
    return done(0, block(lines), '');
  };

  const tables = (p: Args): RunResult => {
    const text = anchorText(p.anchor ?? '');
    if (text === undefined) return done(0, '', 'pfctl: Anchor does not exist.\n');
    const found = checkRuleset(text).tables;
    if (p.table === undefined) return done(0, block(found.map((t) => t.name).sort()), '');
    const table = found.find((t) => t.name === p.table);
    if (table === undefined) return done(1, '', 'pfctl: Table does not exist.\n');
    return done(0, block(table.addresses.map((a) => `   ${a}`)), '');
  };

  const load = (p: Args, dryRun: boolean): RunResult => {
    const file = p.file ?? '-';
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      // As pfctl: the file named as given, then the parser's own complaint.
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'No such file or directory' : String(error);
      const stderr = `pfctl: ${file}: ${why}\npfctl: cannot open the main config file!: ${why}\n`;
      return done(1, '', dryRun ? stderr : `${stderr}pfctl: Syntax error in config file: pf rules not loaded\n`);
    }
    const { errors } = checkRuleset(text);
    if (errors.length > 0) {
      const seen = new Set<string>();
      let stderr = '';
      for (const error of errors) {
        const line = `${file}:${error.line}: ${error.message}\n`;
        if (!seen.has(line)) stderr += line;
        seen.add(line);
      }
      if (!dryRun) stderr += 'pfctl: Syntax error in config file: pf rules not loaded\n';
      return done(1, '', stderr);
    }
    if (dryRun) return done(0, '', '');
    if ((control.busyLoads ?? 0) > 0) {
      control = { ...control, busyLoads: (control.busyLoads ?? 0) - 1 };
      return done(1, '', 'pfctl: DIOCXBEGIN: Device busy\n');
    }
    if ((control.dieLoads ?? 0) > 0) {
      control = { ...control, dieLoads: (control.dieLoads ?? 0) - 1 };
      if (control.dieWhen === 'after-commit') anchors.set(p.anchor ?? '', text);
      return {
        kind: 'completed',
        exitCode: null,
        signal: 'SIGKILL',
        stdout: '',
        stderr: '',
        truncated: false,
        durationMs: 0,
      };
    }
    // Like pf's transaction: the anchor holds either the old rules or the new, never a mix.
    anchors.set(p.anchor ?? '', text);
    return done(0, '', '');
  };

  /** Every anchor that exists, sorted (flat: no nested anchors here, as in the simulator). */
  const listAnchors = (): string[] => {
    const names = new Set(anchors.keys());
    for (const match of main.matchAll(/anchor "([^"]+)"/g)) if (match[1] !== undefined) names.add(match[1]);
    return [...names].sort();
  };

  const runner = (_program: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> => {
    log.push({ argv: [...args] });
    return Promise.resolve(answer(args, options.timeoutMs ?? 30_000));
  };

  return {
    runner,
    pfctl(options = {}) {
      return createPfctl({ program: 'pfctl', sleep: () => Promise.resolve(), ...options, runner });
    },
    setControl(next) {
      control = { ...next };
      return Promise.resolve();
    },
    writeMain(text) {
      main = text;
      return Promise.resolve();
    },
    setEnabled(on) {
      enabled = on;
      return Promise.resolve();
    },
    readAnchor(name) {
      return Promise.resolve(anchors.get(name));
    },
    writeAnchor(name, text) {
      anchors.set(name, text);
      return Promise.resolve();
    },
    calls() {
      return Promise.resolve(log.map((call) => ({ argv: [...call.argv] })));
    },
    loadCalls() {
      return Promise.resolve(
        log
          .filter((call) => {
            const flags = call.argv.filter((arg) => arg.startsWith('-') && arg !== '-');
            return (
              flags.some((flag) => flag.includes('f')) && !flags.some((flag) => flag.includes('n') && flag !== '-sn')
            );
          })
          .map((call) => ({ argv: [...call.argv] })),
      );
    },
    cleanup() {
      return Promise.resolve();
    },
  };
}

/**
 * route(8) as the simulator answers it with PFCTL_SIM_ROUTE_IF=ipv4If and no IPv6 default route, for
 * watch in process (CliContext.route). The messages are the adapter's own for those answers.
 */
export function memoryRouteTable(ipv4If: string): RouteTable {
  return {
    defaultRoute(family) {
      if (family === 'inet') return Promise.resolve({ kind: 'found', interface: ipv4If, gateway: null });
      return Promise.resolve({
        kind: 'no-route',
        family,
        message: 'this host has no IPv6 default route (route -n get -inet6 default)',
      });
    },
  };
}

function parseArgs(argv: readonly string[]): Args | string {
  const values: Record<string, string> = {};
  const kill: string[] = [];
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('-') || arg === '-') return `unexpected argument ${JSON.stringify(arg)}`;
    // getopt style: -nf -, -sn, -Fa, -a NAME
    for (let j = 1; j < arg.length; j += 1) {
      const letter = arg[j] ?? '';
      if (FLAGS.has(letter)) {
        flags.add(letter);
        continue;
      }
      if (!WITH_VALUE.has(letter)) return `unknown option -${letter}`;
      let value: string | undefined = arg.slice(j + 1);
      if (value === '') {
        i += 1;
        value = argv[i];
        if (value === undefined) return `option -${letter} needs a value`;
      }
      if (letter === 'k') kill.push(value);
      else values[letter] = value;
      break;
    }
  }
  return {
    ...(values['a'] === undefined ? {} : { anchor: values['a'] }),
    ...(values['s'] === undefined ? {} : { show: values['s'] }),
    ...(values['f'] === undefined ? {} : { file: values['f'] }),
    ...(values['F'] === undefined ? {} : { flush: values['F'] }),
    ...(values['t'] === undefined ? {} : { table: values['t'] }),
    ...(values['T'] === undefined ? {} : { tableCommand: values['T'] }),
    kill,
    noAction: flags.has('n'),
    numeric: flags.has('P'),
  };
}

function operation(p: Args): Operation | undefined {
  if (p.show === 'info' || p.show === 'i') return 'status';
  if (p.show === 'n' || p.show === 'nat' || p.show === 'r' || p.show === 'rules') return 'show';
  if (p.show === 'Tables' || p.show === 'T') return 'tables';
  if ((p.show === 'labels' || p.show === 'l') && p.anchor !== undefined) return 'labels';
  if ((p.show === 'Anchors' || p.show === 'A') && p.anchor === undefined) return 'anchors';
  if (p.table !== undefined && p.tableCommand === 'show' && p.anchor !== undefined) return 'tables';
  if (p.kill.length === 2 && p.kill[0] === 'label') return 'kill';
  if ((p.flush === 'all' || p.flush === 'a') && p.anchor !== undefined) return 'flush';
  if (p.file !== undefined && p.anchor !== undefined) return p.noAction ? 'dry-run' : 'load';
  return undefined;
}

function statusText(enabled: boolean): string {
  return [
    `Status: ${enabled ? 'Enabled' : 'Disabled'} for 0 days 00:00:00           Debug: Urgent`,
    '',
    'State Table                          Total             Rate',
    '  current entries                        0               ',
    '',
  ].join('\n');
}

function done(exitCode: number, stdout: string, stderr: string): RunResult {
  return { kind: 'completed', exitCode, signal: null, stdout, stderr, truncated: false, durationMs: 0 };
}

function block(lines: readonly string[]): string {
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

// The simulator's view of a ruleset (test/pfctl-sim/ruleset-syntax.mjs), with src/pf directly.
const TRANSLATION = /^(no\s+)?(nat|rdr|binat)(\s|$)|^(nat|rdr|binat)-anchor(\s|$)/;
const FILTER = /^(pass|block|match|anchor)(\s|$)/;
const TABLE = /^table\s+<([^>]+)>(.*)$/;
const ORDER_MESSAGE = 'Rules must be in order: options, ethernet, normalization, queueing, translation, filtering';

interface Checked {
  errors: { line: number; message: string }[];
  tables: { name: string; addresses: string[] }[];
  rules: ParsedRule[];
}

/** What `pfctl -nf` would reject: lines the parser cannot read, translation after filtering. */
function checkRuleset(text: string): Checked {
  const errors: Checked['errors'] = [];
  const tables: Checked['tables'] = [];
  let sawFilter = false;
  const rulesOnly = text.split('\n').map((raw, index) => {
    const line = index + 1;
    const stripped = stripComment(raw).trim();
    const table = TABLE.exec(stripped);
    if (table !== null) {
      const body = /\{([^}]*)\}/.exec(table[2] ?? '');
      tables.push({
        name: table[1] ?? '',
        addresses: body === null ? [] : (body[1] ?? '').split(/[\s,]+/).filter((a) => a !== ''),
      });
      return '';
    }
    if (TRANSLATION.test(stripped)) {
      if (sawFilter) errors.push({ line, message: ORDER_MESSAGE });
    } else if (FILTER.test(stripped)) {
      sawFilter = true;
    }
    return raw;
  });
  const parsed = parsePfctlOutput(rulesOnly.join('\n'));
  for (const diagnostic of parsed.diagnostics) errors.push({ line: diagnostic.line, message: 'syntax error' });
  errors.sort((a, b) => a.line - b.line);
  return { errors, tables, rules: parsed.rules };
}

/** The rules as pfctl prints them after loading them; without -P, well-known ports by name. */
function printRuleset(text: string, numeric: boolean): { nat: string[]; filter: string[] } {
  const nat: string[] = [];
  const filter: string[] = [];
  for (const rule of normalizeAsLoaded(checkRuleset(text).rules)) {
    const lines = printRuleLines(rule, { ports: numeric ? 'numeric' : 'names' });
    if (isTranslation(rule)) nat.push(...lines);
    else filter.push(...lines);
  }
  return { nat, filter };
}

function isTranslation(rule: ParsedRule): boolean {
  if (rule.kind === 'translation') return true;
  if (rule.kind === 'anchor') return rule.type !== 'anchor';
  if (rule.kind === 'unparsed') return TRANSLATION.test(rule.text);
  return false;
}

function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    if (line[i] === '"') quoted = !quoted;
    else if (line[i] === '#' && !quoted) return line.slice(0, i);
  }
  return line;
}
