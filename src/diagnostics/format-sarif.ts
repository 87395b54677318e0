// Diagnostics as SARIF 2.1.0 (GitHub code scanning, GitLab): one run whose driver lists every code
// of the registry as a rule with its summary as help, and one result per diagnostic with its level
// and region. Paths come through `uri` (the caller makes them relative to the repository root, so
// code scanning attaches them wherever the tool ran); a command-line diagnostic has no location.
import { diagnosticCodes, type DiagnosticCode } from './codes.js';
import { isCommandLine, isPathDiagnostic, type Diagnostic } from './diagnostic.js';

export interface SarifOptions {
  /** pfexpose's version, for the driver. */
  version: string;
  /** The path as SARIF should name it (relative to the repository root, `/` separators). */
  uri: (file: string) => string;
  /** Extra results that are not diagnostics (plan flags), already built. */
  extraResults?: readonly SarifResult[];
  /** Extra rules the extra results refer to. */
  extraRules?: readonly SarifRule[];
}

export interface SarifRule {
  id: string;
  shortDescription: { text: string };
  help: { text: string };
}

export interface SarifResult {
  ruleId: string;
  ruleIndex?: number;
  level: 'error' | 'warning' | 'note';
  message: { text: string };
  locations?: unknown[];
}

const CODES = Object.keys(diagnosticCodes).sort() as DiagnosticCode[];

export function sarifLog(diagnostics: readonly Diagnostic[], options: SarifOptions): unknown {
  const rules: SarifRule[] = [
    ...CODES.map((code) => ({
      id: code,
      shortDescription: { text: diagnosticCodes[code].summary },
      help: {
        text: `${diagnosticCodes[code].summary}. See docs/reference/diagnostics.md, "Diagnostics and exit codes".`,
      },
    })),
    ...(options.extraRules ?? []),
  ];
  const index = new Map(rules.map((rule, i) => [rule.id, i]));
  const results: SarifResult[] = [
    ...diagnostics.map((d): SarifResult => {
      const message = d.hint === undefined ? d.message : `${d.message} (hint: ${d.hint})`;
      const location = isCommandLine(d)
        ? []
        : [
            {
              physicalLocation: {
                artifactLocation: { uri: options.uri(d.file), uriBaseId: '%SRCROOT%' },
                ...(isPathDiagnostic(d)
                  ? {}
                  : {
                      region: {
                        startLine: d.line,
                        startColumn: d.column,
                        endLine: d.endLine,
                        endColumn: Math.max(d.endColumn, d.column),
                      },
                    }),
              },
            },
          ];
      return {
        ruleId: d.code,
        ...(index.has(d.code) ? { ruleIndex: index.get(d.code) as number } : {}),
        level: d.severity === 'error' ? 'error' : 'warning',
        message: { text: message },
        ...(location.length === 0 ? {} : { locations: location }),
      };
    }),
    ...(options.extraResults ?? []).map((r) => {
      const ruleIndex = index.get(r.ruleId);
      return ruleIndex === undefined ? r : { ...r, ruleIndex };
    }),
  ];
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'pfexpose',
            version: options.version,
            informationUri: 'https://github.com/pfexpose/pfexpose',
            rules,
          },
        },
        results,
      },
    ],
  };
}

export function formatSarif(diagnostics: readonly Diagnostic[], options: SarifOptions): string {
  return `${JSON.stringify(sarifLog(diagnostics, options), null, 2)}\n`;
}
