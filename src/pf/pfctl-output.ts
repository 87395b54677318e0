// What pfctl prints, read as data: status, line errors, stderr noise, table and anchor lists, the
// main ruleset's hooks, the labels of printed rules; and the names pfctl accepts. Pure: the
// adapter in src/host/pfctl.ts runs pfctl and hands its output here.

/**
 * The name pfexpose reports pfctl's line errors under (`stdin:12: syntax error`), as it did when
 * the ruleset went to pfctl on standard input: the temporary file's path is replaced by it, so
 * messages and diagnostics stay the same from run to run.
 */
export const RULESET_NAME = 'stdin';

export interface PfctlLineError {
  line: number;
  message: string;
}

/** The one pattern of an anchor name (validateAnchorName, compile's --anchor, a plan file's anchor). */
export const ANCHOR_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/;

/** An anchor name pfexpose accepts: one path component, 1-63 characters, no slash. */
export function validateAnchorName(name: string): { ok: true } | { ok: false; message: string } {
  if (ANCHOR_NAME_PATTERN.test(name)) return { ok: true };
  return {
    ok: false,
    message: `anchor name ${JSON.stringify(name)} is not valid: use 1-63 letters, digits, '_', '.' or '-', not starting with '.' or '-' (for example "pfexpose")`,
  };
}

/** A label pfctl -k can take: what pf itself accepts in `label "..."`. */
export function validateLabel(label: string): { ok: true } | { ok: false; message: string } {
  // eslint-disable-next-line no-control-regex
  if (label.length >= 1 && label.length <= 63 && !/["\\\u0000-\u001f\u007f]/.test(label)) return { ok: true };
  return {
    ok: false,
    message: `label ${JSON.stringify(label)} is not valid: use 1-63 printable characters without '"' or '\\'`,
  };
}

/**
 * Every `label "..."` in pfctl's printed rules, whatever the rule (a rule pfexpose cannot parse
 * counts too: when in doubt, a label is someone else's).
 */
export function printedLabels(text: string): string[] {
  const labels: string[] = [];
  for (const match of text.matchAll(/(?:^|\s)label\s+"((?:[^"\\\n]|\\.)*)"/g)) {
    if (match[1] !== undefined) labels.push(match[1].replace(/\\(.)/g, '$1'));
  }
  return labels;
}

/** Anchor paths, one a line in `pfctl -v -s Anchors` (two spaces, then the path). */
export function parseAnchorList(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

// FreeBSD kernels without ALTQ make every pfctl run say so on stderr; that is not an error.
const BENIGN_STDERR = [/^No ALTQ support in kernel$/, /^ALTQ related functions disabled$/];

/** stderr lines that mean something: blank lines and known harmless notices removed. */
export function significantStderr(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !BENIGN_STDERR.some((re) => re.test(line)));
}

/** A stderr line saying the anchor asked about does not exist. */
export function isAnchorMissing(line: string): boolean {
  return /Anchor does not exist/i.test(line) || /DIOCGETRULES: Invalid argument/.test(line);
}

/** pfctl's stderr saying /dev/pf was busy (EBUSY): the load may be retried. */
export function isBusy(stderr: string): boolean {
  return /Device busy|Resource busy|\bEBUSY\b/i.test(stderr);
}

/** The count in `killed N states` of a `pfctl -k label` run's output, null when it printed none. */
export function parseKilledStates(output: string): number | null {
  const match = /killed (\d+) states?/.exec(output);
  return match?.[1] === undefined ? null : Number(match[1]);
}

/** `Status: Enabled ...` → true, `Status: Disabled ...` → false, anything else → undefined. */
export function parsePfInfo(text: string): boolean | undefined {
  const match = /^\s*Status:\s+(Enabled|Disabled)\b/m.exec(text);
  if (match === null) return undefined;
  return match[1] === 'Enabled';
}

/**
 * `FILE:LINE: message` lines of pfctl's stderr, in order, FILE being the file pfctl was given
 * (pfctl names it as given on the command line) or `stdin` (its name for `-f -`). Other lines are
 * left out.
 */
export function parsePfctlErrors(stderr: string, file?: string): PfctlLineError[] {
  const errors: PfctlLineError[] = [];
  const names = file === undefined || file === RULESET_NAME ? [RULESET_NAME] : [file, RULESET_NAME];
  for (const raw of stderr.split('\n')) {
    const line = raw.trim();
    const name = names.find((n) => line.startsWith(`${n}:`));
    if (name === undefined) continue;
    const match = /^(\d+):\s*(.*)$/.exec(line.slice(name.length + 1));
    if (match?.[1] === undefined || match[2] === undefined) continue;
    errors.push({ line: Number(match[1]), message: match[2].trim() });
  }
  return errors;
}

/** Table names, one a line in `pfctl -s Tables` (with -v, flags come first), sorted. */
export function parseTableList(text: string): string[] {
  const names = new Set<string>();
  for (const raw of text.split('\n')) {
    const fields = raw.trim().split(/\s+/);
    const name = fields[fields.length - 1];
    if (name !== undefined && name !== '') names.add(name);
  }
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export type AnchorHook = 'rdr-anchor' | 'anchor';

export interface AnchorHookCheck {
  /** True when both hooks are present. */
  ok: boolean;
  missing: AnchorHook[];
  /** The lines to add to /etc/pf.conf for the missing hooks, in pf.conf order. */
  linesToAdd: string[];
  /** A hook found with a condition (`on em0`, `inet`, ...): it only sees part of the traffic. */
  restricted: { hook: AnchorHook; line: string }[];
}

/**
 * Whether the main ruleset (`pfctl -sn`, `pfctl -sr` output) calls the anchor: an anchor that is
 * loaded but never called is silently inert.
 */
export function checkAnchorHooks(snText: string, srText: string, anchor: string): AnchorHookCheck {
  const missing: AnchorHook[] = [];
  const restricted: { hook: AnchorHook; line: string }[] = [];
  for (const [hook, text] of [
    ['rdr-anchor', snText],
    ['anchor', srText],
  ] as const) {
    const found = findHook(text, hook, anchor);
    if (found === undefined) missing.push(hook);
    else if (!found.exact) restricted.push({ hook, line: found.line });
  }
  const linesToAdd = missing.map((hook) => `${hook} "${anchor}"`);
  return { ok: missing.length === 0, missing, linesToAdd, restricted };
}

function findHook(text: string, hook: AnchorHook, anchor: string): { line: string; exact: boolean } | undefined {
  const quoted = `"${anchor}"`;
  let loose: { line: string; exact: boolean } | undefined;
  for (const raw of text.split('\n')) {
    // pfctl -v adds `@N` rule numbers and counter lines; both are noise here.
    const line = raw.trim().replace(/^@\d+\s+/, '');
    if (!line.startsWith(`${hook} ${quoted}`)) continue;
    const rest = line.slice(hook.length + 1 + quoted.length).trim();
    if (rest === 'all' || rest === '') return { line, exact: true };
    if (!rest.startsWith('{') && loose === undefined) loose = { line, exact: false };
  }
  return loose;
}

/** How a pfctl run ended, as far as its failure message needs it. */
export interface PfctlExit {
  exitCode: number | null;
  signal: string | null;
  stderr: string;
}

/** A run that exited non-zero, was killed, or printed an error: the message says which and what pfctl said. */
export function exitFailure(
  program: string,
  args: readonly string[],
  result: PfctlExit,
): { kind: 'failed'; message: string; exitCode: number | null; stderr: string } {
  const how =
    result.signal !== null ? `was killed by ${result.signal}` : `exited with status ${result.exitCode ?? '?'}`;
  const said = significantStderr(result.stderr).join('; ');
  return {
    kind: 'failed',
    message: `${program} ${args.join(' ')} ${how}${said === '' ? '' : `: ${said}`}`,
    exitCode: result.exitCode,
    stderr: result.stderr,
  };
}

/** pfctl's stderr with the ruleset file's path written as RULESET_NAME. */
export function withRulesetName(stderr: string, file: string): string {
  return stderr.split(file).join(RULESET_NAME);
}

/** What pf counts for one label (`pfctl -s labels`), summed over the rules that carry it. */
export interface LabelCounters {
  label: string;
  evaluations: number;
  packets: number;
  bytes: number;
  inPackets: number;
  inBytes: number;
  outPackets: number;
  outBytes: number;
  /** States created by the label's rules (not the states open now). */
  states: number;
}

const COUNTER_FIELDS = 8;

/**
 * `pfctl -a ANCHOR -s labels`: one line per labelled rule, the label then eight counts
 * (evaluations, packets, bytes, packets in, bytes in, packets out, bytes out, states created).
 * Several rules may share a label (an exposure's rule per family or interface): their counts are
 * summed. The label is what precedes the eight counts, so a label holding spaces reads whole.
 * Returns the labels sorted, and the lines that are not of this form (for a warning).
 */
export function parseLabelCounters(text: string): { counters: LabelCounters[]; unreadable: string[] } {
  const byLabel = new Map<string, LabelCounters>();
  const unreadable: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    const counts = fields.slice(-COUNTER_FIELDS);
    const label = fields.slice(0, -COUNTER_FIELDS).join(' ');
    if (fields.length <= COUNTER_FIELDS || !counts.every((field) => /^\d{1,20}$/.test(field))) {
      unreadable.push(line);
      continue;
    }
    const [evaluations, packets, bytes, inPackets, inBytes, outPackets, outBytes, states] = counts.map(Number);
    const sum = byLabel.get(label) ?? {
      label,
      evaluations: 0,
      packets: 0,
      bytes: 0,
      inPackets: 0,
      inBytes: 0,
      outPackets: 0,
      outBytes: 0,
      states: 0,
    };
    sum.evaluations += evaluations ?? 0;
    sum.packets += packets ?? 0;
    sum.bytes += bytes ?? 0;
    sum.inPackets += inPackets ?? 0;
    sum.inBytes += inBytes ?? 0;
    sum.outPackets += outPackets ?? 0;
    sum.outBytes += outBytes ?? 0;
    sum.states += states ?? 0;
    byLabel.set(label, sum);
  }
  const counters = [...byLabel.values()].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  return { counters, unreadable };
}
