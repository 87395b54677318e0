// The registry of diagnostic codes. Each area owns one table (codes-*.ts) so that codes stay
// unique and documented; this module joins them and gives the union type of every code.
import type { CodeInfo } from './code-info.js';
import { cliCodes } from './codes-cli.js';
import { hostCodes } from './codes-host.js';
import { importCodes } from './codes-import.js';
import { manifestCodes } from './codes-manifest.js';
import { modelCodes } from './codes-model.js';
import { portCodes } from './codes-ports.js';

export const diagnosticCodes = {
  ...manifestCodes,
  ...portCodes,
  ...modelCodes,
  ...hostCodes,
  ...importCodes,
  ...cliCodes,
} as const satisfies Record<string, CodeInfo>;

export type DiagnosticCode = keyof typeof diagnosticCodes;

export function isDiagnosticCode(value: string): value is DiagnosticCode {
  return Object.hasOwn(diagnosticCodes, value);
}
