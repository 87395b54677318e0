// `pfexpose import compose FILE`: a Compose file's services become containers. Their `ports`
// (short strings in Docker's grammar, or the long form), `expose` and `links` carry over; the long
// form is written back in Docker's short grammar, which keeps Compose's meaning (no host_ip: every
// address of the host) where the manifest's long form would listen on the gateway interface.
// The YAML is read by the manifest's own reader, so positions and YAML problems are reported alike.
import type { LineCounter } from 'yaml';
import type { Diagnostic, SourceSpan } from '../diagnostics/diagnostic.js';
import { located } from '../diagnostics/diagnostic.js';
import { parseExpose } from '../manifest/parse-expose.js';
import { parseYamlDocuments } from '../manifest/parse-yaml-documents.js';
import { findPair, nodeSpan, spanInScalar } from '../manifest/source-span.js';
import type { TreeMap, TreeNode } from '../manifest/yaml-tree.js';
import { parsePortObject, parsePortSpec } from '../ports/parse-long-port.js';
import type { PortSpec } from '../ports/port-spec.js';
import { quoteText } from '../text/quote-text.js';
import { describeContainerNameProblem } from './container-name.js';
import type { ImportedContainer, ImportSource, ReadResult } from './imported-container.js';
import { emptyContainer } from './imported-container.js';
import { portDiagnostics } from './source-places.js';

/** Compose's long port syntax (compose-spec, services.ports). */
const LONG_KEYS = new Set(['target', 'published', 'host_ip', 'protocol', 'mode', 'name', 'app_protocol']);

interface Context {
  file: string;
  text: string;
  lineCounter: LineCounter;
  diagnostics: Diagnostic[];
}

export function readCompose(source: ImportSource): ReadResult {
  const yaml = parseYamlDocuments(source.text, source.file);
  const diagnostics: Diagnostic[] = [...yaml.diagnostics];
  const ctx: Context = { file: source.file, text: source.text, lineCounter: yaml.lineCounter, diagnostics };
  const document = yaml.documents[0];
  if (diagnostics.some((d) => d.severity === 'error') || document === undefined || document.root === null) {
    return { containers: [], diagnostics };
  }
  const root = document.root;
  const services = root.kind === 'map' ? findPair(root, 'services') : undefined;
  if (services === undefined || services.value === null || services.value.kind !== 'map') {
    const at = services?.key ?? root;
    diagnostics.push(
      located(
        'import-syntax',
        headOf(ctx, at),
        services === undefined
          ? 'a Compose file has a services mapping at the top, and this one has none'
          : 'services must be a mapping of service names to their settings',
      ),
    );
    return { containers: [], diagnostics };
  }
  const containers: ImportedContainer[] = [];
  // Services that say something about ports (even if what they say is wrong) are never skipped.
  const declaring = new Set<string>();
  for (const pair of services.value.pairs) {
    if (pair.name === null || pair.key === null) continue;
    const nameSpan = nodeSpan(ctx.lineCounter, ctx.file, pair.key);
    const problem = describeContainerNameProblem(pair.name);
    if (problem !== null) {
      diagnostics.push(
        located('invalid-name', nameSpan, `service ${problem}`, 'rename the service, or import it by hand'),
      );
      continue;
    }
    if (pair.value === null || pair.value.kind !== 'map') {
      diagnostics.push(
        located('import-syntax', nameSpan, `service ${quoteText(pair.name)} must be a mapping of its settings`),
      );
      continue;
    }
    const service = pair.value;
    if (['ports', 'expose', 'links'].some((key) => setting(service, key) !== null)) declaring.add(pair.name);
    containers.push(readService(ctx, pair.name, nameSpan, service));
  }
  return { containers: dropUnused(containers, declaring, diagnostics), diagnostics };
}

function readService(ctx: Context, name: string, nameSpan: SourceSpan, service: TreeMap): ImportedContainer {
  const container = emptyContainer(name, nameSpan, `service ${name}`, 'docker');
  const ports = setting(service, 'ports');
  for (const item of listItems(ctx, ports, 'ports')) {
    const spec = item.kind === 'map' ? readLongPort(ctx, item) : readShortPort(ctx, item);
    if (spec !== null) container.ports.push({ spec, source: headOf(ctx, item) });
  }
  for (const item of listItems(ctx, setting(service, 'expose'), 'expose')) {
    if (item.kind !== 'scalar' || (typeof item.value !== 'string' && typeof item.value !== 'number')) {
      ctx.diagnostics.push(
        located('import-syntax', headOf(ctx, item), 'an expose entry is a port such as 80 or 53/udp'),
      );
      continue;
    }
    const value = item.value;
    const parsed = parseExpose(value);
    if (parsed.ok) container.expose.push(value);
    else ctx.diagnostics.push(...portDiagnostics(parsed.errors, inScalar(ctx, item), 'expose: '));
  }
  for (const item of listItems(ctx, setting(service, 'links'), 'links')) {
    const text = item.kind === 'scalar' && typeof item.value === 'string' ? item.value : null;
    const [server = '', alias, extra] = (text ?? '').split(':');
    const problem = describeContainerNameProblem(server) ?? describeContainerNameProblem(alias ?? 'x');
    if (text === null || problem !== null || extra !== undefined) {
      ctx.diagnostics.push(
        located(
          'import-syntax',
          headOf(ctx, item),
          `a link is SERVICE or SERVICE:ALIAS${problem === null ? '' : `: ${problem}`}`,
        ),
      );
      continue;
    }
    container.links.push({
      container: server,
      alias: alias ?? null,
      source: nodeSpan(ctx.lineCounter, ctx.file, item),
    });
  }
  const networkMode = setting(service, 'network_mode');
  if (
    networkMode !== null &&
    networkMode.kind === 'scalar' &&
    (networkMode.value === 'host' || networkMode.value === 'none') &&
    container.ports.length > 0
  ) {
    ctx.diagnostics.push(
      located(
        'import-unsupported',
        nodeSpan(ctx.lineCounter, ctx.file, networkMode),
        `network_mode ${networkMode.value}: Docker publishes no port of such a service, so its ports were never exposures`,
        'remove network_mode, or remove the ports if the service really runs this way',
      ),
    );
  }
  return container;
}

/** A service's setting, its own or one merged in with `<<: *anchor` (Compose reads YAML merge keys). */
function setting(service: TreeMap, key: string): TreeNode | null {
  const own = findPair(service, key);
  if (own !== undefined) return own.value;
  const merge = findPair(service, '<<')?.value ?? null;
  const sources = merge === null ? [] : merge.kind === 'seq' ? merge.items : [merge];
  for (const node of sources) {
    if (node !== null && node.kind === 'map') {
      const found = findPair(node, key);
      if (found !== undefined) return found.value;
    }
  }
  return null;
}

function listItems(ctx: Context, node: TreeNode | null, key: string): TreeNode[] {
  if (node === null) return [];
  if (node.kind !== 'seq') {
    ctx.diagnostics.push(located('import-syntax', headOf(ctx, node), `${key} must be a list`));
    return [];
  }
  return node.items.filter((item): item is TreeNode => item !== null);
}

function readShortPort(ctx: Context, item: TreeNode): PortSpec | null {
  if (item.kind !== 'scalar' || (typeof item.value !== 'string' && typeof item.value !== 'number')) {
    ctx.diagnostics.push(
      located(
        'import-syntax',
        headOf(ctx, item),
        'a ports entry is a string such as "8080:80" or a mapping with target',
      ),
    );
    return null;
  }
  const parsed = parsePortSpec(item.value, 'docker');
  if (parsed.ok) return parsed.spec;
  ctx.diagnostics.push(...portDiagnostics(parsed.errors, inScalar(ctx, item)));
  return null;
}

function readLongPort(ctx: Context, item: TreeMap): PortSpec | null {
  const entry: Record<string, unknown> = {};
  const nodes = new Map<string, TreeNode>();
  let usable = true;
  for (const pair of item.pairs) {
    if (pair.name === null || pair.key === null || pair.name.startsWith('x-')) continue;
    const keySpan = nodeSpan(ctx.lineCounter, ctx.file, pair.key);
    if (!LONG_KEYS.has(pair.name)) {
      ctx.diagnostics.push(
        located(
          'import-syntax',
          keySpan,
          `${quoteText(pair.name)} is not a key of Compose's long port syntax: use target, published, host_ip, protocol, mode, name or app_protocol`,
        ),
      );
      usable = false;
      continue;
    }
    const value = pair.value === null ? null : plain(pair.value);
    if (pair.name === 'mode' && value === 'ingress') {
      ctx.diagnostics.push(
        located(
          'import-unsupported',
          pair.value === null ? keySpan : nodeSpan(ctx.lineCounter, ctx.file, pair.value),
          "mode ingress is Docker Swarm's routing mesh, which pf cannot provide",
          'write mode: host (the port is published on this host only), or leave mode out',
        ),
      );
      usable = false;
      continue;
    }
    if (pair.name === 'app_protocol') {
      ctx.diagnostics.push(
        located(
          'import-dropped',
          keySpan,
          'app_protocol only names the protocol for other tools and changes no rule: it is left out',
          undefined,
          'warning',
        ),
      );
      continue;
    }
    entry[pair.name] = value;
    if (pair.value !== null) nodes.set(pair.name, pair.value);
  }
  if (!usable) return null;
  const parsed = parsePortObject(entry);
  if (parsed.ok) return { ...parsed.spec, syntax: 'docker' };
  for (const error of parsed.errors) {
    const node = error.key === undefined ? null : (nodes.get(error.key) ?? null);
    const span =
      node === null
        ? headOf(ctx, item)
        : error.start === 0 && error.end === 0
          ? nodeSpan(ctx.lineCounter, ctx.file, node)
          : spanInScalar(ctx.lineCounter, ctx.file, ctx.text, node, error.start, error.end);
    ctx.diagnostics.push(located(error.code, span, error.message));
  }
  return null;
}

/** A service that publishes nothing, declares nothing and is no link's target changes no rule. */
function dropUnused(
  containers: ImportedContainer[],
  declaring: ReadonlySet<string>,
  diagnostics: Diagnostic[],
): ImportedContainer[] {
  const linked = new Set(containers.flatMap((c) => c.links.map((link) => link.container)));
  return containers.filter((c) => {
    if (declaring.has(c.name) || linked.has(c.name)) return true;
    diagnostics.push(
      located(
        'import-skipped',
        c.nameSource,
        `service ${quoteText(c.name)} publishes no port, declares none and no service links to it: it is not imported`,
        undefined,
        'warning',
      ),
    );
    return false;
  });
}

function plain(node: TreeNode): unknown {
  if (node.kind === 'scalar') return node.value;
  if (node.kind === 'seq') return node.items.map((item) => (item === null ? null : plain(item)));
  const object: Record<string, unknown> = {};
  for (const pair of node.pairs)
    if (pair.name !== null) object[pair.name] = pair.value === null ? null : plain(pair.value);
  return object;
}

function inScalar(ctx: Context, node: TreeNode): (start: number, end: number) => SourceSpan {
  return (start, end) =>
    start === 0 && end === 0
      ? nodeSpan(ctx.lineCounter, ctx.file, node)
      : spanInScalar(ctx.lineCounter, ctx.file, ctx.text, node, start, end);
}

/** The first line of a node. */
function headOf(ctx: Context, node: TreeNode): SourceSpan {
  let end = node.start;
  while (end < node.end && ctx.text[end] !== '\n' && ctx.text[end] !== '\r') end++;
  return nodeSpan(ctx.lineCounter, ctx.file, { ...node, end });
}
