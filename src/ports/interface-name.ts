// Interface names as pf accepts them in rules: a letter, then letters, digits, `_` or `.`, at most
// 15 characters (IFNAMSIZ - 1). The set is deliberately narrow so that a name can never carry
// quotes, braces, `#`, spaces, `-` or newlines into the generated ruleset.
import { quoteText } from './quote-text.js';

const INTERFACE_NAME = /^[A-Za-z][A-Za-z0-9_.]{0,14}$/;

export const MAX_INTERFACE_NAME_LENGTH = 15;

export function isInterfaceName(text: string): boolean {
  return INTERFACE_NAME.test(text);
}

/** Why text is not an interface name and what would be right, for a message; null when it is one. */
export function describeInterfaceNameProblem(text: string): string | null {
  if (isInterfaceName(text)) return null;
  if (text === '') return 'the interface name is empty: write a name such as em0';
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
