// The JSON Schemas of pfexpose's outputs (schema/output/) against real outputs: every command run
// in process on manifests that compile and on manifests that do not, apply, rollback and confirm
// against the in-memory pf, a plan saved with -o and a lock file written by compile. Each document
// must conform, and must stop conforming with an unknown key added to any of its objects or with a
// key left out that the command always prints: the schemas are closed and say what is required.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diagnosticCodes } from '../../src/diagnostics/codes.js';
import { JSON_COMMANDS } from '../../src/diagnostics/format-json.js';
import { CHANGED_FIELDS, PLAN_FLAG_CODES } from '../../src/plan/plan.js';
import { POLICIES } from '../../src/plan/policy.js';
import { runInProcess, type RunResult } from '../helpers/cli.js';
import { createMemoryPf, type MemoryPf } from '../helpers/memory-pf.js';
import {
  OUTPUT_SCHEMA_BASE,
  compileOutputSchemas,
  outputSchemaFiles,
  schemaErrors,
  tryMutations,
  type OutputSchemaName,
} from '../helpers/output-schemas.js';

// One host, www1: exposures on two interfaces and both families (a privileged port among them), a
// host port chosen from the pool (so compile writes a lock file), a link and a container network.
const ONE = `version: 1
hosts:
  www1:
    gateway: em0
    interfaces: [em0, em1]
    pool: 49000-49900
    networks: [10.20.0.0/24]
containers:
  web:
    ip: 10.0.0.2
    ip6: fd00::2
    ports:
      - "em0:8080:80"
      - "em1:443:443"
  db:
    ip: 10.0.0.3
    syntax: docker
    ports: ["5432"]
  client:
    ip: 10.0.0.4
    links: ["db:database"]
`;
// What was deployed before: web on another port and from one network only, and a container since removed.
const OLD = `version: 1
hosts:
  www1:
    gateway: em0
    interfaces: [em0, em1]
containers:
  web:
    ip: 10.0.0.2
    ports:
      - published: 8080
        target: 80
        interface: em0
        from: [192.0.2.0/24]
  cache:
    ip: 10.0.0.5
    ports: ["em0:6379:6379"]
`;
const BAD = `version: 1
containers:
  web:
    ip: 10.0.0.2
    ports: ["70000:80"]
`;
const HOST_A = 'version: 1\nhosts:\n  www1:\n    gateway: em0\ncontainers:\n  web:\n    host: www1\n    ip: 10.0.0.2\n    ports: ["8080:80"]\n';
const HOST_B = 'version: 1\nhosts:\n  db1:\n    gateway: em0\ncontainers:\n  pg:\n    host: db1\n    ip: 10.0.1.2\n    ports: ["5432"]\n';

/** Keys the commands print only sometimes: leaving one out still conforms. */
const OPTIONAL = /\/(reaches|policy|hint|range|confirmWindowOpened)$/;

let work: string;
let pf: MemoryPf;
let env: Record<string, string>;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'pfexpose-output-schemas-'));
  pf = createMemoryPf();
  for (const [dir, files] of Object.entries({
    one: { 'm.yaml': ONE },
    old: { 'm.yaml': OLD },
    bad: { 'm.yaml': BAD },
    two: { 'a.yaml': HOST_A, 'b.yaml': HOST_B },
  })) {
    await mkdir(join(work, dir));
    for (const [name, text] of Object.entries(files)) await writeFile(join(work, dir, name), text);
  }
  await writeFile(join(work, 'empty.conf'), '');
  env = { PFEXPOSE_STATE_DIR: join(work, 'state'), PFEXPOSE_JLS: 'none', NO_COLOR: '1' };
  const old = await pfexpose('compile', 'old', '-o', 'old.conf');
  expect(old.code, old.stderr).toBe(0);
});
afterAll(async () => {
  await pf.cleanup();
  await rm(work, { recursive: true, force: true });
});

function pfexpose(...args: string[]): Promise<RunResult> {
  return runInProcess(args, { cwd: work, env, pfctl: (options) => pf.pfctl(options) });
}

/** Runs a command with --format json and returns its document, after checking the exit code. */
async function json(code: number, ...args: string[]): Promise<unknown> {
  const run = await pfexpose(...args, '--format', 'json');
  expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(code);
  return JSON.parse(run.stdout) as unknown;
}

/** The document conforms, an unknown key anywhere is refused, and so is leaving out an always-printed key. */
function expectConforms(name: OutputSchemaName, document: unknown, openMaps: RegExp | null = null): void {
  expect(schemaErrors(name, document)).toEqual([]);
  const tried = tryMutations(name, document, openMaps);
  expect(tried.unknownKeyAccepted, 'objects that accept an unknown key').toEqual([]);
  expect(
    tried.removalAccepted.filter((p) => !OPTIONAL.test(p)),
    'keys that may be left out',
  ).toEqual([]);
}

function hasError(document: unknown): boolean {
  const diagnostics = (document as { diagnostics?: { severity: string }[] }).diagnostics ?? [];
  return diagnostics.some((d) => d.severity === 'error');
}

describe('the output schemas themselves', () => {
  const files = outputSchemaFiles();

  it('are one file per output plus the shared definitions', () => {
    expect([...files.keys()]).toEqual(
      [
        'apply',
        'compile',
        'confirm',
        'defs',
        'env',
        'history',
        'lock',
        'ls',
        'plan',
        'port',
        'saved-plan',
        'status',
        'validate',
      ].map((n) => `${n}.schema.json`),
    );
  });

  it('compile in ajv strict mode, cross-file references included', () => {
    expect(compileOutputSchemas().size).toBe(files.size);
  });

  it.each([...files])('%s is draft 2020-12 with an $id beside the manifest schema, a title and a description', (file, schema) => {
    expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema['$id']).toBe(`${OUTPUT_SCHEMA_BASE}${file}`);
    const manifest = JSON.parse(readFileSync('schema/pfexpose.schema.json', 'utf8')) as { $id: string };
    expect(schema['$id']).toBe(manifest.$id.replace('pfexpose.schema.json', `output/${file}`));
    expect(typeof schema['title']).toBe('string');
    expect(typeof schema['description']).toBe('string');
  });

  it.each([...files])('%s describes every property it declares', (_file, schema) => {
    const undescribed: string[] = [];
    const walk = (node: unknown, pointer: string): void => {
      if (typeof node !== 'object' || node === null) return;
      for (const [key, value] of Object.entries(node)) {
        if (key === 'properties' && typeof value === 'object' && value !== null) {
          for (const [name, property] of Object.entries(value)) {
            // `false` forbids the key in a branch (it is described where it is declared).
            if (property !== false && typeof (property as { description?: unknown }).description !== 'string')
              undescribed.push(`${pointer}/properties/${name}`);
          }
        }
        walk(value, `${pointer}/${key}`);
      }
    };
    walk(schema, '');
    expect(undescribed).toEqual([]);
  });

  it("closes the sets the code closes, with the code's own lists", () => {
    const defs = (files.get('defs.schema.json') as { $defs: Record<string, { properties: Record<string, unknown> }> })
      .$defs;
    const planFlag = defs['planFlag']?.properties['code'] as { enum: string[] };
    expect(planFlag.enum).toEqual([...PLAN_FLAG_CODES]);
    const summaryFlags = (defs['plan']?.properties['summary'] as { properties: { flags: { required: string[] } } })
      .properties.flags.required;
    expect(summaryFlags).toEqual([...PLAN_FLAG_CODES]);
    const fields = defs['exposureChange']?.properties['fields'] as {
      items: { properties: { field: { enum: string[] } } };
    };
    expect(fields.items.properties.field.enum).toEqual([...CHANGED_FIELDS]);
    expect((defs['policy'] as unknown as { enum: string[] }).enum).toEqual([...POLICIES]);
    // Codes stay a pattern (the registry grows); every code of the registry matches it.
    const pattern = new RegExp((defs['diagnostic']?.properties['code'] as { pattern: string }).pattern);
    expect(Object.keys(diagnosticCodes).filter((code) => !pattern.test(code))).toEqual([]);
    // Every command that prints the envelope, and only those.
    const command = defs['envelope']?.properties['command'] as { enum: string[] };
    expect(command.enum).toEqual([...JSON_COMMANDS]);
  });
});

describe('real outputs conform to their schema', () => {
  it('validate: valid manifests, and an invalid one (its error located)', async () => {
    const valid = await json(0, 'validate', 'one');
    expectConforms('validate', valid);
    const invalid = await json(1, 'validate', 'bad');
    expect(hasError(invalid)).toBe(true);
    expectConforms('validate', invalid);
  });

  it('compile: exposures, reaches and ruleset; only the envelope for invalid manifests', async () => {
    const compiled = await json(0, 'compile', 'one');
    expect(Object.keys(compiled as object)).toEqual(expect.arrayContaining(['exposures', 'reaches', 'ruleset']));
    expectConforms('compile', compiled);
    const refused = await json(1, 'compile', 'bad');
    expect(hasError(refused)).toBe(true);
    expectConforms('compile', refused);
  });

  it('the lock file compile writes for a host port it chose, and the example one with a pick range', async () => {
    const compiled = await pfexpose('compile', 'one');
    expect(compiled.code, compiled.stderr).toBe(0);
    const lock = JSON.parse(await readFile(join(work, 'one', 'pfexpose.lock.json'), 'utf8')) as {
      entries: unknown[];
    };
    expect(lock.entries.length).toBeGreaterThan(0);
    expectConforms('lock', lock);
    const example = JSON.parse(readFileSync('examples/pfexpose.lock.json', 'utf8')) as unknown;
    expectConforms('lock', example);
    // What compile refuses, the schema refuses: a range on an entry that is not a pick, a host port
    // out of range, an interface and a host address at once.
    const entry = (lock.entries[0] ?? {}) as Record<string, unknown>;
    for (const wrong of [
      { ...entry, range: { start: 49000, end: 49010 } },
      { ...entry, hostPort: { start: 70000, end: 70000 } },
      { ...entry, interface: 'em0', hostAddress: '127.0.0.1' },
      { ...entry, kind: 'random' },
    ]) {
      expect(schemaErrors('lock', { version: 1, entries: [wrong] })).not.toEqual([]);
    }
  });

  it('plan: added, changed and removed exposures and reaches, flags, a policy; invalid manifests', async () => {
    const plan = (await json(2, 'plan', 'one', '--deployed', 'old.conf')) as {
      exposures: { change: string }[];
      reaches?: unknown[];
    };
    expect(new Set(plan.exposures.map((c) => c.change))).toEqual(new Set(['added', 'changed', 'removed']));
    expect(plan.reaches?.length).toBeGreaterThan(0);
    expectConforms('plan', plan);
    const gated = (await json(3, 'plan', 'one', '--deployed', 'old.conf', '--fail-on', 'open-to-all,widened')) as {
      policy?: unknown;
    };
    expect(gated.policy).toBeDefined();
    expectConforms('plan', gated);
    const same = await json(0, 'plan', 'old', '--deployed', 'old.conf');
    expectConforms('plan', same);
    const refused = await json(1, 'plan', 'bad', '--deployed', 'empty.conf');
    expect(hasError(refused)).toBe(true);
    expectConforms('plan', refused);
  });

  it('plan --all-hosts: one plan per host', async () => {
    const all = (await json(2, 'plan', 'two', '--all-hosts', '--deployed', 'empty.conf')) as {
      hosts: { host: string }[];
    };
    expect(all.hosts.map((h) => h.host)).toEqual(['db1', 'www1']);
    expectConforms('plan', all);
  });

  it('the saved plan (plan -o), which apply reads back', async () => {
    const saved = await pfexpose('plan', 'one', '--deployed', 'old.conf', '-o', 'plan.json');
    expect(saved.code, saved.stderr).toBe(2);
    const file = JSON.parse(await readFile(join(work, 'plan.json'), 'utf8')) as unknown;
    expectConforms('saved-plan', file);
  });

  it('ls: every host with its exposures and reaches; invalid manifests', async () => {
    expectConforms('ls', await json(0, 'ls', 'one'));
    const two = (await json(0, 'ls', 'two')) as { hosts: unknown[] };
    expect(two.hosts).toHaveLength(2);
    expectConforms('ls', two);
    expectConforms('ls', await json(1, 'ls', 'bad'));
  });

  it('port: where a container is published; invalid manifests', async () => {
    expectConforms('port', await json(0, 'port', 'web', '-m', 'one'));
    expectConforms('port', await json(0, 'port', 'web', '443', '-m', 'one'));
    expectConforms('port', await json(1, 'port', 'web', '-m', 'bad'));
  });

  it("env: a client's link variables and hosts lines, a container without links; invalid manifests", async () => {
    const client = (await json(0, 'env', 'client', '-m', 'one')) as { links: unknown[] };
    expect(client.links).toHaveLength(1);
    expectConforms('env', client, /^\/links\/\d+\/variables$/);
    expectConforms('env', await json(0, 'env', 'web', '-m', 'one'));
    expectConforms('env', await json(1, 'env', 'web', '-m', 'bad'));
  });

  it('apply and rollback: applied, unchanged, refused, invalid manifests; status and history after them', async () => {
    const first = await json(0, 'apply', 'old');
    expect(first).toMatchObject({ command: 'apply', result: 'applied' });
    expectConforms('apply', first);
    const again = await json(0, 'apply', 'old');
    expect(again).toMatchObject({ result: 'unchanged' });
    expectConforms('apply', again);
    const changed = await json(0, 'apply', 'one');
    expectConforms('apply', changed);
    const back = await json(0, 'rollback');
    expect(back).toMatchObject({ command: 'rollback', result: 'applied' });
    expect((back as { rolledBackTo: unknown }).rolledBackTo).not.toBeNull();
    expectConforms('apply', back);
    expectConforms('apply', await json(1, 'apply', 'bad'));

    await pf.setControl({ labelCounters: { 'web:tcp:em0:8080': [counters(3), counters(4)] } });
    const status = (await json(0, 'status', 'old')) as { exposures: { counters: unknown }[] };
    expect(status.exposures.some((row) => row.counters !== null)).toBe(true);
    expectConforms('status', status);
    expectConforms('status', await json(0, 'status', 'one'));
    expectConforms('status', await json(1, 'status', 'bad'));

    const history = (await json(0, 'history')) as { entries: unknown[] };
    expect(history.entries.length).toBeGreaterThanOrEqual(4);
    expectConforms('history', history);

    // pf.conf that calls no anchor: refused, with the lines to add.
    await pf.writeMain('');
    const refused = await json(1, 'apply', 'one');
    expect(refused).toMatchObject({ result: 'refused' });
    expectConforms('apply', refused);
  });

  it('apply --confirm and confirm: a window opened, another anchor, confirmed, nothing to confirm', async () => {
    await pf.writeMain('rdr-anchor "pfexpose" all\nanchor "pfexpose" all\n');
    const none = await json(1, 'confirm');
    expect(none).toMatchObject({ command: 'confirm', result: 'none' });
    expectConforms('confirm', none);
    const trial = await json(0, 'apply', 'one', '--confirm', '5s');
    expect(trial).toMatchObject({ result: 'applied', confirmWindowOpened: true });
    expectConforms('apply', trial);
    const other = await json(1, 'confirm', '--anchor', 'other');
    expect(other).toMatchObject({ result: 'other-anchor' });
    expectConforms('confirm', other);
    const kept = await json(0, 'confirm');
    expect(kept).toMatchObject({ result: 'confirmed' });
    expectConforms('confirm', kept);
    // A window left to close: confirm comes too late and reverts instead.
    await json(0, 'apply', 'old', '--confirm', '1s');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const late = await json(1, 'confirm');
    expect(late).toMatchObject({ result: 'too-late' });
    expectConforms('confirm', late);
  });

  it('apply: a pfctl killed before its load committed: failed, saying whether the anchor was put back', async () => {
    await pf.writeMain('rdr-anchor "pfexpose" all\nanchor "pfexpose" all\n');
    await json(0, 'apply', 'old');
    await pf.setControl({ dieLoads: 1, dieWhen: 'before-commit' });
    const failed = await json(1, 'apply', 'one');
    expect(failed).toMatchObject({ result: 'failed' });
    expectConforms('apply', failed);
  });
});

function counters(n: number): Record<string, number> {
  return {
    evaluations: n,
    packets: 2 * n,
    bytes: 100 * n,
    inPackets: n,
    inBytes: 60 * n,
    outPackets: n,
    outBytes: 40 * n,
    states: 1,
  };
}
