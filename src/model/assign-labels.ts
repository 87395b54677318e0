// pf labels for pass rules: `CONTAINER:PROTOCOL:LISTEN:HOSTPORT`, readable and unique per host, so that
// `pfctl -s labels` and `pfctl -k label` work per exposure. Too long or unsafe text is shortened with
// a `~` and a sha256 prefix; `~` never occurs in the readable form, so the two forms cannot collide.
import { createHash } from 'node:crypto';
import type { Family, PortRange, Protocol } from '../ports/port-spec.js';
import { formatRange } from './spans.js';

/** pf's limit for labels (PF_RULE_LABEL_SIZE is 64 bytes, NUL included). */
export const MAX_LABEL_LENGTH = 63;

/** Characters that need no escaping inside pf's quoted label and survive shells and `pfctl -k label`. */
export const SAFE_LABEL = /^[A-Za-z0-9_.:~-]+$/;
const READABLE = /^[A-Za-z0-9_.:-]+$/;

export interface LabelRequest {
  container: string;
  protocol: Protocol;
  /** Interface name, the host address as written, or `self` for every address. */
  listen: string;
  /** Tells an interface from an address or from every address, so identities never merge by accident. */
  listenKind: 'interface' | 'address' | 'self';
  hostPort: PortRange;
  /**
   * The families the entry makes rules for. Two entries of one container may share a listen side
   * and host port when each is narrowed to another family: they are different entries and must
   * not share a label (the v4 and v6 rules of one entry do).
   */
  families: readonly Family[];
}

/** Equal for two requests exactly when they describe the same listen side, host ports and families of one container. */
export function labelIdentity(request: LabelRequest): string {
  // JSON string literals cannot contain a raw tab, so the tab-joined form is injective.
  return `${JSON.stringify(request.container)}\t${request.protocol}\t${request.listenKind}\t${JSON.stringify(request.listen)}\t${request.hostPort.start}\t${request.hostPort.end}\t${[...request.families].sort().join(',')}`;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function hashedLabel(request: LabelRequest, identity: string, hashLength: number): string {
  const prefix = `${request.container}:${request.protocol}:`.replace(/[^A-Za-z0-9_.:-]/g, '_');
  const tail = `~${sha256Hex(identity).slice(0, hashLength)}`;
  return `${prefix.slice(0, MAX_LABEL_LENGTH - tail.length)}${tail}`;
}

function preferredLabel(request: LabelRequest): string | null {
  const port = formatRange(request.hostPort);
  const readable = `${request.container}:${request.protocol}:${request.listen}:${port}`;
  if (readable.length <= MAX_LABEL_LENGTH && READABLE.test(readable)) return readable;
  // Usually only the listen side is long (a full IPv6 address): keep the rest readable.
  const short = `${request.container}:${request.protocol}:~${sha256Hex(request.listen).slice(0, 8)}:${port}`;
  if (short.length <= MAX_LABEL_LENGTH && SAFE_LABEL.test(short)) return short;
  return null;
}

/**
 * Labels for the requests, in the same order (equal identities get equal labels). Identities that
 * would share a label (possible only through the hash or odd names) get hashes of the whole identity,
 * lengthened until all are distinct; that depends only on the colliding identities, so it is
 * deterministic whatever the order of the requests.
 */
export function assignLabels(requests: readonly LabelRequest[]): string[] {
  // Identities are built only where needed (a hashed form, or two requests on one label): most
  // labels are readable and distinct, and this runs once per entry of a large repository.
  const identities: (string | undefined)[] = [];
  const identityOf = (i: number): string => (identities[i] ??= labelIdentity(requests[i] as LabelRequest));
  const labels = requests.map((request, i) => preferredLabel(request) ?? hashedLabel(request, identityOf(i), 8));
  const colliding = new Map<string, number>(); // identity -> index of one request with it
  for (let hashLength = 8; ; hashLength += 8) {
    const firstOf = new Map<string, number>();
    let clash = false;
    labels.forEach((label, i) => {
      const first = firstOf.get(label);
      if (first === undefined) {
        firstOf.set(label, i);
      } else if (identityOf(first) !== identityOf(i)) {
        colliding.set(identityOf(first), first);
        colliding.set(identityOf(i), i);
        clash = true;
      }
    });
    if (!clash) return labels;
    if (hashLength > 56) throw new Error('label hashes collide at full length: sha256 is broken');
    const relabel = new Map<string, string>();
    for (const [id, i] of colliding) relabel.set(id, hashedLabel(requests[i] as LabelRequest, id, hashLength));
    labels.forEach((_, i) => {
      const id = identities[i];
      const label = id === undefined ? undefined : relabel.get(id);
      if (label !== undefined) labels[i] = label;
    });
  }
}
