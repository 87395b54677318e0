// Reads what pf holds in pfexpose's anchor, in the canonical form every comparison uses (see
// src/pf/rule-lines.ts): the rule lines as pfctl prints them after a load.
import { normalizedLines } from '../pf/rule-lines.js';
import type { Pfctl } from '../pf/pfctl-api.js';

export interface DeployedAnchor {
  /** Normalized rule lines, translation rules first; empty for an empty or missing anchor. */
  lines: string[];
  /** The rules as pfctl printed them (translation, then filter): loadable to restore them. */
  text: string;
  /** Table names in the anchor, sorted. */
  tables: string[];
  /** False when pf says the anchor does not exist (never loaded, not called). */
  exists: boolean;
}

export type DeployedRead =
  ({ kind: 'ok' } & DeployedAnchor) | { kind: 'pf-disabled'; message: string } | { kind: 'failed'; message: string };

export async function readDeployed(pfctl: Pfctl, anchor: string): Promise<DeployedRead> {
  const shown = await pfctl.showAnchor(anchor);
  switch (shown.kind) {
    case 'ok': {
      const text = joinBlocks(shown.nat, shown.filter);
      return { kind: 'ok', lines: normalizedLines(text), text, tables: shown.tables, exists: true };
    }
    case 'anchor-missing':
      return { kind: 'ok', lines: [], text: '', tables: [], exists: false };
    case 'pf-disabled':
      return { kind: 'pf-disabled', message: shown.message };
    default:
      return { kind: 'failed', message: `cannot read anchor "${anchor}": ${shown.message}` };
  }
}

function joinBlocks(...blocks: string[]): string {
  return blocks
    .filter((block) => block.trim() !== '')
    .map((block) => (block.endsWith('\n') ? block : `${block}\n`))
    .join('');
}
