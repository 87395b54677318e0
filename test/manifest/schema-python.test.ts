// The schema in another implementation than ajv: Python's jsonschema (Debian's python3-jsonschema),
// the way a user's CI or pre-commit hook may check manifests without pfexpose. It must refuse the
// values the CLI refuses that issue 14 lists, and accept every example. Nothing is skipped: without
// python3 and jsonschema the test fails and says what to install.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifestText } from '../../src/manifest/load-manifests.js';
import { parseYamlDocuments } from '../../src/manifest/parse-yaml-documents.js';

const SCHEMA = join('schema', 'pfexpose.schema.json');

/** Validates each instance with Draft202012Validator; prints one JSON list of error lists. */
const CHECKER = `
import json, sys
try:
    from jsonschema import Draft202012Validator
except ImportError:
    print("MISSING")
    sys.exit(0)
request = json.load(sys.stdin)
with open(request["schema"], encoding="utf-8") as f:
    schema = json.load(f)
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema)
print(json.dumps([[e.message for e in validator.iter_errors(i)] for i in request["instances"]]))
`;
import { runPythonChecker } from '../helpers/python-jsonschema.js';

function pythonErrors(instances: unknown[]): string[][] {
  return runPythonChecker<string[][]>(CHECKER, { schema: SCHEMA, instances }, 20_000);
}

/** A document's data as pfexpose reads it (`080` keeps its text, as README's "Keys" says). */
function dataOf(text: string): unknown {
  const parsed = parseYamlDocuments(text, 'case.yaml');
  expect(parsed.diagnostics).toEqual([]);
  return parsed.documents[0]?.data;
}

const container = (lines: string): string =>
  `version: 1\ncontainers:\n  web:\n    ip: 10.13.37.10\n    ip6: fd00::10\n${lines}`;

// Issue 14's list, each as a manifest the CLI refuses.
const refused: [string, string][] = [
  ['a host port out of range, 70000:80', container('    ports: ["70000:80"]\n')],
  ['an unknown protocol, 8080:80/icmp', container('    ports: [8080:80/icmp]\n')],
  ['a target that is not a port, target: abc', container('    ports:\n      - target: abc\n')],
  ['a host_ip that is no address, 1.2.3', container('    ports:\n      - { target: 80, host_ip: 1.2.3 }\n')],
  ['a prefix longer than 32, 10.0.0.0/99', container('    ports:\n      - { target: 80, from: [10.0.0.0/99] }\n')],
  ['an unknown expose protocol, 53/icmp', container('    expose: ["53/icmp"]\n')],
  ['a reversed pool, 60000-50000', 'version: 1\nhosts:\n  www1:\n    pool: 60000-50000\n'],
  ['a port with a leading zero, 080', container('    ports:\n      - 080\n')],
  // And their neighbours in the other syntax and forms.
  ['a Docker host port out of range', container('    syntax: docker\n    ports: ["127.0.0.1:70000:80"]\n')],
  ['an interface in Docker syntax', container('    syntax: docker\n    ports: [em0:8080:80]\n')],
  ['a host address in Kleene syntax', container('    ports: ["127.0.0.1:8080:80"]\n')],
  [
    'Docker syntax read from the document',
    `version: 1\nsyntax: docker\n${container('    ports: [em0:80:80]\n').slice(11)}`,
  ],
  ['a reversed range in a Kleene entry', container('    ports: [9010-9000:9010-9000]\n')],
  ['a container range on one host port', container('    ports: [{ docker: "8080:80-90" }]\n')],
  ['sctp in Kleene syntax', container('    ports: [80:80/sctp]\n')],
  ['an interface that is a pf keyword', container('    ports: ["self:80:80"]\n')],
  ['an IPv6 prefix longer than 128', container('    ports:\n      - { target: 80, from: ["2001:db8::/129"] }\n')],
  ['an ip6 that is not IPv6', container('    ip6: "1:2:3"\n').replace('    ip6: fd00::10\n', '')],
  ['a container network without a prefix', 'version: 1\nhosts:\n  www1:\n    networks: [10.13.37.0]\n'],
  ['a published port with a leading zero', container('    ports:\n      - { target: 80, published: "08080" }\n')],
];

const examples = readdirSync('examples')
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .flatMap((f) => {
    const text = readFileSync(join('examples', f), 'utf8');
    return parseYamlDocuments(text, f).documents.map((d, i) => [`${f} document ${i + 1}`, d.data] as const);
  });

describe("Python's jsonschema with schema/pfexpose.schema.json", () => {
  it.each(refused)('the CLI refuses %s', (_name, text) => {
    const { diagnostics } = loadManifestText(text, 'case.yaml');
    expect(diagnostics.filter((d) => d.severity === 'error')).not.toEqual([]);
  });

  it('refuses each of them', () => {
    const errors = pythonErrors(refused.map(([, text]) => dataOf(text)));
    const accepted = refused.filter((_, i) => (errors[i] ?? []).length === 0).map(([name]) => name);
    expect(accepted).toEqual([]);
  });

  it('accepts every document of examples/', () => {
    expect(examples.length).toBeGreaterThanOrEqual(3);
    const errors = pythonErrors(examples.map(([, data]) => data));
    expect(examples.map(([name], i) => [name, errors[i]])).toEqual(examples.map(([name]) => [name, []]));
  });
});
