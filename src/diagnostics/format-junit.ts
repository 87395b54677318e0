// Diagnostics as JUnit XML (Jenkins, GitLab test reports): one test case per file checked, failing
// when the file has an error (every error of the file in its failure, warnings in system-out), and
// one case for the command line when an option is at fault. Paths as the caller maps them.
import { isCommandLine, isPathDiagnostic, type Diagnostic } from './diagnostic.js';

export interface JunitCase {
  name: string;
  /** The failure's lines (empty: the case passes). */
  failures: string[];
  /** Warnings and notes, as system-out. */
  output: string[];
}

export function junitXml(suite: string, cases: readonly JunitCase[]): string {
  const failures = cases.filter((c) => c.failures.length > 0).length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${escapeXml(suite)}" tests="${cases.length}" failures="${failures}">`,
    `  <testsuite name="${escapeXml(suite)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0">`,
  ];
  for (const c of cases) {
    const open = `    <testcase name="${escapeXml(c.name)}" classname="${escapeXml(suite)}"`;
    if (c.failures.length === 0 && c.output.length === 0) {
      lines.push(`${open}/>`);
      continue;
    }
    lines.push(`${open}>`);
    if (c.failures.length > 0) {
      const first = c.failures[0] ?? '';
      lines.push(
        `      <failure message="${escapeXml(first)}" type="${escapeXml(suite)}">${escapeXml(c.failures.join('\n'))}</failure>`,
      );
    }
    if (c.output.length > 0) lines.push(`      <system-out>${escapeXml(c.output.join('\n'))}</system-out>`);
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>');
  return `${lines.join('\n')}\n`;
}

/** One case per file (every file checked, in order), plus the command line when it has diagnostics. */
export function diagnosticCases(
  files: readonly string[],
  diagnostics: readonly Diagnostic[],
  name: (file: string) => string,
): JunitCase[] {
  const byFile = new Map<string, Diagnostic[]>();
  for (const file of files) byFile.set(file, []);
  const commandLine: Diagnostic[] = [];
  for (const d of diagnostics) {
    if (isCommandLine(d)) commandLine.push(d);
    else byFile.set(d.file, [...(byFile.get(d.file) ?? []), d]);
  }
  const line = (d: Diagnostic): string => {
    const place = isCommandLine(d)
      ? 'pfexpose'
      : isPathDiagnostic(d)
        ? name(d.file)
        : `${name(d.file)}:${d.line}:${d.column}`;
    return `${place}: ${d.severity} ${d.code} ${d.message}${d.hint === undefined ? '' : ` (hint: ${d.hint})`}`;
  };
  const caseOf = (caseName: string, list: readonly Diagnostic[]): JunitCase => ({
    name: caseName,
    failures: list.filter((d) => d.severity === 'error').map(line),
    output: list.filter((d) => d.severity !== 'error').map(line),
  });
  const cases = [...byFile].map(([file, list]) => caseOf(name(file), list));
  if (commandLine.length > 0) cases.push(caseOf('command line', commandLine));
  return cases;
}

/** Text for XML attributes and content; characters XML 1.0 cannot carry become U+FFFD. */
export function escapeXml(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex -- these are exactly the characters XML 1.0 forbids
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
  );
}
