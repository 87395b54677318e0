// Diagnostics as GitHub Actions workflow commands (`::error file=...::message`), which the runner
// turns into annotations on the pull request's lines.

import type { Diagnostic } from './diagnostic.js';

/** Escapes a command's message: `%`, CR and LF would otherwise end or corrupt the command. */
export function escapeGithubData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a property value, where `:` and `,` also separate fields. */
export function escapeGithubProperty(text: string): string {
  return escapeGithubData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function formatGithub(diagnostics: readonly Diagnostic[]): string {
  return diagnostics
    .map((d) => {
      const properties = [
        `file=${escapeGithubProperty(d.file)}`,
        `line=${d.line}`,
        `col=${d.column}`,
        `endLine=${d.endLine}`,
        `endColumn=${d.endColumn}`,
        `title=${escapeGithubProperty(d.code)}`,
      ].join(',');
      const message = d.hint === undefined ? d.message : `${d.message}\n${d.hint}`;
      return `::${d.severity} ${properties}::${escapeGithubData(message)}\n`;
    })
    .join('');
}
