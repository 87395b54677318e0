// The spine of `pfexpose import`: read every source with its format's reader, give each container
// its address (`--ip` wins over what the source says), check what the readers cannot see alone
// (a name used twice, interfaces outside `--interfaces`, a container without an address) and
// render one manifest per container, named after it. Pure: the CLI reads and writes the files.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { hasErrors, located, sortDiagnostics } from '../diagnostics/diagnostic.js';
import { describeAddressProblem, describeUnusableContainerAddress, parseAddress } from '../ports/address.js';
import { compareStrings } from '../text/compare-strings.js';
import { quoteText } from '../text/quote-text.js';
import { describeContainerNameProblem } from './container-name.js';
import type { ImportedContainer, ImportFormat, ImportSource, ReadResult } from './imported-container.js';
import { readBastille } from './read-bastille.js';
import { readCompose } from './read-compose.js';
import { readDockerRun } from './read-docker-run.js';
import { readKleene } from './read-kleene.js';
import { readPot } from './read-pot.js';
import { renderManifest } from './render-manifest.js';

const READERS: Readonly<Record<ImportFormat, (source: ImportSource) => ReadResult>> = {
  compose: readCompose,
  'docker-run': readDockerRun,
  bastille: readBastille,
  pot: readPot,
  kleene: readKleene,
};

/** Addresses from `--ip NAME=ADDR`, canonical, per container. */
export type AddressOptions = ReadonlyMap<string, { ip?: string; ip6?: string }>;

export interface ImportOptions {
  addresses: AddressOptions;
  /** `--interfaces`: the interfaces entries may name; null: any pf can take. */
  interfaces: readonly string[] | null;
  schemaRef: string | null;
}

export interface ImportedManifest {
  container: string;
  /** `NAME.yaml`: container names are safe file names (the schema's containerName). */
  fileName: string;
  text: string;
}

export interface ImportOutcome {
  ok: boolean;
  manifests: ImportedManifest[];
  diagnostics: Diagnostic[];
  /** `--ip` names no container of the sources. */
  unknownNames: string[];
}

export function importContainers(
  format: ImportFormat,
  sources: readonly ImportSource[],
  options: ImportOptions,
): ImportOutcome {
  const diagnostics: Diagnostic[] = [];
  const read: { container: ImportedContainer; file: string }[] = [];
  for (const source of sources) {
    const result = READERS[format](source);
    diagnostics.push(...result.diagnostics);
    for (const container of result.containers) read.push({ container, file: source.file });
  }
  const seen = new Map<string, ImportedContainer>();
  const kept: typeof read = [];
  for (const entry of read) {
    const { container } = entry;
    const first = seen.get(container.name);
    if (first !== undefined) {
      const where = `${first.nameSource.file}:${first.nameSource.line}:${first.nameSource.column}`;
      diagnostics.push(
        located(
          'import-duplicate-container',
          container.nameSource,
          `container ${quoteText(container.name)} is defined a second time (first at ${where}), and each becomes ${container.name}.yaml`,
          'import the two into different directories, or rename one in its source',
        ),
      );
      continue;
    }
    seen.set(container.name, container);
    kept.push(entry);
  }
  for (const { container } of kept) {
    const given = options.addresses.get(container.name);
    if (given?.ip !== undefined) container.ip = { text: given.ip, source: container.nameSource };
    if (given?.ip6 !== undefined) container.ip6 = { text: given.ip6, source: container.nameSource };
    if (container.ip === null && container.ip6 === null) {
      diagnostics.push(
        located(
          'import-address-missing',
          container.nameSource,
          `container ${quoteText(container.name)} has no address: ${container.origin} does not give one`,
          `give it with --ip ${container.name}=ADDR (IPv4 or IPv6; twice for both)`,
        ),
      );
    }
    for (const address of [container.ip, container.ip6]) {
      const parsed = address === null ? null : parseAddress(address.text);
      const problem = parsed === null ? null : describeUnusableContainerAddress(parsed);
      if (address !== null && problem !== null) {
        diagnostics.push(located('invalid-address', address.source, `address ${address.text}: ${problem}`));
      }
    }
    if (options.interfaces !== null) {
      const allowed = options.interfaces;
      for (const port of container.ports) {
        for (const name of port.spec.interfaces.filter((i) => !allowed.includes(i))) {
          diagnostics.push(
            located(
              'import-interface-unknown',
              port.source,
              `interface ${name} is not one of --interfaces (${allowed.join(', ')})`,
              'publish on one of those interfaces, or add it to --interfaces if the host has it',
            ),
          );
        }
      }
    }
  }
  const unknownNames = [...options.addresses.keys()].filter((name) => !seen.has(name)).sort(compareStrings);
  const sorted = sortDiagnostics(diagnostics);
  if (hasErrors(sorted)) return { ok: false, manifests: [], diagnostics: sorted, unknownNames };
  const manifests = kept
    .map(({ container, file }) => ({
      container: container.name,
      fileName: `${container.name}.yaml`,
      text: renderManifest(container, { format, file, schemaRef: options.schemaRef }),
    }))
    .sort((a, b) => compareStrings(a.container, b.container));
  return { ok: true, manifests, diagnostics: sorted, unknownNames };
}

export type IpOptionsResult = { ok: true; addresses: AddressOptions } | { ok: false; message: string };

/** `--ip NAME=ADDR`, repeatable: one IPv4 and one IPv6 address at most per container. */
export function parseIpOptions(values: readonly string[]): IpOptionsResult {
  const addresses = new Map<string, { ip?: string; ip6?: string }>();
  for (const value of values) {
    const eq = value.indexOf('=');
    const name = eq < 0 ? '' : value.slice(0, eq);
    const text = eq < 0 ? '' : value.slice(eq + 1);
    if (eq < 0) return { ok: false, message: `--ip ${quoteText(value)} is not NAME=ADDR, e.g. --ip web=10.0.0.2` };
    const nameProblem = describeContainerNameProblem(name);
    if (nameProblem !== null) return { ok: false, message: `--ip ${quoteText(value)}: ${nameProblem}` };
    const parsed = parseAddress(text);
    if (parsed === null) {
      return { ok: false, message: `--ip ${quoteText(value)}: ${describeAddressProblem(text) ?? 'not an address'}` };
    }
    const unusable = describeUnusableContainerAddress(parsed);
    if (unusable !== null) return { ok: false, message: `--ip ${quoteText(value)}: ${unusable}` };
    const entry = addresses.get(name) ?? {};
    const key = parsed.family === 'inet' ? 'ip' : 'ip6';
    if (entry[key] !== undefined) {
      return {
        ok: false,
        message: `--ip gives ${name} two ${key === 'ip' ? 'IPv4' : 'IPv6'} addresses (${entry[key]} and ${parsed.text}): a container has one of each family`,
      };
    }
    entry[key] = parsed.text;
    addresses.set(name, entry);
  }
  return { ok: true, addresses };
}
