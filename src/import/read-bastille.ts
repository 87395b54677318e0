// `pfexpose import bastille JAILS/NAME/rdr.conf`: the redirects Bastille keeps per jail, one per
// line as `bastille rdr` wrote it (usr/local/share/bastille/rdr.sh):
//   INET IF[,IF] SRC DST PROTO HOST_PORT JAIL_PORT [log [( OPTS )]]   (INET dual, ipv4 or ipv6)
//   PROTO HOST_PORT JAIL_PORT [log ...]                              (older Bastille: on its ext_if)
// The jail is named by its directory. Bastille redirects only to jails that share the host's
// network stack (rdr refuses VNET jails), so the container is declared `stack: shared`.
import type { Diagnostic, SourceSpan } from '../diagnostics/diagnostic.js';
import { located } from '../diagnostics/diagnostic.js';
import { describeAddressProblem, describeNetworkProblem, parseAddress, parseNetwork } from '../ports/address.js';
import { describeInterfaceNameProblem } from '../ports/interface-name.js';
import { parsePortRange } from '../ports/port-number.js';
import type { Family, PortRange, PortSpec, Protocol } from '../ports/port-spec.js';
import { quoteText } from '../text/quote-text.js';
import { describeContainerNameProblem } from './container-name.js';
import type { ImportSource, ReadResult } from './imported-container.js';
import { emptyContainer } from './imported-container.js';
import type { Field, Line } from './line-fields.js';
import { contentLines } from './line-fields.js';
import type { SourcePlaces } from './source-places.js';
import { errorCount, portDiagnostics, sourcePlaces } from './source-places.js';

const INET: ReadonlyMap<string, Family | null> = new Map([
  ['dual', null],
  ['ipv4', 'inet'],
  ['ipv6', 'inet6'],
]);

export function readBastille(source: ImportSource): ReadResult {
  const places = sourcePlaces(source.file, source.text);
  const diagnostics: Diagnostic[] = [];
  const name = source.directories[0] ?? '';
  const problem = describeContainerNameProblem(name);
  if (problem !== null) {
    diagnostics.push(
      located(
        'import-syntax',
        places.span(0, 0),
        `the jail's name comes from the directory holding rdr.conf, and ${problem}`,
        'give the file as it lies in Bastille: JAILS_DIR/NAME/rdr.conf',
      ),
    );
    return { containers: [], diagnostics };
  }
  const container = emptyContainer(name, places.span(0, 0), `jail ${name}`, 'kleene');
  container.stack = 'shared';
  for (const line of contentLines(source.text)) {
    const spec = readLine(line, places, diagnostics);
    if (spec !== null) container.ports.push({ spec, source: places.span(line.start, line.start + line.text.length) });
  }
  return { containers: [container], diagnostics };
}

function readLine(line: Line, places: SourcePlaces, diagnostics: Diagnostic[]): PortSpec | null {
  const fields = line.fields;
  const first = fields[0] as Field;
  const at = (field: Field): SourceSpan => places.span(field.start, field.start + field.text.length);
  let rest: Field[];
  let family: Family | null = null;
  let interfaces: string[] = [];
  let from: string[] = [];
  let hostAddress: string | null = null;
  const before = errorCount(diagnostics);
  if (first.text === 'tcp' || first.text === 'udp') {
    rest = fields;
  } else if (INET.has(first.text)) {
    if (fields.length < 7) return short(line, places, diagnostics);
    family = INET.get(first.text) ?? null;
    const [, ifField, srcField, dstField] = fields as [Field, Field, Field, Field];
    interfaces = ifField.text.split(',');
    for (const name of interfaces) {
      const problem = describeInterfaceNameProblem(name);
      if (problem !== null) diagnostics.push(located('port-interface-name', at(ifField), problem));
    }
    if (srcField.text.startsWith('<')) {
      diagnostics.push(
        located(
          'import-unsupported',
          at(srcField),
          `source ${srcField.text} is a pf table, whose addresses live in pf, not in the manifest`,
          'list the networks under from: in the manifest by hand',
        ),
      );
    } else if (srcField.text !== 'any') {
      const network = parseNetwork(srcField.text);
      if (network === null) {
        diagnostics.push(
          located(
            'port-address-invalid',
            at(srcField),
            `source ${quoteText(srcField.text)}: ${describeNetworkProblem(srcField.text) ?? ''}`,
          ),
        );
      } else {
        from = [network.text];
        if (family === null) family = network.family;
      }
    }
    if (dstField.text !== 'any') {
      const address = parseAddress(dstField.text);
      if (address === null) {
        diagnostics.push(
          located(
            'port-address-invalid',
            at(dstField),
            `destination ${quoteText(dstField.text)}: ${describeAddressProblem(dstField.text) ?? ''}`,
          ),
        );
      } else {
        hostAddress = address.text;
        diagnostics.push(
          located(
            'import-dropped',
            at(ifField),
            `the redirect listens on ${address.text}, which names its interface already: ${ifField.text} is left out`,
            undefined,
            'warning',
          ),
        );
        interfaces = [];
      }
    }
    rest = fields.slice(4);
  } else {
    diagnostics.push(
      located(
        'import-syntax',
        at(first),
        `a line of rdr.conf starts with tcp or udp (older Bastille) or with dual, ipv4 or ipv6, not ${quoteText(first.text)}`,
      ),
    );
    return null;
  }
  if (rest.length < 3) return short(line, places, diagnostics);
  const [protoField, hostField, jailField, ...extra] = rest as [Field, Field, Field, ...Field[]];
  let protocol: Protocol = 'tcp';
  if (protoField.text === 'udp') protocol = 'udp';
  else if (protoField.text !== 'tcp') {
    diagnostics.push(
      located('port-protocol', at(protoField), `protocol ${quoteText(protoField.text)}: Bastille redirects tcp or udp`),
    );
  }
  if (extra.length > 0) {
    const log = extra[0] as Field;
    const last = extra[extra.length - 1] as Field;
    if (log.text === 'log') {
      diagnostics.push(
        located(
          'import-dropped',
          places.span(log.start, last.start + last.text.length),
          'pfexpose rules do not log: the log option is left out (the exposure itself is imported)',
          undefined,
          'warning',
        ),
      );
    } else {
      diagnostics.push(
        located(
          'import-syntax',
          at(log),
          `unexpected ${quoteText(log.text)} after the ports: only log may follow them`,
        ),
      );
    }
  }
  const host = readPort(hostField, places, diagnostics, 'host port');
  const jail = readPort(jailField, places, diagnostics, 'jail port');
  if (errorCount(diagnostics) > before || host === null || jail === null) return null;
  return {
    syntax: 'kleene',
    protocol,
    containerPort: jail,
    hostPort: host,
    hostPortIsPool: false,
    interfaces,
    hostAddress,
    from,
    family,
    name: null,
  };
}

/** A single port: pf's ranges (`8000:8010`) map onto one jail port in pf, which no manifest entry means. */
function readPort(field: Field, places: SourcePlaces, diagnostics: Diagnostic[], what: string): PortRange | null {
  const span = (start: number, end: number) => places.span(field.start + start, field.start + end);
  if (field.text.includes(':') || field.text.includes('-')) {
    diagnostics.push(
      located(
        'import-unsupported',
        span(0, field.text.length),
        `${what} ${field.text} is a range: pf sends a whole rdr range to a single port, which no manifest entry means`,
        'write the range in the manifest by hand, e.g. 8000-8010:8000-8010',
      ),
    );
    return null;
  }
  const parsed = parsePortRange(field.text);
  if (parsed.ok) return parsed.range;
  diagnostics.push(...portDiagnostics(parsed.errors, span, `${what}: `));
  return null;
}

function short(line: Line, places: SourcePlaces, diagnostics: Diagnostic[]): null {
  diagnostics.push(
    located(
      'import-syntax',
      places.span(line.start, line.start + line.text.length),
      'a line of rdr.conf is INET IF SRC DST PROTO HOST_PORT JAIL_PORT (or PROTO HOST_PORT JAIL_PORT), and this one has fewer fields',
    ),
  );
  return null;
}
