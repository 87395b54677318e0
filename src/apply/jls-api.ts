// The running jails as jls(8) reports them, read as data, and the Jls interface the apply core, the
// agent and `status` use to ask for them: a port, not an adapter (src/host/jls.ts runs jls; tests
// use a stand-in). Pure: jls's libxo JSON is parsed here.
import { parseAddress } from '../ports/address.js';
import { compareStrings } from '../text/compare-strings.js';

/** What pfexpose asks of jls: `jls --libxo json jid name vnet ip4.addr ip6.addr` (running jails only). */
export const JLS_ARGS = ['--libxo', 'json', 'jid', 'name', 'vnet', 'ip4.addr', 'ip6.addr'] as const;

export interface Jail {
  jid: number;
  name: string;
  /** True for a VNET jail (`vnet` is `new`): its addresses live inside it, jls does not list them. */
  vnet: boolean;
  /** Canonical texts (see parseAddress), sorted. */
  ip4: string[];
  ip6: string[];
}

export type JlsResult =
  | { kind: 'ok'; jails: Jail[] }
  /** The program could not be started, timed out, failed or printed what is not jls's JSON. */
  | { kind: 'failed'; message: string };

export interface Jls {
  /** The jails running now, sorted by name. */
  list(): Promise<JlsResult>;
}

/**
 * jls's libxo JSON: `{"jail-information": {"jail": [{...}, ...]}}`, each jail with the parameters
 * asked for under their names. An address list is an array of strings (or of objects holding one,
 * as libxo nests leaf lists in some versions), or a comma-separated string; jid may be a number or
 * a string. Anything else is a failure naming what was wrong, never a guess.
 */
export function parseJlsJson(text: string): JlsResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'failed', message: `jls printed no JSON (${describeStart(text)})` };
  }
  const info = isObject(value) ? value['jail-information'] : undefined;
  const list = isObject(info) ? info['jail'] : undefined;
  if (list === undefined && isObject(info)) return { kind: 'ok', jails: [] };
  if (!Array.isArray(list)) return { kind: 'failed', message: 'jls printed JSON without a "jail-information" list' };
  const jails: Jail[] = [];
  for (const [index, raw] of list.entries()) {
    if (!isObject(raw))
      return { kind: 'failed', message: `jls printed jail ${index} as something other than an object` };
    const name = raw['name'];
    const jid = typeof raw['jid'] === 'string' ? Number(raw['jid']) : raw['jid'];
    if (typeof name !== 'string' || name === '' || typeof jid !== 'number' || !Number.isSafeInteger(jid)) {
      return { kind: 'failed', message: `jls printed jail ${index} without a name or jid` };
    }
    const ip4 = addresses(raw['ip4.addr'] ?? raw['ipv4_addrs'], 'inet');
    const ip6 = addresses(raw['ip6.addr'] ?? raw['ipv6_addrs'], 'inet6');
    if (typeof ip4 === 'string' || typeof ip6 === 'string')
      return {
        kind: 'failed',
        message: `jls printed an address of jail "${name}" that is not one: ${String(typeof ip4 === 'string' ? ip4 : ip6)}`,
      };
    const vnet = raw['vnet'];
    jails.push({ jid, name, vnet: vnet === 'new' || vnet === 1 || vnet === true, ip4, ip6 });
  }
  return { kind: 'ok', jails: jails.sort((a, b) => compareStrings(a.name, b.name)) };
}

function addresses(value: unknown, family: 'inet' | 'inet6'): string[] | string {
  const texts: string[] = [];
  const collect = (item: unknown): string | null => {
    if (typeof item === 'string') texts.push(...item.split(','));
    else if (Array.isArray(item))
      for (const inner of item) {
        const bad = collect(inner);
        if (bad !== null) return bad;
      }
    else if (isObject(item)) return collect(Object.values(item));
    else if (item !== null && item !== undefined) return JSON.stringify(item);
    return null;
  };
  const bad = collect(value);
  if (bad !== null) return bad;
  const found = new Set<string>();
  for (const text of texts.map((t) => t.trim()).filter((t) => t !== '' && t !== '-')) {
    const parsed = parseAddress(text);
    if (parsed === null || parsed.family !== family) return text;
    found.add(parsed.text);
  }
  return [...found].sort(compareStrings);
}

function describeStart(text: string): string {
  const start = text.trim().slice(0, 40);
  return start === '' ? 'its output was empty' : `it began ${JSON.stringify(start)}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
