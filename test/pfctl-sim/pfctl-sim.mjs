// A stand-in for FreeBSD's pfctl(8), for tests: the part of its command line pfexpose uses, against
// anchors kept as files in $PFCTL_SIM_DIR, with faults a test can switch on. The executable
// `test/pfctl-sim/pfctl` runs main(); test/pfctl-sim/README.md documents all of it.
//
// $PFCTL_SIM_DIR holds:
//   main.conf           the main ruleset in printed form (default: rdr-anchor/anchor "pfexpose" all)
//   disabled            present: pf is disabled (`-s info` says "Status: Disabled"; -e/-d toggle it)
//   anchors/NAME.conf   an anchor's ruleset as last loaded (written to a temp file, then renamed)
//   calls.log           one JSON line per run: {"time":ISO,"pid":N,"argv":[...]}
//   reads.log           with readDelayMs: one JSON line per chunk a load or dry run read:
//                       {"pid":N,"file":"-"|PATH,"bytes":TOTAL_SO_FAR}, then {"pid":N,...,"eof":true}
//   control.json        faults, all optional:
//     fail: "msg"            every run prints "pfctl: msg" and exits 1
//     busyLoads: N           the next N loads print "pfctl: DIOCXBEGIN: Device busy" and exit 1
//     hangMs: N | "forever"  every run sleeps this long before doing anything
//     hangOn: ["load", ...]  limit hangMs to these operations (status, show, dry-run, load, kill,
//                            flush, tables, enable, disable)
//     readDelayMs: N         loads and dry runs read their input (stdin or FILE) in chunks of
//     readChunkBytes: N      readChunkBytes (default 4096), pausing readDelayMs after each one
//     holdOn: ["load", ...]  while the file $PFCTL_SIM_DIR/hold exists, these operations wait ...
//     holdAt: "start"        ... before doing anything (default), or "mid-read": loads and dry
//                            runs after reading their first chunk; each hold is logged to holds.log
//                            ({"pid":N,"op":OP,"at":AT}) when it begins
//     dieLoads: N            the next N loads read their input, then SIGKILL themselves ...
//     dieWhen: "before-commit" (default: the anchor keeps its old rules) | "after-commit"
//     showError: "msg"       show runs (-s) print "pfctl: msg" on stderr, nothing on stdout, exit 0
//     killedStates: N        what `-k label -k L` reports killing (default 0)
//     labelCounters: {LABEL: COUNTS | [COUNTS, ...]}  what `-a NAME -s labels` prints for each
//                            labelled filter rule: COUNTS is {evaluations, packets, bytes, inPackets,
//                            inBytes, outPackets, outBytes, states} (each optional, default 0); a list
//                            gives the label's 1st, 2nd, ... rule its own counts
// `-s Anchors` (with or without -v) lists every anchor that exists, one `  NAME` a line.
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { Buffer } from 'node:buffer';
import { join } from 'node:path';
// The project's parser (through ruleset-syntax.mjs) is loaded only by the operations that read rules:
// most runs (`-s info`, `-s Anchors`, -k, -e, -d) never need it, and every run is a fresh node process.
let checkRuleset;
let printRuleset;
const READS_RULES = new Set(['show', 'labels', 'tables', 'load', 'dry-run']);

const DEFAULT_MAIN = 'rdr-anchor "pfexpose" all\nanchor "pfexpose" all\n';
const WITH_VALUE = new Set(['a', 's', 'o', 'f', 'k', 'F', 't', 'T']);
const FLAGS = new Set(['n', 'P', 'v', 'q', 'e', 'd']);

export async function main(argv) {
  const dir = process.env.PFCTL_SIM_DIR;
  if (dir === undefined || dir === '')
    return finish(2, '', 'pfctl-sim: set PFCTL_SIM_DIR to the simulator directory\n');
  mkdirSync(join(dir, 'anchors'), { recursive: true });
  mkdirSync(join(dir, 'fast'), { recursive: true });
  // `started` is when this process was created (node's time origin), before node and the parser
  // loaded: the moment the caller ran pfctl, which is what timing measurements want.
  const started = new Date(performance.timeOrigin).toISOString();
  appendFileSync(
    join(dir, 'calls.log'),
    `${JSON.stringify({ time: new Date().toISOString(), started, pid: process.pid, argv })}\n`,
  );

  const parsed = parseArgs(argv);
  if (typeof parsed === 'string') return finish(2, '', `pfctl-sim: ${parsed}\n`);
  const op = operation(parsed);
  if (READS_RULES.has(op)) ({ checkRuleset, printRuleset } = await import('./ruleset-syntax.mjs'));
  if (op === undefined) return finish(2, '', `pfctl-sim: unsupported arguments: ${argv.join(' ')}\n`);

  const control = readControl(dir);
  if (control.hangMs !== undefined && (control.hangOn === undefined || control.hangOn.includes(op))) {
    if (control.hangMs === 'forever') await new Promise(() => setInterval(() => undefined, 60_000));
    else await new Promise((resolve) => setTimeout(resolve, Number(control.hangMs)));
  }
  hold(dir, control, op, 'start');
  if (typeof control.fail === 'string') return finish(1, '', `pfctl: ${control.fail}\n`);
  if (typeof control.showError === 'string' && ['show', 'tables', 'labels', 'status'].includes(op)) {
    return finish(0, '', `pfctl: ${control.showError}\n`);
  }
  if (parsed.anchor !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/.test(parsed.anchor)) {
    return finish(1, '', `pfctl: anchor name "${parsed.anchor}" not supported by the simulator\n`);
  }

  switch (op) {
    case 'status':
      keepStatusAnswers(dir);
      return finish(0, statusText(!existsSync(join(dir, 'disabled'))), '');
    case 'enable':
    case 'disable':
      return toggle(dir, op === 'enable');
    case 'show':
      return show(dir, parsed);
    case 'tables':
      return tables(dir, parsed);
    case 'anchors':
      return finish(0, block(listAnchors(dir).map((name) => `  ${name}`)), '');
    case 'labels':
      return labels(dir, parsed, control);
    case 'kill':
      return finish(0, '', `killed ${Number(control.killedStates ?? 0)} states\n`);
    case 'flush':
      commitAnchor(dir, parsed.anchor, '', false);
      return finish(0, '', 'rules cleared\nnat cleared\n0 tables deleted.\n');
    case 'dry-run':
    case 'load':
      return load(dir, parsed, op === 'dry-run', control);
  }
  return finish(2, '', 'pfctl-sim: unreachable\n');
}

function parseArgs(argv) {
  const opts = { k: [], flags: new Set() };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (!arg.startsWith('-') || arg === '-') return `unexpected argument ${JSON.stringify(arg)}`;
    // getopt style: -nf -, -sn, -Fa, -a NAME
    for (let j = 1; j < arg.length; j += 1) {
      const letter = arg[j];
      if (FLAGS.has(letter)) {
        opts.flags.add(letter);
        continue;
      }
      if (!WITH_VALUE.has(letter)) return `unknown option -${letter}`;
      let value = arg.slice(j + 1);
      if (value === '') {
        i += 1;
        value = argv[i];
        if (value === undefined) return `option -${letter} needs a value`;
      }
      if (letter === 'k') opts.k.push(value);
      else opts[letter] = value;
      break;
    }
  }
  return {
    anchor: opts.a,
    show: opts.s,
    optimizer: opts.o,
    file: opts.f,
    kill: opts.k,
    flush: opts.F,
    table: opts.t,
    tableCommand: opts.T,
    noAction: opts.flags.has('n'),
    numeric: opts.flags.has('P'),
    enable: opts.flags.has('e'),
    disable: opts.flags.has('d'),
  };
}

function operation(p) {
  if (p.enable) return 'enable';
  if (p.disable) return 'disable';
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

function show(dir, p) {
  const translation = p.show === 'n' || p.show === 'nat';
  if (p.anchor === undefined) {
    const printed = keepMainAnswers(dir);
    return finish(0, translation ? printed.n : printed.r, '');
  }
  const text = readAnchor(dir, p.anchor);
  // FreeBSD's pfctl warns and still exits 0 here: the adapter must look at stderr.
  if (text === undefined) return finish(0, '', 'pfctl: DIOCGETRULES: Invalid argument\n');
  if (existsSync(anchorFile(dir, p.anchor))) keepAnchorAnswers(dir, p.anchor, text);
  const printed = printRuleset(text, { numeric: p.numeric });
  return finish(0, block(translation ? printed.nat : printed.filter), '');
}

/** `-a NAME -s labels`: per labelled filter rule, the label and eight counts (from control.labelCounters). */
function labels(dir, p, control) {
  const text = readAnchor(dir, p.anchor);
  if (text === undefined) return finish(0, '', 'pfctl: DIOCGETRULES: Invalid argument\n');
  const seen = new Map();
  const lines = [];
  for (const rule of printRuleset(text, { numeric: true }).filter) {
    const label = /\slabel "([^"]*)"/.exec(rule)?.[1];
    if (label === undefined || label === '') continue;
    const index = seen.get(label) ?? 0;
    seen.set(label, index + 1);
    const given = (control.labelCounters ?? {})[label];
    const counts = (Array.isArray(given) ? given[index] : index === 0 ? given : undefined) ?? {};
    const keys = ['evaluations', 'packets', 'bytes', 'inPackets', 'inBytes', 'outPackets', 'outBytes', 'states'];
    lines.push([label, ...keys.map((key) => Number(counts[key] ?? 0))].join(' '));
  }
  return finish(0, block(lines), '');
}

function tables(dir, p) {
  const text = readAnchor(dir, p.anchor ?? '');
  if (text === undefined) return finish(0, '', 'pfctl: Anchor does not exist.\n');
  const found = checkRuleset(text).tables;
  if (existsSync(anchorFile(dir, p.anchor ?? ''))) keepAnchorAnswers(dir, p.anchor ?? '', text);
  if (p.table === undefined) return finish(0, block(found.map((t) => t.name).sort()), '');
  const table = found.find((t) => t.name === p.table);
  if (table === undefined) return finish(1, '', 'pfctl: Table does not exist.\n');
  return finish(0, block(table.addresses.map((a) => `   ${a}`)), '');
}

function load(dir, p, dryRun, control) {
  const fromStdin = p.file === '-';
  let text;
  try {
    text = readInput(dir, p.file, control, dryRun ? 'dry-run' : 'load');
  } catch (error) {
    // As pfctl: the file named as given, then the parser's own complaint.
    const why = error.code === 'ENOENT' ? 'No such file or directory' : error.message;
    const stderr = `pfctl: ${p.file}: ${why}\npfctl: cannot open the main config file!: ${why}\n`;
    return finish(1, '', dryRun ? stderr : `${stderr}pfctl: Syntax error in config file: pf rules not loaded\n`);
  }
  // pfctl names its input as given on the command line, and `-f -` "stdin".
  const name = fromStdin ? 'stdin' : p.file;
  const { errors } = checkRuleset(text);
  if (errors.length > 0) {
    const seen = new Set();
    let stderr = '';
    for (const error of errors) {
      const line = `${name}:${error.line}: ${error.message}\n`;
      if (!seen.has(line)) stderr += line;
      seen.add(line);
    }
    if (!dryRun) stderr += 'pfctl: Syntax error in config file: pf rules not loaded\n';
    return finish(1, '', stderr);
  }
  if (dryRun) return finish(0, '', '');
  if (Number(control.busyLoads ?? 0) > 0) {
    updateControl(dir, (c) => ({ ...c, busyLoads: Number(c.busyLoads) - 1 }));
    return finish(1, '', 'pfctl: DIOCXBEGIN: Device busy\n');
  }
  if (Number(control.dieLoads ?? 0) > 0) {
    updateControl(dir, (c) => ({ ...c, dieLoads: Number(c.dieLoads) - 1 }));
    if (control.dieWhen === 'after-commit') commitAnchor(dir, p.anchor, text);
    process.kill(process.pid, 'SIGKILL');
  }
  commitAnchor(dir, p.anchor, text);
  return finish(0, '', '');
}

/**
 * The whole input, read to EOF as pfctl does: from a pipe, EOF comes when every writer has closed
 * it, so a writer killed mid-way leaves a prefix here, and the prefix is what gets loaded.
 * With readDelayMs, read in small chunks with pauses, logging progress to reads.log.
 */
function readInput(dir, file, control, op) {
  const delay = Number(control.readDelayMs ?? 0);
  const holding = holds(control, op, 'mid-read');
  if (!(delay > 0) && !holding) return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  const size = Math.max(1, Number(control.readChunkBytes ?? 4096));
  const fd = file === '-' ? 0 : openSync(file, 'r');
  const parts = [];
  let total = 0;
  const progress = (extra) =>
    appendFileSync(join(dir, 'reads.log'), `${JSON.stringify({ pid: process.pid, file, bytes: total, ...extra })}\n`);
  try {
    for (;;) {
      const buffer = Buffer.alloc(size);
      let count;
      try {
        count = readSync(fd, buffer, 0, size, null);
      } catch (error) {
        if (error.code !== 'EAGAIN') throw error;
        sleepSync(5);
        continue;
      }
      if (count === 0) break;
      parts.push(buffer.subarray(0, count));
      total += count;
      progress({});
      if (parts.length === 1) hold(dir, control, op, 'mid-read');
      if (delay > 0) sleepSync(delay);
    }
  } finally {
    if (fd !== 0) closeSync(fd);
  }
  progress({ eof: true });
  return Buffer.concat(parts).toString('utf8');
}

function holds(control, op, at) {
  return Array.isArray(control.holdOn) && control.holdOn.includes(op) && (control.holdAt ?? 'start') === at;
}

/** Waits while $PFCTL_SIM_DIR/hold exists, if control says so for this operation and moment. */
function hold(dir, control, op, at) {
  const path = join(dir, 'hold');
  if (!holds(control, op, at) || !existsSync(path)) return;
  appendFileSync(join(dir, 'holds.log'), `${JSON.stringify({ pid: process.pid, op, at })}\n`);
  while (existsSync(path)) sleepSync(5);
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function toggle(dir, enable) {
  const flag = join(dir, 'disabled');
  const enabled = !existsSync(flag);
  if (enable === enabled) return finish(1, '', `pfctl: pf ${enable ? 'already enabled' : 'not enabled'}\n`);
  if (enable) unlinkSync(flag);
  else writeFileSync(flag, '');
  return finish(0, '', enable ? 'pf enabled\n' : 'pf disabled\n');
}

function statusText(enabled) {
  return [
    `Status: ${enabled ? 'Enabled' : 'Disabled'} for 0 days 00:00:00           Debug: Urgent`,
    '',
    'State Table                          Total             Rate',
    '  current entries                        0               ',
    '',
  ].join('\n');
}

/**
 * Like pf's transaction: the anchor holds either the old rules or the new, never a mix. The answers
 * to the reads that follow a load are kept for `pfctl` (the shell script) right away (parsed: the
 * parser is loaded; a flush loads nothing and its answers are all empty).
 */
function commitAnchor(dir, anchor, text, parsed = true) {
  const path = anchorFile(dir, anchor);
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, path);
  if (parsed) keepAnchorAnswers(dir, anchor, text);
  else keepAnswers(dir, `a.${anchor}`, text, { 'P.sn': '', 'P.sr': '', Tables: '' });
}

function anchorFile(dir, anchor) {
  return join(dir, 'anchors', `${anchor}.conf`);
}

// The answers `pfctl` (the shell script beside this file) gives without node: each set is a directory
// under $PFCTL_SIM_DIR/fast holding the answers and `src`, a copy of the ruleset text they were printed
// from (or `default`: from the default main ruleset), reached through a link replaced in one rename.
// The script uses an answer only while `src` equals the ruleset file, so a set written from an older
// text, or by a run killed half-way, is never used. Old sets stay until the directory is removed.
let keptSets = 0;

function keepAnchorAnswers(dir, anchor, text) {
  const printed = printRuleset(text, { numeric: true });
  const tables = checkRuleset(text)
    .tables.map((t) => t.name)
    .sort();
  keepAnswers(dir, `a.${anchor}`, text, {
    'P.sn': block(printed.nat),
    'P.sr': block(printed.filter),
    Tables: block(tables),
  });
}

/** source: the ruleset text the answers come from, or null for the default main ruleset. */
function keepAnswers(dir, entry, source, answers) {
  // bash variables cannot hold NUL: such a text would compare equal to a different one.
  if (source !== null && source.includes('\0')) return;
  const fast = join(dir, 'fast');
  keptSets += 1;
  const name = `${entry}.${process.pid}.${keptSets}`;
  mkdirSync(join(fast, name));
  if (source === null) writeFileSync(join(fast, name, 'default'), '');
  else writeFileSync(join(fast, name, 'src'), source);
  for (const [file, text] of Object.entries(answers)) writeFileSync(join(fast, name, file), text);
  const link = join(fast, `${name}.link`);
  symlinkSync(name, link);
  renameSync(link, join(fast, entry));
}

/** The main ruleset's -sn and -sr, printed and kept. */
function keepMainAnswers(dir) {
  const main = readMainSource(dir);
  const printed = printRuleset(main.text, { numeric: true });
  const answers = { n: block(printed.nat), r: block(printed.filter) };
  keepAnswers(dir, 'main', main.file ?? null, answers);
  return answers;
}

/**
 * For sim-control.ts: keeps the answers a fresh simulator directory (or a new main ruleset) will be
 * asked first, so that even those runs need no node.
 */
export async function prepareAnswers(dir) {
  ({ checkRuleset, printRuleset } = await import('./ruleset-syntax.mjs'));
  mkdirSync(join(dir, 'fast'), { recursive: true });
  keepStatusAnswers(dir);
  keepMainAnswers(dir);
}

/** `-s info` depends only on whether pf is enabled: both answers, once. */
function keepStatusAnswers(dir) {
  for (const enabled of [true, false]) {
    const path = join(dir, 'fast', `info.${enabled ? 'enabled' : 'disabled'}`);
    if (existsSync(path)) continue;
    writeFileSync(`${path}.${process.pid}.tmp`, statusText(enabled));
    renameSync(`${path}.${process.pid}.tmp`, path);
  }
}

/** Every anchor that exists (see readAnchor), sorted: `-s Anchors` (flat: the simulator has no nested anchors). */
function listAnchors(dir) {
  const names = new Set(
    readdirSync(join(dir, 'anchors'))
      .filter((file) => file.endsWith('.conf'))
      .map((file) => file.slice(0, -'.conf'.length)),
  );
  for (const match of readMain(dir).matchAll(/anchor "([^"]+)"/g)) names.add(match[1]);
  return [...names].sort();
}

/** An anchor exists once loaded, or while the main ruleset calls it (pf creates it then). */
function readAnchor(dir, anchor) {
  const path = join(dir, 'anchors', `${anchor}.conf`);
  if (existsSync(path)) return readFileSync(path, 'utf8');
  return readMain(dir).includes(`anchor "${anchor}"`) ? '' : undefined;
}

function readMain(dir) {
  return readMainSource(dir).text;
}

/** The main ruleset, and whether it came from main.conf (file: its text) or is the default. */
function readMainSource(dir) {
  const path = join(dir, 'main.conf');
  if (!existsSync(path)) return { text: DEFAULT_MAIN };
  const text = readFileSync(path, 'utf8');
  return { text, file: text };
}

function readControl(dir) {
  const path = join(dir, 'control.json');
  if (!existsSync(path)) return {};
  return JSON.parse(readFileSync(path, 'utf8'));
}

function updateControl(dir, change) {
  const path = join(dir, 'control.json');
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(change(readControl(dir)))}\n`);
  renameSync(temp, path);
}

function block(lines) {
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function finish(code, stdout, stderr) {
  process.stdout.write(stdout);
  process.stderr.write(stderr);
  process.exitCode = code;
}
