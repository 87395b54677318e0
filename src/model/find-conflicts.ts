// Finds exposures of one host that claim the same packets: same family and protocol, overlapping
// listen sides and overlapping host port ranges. Kleene lets the first rule win silently; we report
// every manifest location involved, each naming the others.
import type { Diagnostic, SourceSpan } from '../diagnostics/diagnostic.js';
import { compareStrings } from '../text/compare-strings.js';
import type { Exposure } from './exposure.js';
import { formatListen } from './format-listen.js';
import { compareSpans, formatRange, formatSpan } from './spans.js';
import { located } from '../diagnostics/diagnostic.js';
import { EVERY_ADDRESS } from './port-occupancy.js';
import type { ListenId } from './port-occupancy.js';

export interface PlacedExposure {
  exposure: Exposure;
  span: SourceSpan;
}

export function listenIdOf(exposure: Pick<Exposure, 'interface' | 'hostAddress'>): ListenId {
  if (exposure.interface !== null) return `i:${exposure.interface}`;
  if (exposure.hostAddress !== null) return `a:${exposure.hostAddress}`;
  return EVERY_ADDRESS;
}

function describe(e: Exposure): string {
  const listen = e.interface === null && e.hostAddress === null ? `every ${e.family} address` : formatListen(e);
  return `${e.protocol} host port ${formatRange(e.hostPort)} on ${listen}`;
}

export function findConflicts(placed: readonly PlacedExposure[]): Diagnostic[] {
  const groups = new Map<string, PlacedExposure[]>();
  for (const p of placed) {
    const key = `${p.exposure.protocol}/${p.exposure.family}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [p]);
    else group.push(p);
  }
  const spanKey = (s: SourceSpan): string => `${s.file}\0${s.line}\0${s.column}`;
  // location -> the other locations it conflicts with, and what they both claim
  type Other = { span: SourceSpan; container: string };
  const found = new Map<string, { span: SourceSpan; claim: string; others: Map<string, Other> }>();
  const note = (a: PlacedExposure, b: PlacedExposure): void => {
    const key = spanKey(a.span);
    let record = found.get(key);
    if (record === undefined)
      found.set(key, (record = { span: a.span, claim: describe(a.exposure), others: new Map<string, Other>() }));
    record.others.set(spanKey(b.span), { span: b.span, container: b.exposure.container });
  };
  const overlaps = (a: PlacedExposure, b: PlacedExposure): void => {
    // The v4 and v6 twins of one entry share their span object; never a conflict with itself.
    // Two entries at one position (a YAML alias repeats an entry) are two entries, and conflict.
    if (a.span === b.span) return;
    note(a, b);
    note(b, a);
  };
  const stillOpen = (list: PlacedExposure[], start: number): PlacedExposure[] =>
    list.every((o) => o.exposure.hostPort.end >= start) ? list : list.filter((o) => o.exposure.hostPort.end >= start);
  for (const key of [...groups.keys()].sort(compareStrings)) {
    // Sweep over host port starts: only ranges still open can overlap the next one. Open ranges are
    // kept per listen side so that many exposures on distinct addresses cost nothing extra.
    const list = (groups.get(key) as PlacedExposure[]).sort(
      (a, b) => a.exposure.hostPort.start - b.exposure.hostPort.start || compareSpans(a.span, b.span),
    );
    let openEvery: PlacedExposure[] = [];
    let openOthers: PlacedExposure[] = [];
    const openBySide = new Map<ListenId, PlacedExposure[]>();
    for (const current of list) {
      const start = current.exposure.hostPort.start;
      const side = listenIdOf(current.exposure);
      openEvery = stillOpen(openEvery, start);
      for (const other of openEvery) overlaps(current, other);
      if (side === EVERY_ADDRESS) {
        openOthers = stillOpen(openOthers, start);
        for (const other of openOthers) overlaps(current, other);
        openEvery.push(current);
      } else {
        const known = openBySide.get(side);
        const same = known === undefined ? [] : stillOpen(known, start);
        for (const other of same) overlaps(current, other);
        same.push(current);
        if (same !== known) openBySide.set(side, same);
        openOthers.push(current);
      }
    }
  }
  const diagnostics: Diagnostic[] = [];
  for (const record of found.values()) {
    const others = [...record.others.values()]
      .sort((a, b) => compareSpans(a.span, b.span))
      .map((o) => `${o.container} at ${formatSpan(o.span)}`);
    diagnostics.push(
      located(
        'port-conflict',
        record.span,
        `${record.claim} is also claimed by ${others.join(', ')}; pf would silently send it to only one of them`,
        'give each exposure its own host port, interface or host address',
      ),
    );
  }
  return diagnostics;
}
