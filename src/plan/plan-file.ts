// The saved plan (`pfexpose plan -o plan.json`): the desired ruleset, what it was compiled from (the
// options, each manifest file and the lock file, by sha256), and a fingerprint of the deployed state
// it was computed against. apply compiles the recorded manifests again and loads the plan only when
// they give exactly its ruleset (checkPlanInputs), and only while pf holds the deployed state the
// plan was made against. Reading one back checks every field.
import { createHash } from 'node:crypto';
import { compareStrings } from '../diagnostics/diagnostic.js';
import { parsePfctlOutput } from '../pf/parse-pfctl.js';
import { ANCHOR_NAME_PATTERN } from '../pf/pfctl-output.js';
import { describeInterfaceNameProblem } from '../ports/interface-name.js';
import type { PortRange } from '../ports/port-spec.js';
import { quoteText } from '../ports/quote-text.js';
import { deployedSourceJson, planToJson } from './format-plan-json.js';
import { normalizedLines } from './plan-changes.js';
import type { DeployedSource, Plan } from './plan.js';

export const PLAN_FILE_FORMAT = 'pfexpose-plan';
/**
 * 2: the inputs (manifest and lock digests, the pfexpose version) are recorded, and apply compiles
 * them again. A version 1 plan carries too little to be checked that way and is refused.
 */
export const PLAN_FILE_VERSION = 2;

export interface PlanFileOptions {
  dialect: 'freebsd' | 'openbsd';
  host: string | null;
  gateway: string | null;
  pool: PortRange | null;
  frozen: boolean;
  /** Lock file path as resolved by compile (relative to where plan ran). */
  lock: string | null;
  /** Manifest paths as given on the command line. */
  paths: string[];
}

/** What a plan's ruleset was compiled from, besides its options. */
export interface PlanInputs {
  /** Every manifest file compiled (named as compile names it), in code-unit order, with the sha256 of its text. */
  manifests: { file: string; sha256: string }[];
  /** The lock file compile read (path as in options.lock); sha256 of its bytes, null when it did not exist. */
  lock: { path: string; sha256: string | null };
  /** The pfexpose version that made the plan: another version may compile the same manifests otherwise. */
  pfexpose: string;
}

export interface PlanFile {
  format: typeof PLAN_FILE_FORMAT;
  version: typeof PLAN_FILE_VERSION;
  anchor: string;
  options: PlanFileOptions;
  inputs: PlanInputs;
  /** sha256 over the manifest files' names and texts (CompileOutcome.manifestDigest). */
  manifestDigest: string;
  deployed: Record<string, string> & { source: string; fingerprint: string };
  desired: {
    /** The ruleset text to load, exactly as compile writes it. */
    ruleset: string;
    /** sha256:HEX of the ruleset's normalized lines. */
    fingerprint: string;
  };
  changes: boolean;
  /** The plan itself, as `--format json` prints it; informational, apply does not need it. */
  plan: unknown;
}

/**
 * `sha256:HEX` over the normalized rule lines of a deployed state (pfctl's printed form, ports as
 * numbers, no comments, counters or rule numbers), each ended by a newline, then one
 * `table <NAME>` line per table name in code-unit order.
 */
export function fingerprintDeployed(lines: readonly string[], tables: readonly string[] = []): string {
  const hash = createHash('sha256');
  for (const line of lines) hash.update(`${line}\n`);
  for (const table of [...tables].sort(compareStrings)) hash.update(`table <${table}>\n`);
  return `sha256:${hash.digest('hex')}`;
}

/** fingerprintDeployed of a ruleset text as pfctl prints it (-sn then -sr) or compile writes it. */
export function fingerprintDeployedText(text: string, tables: readonly string[] = []): string {
  return fingerprintDeployed(normalizedLines(parsePfctlOutput(text).rules), tables);
}

export interface CreatePlanFileInput {
  plan: Plan;
  anchor: string;
  options: PlanFileOptions;
  inputs: PlanInputs;
  manifestDigest: string;
  deployed: DeployedSource;
  deployedFingerprint: string;
  ruleset: string;
}

export function createPlanFile(input: CreatePlanFileInput): PlanFile {
  return {
    format: PLAN_FILE_FORMAT,
    version: PLAN_FILE_VERSION,
    anchor: input.anchor,
    options: input.options,
    inputs: input.inputs,
    manifestDigest: input.manifestDigest,
    deployed: {
      ...deployedSourceJson(input.deployed),
      source: input.deployed.kind,
      fingerprint: input.deployedFingerprint,
    },
    desired: { ruleset: input.ruleset, fingerprint: fingerprintDeployedText(input.ruleset) },
    changes: input.plan.summary.changes,
    plan: planToJson(input.plan, { deployed: input.deployed, fingerprint: input.deployedFingerprint }),
  };
}

export function serializePlanFile(file: PlanFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

export type ReadPlanFileResult = { ok: true; plan: PlanFile } | { ok: false; message: string };

/** Parses and checks a saved plan; the message says what is wrong and what would be right. */
export function readPlanFile(text: string): ReadPlanFileResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      message: `the plan file is not JSON (${error instanceof Error ? error.message : String(error)}): write one with pfexpose plan -o FILE`,
    };
  }
  const fail = (what: string): ReadPlanFileResult => ({
    ok: false,
    message: `the plan file is not a pfexpose plan: ${what}; write one with pfexpose plan -o FILE`,
  });
  if (!isRecord(value)) return fail('it is not a JSON object');
  if (value['format'] !== PLAN_FILE_FORMAT) return fail(`"format" is not "${PLAN_FILE_FORMAT}"`);
  if (value['version'] === 1) {
    return {
      ok: false,
      message: `the plan file has version 1, which does not record what its ruleset was compiled from, so apply cannot check it against the manifests: run pfexpose plan -o FILE again and apply the new plan`,
    };
  }
  if (value['version'] !== PLAN_FILE_VERSION) {
    const version = value['version'];
    const shown = typeof version === 'number' ? String(version) : quoteText(JSON.stringify(version) ?? 'nothing');
    return {
      ok: false,
      message: `the plan file has version ${shown}, this pfexpose reads version ${PLAN_FILE_VERSION}: plan again with this version`,
    };
  }
  if (typeof value['anchor'] !== 'string' || !ANCHOR_NAME_PATTERN.test(value['anchor']))
    return fail('"anchor" is not an anchor name');
  if (typeof value['manifestDigest'] !== 'string') return fail('"manifestDigest" is not a string');
  if (typeof value['changes'] !== 'boolean') return fail('"changes" is not a boolean');
  const options = value['options'];
  if (!isRecord(options)) return fail('"options" is not an object');
  if (options['dialect'] !== 'freebsd' && options['dialect'] !== 'openbsd')
    return fail('"options.dialect" is not freebsd or openbsd');
  for (const key of ['host', 'gateway', 'lock'] as const) {
    if (options[key] !== null && typeof options[key] !== 'string')
      return fail(`"options.${key}" is not a string or null`);
  }
  // The same checks as the command-line flags they stand for (compile-options.ts).
  if (typeof options['gateway'] === 'string') {
    const problem = describeInterfaceNameProblem(options['gateway']);
    if (problem !== null) return fail(`"options.gateway": ${problem}`);
  }
  if (typeof options['host'] === 'string' && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(options['host']))
    return fail('"options.host" is not a host name');
  if (typeof options['frozen'] !== 'boolean') return fail('"options.frozen" is not a boolean');
  const pool = options['pool'];
  if (
    pool !== null &&
    !(isRecord(pool) && isPort(pool['start']) && isPort(pool['end']) && pool['start'] <= pool['end'])
  ) {
    return fail('"options.pool" is not null or {"start","end"} ports');
  }
  const paths = options['paths'];
  if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === 'string' && p !== ''))
    return fail('"options.paths" is not a list of paths');
  const inputs = readInputs(value['inputs']);
  if (typeof inputs === 'string') return fail(inputs);
  const deployed = value['deployed'];
  if (!isRecord(deployed) || typeof deployed['source'] !== 'string' || !isFingerprint(deployed['fingerprint'])) {
    return fail('"deployed" has no "source" or no "fingerprint" of the form sha256:HEX');
  }
  for (const [key, field] of Object.entries(deployed))
    if (typeof field !== 'string') return fail(`"deployed.${key}" is not a string`);
  const desired = value['desired'];
  if (!isRecord(desired) || typeof desired['ruleset'] !== 'string' || !isFingerprint(desired['fingerprint'])) {
    return fail('"desired" has no "ruleset" text or no "fingerprint"');
  }
  if (fingerprintDeployedText(desired['ruleset']) !== desired['fingerprint']) {
    return {
      ok: false,
      message:
        "the plan file's ruleset does not match its own fingerprint: it was edited after pfexpose plan wrote it (tampered, or damaged); nothing was applied: make a new plan with pfexpose plan -o FILE",
    };
  }
  return { ok: true, plan: value as unknown as PlanFile };
}

function readInputs(value: unknown): PlanInputs | string {
  if (!isRecord(value)) return '"inputs" is not an object';
  const manifests = value['manifests'];
  if (
    !Array.isArray(manifests) ||
    !manifests.every((m) => isRecord(m) && typeof m['file'] === 'string' && isHex(m['sha256']))
  ) {
    return '"inputs.manifests" is not a list of {"file","sha256"}';
  }
  const lock = value['lock'];
  if (!isRecord(lock) || typeof lock['path'] !== 'string' || !(lock['sha256'] === null || isHex(lock['sha256']))) {
    return '"inputs.lock" is not {"path","sha256"}';
  }
  if (typeof value['pfexpose'] !== 'string') return '"inputs.pfexpose" is not a version string';
  return value as unknown as PlanInputs;
}

/** The manifest half of PlanInputs: each file compile read, with the sha256 of its text. */
export function digestManifestTexts(texts: ReadonlyMap<string, string>): PlanInputs['manifests'] {
  return [...texts.keys()].sort(compareStrings).map((file) => ({ file, sha256: sha256Hex(texts.get(file) ?? '') }));
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** What apply found when it compiled a plan's recorded manifests again (as they are on disk now). */
export interface RecompiledPlan {
  /** The compile succeeded. */
  ok: boolean;
  /** Its ruleset ('' when it failed). */
  ruleset: string;
  /** The inputs as they are now. */
  inputs: PlanInputs;
}

export type PlanCheck =
  | { kind: 'ok'; note: string | null }
  /** The manifests, the lock file or pfexpose changed since the plan was made: plan again. */
  | { kind: 'stale'; message: string }
  /** The inputs are as recorded, yet they do not give the plan's ruleset: the plan was edited. */
  | { kind: 'tampered'; message: string };

/**
 * Whether a saved plan may be loaded: only when its recorded manifests, compiled again with its
 * recorded options, give exactly its ruleset. A refusal says whether the inputs moved since the
 * plan (stale) or the plan does not match its own inputs (tampered). Recomputing the plan's
 * fingerprints after editing its rules does not help: the ruleset is compared with a compile.
 */
export function checkPlanInputs(plan: PlanFile, now: RecompiledPlan): PlanCheck {
  const changes = describeInputChanges(plan.inputs, now.inputs);
  if (now.ok && now.ruleset === plan.desired.ruleset) {
    return {
      kind: 'ok',
      note:
        changes === null
          ? null
          : `the plan's inputs changed since it was made (${changes}), but they still compile to its ruleset`,
    };
  }
  if (changes !== null) {
    const compiled = now.ok ? "no longer compile to the plan's ruleset" : 'no longer compile (pfexpose plan shows why)';
    return {
      kind: 'stale',
      message: `the plan is stale: its inputs changed since it was made (${changes}) and ${compiled}; nothing was applied: run pfexpose plan -o FILE again, review it and apply the new plan`,
    };
  }
  const why = now.ok
    ? `its ruleset differs from what they compile to (${firstDifference(plan.desired.ruleset, now.ruleset)})`
    : 'they do not compile with the options the plan records';
  return {
    kind: 'tampered',
    message: `the plan does not match its own inputs: its manifests and lock file are unchanged since planning, but ${why}; the plan file was edited after pfexpose plan wrote it; nothing was applied: make a new plan with pfexpose plan -o FILE`,
  };
}

/** Which recorded inputs differ now, in a few words, or null when none does. */
function describeInputChanges(then: PlanInputs, now: PlanInputs): string | null {
  const parts: string[] = [];
  if (then.pfexpose !== now.pfexpose)
    parts.push(`it was made by pfexpose ${quoteText(then.pfexpose)}, this is ${quoteText(now.pfexpose)}`);
  const before = new Map(then.manifests.map((m) => [m.file, m.sha256]));
  const after = new Map(now.manifests.map((m) => [m.file, m.sha256]));
  const changed = [...after.keys()].filter((file) => before.has(file) && before.get(file) !== after.get(file));
  const added = [...after.keys()].filter((file) => !before.has(file));
  const removed = [...before.keys()].filter((file) => !after.has(file));
  if (changed.length > 0) parts.push(`changed: ${listFiles(changed)}`);
  if (added.length > 0) parts.push(`new: ${listFiles(added)}`);
  if (removed.length > 0) parts.push(`gone or unreadable: ${listFiles(removed)}`);
  if (then.lock.path !== now.lock.path || then.lock.sha256 !== now.lock.sha256) {
    parts.push(
      now.lock.sha256 === null
        ? `the lock file ${quoteText(then.lock.path)} is gone`
        : then.lock.sha256 === null
          ? `the lock file ${quoteText(now.lock.path)} is new`
          : `the lock file ${quoteText(now.lock.path)} changed`,
    );
  }
  return parts.length === 0 ? null : parts.join('; ');
}

function listFiles(files: string[]): string {
  const sorted = [...files].sort(compareStrings);
  const shown = sorted.slice(0, 5).map(quoteText).join(', ');
  return sorted.length > 5 ? `${shown} and ${sorted.length - 5} more` : shown;
}

/** `line N: "plan's" instead of "compiled"`, the first line where two rulesets differ. */
function firstDifference(planned: string, compiled: string): string {
  const a = planned.split('\n');
  const b = compiled.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    if (a[i] !== b[i]) {
      const show = (line: string | undefined): string => (line === undefined ? 'nothing' : quoteText(line));
      return `line ${i + 1}: the plan has ${show(a[i])} where the manifests give ${show(b[i])}`;
    }
  }
  return 'they differ';
}

function isHex(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

function isFingerprint(value: unknown): value is string {
  return typeof value === 'string' && /^sha256:[0-9a-f]{64}$/.test(value);
}
