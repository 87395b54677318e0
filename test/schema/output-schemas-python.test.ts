// The output schemas in a second implementation: Python's jsonschema (Debian's python3-jsonschema,
// which .ci/run installs), the way a user's script may check pfexpose's output without ajv. The
// cross-file references resolve by $id from the files of schema/output/ (a registry, or the older
// RefResolver store). Nothing is skipped: without python3 and jsonschema the test fails and says
// what to install.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/cli.js';
import { OUTPUT_SCHEMA_DIR } from '../helpers/output-schemas.js';

const CHECKER = `
import json, os, sys
try:
    from jsonschema import Draft202012Validator
except ImportError:
    print("MISSING")
    sys.exit(0)
request = json.load(sys.stdin)
schemas = {}
for name in sorted(os.listdir(request["dir"])):
    if name.endswith(".schema.json"):
        with open(os.path.join(request["dir"], name), encoding="utf-8") as f:
            schema = json.load(f)
        Draft202012Validator.check_schema(schema)
        schemas[name] = schema
try:
    from referencing import Registry, Resource
    registry = Registry().with_resources(
        [(s["$id"], Resource.from_contents(s)) for s in schemas.values()])
    def validator(schema):
        return Draft202012Validator(schema, registry=registry)
except ImportError:
    from jsonschema import RefResolver
    store = {s["$id"]: s for s in schemas.values()}
    def validator(schema):
        return Draft202012Validator(schema, resolver=RefResolver.from_schema(schema, store=store))
print(json.dumps([[e.message for e in validator(schemas[c["schema"]]).iter_errors(c["instance"])]
                  for c in request["cases"]]))
`;
import { runPythonChecker } from '../helpers/python-jsonschema.js';

function pythonErrors(cases: { schema: string; instance: unknown }[]): string[][] {
  return runPythonChecker<string[][]>(CHECKER, { dir: OUTPUT_SCHEMA_DIR, cases }, 30_000);
}

const MANIFEST = `version: 1
hosts:
  www1:
    gateway: em0
    pool: 49000-49900
containers:
  web:
    ip: 10.0.0.2
    ports: ["em0:8080:80"]
  db:
    ip: 10.0.0.3
    syntax: docker
    ports: ["5432"]
  client:
    ip: 10.0.0.4
    links: [db]
`;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'pfexpose-output-python-'));
  await mkdir(join(work, 'm'));
  await writeFile(join(work, 'm', 'm.yaml'), MANIFEST);
  await writeFile(join(work, 'empty.conf'), '');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<string> {
  const result = await runInProcess(args, { cwd: work, env: { PFEXPOSE_JLS: 'none', NO_COLOR: '1' } });
  expect([0, 2], result.stderr).toContain(result.code);
  return result.stdout;
}

describe("Python's jsonschema with schema/output/", () => {
  it('accepts real outputs, the saved plan and lock files, and refuses an unknown key in each', async () => {
    const compiled = JSON.parse(await run('compile', 'm', '--format', 'json')) as unknown;
    const plan = JSON.parse(await run('plan', 'm', '--deployed', 'empty.conf', '--format', 'json')) as unknown;
    await run('plan', 'm', '--deployed', 'empty.conf', '-o', 'plan.json');
    const saved = JSON.parse(await readFile(join(work, 'plan.json'), 'utf8')) as unknown;
    const lock = JSON.parse(await readFile(join(work, 'm', 'pfexpose.lock.json'), 'utf8')) as unknown;
    const example = JSON.parse(readFileSync('examples/pfexpose.lock.json', 'utf8')) as unknown;
    const cases = [
      { schema: 'compile.schema.json', instance: compiled },
      { schema: 'plan.schema.json', instance: plan },
      { schema: 'saved-plan.schema.json', instance: saved },
      { schema: 'lock.schema.json', instance: lock },
      { schema: 'lock.schema.json', instance: example },
    ];
    const withUnknownKey = cases.map((c) => ({ ...c, instance: { ...(c.instance as object), unexpectedKey: 1 } }));
    const errors = pythonErrors([...cases, ...withUnknownKey]);
    expect(errors.slice(0, cases.length)).toEqual(cases.map(() => []));
    for (const refused of errors.slice(cases.length)) expect(refused.length).toBeGreaterThan(0);
  });
});
