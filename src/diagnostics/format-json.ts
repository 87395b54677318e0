// The one JSON document every `--format json` prints: the envelope {formatVersion, command,
// diagnostics} first, then the command's own keys (its payload). Diagnostics keep a fixed key order:
// code, severity, message, then the place (file, line, column, endLine, endColumn) when the
// diagnostic has one, then hint when there is one. A diagnostic of a command-line option (an
// unknown --host) or of the command's run (a file it cannot write) has no place.
import type { Diagnostic } from './diagnostic.js';
import { isCommandLine } from './diagnostic.js';

/** One version for the envelope of every command (plan's formatVersion 1 is the same key). */
export const JSON_FORMAT_VERSION = 1;

/** The commands whose `--format json` prints the envelope. */
export const JSON_COMMANDS = [
  'validate',
  'compile',
  'plan',
  'apply',
  'rollback',
  'confirm',
  'ls',
  'port',
  'env',
  'status',
  'history',
] as const;

export type JsonCommand = (typeof JSON_COMMANDS)[number];

export function isJsonCommand(name: string): name is JsonCommand {
  return (JSON_COMMANDS as readonly string[]).includes(name);
}

export interface DiagnosticJson {
  code: string;
  severity: 'error' | 'warning';
  message: string;
  file?: string;
  line?: number;
  column?: number;
  endLine?: number;
  endColumn?: number;
  hint?: string;
}

export function diagnosticJson(d: Diagnostic): DiagnosticJson {
  const place = isCommandLine(d)
    ? {}
    : { file: d.file, line: d.line, column: d.column, endLine: d.endLine, endColumn: d.endColumn };
  return {
    code: d.code,
    severity: d.severity,
    message: d.message,
    ...place,
    ...(d.hint === undefined ? {} : { hint: d.hint }),
  };
}

/**
 * The envelope as an object: formatVersion, command, diagnostics, then the payload's keys in their
 * own order. A payload key named like an envelope key is a programmer error.
 */
export function envelopeJson(
  command: JsonCommand,
  diagnostics: readonly Diagnostic[],
  payload: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  for (const key of ['formatVersion', 'command', 'diagnostics']) {
    if (Object.hasOwn(payload, key))
      throw new Error(`the payload of ${command} must not carry the envelope key ${key}`);
  }
  return { formatVersion: JSON_FORMAT_VERSION, command, diagnostics: diagnostics.map(diagnosticJson), ...payload };
}

/** The envelope as printed: 2-space indented, newline-terminated. */
export function formatEnvelope(
  command: JsonCommand,
  diagnostics: readonly Diagnostic[],
  payload?: Readonly<Record<string, unknown>>,
): string {
  return `${JSON.stringify(envelopeJson(command, diagnostics, payload), null, 2)}\n`;
}
