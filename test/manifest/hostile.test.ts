import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_MANIFEST_BYTES, decodeManifestBytes, firstInvalidUtf8 } from '../../src/manifest/decode-manifest-bytes.js';
import { loadManifests, loadManifestText } from '../../src/manifest/load-manifests.js';

type Want = [code: string, line: number, column: number];
const HOSTILE = 'test/fixtures/manifests/hostile';

const fixtures: Array<[string, { given: string; want: Want[] }]> = [
  ['alias bomb (billion laughs)', { given: 'alias-bomb.yaml', want: [['yaml-alias-limit', 7, 8]] }],
  ['10,000 nested [', { given: 'deep-nesting.yaml', want: [['yaml-too-deep', 2, 67]] }],
  [
    '__proto__ and constructor keys',
    {
      given: 'proto-keys.yaml',
      want: [
        ['unknown-key', 2, 1],
        ['unknown-key', 7, 5],
      ],
    },
  ],
  ['invalid UTF-8 (a Latin-1 é)', { given: 'invalid-utf8.yaml', want: [['file-not-utf8', 4, 21]] }],
  ['BOM: columns are not shifted', { given: 'bom.yaml', want: [['port-out-of-range', 5, 13]] }],
  ['CRLF line ends: lines and columns stay right', { given: 'crlf.yaml', want: [['port-zero', 7, 16]] }],
  [
    'tabs used for indentation',
    {
      given: 'tabs.yaml',
      want: [
        ['yaml-tab-indent', 3, 1],
        ['yaml-tab-indent', 4, 1],
      ],
    },
  ],
  ['binary file named .yaml', { given: 'binary.yaml', want: [['file-binary', 2, 1]] }],
  ['empty file', { given: 'empty.yaml', want: [['empty-document', 1, 1]] }],
  ['a file with only a comment', { given: 'comment-only.yaml', want: [['empty-document', 1, 1]] }],
  ['a document that is a list, not a mapping', { given: 'not-a-mapping.yaml', want: [['schema', 1, 1]] }],
  [
    'duplicate keys',
    {
      given: 'duplicate-keys.yaml',
      want: [
        ['yaml-duplicate-key', 4, 5],
        ['yaml-duplicate-key', 5, 5],
      ],
    },
  ],
];

describe('hostile manifests in git', () => {
  it.each(fixtures)('%s', async (_name, { given, want }) => {
    const { diagnostics } = await loadManifests([join(HOSTILE, given)]);
    expect(diagnostics.map((d) => [d.code, d.line, d.column])).toEqual(want);
    for (const d of diagnostics) expect(d.message).not.toMatch(/\n|at .*\.js:\d+/);
  });

  it('a valid file with a BOM and CRLF line ends has no diagnostic', () => {
    const bytes = new TextEncoder().encode(
      '\ufeffversion: 1\r\ncontainers:\r\n  web:\r\n    ip: 10.0.0.1\r\n    ports: [8080]\r\n',
    );
    const decoded = decodeManifestBytes(bytes, 'ok.yaml');
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.text.startsWith('version')).toBe(true);
    expect(loadManifestText(decoded.text, 'ok.yaml').diagnostics).toEqual([]);
  });
});

describe('decodeManifestBytes', () => {
  it.each([
    ['ascii', [0x61], -1],
    ['two-byte é', [0xc3, 0xa9], -1],
    ['emoji', [0xf0, 0x9f, 0x98, 0x80], -1],
    ['lone continuation', [0x61, 0x80], 1],
    ['overlong /', [0xc0, 0xaf], 0],
    ['surrogate', [0xed, 0xa0, 0x80], 0],
    ['beyond U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
    ['truncated', [0x61, 0xe2, 0x82], 1],
  ])('firstInvalidUtf8: %s', (_name, bytes, want) => {
    expect(firstInvalidUtf8(Uint8Array.from(bytes))).toBe(want);
  });

  it('refuses a file over the limit without looking at its bytes', () => {
    const result = decodeManifestBytes(new Uint8Array(4), 'big.yaml', MAX_MANIFEST_BYTES + 1);
    expect(result.ok ? null : result.diagnostic.code).toBe('file-too-large');
  });
});

describe('hostile trees (made in a temporary directory)', () => {
  const root = mkdtempSync(join(tmpdir(), 'pfexpose-hostile-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const tree = join(root, 'tree');
  mkdirSync(join(tree, 'sub', 'deeper'), { recursive: true });
  writeFileSync(join(tree, 'ok.yaml'), 'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.1\n    ports: [8080]\n');
  // A loop back to an ancestor, and one to the top of the tree.
  symlinkSync('..', join(tree, 'sub', 'deeper', 'up'));
  symlinkSync(tree, join(tree, 'sub', 'top'));
  // Unreadable, even as root (chmod 000 does not stop root): a FIFO, which would also block a
  // naive reader forever, and a dangling symbolic link.
  execFileSync('mkfifo', [join(tree, 'pipe.yaml')]);
  symlinkSync('does-not-exist.yaml', join(tree, 'dangling.yaml'));
  writeFileSync(join(tree, 'big.yaml'), `# ${'x'.repeat(MAX_MANIFEST_BYTES)}\nversion: 1\n`);
  writeFileSync(
    join(tree, 'image.yaml'),
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00]),
  );
  mkdirSync(join(tree, '.git'));
  writeFileSync(join(tree, '.git', 'skipped.yaml'), 'not: [valid');
  mkdirSync(join(tree, 'node_modules'));
  writeFileSync(join(tree, 'node_modules', 'skipped.yaml'), 'not: [valid');

  it('reports each problem once, reads the good file and never hangs', async () => {
    const { diagnostics, manifests } = await loadManifests(['tree'], { cwd: root });
    expect(diagnostics.map((d) => [d.code, d.file])).toEqual([
      ['file-too-large', 'tree/big.yaml'],
      ['file-unreadable', 'tree/dangling.yaml'],
      ['file-binary', 'tree/image.yaml'],
      ['file-not-regular', 'tree/pipe.yaml'],
      ['symlink-loop', 'tree/sub/deeper/up'],
      ['symlink-loop', 'tree/sub/top'],
    ]);
    expect(manifests.documents.flatMap((d) => d.containers.map((c) => c.name))).toEqual(['web']);
  });

  it('a missing path and a directory without manifests are reported', async () => {
    mkdirSync(join(root, 'nothing'), { recursive: true });
    expect((await loadManifests(['missing'], { cwd: root })).diagnostics.map((d) => d.code)).toEqual([
      'path-not-found',
    ]);
    expect((await loadManifests(['nothing'], { cwd: root })).diagnostics.map((d) => d.code)).toEqual(['no-manifests']);
  });
});

describe('foreign files read as manifests quote none of their text', () => {
  const root = mkdtempSync(join(tmpdir(), 'pfexpose-foreign-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const shadow = 'root:$6$SECRETSALT$SECRETHASH:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nbin: SECRETBIN\n';
  const cases: [string, { text: string; want: [string, number, number][] }][] = [
    // Three top-level keys that are no manifest's: one diagnostic, at the first of them.
    [
      'a shadow-like file of mappings',
      {
        text: shadow,
        want: [
          ['missing-key', 1, 1],
          ['unknown-key', 1, 1],
        ],
      },
    ],
    [
      'a file that is one long string',
      { text: 'SECRETSTRING-with-no-colon-at-all and more SECRET words\n', want: [['schema', 1, 1]] },
    ],
    ['a file that is a list', { text: '- SECRETITEM\n- another\n', want: [['schema', 1, 1]] }],
  ];
  it.each(cases)('%s', async (name, { text, want }) => {
    const file = `${name.replace(/\W+/g, '-')}.yaml`;
    writeFileSync(join(root, file), text);
    const { diagnostics } = await loadManifests([file], { cwd: root });
    expect(diagnostics.map((d) => [d.code, d.line, d.column])).toEqual(want);
    expect(JSON.stringify(diagnostics)).not.toMatch(/SECRET|daemon|root:/);
  });

  it('a manifest with version still names its unknown keys', async () => {
    writeFileSync(join(root, 'typo.yaml'), 'version: 1\ncontainerz: {}\n');
    const { diagnostics } = await loadManifests(['typo.yaml'], { cwd: root });
    expect(diagnostics.map((d) => d.code)).toEqual(['unknown-key']);
    expect(diagnostics[0]?.message).toContain('"containerz"');
  });

  it('a sparse file far over the limit is refused from its size', async () => {
    writeFileSync(join(root, 'sparse.yaml'), '');
    truncateSync(join(root, 'sparse.yaml'), 1024 * 1024 * 1024);
    const { diagnostics } = await loadManifests(['sparse.yaml'], { cwd: root });
    expect(diagnostics.map((d) => [d.code, d.file])).toEqual([['file-too-large', 'sparse.yaml']]);
    expect(diagnostics[0]?.message).toContain(String(1024 * 1024 * 1024));
  });
});
