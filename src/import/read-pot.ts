// `pfexpose import pot POT_ROOT/jails/NAME/conf/pot.conf`: the ports `pot export-ports` keeps in
// pot.conf as `pot.export.ports=PORT ...`, each `[tcp:|udp:]POT_PORT[:HOST_PORT]` (pot's
// share/pot/export-ports.sh and start.sh; note the order: the pot's port first). Without a host
// port pot picks a free one at every start; the manifest takes one from the pool and keeps it in
// the lock file. pot redirects on its external interface, which the manifest calls the gateway.
// The address is pot.conf's `ip=`, the stack its `vnet=`, the name the pot's directory.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { located } from '../diagnostics/diagnostic.js';
import { describeAddressProblem, parseAddress } from '../ports/address.js';
import { parsePortRange } from '../ports/port-number.js';
import type { PortSpec, Protocol } from '../ports/port-spec.js';
import { quoteText } from '../text/quote-text.js';
import { describeContainerNameProblem } from './container-name.js';
import type { ImportSource, ReadResult } from './imported-container.js';
import { emptyContainer } from './imported-container.js';
import type { Field } from './line-fields.js';
import { contentLines, splitFields } from './line-fields.js';
import { portDiagnostics, sourcePlaces } from './source-places.js';

export function readPot(source: ImportSource): ReadResult {
  const places = sourcePlaces(source.file, source.text);
  const diagnostics: Diagnostic[] = [];
  const [nearest = '', parent = ''] = source.directories;
  const name = nearest === 'conf' ? parent : nearest;
  const problem = describeContainerNameProblem(name);
  if (problem !== null) {
    diagnostics.push(
      located(
        'import-syntax',
        places.span(0, 0),
        `the pot's name comes from its directory (POT_ROOT/jails/NAME/conf/pot.conf), and ${problem}`,
        'give the file as it lies in pot: POT_ROOT/jails/NAME/conf/pot.conf',
      ),
    );
    return { containers: [], diagnostics };
  }
  const container = emptyContainer(name, places.span(0, 0), `pot ${name}`, 'kleene');
  const settings = new Map<string, { value: string; start: number; line: number }>();
  for (const line of contentLines(source.text)) {
    const eq = line.text.indexOf('=');
    if (eq < 0) continue;
    const key = line.text.slice(0, eq).trim();
    settings.set(key, { value: line.text.slice(eq + 1), start: line.start + eq + 1, line: line.number });
  }
  const exported = settings.get('pot.export.ports');
  const legacy = settings.get('pot.export.static.ports');
  const ip = settings.get('ip');
  const networkType = settings.get('network_type');
  const ports = [
    ...(exported === undefined
      ? []
      : splitFields(exported.value, exported.start).map((f) => ({ field: f, legacy: false }))),
    // Older pot kept static ports apart; its update-config turns each PORT into PORT:PORT.
    ...(legacy === undefined ? [] : splitFields(legacy.value, legacy.start).map((f) => ({ field: f, legacy: true }))),
  ];
  if (
    ports.length > 0 &&
    networkType !== undefined &&
    networkType.value !== 'public-bridge' &&
    networkType.value !== 'private-bridge'
  ) {
    diagnostics.push(
      located(
        'import-unsupported',
        places.span(networkType.start, networkType.start + networkType.value.length),
        `pot exports ports of bridged pots only and ignores them for network_type ${networkType.value}, so they were never exposures`,
        'import a public-bridge or private-bridge pot, or write the exposures by hand',
      ),
    );
    return { containers: [], diagnostics };
  }
  for (const { field, legacy: isLegacy } of ports) {
    const spec = readExport(field, isLegacy, places, diagnostics);
    if (spec !== null)
      container.ports.push({ spec, source: places.span(field.start, field.start + field.text.length) });
  }
  if (ip !== undefined && ip.value !== '') {
    const address = parseAddress(ip.value);
    const span = places.span(ip.start, ip.start + ip.value.length);
    if (address === null) {
      diagnostics.push(
        located(
          'invalid-address',
          span,
          `ip ${quoteText(ip.value)}: ${describeAddressProblem(ip.value) ?? ''}`,
          'give the address with --ip NAME=ADDR',
          'warning',
        ),
      );
    } else if (address.family === 'inet') container.ip = { text: address.text, source: span };
    else container.ip6 = { text: address.text, source: span };
  }
  const vnet = settings.get('vnet');
  if (vnet?.value === 'true') container.stack = 'vnet';
  else if (vnet?.value === 'false') container.stack = 'shared';
  return { containers: [container], diagnostics };
}

function readExport(
  field: Field,
  isLegacy: boolean,
  places: ReturnType<typeof sourcePlaces>,
  diagnostics: Diagnostic[],
): PortSpec | null {
  const span = (start: number, end: number) => places.span(field.start + start, field.start + end);
  let text = field.text;
  let offset = 0;
  let protocol: Protocol = 'tcp';
  const colon = text.indexOf(':');
  const head = colon < 0 ? text : text.slice(0, colon);
  if (head === 'tcp' || head === 'udp') {
    protocol = head;
    offset = colon + 1;
    text = text.slice(offset);
  }
  const parts = text.split(':');
  if (parts.length > 2 || (isLegacy && parts.length > 1)) {
    diagnostics.push(
      located(
        'import-syntax',
        span(0, field.text.length),
        `exported port ${quoteText(field.text)} is not [tcp:|udp:]POT_PORT[:HOST_PORT]`,
      ),
    );
    return null;
  }
  const [potText = '', hostText] = parts;
  const pot = parsePortRange(potText, offset);
  const host = hostText === undefined ? null : parsePortRange(hostText, offset + potText.length + 1);
  const before = diagnostics.length;
  if (!pot.ok) diagnostics.push(...portDiagnostics(pot.errors, span, 'pot port: '));
  if (host !== null && !host.ok) diagnostics.push(...portDiagnostics(host.errors, span, 'host port: '));
  if (!pot.ok || (host !== null && !host.ok) || diagnostics.length > before) return null;
  if (pot.range.start !== pot.range.end || (host !== null && host.range.start !== host.range.end)) {
    diagnostics.push(located('import-unsupported', span(0, field.text.length), 'pot exports single ports, not ranges'));
    return null;
  }
  return {
    syntax: 'kleene',
    protocol,
    containerPort: pot.range,
    hostPort: isLegacy ? pot.range : host === null ? null : host.range,
    hostPortIsPool: false,
    interfaces: [],
    hostAddress: null,
    from: [],
    family: null,
    name: null,
  };
}
