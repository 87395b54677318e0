// The saved plan (`pfexpose plan -o plan.json`): the desired ruleset, the options it was compiled
// with, and a fingerprint of the deployed state it was computed against, so that apply can refuse
// a plan whose deployed state has changed since. Reading one back checks every field.
import { createHash } from 'node:crypto';
import { compareStrings } from '../diagnostics/diagnostic.js';
import { parsePfctlOutput } from '../pf/parse-pfctl.js';
import type { PortRange } from '../ports/port-spec.js';
import { deployedSourceJson, planToJson } from './format-plan-json.js';
import { normalizedLines } from './plan-changes.js';
import type { DeployedSource, Plan } from './plan.js';

export const PLAN_FILE_FORMAT = 'pfexpose-plan';
export const PLAN_FILE_VERSION = 1;

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

export interface PlanFile {
  format: typeof PLAN_FILE_FORMAT;
  version: typeof PLAN_FILE_VERSION;
  anchor: string;
  options: PlanFileOptions;
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
    manifestDigest: input.manifestDigest,
    deployed: { ...deployedSourceJson(input.deployed), source: input.deployed.kind, fingerprint: input.deployedFingerprint },
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
    return { ok: false, message: `the plan file is not JSON (${error instanceof Error ? error.message : String(error)}): write one with pfexpose plan -o FILE` };
  }
  const fail = (what: string): ReadPlanFileResult => ({ ok: false, message: `the plan file is not a pfexpose plan: ${what}; write one with pfexpose plan -o FILE` });
  if (!isRecord(value)) return fail('it is not a JSON object');
  if (value['format'] !== PLAN_FILE_FORMAT) return fail(`"format" is not "${PLAN_FILE_FORMAT}"`);
  if (value['version'] !== PLAN_FILE_VERSION) {
    return { ok: false, message: `the plan file has version ${JSON.stringify(value['version'])}, this pfexpose reads version ${PLAN_FILE_VERSION}: plan again with this version` };
  }
  if (typeof value['anchor'] !== 'string' || value['anchor'] === '') return fail('"anchor" is not a non-empty string');
  if (typeof value['manifestDigest'] !== 'string') return fail('"manifestDigest" is not a string');
  if (typeof value['changes'] !== 'boolean') return fail('"changes" is not a boolean');
  const options = value['options'];
  if (!isRecord(options)) return fail('"options" is not an object');
  if (options['dialect'] !== 'freebsd' && options['dialect'] !== 'openbsd') return fail('"options.dialect" is not freebsd or openbsd');
  for (const key of ['host', 'gateway', 'lock'] as const) {
    if (options[key] !== null && typeof options[key] !== 'string') return fail(`"options.${key}" is not a string or null`);
  }
  if (typeof options['frozen'] !== 'boolean') return fail('"options.frozen" is not a boolean');
  const pool = options['pool'];
  if (pool !== null && !(isRecord(pool) && isPort(pool['start']) && isPort(pool['end']) && pool['start'] <= pool['end'])) {
    return fail('"options.pool" is not null or {"start","end"} ports');
  }
  const paths = options['paths'];
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) return fail('"options.paths" is not a list of strings');
  const deployed = value['deployed'];
  if (!isRecord(deployed) || typeof deployed['source'] !== 'string' || !isFingerprint(deployed['fingerprint'])) {
    return fail('"deployed" has no "source" or no "fingerprint" of the form sha256:HEX');
  }
  for (const [key, field] of Object.entries(deployed)) if (typeof field !== 'string') return fail(`"deployed.${key}" is not a string`);
  const desired = value['desired'];
  if (!isRecord(desired) || typeof desired['ruleset'] !== 'string' || !isFingerprint(desired['fingerprint'])) {
    return fail('"desired" has no "ruleset" text or no "fingerprint"');
  }
  if (fingerprintDeployedText(desired['ruleset']) !== desired['fingerprint']) {
    return { ok: false, message: 'the plan file\'s ruleset does not match its fingerprint: it was edited after planning; plan again' };
  }
  return { ok: true, plan: value as unknown as PlanFile };
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
