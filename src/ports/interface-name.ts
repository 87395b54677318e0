// Interface names as pf accepts them in rules: a letter, then letters, digits, `_` or `.`, at most
// 15 characters (IFNAMSIZ - 1). The set is deliberately narrow so that a name can never carry
// quotes, braces, `#`, spaces, `-` or newlines into the generated ruleset.
import { quoteText } from '../text/quote-text.js';

const INTERFACE_NAME = /^[A-Za-z][A-Za-z0-9_.]{0,14}$/;

/**
 * Words of pf.conf's grammar that fit the character set above: every keyword of FreeBSD pfctl's
 * lexer table (lookup() in sbin/pfctl/parse.y) without a `-` in it, `crop` of older releases, and
 * `self`. pfctl's lexer turns such a word into its keyword token, never an interface name, so the
 * rule would be rejected or read otherwise (`dnpipe`/`dnqueue` start dummynet options); `on self`
 * / `(self)` would mean every address of the host. schema/pfexpose.schema.json refuses the same
 * words.
 */
export const PF_KEYWORDS: ReadonlySet<string> = new Set([
  'all',
  'altq',
  'anchor',
  'antispoof',
  'any',
  'bandwidth',
  'binat',
  'bitmask',
  'block',
  'buckets',
  'cbq',
  'code',
  'codelq',
  'crop',
  'debug',
  'dnpipe',
  'dnqueue',
  'drop',
  'ether',
  'fairq',
  'fastroute',
  'file',
  'fingerprints',
  'flags',
  'floating',
  'flush',
  'for',
  'fragment',
  'from',
  'global',
  'group',
  'hfsc',
  'hogs',
  'hostid',
  'in',
  'include',
  'inet',
  'inet6',
  'interval',
  'keep',
  'keepcounters',
  'l3',
  'label',
  'limit',
  'linkshare',
  'load',
  'log',
  'loginterface',
  'match',
  'max',
  'modulate',
  'nat',
  'no',
  'on',
  'optimization',
  'os',
  'out',
  'overload',
  'pass',
  'port',
  'prio',
  'priority',
  'priq',
  'probability',
  'proto',
  'qlimit',
  'queue',
  'quick',
  'random',
  'rdr',
  'realtime',
  'reassemble',
  'return',
  'ridentifier',
  'route',
  'rtable',
  'rule',
  'scrub',
  'self',
  'set',
  'skip',
  'sloppy',
  'state',
  'syncookies',
  'synproxy',
  'table',
  'tag',
  'tagged',
  'target',
  'tbrsize',
  'timeout',
  'to',
  'tos',
  'ttl',
  'upperlimit',
  'user',
]);

export const MAX_INTERFACE_NAME_LENGTH = 15;

export function isInterfaceName(text: string): boolean {
  return INTERFACE_NAME.test(text) && !PF_KEYWORDS.has(text);
}

/** Why text is not an interface name and what would be right, for a message; null when it is one. */
export function describeInterfaceNameProblem(text: string): string | null {
  if (isInterfaceName(text)) return null;
  if (text === '') return 'the interface name is empty: write a name such as em0';
  if (PF_KEYWORDS.has(text)) {
    const meaning = text === 'self' ? ' (`(self)` means every address of the host)' : '';
    return `${quoteText(text)} is a word of pf's rule grammar${meaning}, not an interface: write the interface's real name, e.g. em0`;
  }
  if (!/^[A-Za-z]/.test(text)) return `interface name ${quoteText(text)} must start with a letter, e.g. em0`;
  const bad = Array.from(text).find((ch) => !/^[A-Za-z0-9_.]$/.test(ch));
  if (bad !== undefined) {
    return `interface name ${quoteText(text)} contains ${quoteText(bad)}: use only letters, digits, "_" and "."`;
  }
  return `interface name ${quoteText(text)} is longer than pf's limit of ${MAX_INTERFACE_NAME_LENGTH} characters: use the interface's real (or a shorter) name`;
}

/**
 * FreeBSD names interfaces driver + unit (em0, vtnet1, lo0, em0.100): a name ending in a digit
 * is most likely an interface, anything else most likely a host name.
 */
export function looksLikeInterfaceName(text: string): boolean {
  return isInterfaceName(text) && /[0-9]$/.test(text);
}
