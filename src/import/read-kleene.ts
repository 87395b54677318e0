// `pfexpose import kleene FILE`: what `klee container inspect NAME` prints (kleened's
// ContainerInspect JSON: container.name, container.public_ports, container.network_driver and
// container_endpoints with the addresses), one object or a list of them; or `klee run` /
// `klee create` command lines, whose -p entries are in Kleene's syntax, the manifest's default.
// Kleene's drivers tell the stack: ipnet shares the host's, vnet has its own; a container on the
// host driver (or disabled) cannot publish ports in Kleene, so such ports are reported.
import type { Diagnostic, SourceSpan } from '../diagnostics/diagnostic.js';
import { located } from '../diagnostics/diagnostic.js';
import type { JsonNode, JsonPosition } from '../model/parse-json-with-positions.js';
import { parseJsonWithPositions } from '../model/parse-json-with-positions.js';
import { describeAddressProblem, parseAddress } from '../ports/address.js';
import { describeInterfaceNameProblem } from '../ports/interface-name.js';
import { parseKleenePort } from '../ports/parse-kleene-port.js';
import { parsePortRange } from '../ports/port-number.js';
import type { PortRange, PortSpec } from '../ports/port-spec.js';
import { quoteText } from '../text/quote-text.js';
import { describeContainerNameProblem } from './container-name.js';
import type { ImportedContainer, ImportSource, ReadResult } from './imported-container.js';
import { emptyContainer } from './imported-container.js';
import { flagTable, readCommandFlags } from './read-command-flags.js';
import type { FlagValue } from './read-command-flags.js';
import { portDiagnostics, sourcePlaces } from './source-places.js';
import type { Word } from './split-command-line.js';
import { runArguments, splitCommandLines, wordRange } from './split-command-line.js';

// klee's container options (klee/options.py, klee/container.py) for run and create.
const KLEE_RUN_FLAGS = flagTable(
  [
    ['-u', '--user'],
    ['-e', '--env'],
    ['-m', '--mount'],
    ['-J', '--jailparam'],
    ['--restart'],
    ['-l', '--driver'],
    ['-n', '--network'],
    ['--ip'],
    ['--ip6'],
    ['--name'],
    ['-p', '--publish'],
  ],
  [
    ['-d', '--detach'],
    ['-i', '--interactive'],
    ['-t', '--tty'],
    ['-P', '--persist'],
  ],
);

export function readKleene(source: ImportSource): ReadResult {
  const trimmed = source.text.trimStart();
  return trimmed.startsWith('{') || trimmed.startsWith('[') ? readInspect(source) : readKleeCommands(source);
}

// ---- klee container inspect ----

function readInspect(source: ImportSource): ReadResult {
  const file = source.file;
  const span = (p: JsonPosition): SourceSpan => ({ file, ...p });
  const diagnostics: Diagnostic[] = [];
  const parsed = parseJsonWithPositions(source.text);
  if (!parsed.ok) {
    const { line, column } = parsed.error;
    return {
      containers: [],
      diagnostics: [
        located(
          'import-syntax',
          { file, line, column, endLine: line, endColumn: column + 1 },
          `not valid JSON: ${parsed.error.message}`,
          'give the output of klee container inspect NAME as it was printed',
        ),
      ],
    };
  }
  const objects = parsed.node.kind === 'array' ? parsed.node.items : [parsed.node];
  const containers: ImportedContainer[] = [];
  for (const object of objects) {
    const containerNode = member(object, 'container');
    const nameNode = member(containerNode, 'name');
    if (containerNode === null || nameNode?.kind !== 'string') {
      diagnostics.push(
        located(
          'import-syntax',
          span(object.position),
          'klee container inspect prints {"container": {"name": ...}, "container_endpoints": [...]}, and this has no container name',
        ),
      );
      continue;
    }
    const problem = describeContainerNameProblem(nameNode.value);
    if (problem !== null) {
      diagnostics.push(located('invalid-name', span(nameNode.position), problem));
      continue;
    }
    const container = emptyContainer(nameNode.value, span(nameNode.position), `container ${nameNode.value}`, 'kleene');
    const ports = member(containerNode, 'public_ports');
    for (const port of ports?.kind === 'array' ? ports.items : []) {
      const spec = readPublishedPort(port, span, diagnostics);
      if (spec !== null) container.ports.push({ spec, source: span(port.position) });
    }
    const driver = member(containerNode, 'network_driver');
    if (driver?.kind === 'string') applyDriver(container, driver.value, span(driver.position), diagnostics);
    const endpoints = member(object, 'container_endpoints');
    const addressSources = [
      ...(endpoints?.kind === 'array' ? endpoints.items : []),
      ...(ports?.kind === 'array' ? ports.items : []),
    ];
    for (const [key, family] of [
      ['ip_address', 'inet'],
      ['ip_address6', 'inet6'],
    ] as const) {
      const node = addressSources.map((n) => member(n, key)).find((n) => n?.kind === 'string' && n.value !== '');
      if (node?.kind !== 'string') continue;
      const address = parseAddress(node.value);
      if (address === null || address.family !== family) {
        const why = describeAddressProblem(node.value) ?? `it is not an ${family === 'inet' ? 'IPv4' : 'IPv6'} address`;
        diagnostics.push(located('invalid-address', span(node.position), `${key} ${quoteText(node.value)}: ${why}`));
      } else if (family === 'inet') container.ip = { text: address.text, source: span(node.position) };
      else container.ip6 = { text: address.text, source: span(node.position) };
    }
    containers.push(container);
  }
  return { containers, diagnostics };
}

function member(node: JsonNode | null | undefined, key: string): JsonNode | null {
  if (node?.kind !== 'object') return null;
  return node.members.find((m) => m.key === key)?.value ?? null;
}

/** One of public_ports: {interfaces, host_port, container_port, protocol}, or a `em0:8080:80/tcp` string. */
function readPublishedPort(
  port: JsonNode,
  span: (p: JsonPosition) => SourceSpan,
  diagnostics: Diagnostic[],
): PortSpec | null {
  if (port.kind === 'string') {
    const parsed = parseKleenePort(port.value);
    if (parsed.ok) return parsed.spec;
    // Offsets inside a JSON string are off by escapes at worst; the opening quote is skipped.
    const p = port.position;
    diagnostics.push(
      ...portDiagnostics(parsed.errors, (start, end) =>
        p.line === p.endLine
          ? {
              file: span(p).file,
              line: p.line,
              column: p.column + 1 + start,
              endLine: p.line,
              endColumn: p.column + 1 + end,
            }
          : span(p),
      ),
    );
    return null;
  }
  const hostNode = member(port, 'host_port');
  const containerNode = member(port, 'container_port');
  if (hostNode?.kind !== 'string' || containerNode?.kind !== 'string') {
    diagnostics.push(
      located('import-syntax', span(port.position), 'a published port has host_port and container_port strings'),
    );
    return null;
  }
  const before = diagnostics.length;
  const hostRange = parsePortRange(hostNode.value.replace(':', '-'));
  let host: PortRange | null = null;
  if (hostRange.ok) host = hostRange.range;
  else diagnostics.push(...portDiagnostics(hostRange.errors, () => span(hostNode.position), 'host_port: '));
  // container_port is PORT, or START:* when host_port is a range (one-to-one from START).
  const star = containerNode.value.endsWith(':*');
  const containerStart = parsePortRange(star ? containerNode.value.slice(0, -2) : containerNode.value);
  let container: PortRange | null = null;
  if (!containerStart.ok || containerStart.range.start !== containerStart.range.end) {
    diagnostics.push(
      located(
        containerStart.ok ? 'port-syntax' : (containerStart.errors[0]?.code ?? 'port-syntax'),
        span(containerNode.position),
        `container_port ${quoteText(containerNode.value)} is not PORT or START:*`,
      ),
    );
  } else if (host !== null) {
    const start = containerStart.range.start;
    if (star !== (host.start !== host.end)) {
      diagnostics.push(
        located(
          'port-range-length',
          span(containerNode.position),
          star
            ? `container_port ${containerNode.value} belongs with a host_port range, and host_port is one port`
            : `host_port ${hostNode.value} is a range, so container_port is START:*`,
        ),
      );
    } else {
      container = { start, end: start + host.end - host.start };
    }
  }
  const protocolNode = member(port, 'protocol');
  const protocol = protocolNode?.kind === 'string' ? protocolNode.value : 'tcp';
  if (protocol !== 'tcp' && protocol !== 'udp') {
    diagnostics.push(
      located(
        'port-protocol',
        span(protocolNode?.position ?? port.position),
        `protocol ${quoteText(protocol)}: Kleene publishes tcp or udp`,
      ),
    );
  }
  const interfacesNode = member(port, 'interfaces');
  const interfaces: string[] = [];
  for (const item of interfacesNode?.kind === 'array' ? interfacesNode.items : []) {
    const problem = item.kind === 'string' ? describeInterfaceNameProblem(item.value) : 'an interface is a string';
    if (problem !== null || item.kind !== 'string')
      diagnostics.push(located('port-interface-name', span(item.position), problem ?? ''));
    else interfaces.push(item.value);
  }
  if (diagnostics.length > before || host === null || container === null) return null;
  return {
    syntax: 'kleene',
    protocol: protocol === 'udp' ? 'udp' : 'tcp',
    containerPort: container,
    hostPort: host,
    hostPortIsPool: false,
    interfaces,
    hostAddress: null,
    from: [],
    family: null,
    name: null,
  };
}

function applyDriver(container: ImportedContainer, driver: string, at: SourceSpan, diagnostics: Diagnostic[]): void {
  if (driver === 'ipnet') container.stack = 'shared';
  else if (driver === 'vnet') container.stack = 'vnet';
  else if (container.ports.length > 0) {
    diagnostics.push(
      located(
        'import-unsupported',
        at,
        `Kleene publishes no port of a container on the ${driver} network driver, so these ports were never exposures`,
        'connect the container to a network (ipnet or vnet driver) first',
      ),
    );
  }
}

// ---- klee run / klee create ----

function readKleeCommands(source: ImportSource): ReadResult {
  const places = sourcePlaces(source.file, source.text);
  const split = splitCommandLines(source.text);
  if (!split.ok) {
    return {
      containers: [],
      diagnostics: [located('import-syntax', places.span(split.start, split.end), split.message)],
    };
  }
  const diagnostics: Diagnostic[] = [];
  const containers: ImportedContainer[] = [];
  let found = 0;
  for (const command of split.commands) {
    const args = runArguments(command, 'klee');
    if (args === null) continue;
    found++;
    const at = (word: Word, from: number, to: number) => {
      const range = wordRange(word, from, to);
      return places.span(range.start, range.end);
    };
    const whole = (value: FlagValue) => at(value.word, value.from, value.word.text.length);
    const flags = readCommandFlags(args.rest, KLEE_RUN_FLAGS, `klee ${args.verb.text}`);
    if (!flags.ok) {
      diagnostics.push(located('import-syntax', at(flags.word, flags.from, flags.to), flags.message));
      continue;
    }
    const last = (flag: string) => flags.values.filter((v) => v.flag === flag).pop();
    const name = last('--name');
    if (name === undefined) {
      diagnostics.push(
        located(
          'import-syntax',
          places.span(args.verb.start, args.verb.end),
          `klee ${args.verb.text} without --name: Kleene would make up a name, and a manifest needs the container's own`,
          'add --name NAME to the command',
        ),
      );
      continue;
    }
    const problem = describeContainerNameProblem(name.text);
    if (problem !== null) {
      diagnostics.push(located('invalid-name', whole(name), problem));
      continue;
    }
    const line = places.span(args.verb.start, args.verb.end).line;
    const container = emptyContainer(name.text, whole(name), `line ${line}`, 'kleene');
    for (const value of flags.values) {
      if (value.flag === '--publish') {
        const parsed = parseKleenePort(value.text);
        if (parsed.ok) container.ports.push({ spec: parsed.spec, source: whole(value) });
        else
          diagnostics.push(...portDiagnostics(parsed.errors, (s, e) => at(value.word, value.from + s, value.from + e)));
      } else if (value.flag === '--ip' || value.flag === '--ip6') {
        const family = value.flag === '--ip' ? 'inet' : 'inet6';
        const address = parseAddress(value.text);
        if (address === null || address.family !== family) {
          const why =
            describeAddressProblem(value.text) ?? `it is not an ${family === 'inet' ? 'IPv4' : 'IPv6'} address`;
          diagnostics.push(located('invalid-address', whole(value), `${value.flag} ${quoteText(value.text)}: ${why}`));
        } else if (family === 'inet') container.ip = { text: address.text, source: whole(value) };
        else container.ip6 = { text: address.text, source: whole(value) };
      }
    }
    // klee: no --driver and no --network is the host driver; a --network alone is ipnet.
    const driver = last('--driver');
    const network = last('--network');
    const driverName = driver?.text ?? (network === undefined ? 'host' : 'ipnet');
    const driverAt = driver ?? network;
    applyDriver(
      container,
      driverName,
      driverAt === undefined ? places.span(args.verb.start, args.verb.end) : whole(driverAt),
      diagnostics,
    );
    containers.push(container);
  }
  if (found === 0) {
    diagnostics.push(
      located(
        'import-syntax',
        places.span(0, 0),
        'the file holds neither klee container inspect output nor a klee run command',
        'give the JSON of klee container inspect NAME, or a line such as klee run --name web -n net -p 8080:80 IMAGE',
      ),
    );
  }
  return { containers, diagnostics };
}
