// `pfexpose init [DIR]`: the first two manifests of a repository: host.yaml declaring this host
// (its gateway from route(8) unless --gateway says, its interfaces from `ifconfig -l` when that
// works) and example.yaml with one container to edit. Both carry a yaml-language-server modeline
// pointing at the schema of the pfexpose that wrote them. Never overwrites: if either file exists
// nothing is written. Exits 0 when written, 1 when refused (files exist, no gateway found), 2 on
// usage errors.
import { hostname } from 'node:os';
import { lstat, mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { writeFailureReason } from '../diagnostics/file-errors.js';
import { writeFileAtomic } from '../host/atomic-write.js';
import { readInterfaceList, resolveIfconfigProgram } from '../host/ifconfig.js';
import { createRouteTable, resolveRouteProgram } from '../host/route.js';
import { parseInterfaceList } from '../model/interface-list.js';
import { describeInterfaceNameProblem } from '../ports/interface-name.js';
import type { CliContext } from './context.js';
import { reportUsage } from './report-diagnostics.js';
import { schemaRefFrom } from './schema-ref.js';

export const EXIT_INITIALIZED = 0;
export const EXIT_REFUSED = 1;

const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

interface InitFlags {
  gateway?: string;
  host?: string;
  interfaces?: string;
  route?: string;
}

export function registerInit(program: Command, ctx: CliContext): void {
  program
    .command('init')
    .description('write host.yaml (gateway, interfaces) and an example container into DIR to start a repository')
    .argument('[dir]', 'where to write them; created when absent (default: .)')
    .option('--gateway <interface>', "the gateway interface (default: the IPv4 default route's, from route(8))")
    .option('--host <name>', "the host's name in host.yaml (default: this machine's short host name)")
    .option('--interfaces <list>', 'comma-separated interfaces for the allowlist (default: from ifconfig -l)')
    .option('--route <program>', 'route(8) program to ask for the gateway (default: $PFEXPOSE_ROUTE or route)')
    .addHelpText(
      'after',
      [
        '',
        'Writes DIR/host.yaml and DIR/example.yaml and never overwrites: when either exists, nothing',
        "is written. Each starts with a yaml-language-server modeline pointing at this pfexpose's",
        'schema, so editors complete and check the keys. Next: edit example.yaml, then',
        'pfexpose validate DIR and pfexpose plan DIR --live.',
        '',
        'Exit codes:',
        '  0  written',
        '  1  refused: a file exists, DIR is not a directory, no gateway found',
        '  2  usage error or internal error',
        '',
      ].join('\n'),
    )
    .action(async (dir: string | undefined, flags: InitFlags) => {
      await runInit(dir ?? '.', flags, ctx);
    });
}

async function runInit(dir: string, flags: InitFlags, ctx: CliContext): Promise<void> {
  const host = flags.host ?? defaultHostName();
  if (!HOST_NAME.test(host)) {
    reportUsage(
      ctx,
      `--host ${JSON.stringify(host)}: a host name is a letter or digit, then up to 62 letters, digits, _ . or -`,
    );
    return;
  }
  if (flags.gateway !== undefined) {
    const problem = describeInterfaceNameProblem(flags.gateway);
    if (problem !== null) {
      reportUsage(ctx, `--gateway: ${problem}`);
      return;
    }
  }
  let interfaces: string[] | null = null;
  if (flags.interfaces !== undefined) {
    interfaces = flags.interfaces.split(',');
    const problem = interfaces.map(describeInterfaceNameProblem).find((p) => p !== null);
    if (problem !== undefined && problem !== null) {
      reportUsage(ctx, `--interfaces: ${problem}`);
      return;
    }
  }
  const target = resolve(ctx.cwd, dir);
  const files = ['host.yaml', 'example.yaml'];
  const info = await stat(target).catch(() => null);
  if (info !== null && !info.isDirectory()) {
    reportUsage(ctx, `${dir} exists and is not a directory`, EXIT_REFUSED);
    return;
  }
  for (const file of files) {
    const exists = await lstat(join(target, file)).then(
      () => true,
      () => false,
    );
    if (exists) {
      reportUsage(
        ctx,
        `${join(dir, file)} exists: init never overwrites a manifest, so nothing was written`,
        EXIT_REFUSED,
      );
      return;
    }
  }

  let gateway = flags.gateway;
  if (gateway === undefined) {
    const route = (ctx.route ?? createRouteTable)({ program: resolveRouteProgram(flags.route, ctx.env), env: ctx.env });
    const found = await route.defaultRoute('inet');
    if (found.kind !== 'found') {
      reportUsage(ctx, `cannot tell the gateway interface: ${found.message}; give it with --gateway IF`, EXIT_REFUSED);
      return;
    }
    gateway = found.interface;
  }
  let note: string | null = null;
  if (interfaces === null) {
    const listed = await readInterfaceList(resolveIfconfigProgram(ctx.env), ctx.env);
    if (listed === null) {
      note = 'ifconfig -l gave no list of interfaces, so host.yaml declares none: add interfaces: [...] by hand';
    } else {
      const parsed = parseInterfaceList(listed);
      if (parsed.includes(gateway)) interfaces = parsed;
      else {
        note = `ifconfig -l does not list ${gateway} (is this another machine than the host?), so host.yaml declares no interfaces: add them by hand`;
      }
    }
  } else if (!interfaces.includes(gateway)) {
    interfaces = [...interfaces, gateway];
  }

  const schemaRef = schemaRefFrom(target);
  try {
    await mkdir(target, { recursive: true });
    await writeFileAtomic(join(target, 'host.yaml'), hostManifest(schemaRef, host, gateway, interfaces));
    await writeFileAtomic(join(target, 'example.yaml'), exampleManifest(schemaRef));
  } catch (error) {
    reportUsage(ctx, `cannot write into ${dir}: ${writeFailureReason(error)}`, EXIT_REFUSED);
    return;
  }
  if (note !== null) ctx.stderr.write(`pfexpose: ${note}\n`);
  ctx.stderr.write(
    `pfexpose: wrote ${join(dir, 'host.yaml')} (host ${host}, gateway ${gateway}) and ${join(dir, 'example.yaml')}; ` +
      `edit the example, then run pfexpose validate ${dir}\n`,
  );
  ctx.exitCode = EXIT_INITIALIZED;
}

function defaultHostName(): string {
  const short = hostname().split('.')[0] ?? '';
  return HOST_NAME.test(short) ? short : 'host';
}

export function hostManifest(schemaRef: string, host: string, gateway: string, interfaces: string[] | null): string {
  return [
    `# yaml-language-server: $schema=${schemaRef}`,
    '# This host, as `pfexpose init` found it. Containers of this repository run here.',
    'version: 1',
    'hosts:',
    `  ${host}:`,
    withComment(`    gateway: ${gateway}`, 'where entries that name no interface listen'),
    ...(interfaces === null
      ? []
      : [withComment(`    interfaces: [${interfaces.join(', ')}]`, 'the only interfaces entries may name')]),
    '',
  ].join('\n');
}

function withComment(line: string, comment: string): string {
  return `${line.padEnd(32)} # ${comment}`;
}

export function exampleManifest(schemaRef: string): string {
  return [
    `# yaml-language-server: $schema=${schemaRef}`,
    '# One container to start from: give it its real address and ports, rename it, or delete this',
    '# file. pfexpose.yaml(5) and docs/reference/manifest.md list every key.',
    'version: 1',
    'containers:',
    '  example:',
    '    ip: 192.0.2.10               # its address (192.0.2.0/24 is for documentation: change it)',
    '    ports:',
    '      - 8080:80                  # Kleene syntax: port 8080 on the gateway -> port 80 of the container',
    '',
  ].join('\n');
}
