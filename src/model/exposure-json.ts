// An exposure as JSON: the one shape `compile --format json` prints for each exposure and the plan's
// JSON prints for each side of a change (docs/reference/cli.md and docs/guide/operating.md document
// them). Keys are written in this order.
import type { Exposure, SourceLocation } from './exposure.js';
import type { Reach } from './reach.js';
import { formatRange } from './spans.js';

/**
 * What is serialized: a compiled exposure, or one read back from deployed rules, whose dynamic flag
 * and manifest location may be unknown (null).
 */
export type SerializableExposure = Omit<Exposure, 'dynamic' | 'source'> & {
  dynamic: boolean | null;
  source: SourceLocation | null;
};

export interface ExposureJson {
  container: string;
  protocol: string;
  family: string;
  interface: string | null;
  hostAddress: string | null;
  hostPort: { start: number; end: number };
  containerAddress: string;
  containerPort: { start: number; end: number };
  from: string[];
  label: string;
  dynamic: boolean | null;
  source: { file: string; line: number; column: number } | null;
}

export function exposureJson(e: SerializableExposure): ExposureJson {
  return {
    container: e.container,
    protocol: e.protocol,
    family: e.family,
    interface: e.interface,
    hostAddress: e.hostAddress,
    hostPort: { start: e.hostPort.start, end: e.hostPort.end },
    containerAddress: e.containerAddress,
    containerPort: { start: e.containerPort.start, end: e.containerPort.end },
    from: [...e.from],
    label: e.label,
    dynamic: e.dynamic,
    source: e.source === null ? null : { file: e.source.file, line: e.source.line, column: e.source.column },
  };
}

/** A link or network reach (model/reach.ts) as compile's JSON and plan's JSON write it, keys in a fixed order. */
export function reachJson(r: Reach): unknown {
  return {
    kind: r.kind,
    label: r.label,
    family: r.family,
    protocol: r.protocol,
    from: r.from,
    container: r.container,
    containerAddress: r.containerAddress,
    port: formatRange(r.port),
    client: r.client,
    alias: r.alias,
    source: r.source,
  };
}
