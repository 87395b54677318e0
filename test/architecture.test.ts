// The layering docs/design.md's "Layout and design notes" describe, checked on the source itself: the pure
// stages import no I/O, nothing imports the CLI from below, diagnostics/ has no import cycle, and
// the host adapters stay small. A failure names the file and the import that breaks the rule.
import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src');

interface Import {
  /** The specifier as written. */
  specifier: string;
  /** For a relative import: the target, relative to the repository root with '/' (src/pf/x.ts). */
  target: string | null;
  /** `import type` / `export type`: erased by the compiler, so it loads nothing at run time. */
  typeOnly: boolean;
}

interface SourceFile {
  /** Relative to the repository root, with '/': src/cli/main.ts. */
  path: string;
  /** As `wc -l` counts them (newline characters), after formatting. */
  lines: number;
  imports: Import[];
}

function listTs(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return listTs(path);
    return entry.isFile() && entry.name.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(path: string, text: string): Import[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const imports: Import[] = [];
  const add = (specifier: string, typeOnly: boolean): void => {
    let target: string | null = null;
    if (specifier.startsWith('.')) {
      const from = posix.dirname(toPosix(relative(root, path)));
      target = posix.normalize(posix.join(from, specifier)).replace(/\.js$/, '.ts');
    }
    imports.push({ specifier, target, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.importClause?.isTypeOnly === true);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.isTypeOnly);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      add(node.arguments[0].text, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const literal = node.argument.literal;
      if (ts.isStringLiteral(literal)) add(literal.text, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return imports;
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}

const files: SourceFile[] = listTs(srcDir)
  .sort()
  .map((absolute) => {
    const text = readFileSync(absolute, 'utf8');
    return {
      path: toPosix(relative(root, absolute)),
      lines: text.split('\n').length - 1,
      imports: importsOf(absolute, text),
    };
  });
const byPath = new Map(files.map((file) => [file.path, file]));

function inDirectory(path: string, directory: string): boolean {
  return path.startsWith(`src/${directory}/`);
}

/** "src/x/a.ts imports ../y/b.js" lines for the imports that break a rule. */
function offences(select: (file: SourceFile, imp: Import) => boolean): string[] {
  return files.flatMap((file) =>
    file.imports.filter((imp) => select(file, imp)).map((imp) => `${file.path} imports ${imp.specifier}`),
  );
}

// Stages that compute and never touch the world: no file system, processes or network.
// node:crypto is allowed: it only hashes.
const PURE = ['ports', 'model', 'pf', 'plan', 'import'];
const PURE_MAY_USE = new Set(['node:crypto', 'crypto']);
// The stages that read or write the world. src/compile is among them: it reads manifests and the lock.
const IMPURE = ['host', 'apply', 'agent', 'cli', 'compile'];

describe('architecture', () => {
  it('finds the source files and their imports', () => {
    // Guards the checks below against passing because nothing was read.
    expect(files.length).toBeGreaterThan(50);
    expect(byPath.get('src/cli/main.ts')?.imports.length ?? 0).toBeGreaterThan(0);
    for (const file of files) {
      for (const imp of file.imports) {
        if (imp.target !== null) expect(byPath.has(imp.target), `${file.path} imports ${imp.specifier}`).toBe(true);
      }
    }
  });

  it('no file outside src/cli imports src/cli', () => {
    expect(
      offences((file, imp) => !inDirectory(file.path, 'cli') && imp.target !== null && inDirectory(imp.target, 'cli')),
    ).toEqual([]);
  });

  it(`src/{${PURE.join(',')}} import no I/O module and nothing from src/{${IMPURE.join(',')}}`, () => {
    const pure = (path: string): boolean => PURE.some((directory) => inDirectory(path, directory));
    expect(
      offences((file, imp) => {
        if (!pure(file.path)) return false;
        if (imp.target !== null) return IMPURE.some((directory) => inDirectory(imp.target as string, directory));
        return isBuiltin(imp.specifier) && !PURE_MAY_USE.has(imp.specifier);
      }),
    ).toEqual([]);
  });

  it('the pure stages reach no I/O module through the files they load either', () => {
    // What a pure file loads at run time, followed through every directory (type-only imports load nothing).
    const reached = new Map<string, string>();
    const io: string[] = [];
    const visit = (path: string, via: string): void => {
      if (reached.has(path)) return;
      reached.set(path, via);
      for (const imp of byPath.get(path)?.imports ?? []) {
        if (imp.typeOnly) continue;
        if (imp.target !== null) visit(imp.target, path);
        else if (isBuiltin(imp.specifier) && !PURE_MAY_USE.has(imp.specifier))
          io.push(`${path} imports ${imp.specifier}`);
      }
    };
    for (const file of files) if (PURE.some((directory) => inDirectory(file.path, directory))) visit(file.path, '');
    const chains = io.map((line) => {
      const chain = [line.split(' ')[0] as string];
      for (let at = reached.get(chain[0] as string); at !== undefined && at !== ''; at = reached.get(at))
        chain.unshift(at);
      return `${chain.join(' -> ')}: ${line.split(' ').slice(1).join(' ')}`;
    });
    expect(chains).toEqual([]);
  });

  it('src/diagnostics has no import cycle', () => {
    const inDiagnostics = files.filter((file) => inDirectory(file.path, 'diagnostics'));
    const edges = new Map(
      inDiagnostics.map((file) => [
        file.path,
        file.imports.flatMap((imp) =>
          imp.target !== null && inDirectory(imp.target, 'diagnostics') ? [imp.target] : [],
        ),
      ]),
    );
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (path: string): void => {
      state.set(path, 'open');
      stack.push(path);
      for (const next of edges.get(path) ?? []) {
        if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' -> '));
        else if (state.get(next) === undefined) visit(next);
      }
      stack.pop();
      state.set(path, 'done');
    };
    for (const path of edges.keys()) if (!state.has(path)) visit(path);
    expect(inDiagnostics.length).toBeGreaterThan(0);
    expect(cycles).toEqual([]);
  });

  // Which pfctl runs make up each read, and the EBUSY retry, live in src/pf/pfctl-sequences.ts: the
  // adapters here only run programs and touch files (ifconfig.ts and jls.ts came with issues 15 and 16).
  it('src/host (the adapters to the outside world) has at most 1,300 lines', () => {
    const host = files.filter((file) => inDirectory(file.path, 'host'));
    const total = host.reduce((sum, file) => sum + file.lines, 0);
    expect(host.length).toBeGreaterThan(0);
    expect(total, host.map((file) => `${file.path}: ${file.lines}`).join('\n')).toBeLessThanOrEqual(1300);
  });

  // vitest runs with isolate: false (vitest.config.ts): a helper shared by several test files is
  // loaded once per worker, so a hook it registered on import would run for the first file only.
  it('test helpers register no vitest hooks when imported: each test file registers its own', () => {
    const helpers = listTs(join(root, 'test')).filter((path) => !path.endsWith('.test.ts'));
    expect(helpers.length).toBeGreaterThan(0);
    const offenders = helpers.flatMap((path) => {
      const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
      return source.statements.flatMap((statement) => {
        if (!ts.isExpressionStatement(statement) || !ts.isCallExpression(statement.expression)) return [];
        const callee = statement.expression.expression.getText(source);
        const hooks = ['beforeAll', 'beforeEach', 'afterAll', 'afterEach'];
        return hooks.includes(callee) ? [`${relative(root, path)}: ${callee} at module level`] : [];
      });
    });
    expect(offenders).toEqual([]);
  });
});
