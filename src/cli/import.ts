// `pfexpose import FORMAT FILE... [--ip NAME=ADDR]... [--interfaces LIST] [-o DIR]`: manifests from
// what people already have (docker-compose.yml, docker run lines, Bastille's rdr.conf, pot.conf,
// Kleene's inspect output or klee run lines), one per container. Everything that cannot be carried
// over is a diagnostic in the source file; with any error nothing is written. Exits 0 when written,
// 1 on errors in the sources or an output directory that is not empty, 2 on usage errors.
import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { describeReadFailure, writeFailureReason } from '../diagnostics/file-errors.js';
import { writeFileAtomic } from '../host/atomic-write.js';
import { readRegularText } from '../host/read-regular-file.js';
import { importContainers, parseIpOptions } from '../import/import-containers.js';
import type { ImportSource } from '../import/imported-container.js';
import { IMPORT_FORMATS, isImportFormat } from '../import/imported-container.js';
import { MAX_MANIFEST_BYTES } from '../manifest/decode-manifest-bytes.js';
import { describeInterfaceNameProblem } from '../ports/interface-name.js';
import type { CliContext } from './context.js';
import { reportDiagnostics, reportUsage } from './report-diagnostics.js';
import { schemaRefFrom } from './schema-ref.js';

export const EXIT_IMPORTED = 0;
export const EXIT_NOT_IMPORTED = 1;

interface ImportFlags {
  ip: string[];
  interfaces?: string;
  output?: string;
}

export function registerImport(program: Command, ctx: CliContext): void {
  program
    .command('import')
    .description('write manifests from docker-compose.yml, docker run lines, Bastille rdr.conf, pot.conf or Kleene')
    .argument('<format>', `what the files are: ${IMPORT_FORMATS.join(', ')}`)
    .argument('<files...>', 'the files to import')
    .option(
      '--ip <name=addr>',
      "a container's address, IPv4 or IPv6 (repeatable; wins over an address the file gives)",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--interfaces <list>', 'comma-separated interfaces of the host: an entry naming another is an error')
    .option('-o, --output <dir>', 'write NAME.yaml per container into DIR (absent or empty); default: stdout')
    .addHelpText(
      'after',
      [
        '',
        'Formats:',
        '  compose     a Compose file: services with ports (short and long form), expose, links',
        '  docker-run  docker run / docker create command lines: -p, -P, --expose, --link, --name, --ip',
        "  bastille    a jail's rdr.conf (JAILS/NAME/rdr.conf: the directory names the jail)",
        "  pot         a pot's pot.conf (POT_ROOT/jails/NAME/conf/pot.conf): pot.export.ports, ip",
        '  kleene      klee container inspect JSON, or klee run / klee create command lines',
        '',
        'Every container needs an address: from the file (pot.conf, Kleene, docker run --ip) or',
        '--ip NAME=ADDR. What cannot be carried over (Compose mode: ingress, a pf table as a source, a',
        'container address missing) is reported at its place in the file, and nothing is written.',
        '',
        'Exit codes:',
        '  0  manifests written (warnings may be printed)',
        '  1  a file has an error, cannot be read, or the output directory is not empty',
        '  2  usage error or internal error',
        '',
      ].join('\n'),
    )
    .action(async (format: string, files: string[], flags: ImportFlags) => {
      await runImport(format, files, flags, ctx);
    });
}

async function runImport(format: string, files: readonly string[], flags: ImportFlags, ctx: CliContext): Promise<void> {
  if (!isImportFormat(format)) {
    reportUsage(ctx, `import: unknown format ${JSON.stringify(format)}: use one of ${IMPORT_FORMATS.join(', ')}`);
    return;
  }
  const ips = parseIpOptions(flags.ip);
  if (!ips.ok) {
    reportUsage(ctx, ips.message);
    return;
  }
  let interfaces: string[] | null = null;
  if (flags.interfaces !== undefined) {
    interfaces = flags.interfaces.split(',');
    const bad = interfaces.map(describeInterfaceNameProblem).find((problem) => problem !== null);
    if (bad !== undefined && bad !== null) {
      reportUsage(ctx, `--interfaces: ${bad}`);
      return;
    }
  }
  const output = flags.output === undefined ? null : resolve(ctx.cwd, flags.output);
  if (output !== null) {
    const refused = await outputRefusal(output, flags.output ?? '');
    if (refused !== null) {
      reportUsage(ctx, refused, EXIT_NOT_IMPORTED);
      return;
    }
  }
  const sources: ImportSource[] = [];
  for (const file of files) {
    const path = resolve(ctx.cwd, file);
    const read = await readRegularText(path, { maxBytes: MAX_MANIFEST_BYTES });
    if (read.kind !== 'ok') {
      reportUsage(ctx, `cannot read ${file}: ${describeReadFailure(read)}`, EXIT_NOT_IMPORTED);
      return;
    }
    sources.push({ file, text: read.text, directories: enclosingDirectories(path) });
  }
  const outcome = importContainers(format, sources, {
    addresses: ips.addresses,
    interfaces,
    schemaRef: schemaRefFrom(output ?? ctx.cwd),
  });
  reportDiagnostics(ctx, outcome.diagnostics, new Map(sources.map((s) => [s.file, s.text])));
  if (outcome.unknownNames.length > 0) {
    reportUsage(
      ctx,
      `--ip names ${outcome.unknownNames.join(', ')}, which ${outcome.unknownNames.length === 1 ? 'is' : 'are'} no container of ${files.join(', ')}`,
    );
    return;
  }
  if (!outcome.ok) {
    ctx.exitCode = EXIT_NOT_IMPORTED;
    return;
  }
  if (output === null) {
    ctx.stdout.write(outcome.manifests.map((m) => m.text).join('---\n'));
    ctx.exitCode = EXIT_IMPORTED;
    return;
  }
  try {
    await mkdir(output, { recursive: true });
    for (const manifest of outcome.manifests) await writeFileAtomic(join(output, manifest.fileName), manifest.text);
  } catch (error) {
    reportUsage(ctx, `cannot write into ${flags.output ?? ''}: ${writeFailureReason(error)}`, EXIT_NOT_IMPORTED);
    return;
  }
  const names = outcome.manifests.map((m) => m.fileName).join(', ');
  ctx.stderr.write(
    `pfexpose: wrote ${outcome.manifests.length} manifest${outcome.manifests.length === 1 ? '' : 's'} to ${flags.output ?? ''} (${names}); check them with pfexpose validate ${flags.output ?? ''}\n`,
  );
  ctx.exitCode = EXIT_IMPORTED;
}

/** Why the output directory cannot take the manifests, or null: it must be absent or empty. */
async function outputRefusal(path: string, given: string): Promise<string | null> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error) {
    return info.code === 'ENOENT' ? null : `cannot use ${given} as the output directory: ${info.message}`;
  }
  if (!info.isDirectory()) return `${given} exists and is not a directory: give -o a new or empty directory`;
  const entries = await readdir(path);
  if (entries.length > 0) {
    return `${given} is not empty (it holds ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}): import writes only into a new or empty directory, so it never overwrites a manifest`;
  }
  return null;
}

/** The names of the directories holding path, nearest first. */
function enclosingDirectories(path: string): string[] {
  const names: string[] = [];
  for (let dir = dirname(path); dirname(dir) !== dir; dir = dirname(dir)) names.push(basename(dir));
  return names;
}
