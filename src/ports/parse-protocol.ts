// The `/PROTOCOL` suffix of the short syntaxes and the long form's `protocol` value.
import type { Protocol, PortSpecError } from './port-spec.js';
import { portError } from './port-error.js';
import { quoteText } from '../text/quote-text.js';

export type ProtocolResult = { ok: true; protocol: Protocol } | { ok: false; errors: PortSpecError[] };

export interface ProtocolRules {
  /** Protocols the syntax accepts, in the order a message lists them. */
  allowed: readonly Protocol[];
  /** Docker lower-cases the protocol (`80/TCP` works there); the other syntaxes do not. */
  ignoreCase: boolean;
  /** What to tell a user who wrote a protocol this syntax does not accept but another one does. */
  elsewhere?: string;
}

const KNOWN: readonly Protocol[] = ['tcp', 'udp', 'sctp'];

export function parseProtocol(text: string, offset: number, rules: ProtocolRules): ProtocolResult {
  // Nearly every protocol is written as the syntax wants it: found without building a message.
  const exact = rules.allowed.find((p) => p === text);
  if (exact !== undefined) return { ok: true, protocol: exact };
  const fail = (message: string): ProtocolResult => ({
    ok: false,
    errors: [portError('port-protocol', message, offset, offset + text.length)],
  });
  const choices =
    rules.allowed.length > 1
      ? `${rules.allowed.slice(0, -1).join(', ')} or ${rules.allowed[rules.allowed.length - 1] ?? ''}`
      : rules.allowed.join('');
  if (text === '') return fail(`the protocol after "/" is missing: write ${choices}`);
  const lower = text.toLowerCase();
  const candidate = rules.ignoreCase ? lower : text;
  const allowed = rules.allowed.find((p) => p === candidate);
  if (allowed !== undefined) return { ok: true, protocol: allowed };
  const known = KNOWN.find((p) => p === lower);
  if (known !== undefined && rules.allowed.includes(known)) {
    return fail(`protocol ${quoteText(text)} must be written in lower case: write ${known}`);
  }
  if (known !== undefined) {
    return fail(
      `protocol ${known} is not supported here: write ${choices}${rules.elsewhere ? `; ${rules.elsewhere}` : ''}`,
    );
  }
  return fail(`protocol ${quoteText(text)} is unknown: write ${choices}`);
}
