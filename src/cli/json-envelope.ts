// `--format json` of every command prints one document, the envelope of
// src/diagnostics/format-json.ts, whatever the outcome. While a command runs with it, ctx.json holds
// this report: the reporting helpers (report-diagnostics.ts) collect diagnostics, usage errors,
// failures and warnings into it instead of writing them on stderr, the command sets its payload,
// and withJsonReport prints the one object at the end.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { formatEnvelope, type JsonCommand } from '../diagnostics/format-json.js';
import type { CliContext } from './context.js';

export class JsonReport {
  readonly diagnostics: Diagnostic[] = [];
  /** The command's own keys; null: the envelope alone (invalid manifests, a usage error, a failure before any result). */
  payload: Record<string, unknown> | null = null;
  /** The document went to a file instead (compile -o / --check): nothing is printed on stdout. */
  elsewhere = false;

  constructor(readonly command: JsonCommand) {}

  add(diagnostics: readonly Diagnostic[]): void {
    this.diagnostics.push(...diagnostics);
  }
}

/**
 * Runs a command's body; with json, under a fresh report on ctx.json, then prints the envelope on
 * stdout (unless the document went to a file). Without json the body runs as it always did.
 */
export async function withJsonReport(
  ctx: CliContext,
  command: JsonCommand,
  json: boolean,
  body: () => Promise<void>,
): Promise<void> {
  if (!json) return body();
  const report = new JsonReport(command);
  const outer = ctx.json;
  ctx.json = report;
  try {
    await body();
  } finally {
    if (outer === undefined) delete ctx.json;
    else ctx.json = outer;
  }
  if (!report.elsewhere) ctx.stdout.write(envelopeText(report));
}

/** The envelope of a report, as printed. */
export function envelopeText(report: JsonReport): string {
  return formatEnvelope(report.command, report.diagnostics, report.payload ?? undefined);
}

/** Sets the payload when the command runs with --format json; a no-op otherwise. */
export function setJsonPayload(ctx: CliContext, payload: Record<string, unknown>): void {
  if (ctx.json !== undefined) ctx.json.payload = payload;
}
