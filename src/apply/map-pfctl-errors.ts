// Turns pfctl's complaints about the ruleset it read (`FILE:LINE: message`, parsed by
// parsePfctlErrors) into diagnostics on the manifest entries that produced those lines, so an
// operator fixes the manifest, not the generated ruleset. A line no entry made is reported at its
// ruleset line instead, under RULESET_NAME (`stdin`), never the temporary file's changing path.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { compareStrings, sortDiagnostics } from '../diagnostics/diagnostic.js';
import type { Exposure } from '../model/exposure.js';
import { printRule } from '../pf/print-rule.js';
import { rulesetRules, type Dialect } from '../pf/render-ruleset.js';
import { RULESET_NAME, type PfctlLineError } from '../pf/pfctl-output.js';

/** Where rejected lines are reported when no manifest entry made them. */
export const RULESET_PSEUDO_FILE = RULESET_NAME;

/**
 * Maps each error to the exposures whose rendered rules include that line's text. Both dialects
 * are tried when none is given: rule text is specific enough that a match is never accidental.
 */
export function mapPfctlErrors(
  errors: readonly PfctlLineError[],
  ruleset: string,
  exposures: readonly Exposure[],
  dialect?: Dialect,
): Diagnostic[] {
  const lines = ruleset.split('\n');
  const byText = indexExposuresByRuleText(exposures, dialect === undefined ? ['freebsd', 'openbsd'] : [dialect]);
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const text = (lines[error.line - 1] ?? '').trim();
    const makers = byText.get(text) ?? [];
    if (makers.length === 0) {
      diagnostics.push({
        code: 'pfctl-rejected',
        severity: 'error',
        message: `pfctl rejected line ${error.line} of the ruleset: ${error.message}${text === '' ? '' : ` (${text})`}`,
        file: RULESET_PSEUDO_FILE,
        line: error.line,
        column: 1,
        endLine: error.line,
        endColumn: Math.max(2, text.length + 1),
        hint: 'no manifest entry produced this line; check the ruleset given to apply',
      });
      continue;
    }
    for (const exposure of makers) {
      const key = `${exposure.label}\0${error.line}\0${error.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      diagnostics.push({
        code: 'pfctl-rejected',
        severity: 'error',
        message: `pfctl rejected ruleset line ${error.line}, made from this entry (container ${exposure.container}, label ${exposure.label}): ${error.message}`,
        file: exposure.source.file,
        line: exposure.source.line,
        column: exposure.source.column,
        endLine: exposure.source.line,
        endColumn: exposure.source.column + 1,
        hint: `ruleset line ${error.line}: ${text}`,
      });
    }
  }
  return sortDiagnostics(diagnostics);
}

function indexExposuresByRuleText(
  exposures: readonly Exposure[],
  dialects: readonly Dialect[],
): Map<string, Exposure[]> {
  const index = new Map<string, Exposure[]>();
  const sorted = [...exposures].sort((a, b) => compareStrings(a.label, b.label));
  for (const exposure of sorted) {
    for (const dialect of dialects) {
      let rules;
      try {
        rules = rulesetRules([exposure], dialect);
      } catch {
        // An exposure the renderer refuses never made a line of the ruleset.
        continue;
      }
      for (const rule of rules) {
        const text = printRule(rule).trim();
        const list = index.get(text) ?? [];
        if (!list.includes(exposure)) list.push(exposure);
        index.set(text, list);
      }
    }
  }
  return index;
}
