// What every importer reader makes of its source, whatever the format: containers with their
// published ports (as PortSpecs, so the manifest grammar decides how they are written), declared
// ports, links and whatever address the source knows, each with the place in the source it came
// from. render-manifest.ts turns them into manifest text.
import type { Diagnostic, SourceSpan } from '../diagnostics/diagnostic.js';
import type { PortSpec } from '../ports/port-spec.js';

/** The formats `pfexpose import` reads; the order is the order of `--help`. */
export const IMPORT_FORMATS = ['compose', 'docker-run', 'bastille', 'pot', 'kleene'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export function isImportFormat(value: string): value is ImportFormat {
  return (IMPORT_FORMATS as readonly string[]).includes(value);
}

/** One source file as the command line named it, already read. */
export interface ImportSource {
  file: string;
  text: string;
  /**
   * Names of the directories holding the file, nearest first (`/usr/local/bastille/jails/web/rdr.conf`:
   * web, jails, bastille, ...): Bastille and pot name a jail by its directory.
   */
  directories: string[];
}

export interface ImportedPort {
  spec: PortSpec;
  /** The entry in the source. */
  source: SourceSpan;
}

/** Docker's link: `server` or `server:alias`. */
export interface ImportedLink {
  container: string;
  alias: string | null;
  source: SourceSpan;
}

export interface ImportedAddress {
  text: string;
  source: SourceSpan;
}

export interface ImportedContainer {
  name: string;
  /** Where the source names the container (a Compose service key, `--name`, a file's path). */
  nameSource: SourceSpan;
  /** A short phrase for the manifest's header: `service web`, `line 3`. */
  origin: string;
  /** How short port entries are written: Docker's grammar for Docker sources, Kleene's otherwise. */
  syntax: 'kleene' | 'docker';
  /** Addresses the source itself gives (pot.conf's ip, Kleene's endpoints, docker run --ip). */
  ip: ImportedAddress | null;
  ip6: ImportedAddress | null;
  ports: ImportedPort[];
  /** Docker's `--expose` / Compose's `expose`, as written (validated by the reader). */
  expose: (string | number)[];
  publishAll: boolean;
  links: ImportedLink[];
  /** The network stack, when the source tells it (a Kleene driver, pot's vnet flag). */
  stack: 'shared' | 'vnet' | null;
}

export interface ReadResult {
  containers: ImportedContainer[];
  diagnostics: Diagnostic[];
}

export function emptyContainer(
  name: string,
  nameSource: SourceSpan,
  origin: string,
  syntax: 'kleene' | 'docker',
): ImportedContainer {
  return {
    name,
    nameSource,
    origin,
    syntax,
    ip: null,
    ip6: null,
    ports: [],
    expose: [],
    publishAll: false,
    links: [],
    stack: null,
  };
}
