// The total order of exposures: listen side, family, protocol, host port, container, container port,
// sources, then everything else, so that sorting never depends on input order.
import { compareStrings } from '../text/compare-strings.js';
import type { Exposure } from './exposure.js';

function compareNullable(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return compareStrings(a, b);
}

function compareLists(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = compareStrings(a[i] as string, b[i] as string);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function compareExposures(a: Exposure, b: Exposure): number {
  return (
    compareNullable(a.interface, b.interface) ||
    compareNullable(a.hostAddress, b.hostAddress) ||
    compareStrings(a.family, b.family) ||
    compareStrings(a.protocol, b.protocol) ||
    a.hostPort.start - b.hostPort.start ||
    a.hostPort.end - b.hostPort.end ||
    compareStrings(a.container, b.container) ||
    a.containerPort.start - b.containerPort.start ||
    a.containerPort.end - b.containerPort.end ||
    compareLists(a.from, b.from) ||
    compareStrings(a.containerAddress, b.containerAddress) ||
    compareStrings(a.label, b.label) ||
    Number(a.dynamic) - Number(b.dynamic) ||
    compareStrings(a.source.file, b.source.file) ||
    a.source.line - b.source.line ||
    a.source.column - b.source.column
  );
}
