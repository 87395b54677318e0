// Reads pf rules as pfctl prints them (`pfctl -sn`, `-sr`, with or without -v/-vv/-P) and as
// pfexpose renders them, into typed rules. Lines outside the modelled subset are kept as
// `unparsed` rules with a diagnostic: reading a ruleset never drops a line and never throws.
import { parseNetwork } from '../ports/address.js';
import type { Family } from '../ports/port-spec.js';
import { printRule, printRuleLines, type PrintOptions } from './print-rule.js';
import {
  addressFamily,
  emptyMatch,
  type Address,
  type AnchorRule,
  type FilterRule,
  type IdMatch,
  type InterfaceSpec,
  type MatchOperator,
  type ParsedRule,
  type PortMatch,
  type RedirectTarget,
  type RuleMatch,
  type TranslationRule,
} from './rule.js';
import { servicePort } from './service-ports.js';

export { printRule, printRuleLines, type PrintOptions };

export interface PfctlDiagnostic {
  /** 1-based line of the input where the rule starts. */
  line: number;
  message: string;
  /** Set when a reader limit refused the whole text; such messages never quote the input. */
  limit?: true;
}

export interface PfctlParseResult {
  rules: ParsedRule[];
  diagnostics: PfctlDiagnostic[];
}

/** How much a text may hold before the reader refuses it. */
export interface PfctlLimits {
  /** Inline anchors nested deeper than this are refused (pf itself evaluates at most 32 levels). */
  anchorDepth: number;
  /** One statement's `{ }` lists expand to at most this many rules (pfctl prints no lists). */
  rulesPerStatement: number;
  /** A text holds at most this many rules once its lists are expanded. */
  rules: number;
}

export const PFCTL_LIMITS: Readonly<PfctlLimits> = { anchorDepth: 64, rulesPerStatement: 4096, rules: 1_000_000 };

/**
 * Parses pfctl's printed form. Comments, blank lines, `@N` rule numbers and the `[ ... ]` counter
 * lines of -v/-vv are skipped; `{ }` lists are expanded into one rule per combination, as pfctl
 * does when it loads them; inline anchors keep their body. A text past the reader's limits
 * (PFCTL_LIMITS: inline anchors nested too deep, lists expanding to too many rules) is refused
 * whole: its only rule is the unparsed line where the limit was passed, with a diagnostic saying
 * which limit, so that no caller ever works on a part of it. The cost is linear in the text, and
 * nothing here recurses on the input's nesting.
 */
export function parsePfctlOutput(text: string, limits: Readonly<PfctlLimits> = PFCTL_LIMITS): PfctlParseResult {
  const diagnostics: PfctlDiagnostic[] = [];
  const top: ParsedRule[] = [];
  const open: { rules: ParsedRule[]; line: number }[] = [];
  const current = (): ParsedRule[] => open.at(-1)?.rules ?? top;
  let total = 0;

  for (const { line, text: raw } of logicalLines(text)) {
    if (isCounterLine(raw)) continue;
    const unnumbered = raw.trim().replace(/^(@\d+\s+)+(?=\S)/, '');
    const body = stripComment(unnumbered).trim();
    if (body === '') continue;
    // Unparsed lines keep their comment too: verbatim, and still one line when printed again
    // (a final backslash keeps the blank after it, or it would continue the line when re-read).
    // Numbering stays where dropping it would turn the line into a counter line when re-read.
    const verbatim = (isCounterLine(unnumbered) ? raw.trim() : unnumbered).replace(/\\$/, '\\ ');
    if (body === '}') {
      if (open.pop() === undefined) {
        diagnostics.push({ line, message: 'syntax error: "}" closes no inline anchor' });
        current().push({ kind: 'unparsed', text: verbatim, reason: 'unbalanced }', line });
      }
      continue;
    }
    const result = parseStatement(body, line, limits.rulesPerStatement);
    if (!result.ok) {
      if (result.limit) return refused(line, verbatim, result.message);
      diagnostics.push({ line, message: result.message });
      current().push({ kind: 'unparsed', text: verbatim, reason: result.message, line });
      continue;
    }
    total += result.rules.length;
    if (total > limits.rules) {
      return refused(
        line,
        verbatim,
        `the ruleset holds more than ${limits.rules} rules once its { } lists are expanded: pfexpose reads no ruleset that large`,
      );
    }
    if (result.opensBody !== null && open.length >= limits.anchorDepth) {
      return refused(
        line,
        verbatim,
        `inline anchors nested deeper than ${limits.anchorDepth} levels: pfexpose reads no deeper nesting (pf evaluates at most 32)`,
      );
    }
    const rules = current();
    for (const rule of result.rules) rules.push(rule);
    if (result.opensBody !== null) open.push({ rules: result.opensBody, line });
  }
  for (const block of open.reverse()) {
    diagnostics.push({ line: block.line, message: 'syntax error: inline anchor is missing its closing "}"' });
  }
  return { rules: top, diagnostics };
}

/** A text past a limit: one unparsed rule, the line where the limit was passed, and why. */
function refused(line: number, text: string, message: string): PfctlParseResult {
  return { rules: [{ kind: 'unparsed', text, reason: message, line }], diagnostics: [{ line, message, limit: true }] };
}

/** The `[ Evaluations: ... ]` lines -v and -vv print under each rule (anchored: linear). */
function isCounterLine(line: string): boolean {
  return /^\s*\[.*\]\s*$/.test(line);
}

/** The rule lines of a ruleset in canonical printed form: comments, counters and numbering dropped. */
export function rulesetLines(text: string, options: PrintOptions = {}): string[] {
  return parsePfctlOutput(text).rules.flatMap((rule) => printRuleLines(rule, options));
}

/**
 * What pfctl does to a rule file when it loads it, before printing it back: pass rules get
 * `keep state` and, for tcp (or no protocol), `flags S/SA`; `block` gets the `drop` policy; and
 * translation rules are grouped nat, rdr, binat ahead of the filter rules (FreeBSD's pfctl).
 */
export function normalizeAsLoaded(rules: readonly ParsedRule[]): ParsedRule[] {
  const rank = (rule: ParsedRule): number => {
    if (rule.kind === 'translation') return { nat: 0, rdr: 1, binat: 2 }[rule.type];
    if (rule.kind === 'anchor') return { 'nat-anchor': 0, 'rdr-anchor': 1, 'binat-anchor': 2, anchor: 3 }[rule.type];
    return 3;
  };
  const normalized = rules.map((rule): ParsedRule => {
    if (rule.kind === 'anchor' && rule.body !== null) return { ...rule, body: normalizeAsLoaded(rule.body) };
    if (rule.kind !== 'filter') return rule;
    if (rule.action === 'block' && rule.blockPolicy === null) return { ...rule, blockPolicy: 'drop' };
    if (rule.action !== 'pass') return rule;
    const state = rule.state ?? 'keep';
    const stateful = state !== 'no';
    const flags =
      rule.flags === null && stateful && (rule.protocol === null || rule.protocol === 'tcp')
        ? { check: 'S', mask: 'SA', any: false }
        : rule.flags;
    return { ...rule, state, flags };
  });
  return normalized
    .map((rule, index) => ({ rule, index }))
    .sort((a, b) => rank(a.rule) - rank(b.rule) || a.index - b.index)
    .map(({ rule }) => rule);
}

// ---------------------------------------------------------------------------------------------
// Lines and tokens

function* logicalLines(text: string): Generator<{ line: number; text: string }> {
  const physical = text.split('\n');
  let pending = '';
  let start = 0;
  for (let i = 0; i < physical.length; i += 1) {
    const piece = (physical[i] ?? '').replace(/\r$/, '');
    if (pending === '') start = i + 1;
    if (piece.endsWith('\\') && !piece.trimStart().startsWith('#')) {
      pending += `${piece.slice(0, -1)} `;
      continue;
    }
    yield { line: start, text: pending + piece };
    pending = '';
  }
  if (pending !== '') yield { line: start, text: pending };
}

function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    else if (c === '#' && !quoted) return line.slice(0, i);
  }
  return line;
}

interface Token {
  text: string;
  quoted: boolean;
}

const singleCharTokens = new Set(['{', '}', '(', ')', ',', '=']);
/** Characters that end a word besides white space. */
const wordBreakCharacters = new Set(['{', '}', '(', ')', ',', '"', '=', '!', '<', '>']);
const tablePattern = /<([A-Za-z0-9_.-]+(?::(?:\d+|\*))?)>/y;

/** The characters of `\s` in a regular expression, without a regular expression per character. */
function isSpace(code: number): boolean {
  if (code <= 32) return code === 32 || (code >= 9 && code <= 13);
  if (code < 160) return false;
  return (
    code === 160 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

function tokenize(text: string): Token[] | string {
  const tokens: Token[] = [];
  let i = 0;
  const push = (t: string, quoted = false): void => {
    tokens.push({ text: t, quoted });
  };
  while (i < text.length) {
    const c = text[i] ?? '';
    const next = text[i + 1] ?? '';
    if (isSpace(text.charCodeAt(i))) {
      i += 1;
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) return 'syntax error: unterminated quoted string';
      push(text.slice(i + 1, end), true);
      i = end + 1;
    } else if (singleCharTokens.has(c)) {
      push(c);
      i += 1;
    } else if (c === '!') {
      push(next === '=' ? '!=' : '!');
      i += next === '=' ? 2 : 1;
    } else if (c === '<') {
      tablePattern.lastIndex = i;
      const table = tablePattern.exec(text);
      if (table !== null) {
        push(table[0]);
        i += table[0].length;
      } else if (next === '=' || next === '>') {
        push(c + next);
        i += 2;
      } else {
        push(c);
        i += 1;
      }
    } else if (c === '>') {
      if (next === '=' || next === '<') {
        push(c + next);
        i += 2;
      } else {
        push(c);
        i += 1;
      }
    } else if (c === '-' && next === '>') {
      push('->');
      i += 2;
    } else {
      let end = i;
      while (end < text.length && !isSpace(text.charCodeAt(end)) && !wordBreakCharacters.has(text[end] ?? '')) {
        if (text[end] === '-' && text[end + 1] === '>') break;
        end += 1;
      }
      push(text.slice(i, end));
      i = end;
    }
  }
  return tokens;
}

class ParseError extends Error {}

class Cursor {
  private index = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  peek(offset = 0): string | undefined {
    return this.tokens[this.index + offset]?.text;
  }

  isQuoted(): boolean {
    return this.tokens[this.index]?.quoted ?? false;
  }

  atEnd(): boolean {
    return this.index >= this.tokens.length;
  }

  /** True when only an inline anchor's opening brace is left. */
  atBodyOpen(): boolean {
    return this.index === this.tokens.length - 1 && this.peek() === '{' && !this.isQuoted();
  }

  next(what: string): string {
    const token = this.tokens[this.index];
    if (token === undefined) throw new ParseError(`syntax error: ${what} expected at end of line`);
    this.index += 1;
    return token.text;
  }

  accept(word: string): boolean {
    const token = this.tokens[this.index];
    if (token !== undefined && !token.quoted && token.text === word) {
      this.index += 1;
      return true;
    }
    return false;
  }

  expect(word: string): void {
    if (!this.accept(word)) this.fail(`"${word}" expected`);
  }

  fail(message: string): never {
    const token = this.peek();
    throw new ParseError(
      token === undefined ? `syntax error: ${message} at end of line` : `syntax error: ${message}, found "${token}"`,
    );
  }

  /** Tokens up to the matching ")" rendered as text (`all, to pflog1`); the "(" is already taken. */
  parenthesised(): string {
    const words: string[] = [];
    let depth = 1;
    for (;;) {
      const token = this.next('")"');
      if (token === '(') depth += 1;
      if (token === ')') {
        depth -= 1;
        if (depth === 0) break;
      }
      if (token === ',' && words.length > 0) words[words.length - 1] += ',';
      else words.push(token);
    }
    return words.join(' ').replace(/\( /g, '(').replace(/ \)/g, ')');
  }
}

// ---------------------------------------------------------------------------------------------
// Statements

type StatementResult =
  | { ok: true; rules: ParsedRule[]; opensBody: ParsedRule[] | null }
  /** limit: the statement passes one of the reader's limits, and the whole text is refused. */
  | { ok: false; message: string; limit: boolean };

interface HostItem {
  negated: boolean;
  address: Address;
}

/** The `{ }` lists of a statement as written, before they are expanded into single rules. */
interface RuleLists {
  interfaces: (InterfaceSpec | null)[];
  protocols: (string | null)[];
  fromHosts: HostItem[];
  fromPorts: (PortMatch | null)[];
  toHosts: HostItem[];
  toPorts: (PortMatch | null)[];
  /** `-> ip port N:*`: the target range follows the length of the destination port range. */
  targetPortStar: boolean;
}

interface RuleTemplate extends RuleLists {
  rule: Exclude<ParsedRule, { kind: 'unparsed' }>;
}

const translationTypes = new Set(['nat', 'rdr', 'binat']);
const anchorTypes = new Set(['anchor', 'nat-anchor', 'rdr-anchor', 'binat-anchor']);
const anchorNameStop = new Set(['in', 'out', 'on', 'inet', 'inet6', 'proto', 'from', 'to', 'all', 'log', 'quick', '{']);

function parseStatement(text: string, line: number, maxRules: number): StatementResult {
  const tokens = tokenize(text);
  if (typeof tokens === 'string') return { ok: false, message: tokens, limit: false };
  try {
    const cursor = new Cursor(tokens);
    const template = parseTemplate(cursor, line);
    let opensBody: ParsedRule[] | null = null;
    if (cursor.atBodyOpen() && template.rule.kind === 'anchor') {
      cursor.next('"{"');
      opensBody = [];
    }
    if (!cursor.atEnd()) cursor.fail('end of rule expected');
    const combinations =
      template.interfaces.length *
      template.protocols.length *
      template.fromHosts.length *
      template.fromPorts.length *
      template.toHosts.length *
      template.toPorts.length;
    if (combinations > maxRules) {
      return {
        ok: false,
        message: `the { } lists of this rule expand to ${combinations} rules, more than the ${maxRules} pfexpose reads from one rule`,
        limit: true,
      };
    }
    const rules = expand(template, opensBody);
    if (rules.length === 0) {
      return { ok: false, message: 'rule expands to no rule: its addresses mix inet and inet6', limit: false };
    }
    return { ok: true, rules, opensBody };
  } catch (error) {
    if (error instanceof ParseError) return { ok: false, message: error.message, limit: false };
    throw error;
  }
}

function parseTemplate(cursor: Cursor, line: number): RuleTemplate {
  const first = cursor.next('a rule');
  const lists: RuleLists = {
    interfaces: [null],
    protocols: [null],
    fromHosts: [{ negated: false, address: { kind: 'any' } }],
    fromPorts: [null],
    toHosts: [{ negated: false, address: { kind: 'any' } }],
    toPorts: [null],
    targetPortStar: false,
  };
  if (first === 'pass' || first === 'block' || first === 'match') {
    const rule: FilterRule = {
      kind: 'filter',
      action: first,
      blockPolicy: null,
      ...emptyMatch(),
      state: null,
      stateOptions: null,
      extraOptions: [],
      labels: [],
      rdrTo: null,
      line,
    };
    if (first === 'block') {
      for (const policy of ['drop', 'return-rst', 'return']) {
        if (cursor.accept(policy)) rule.blockPolicy = policy;
      }
    }
    parseMatchPrefix(cursor, lists, rule);
    parseHosts(cursor, lists);
    parseFilterOptions(cursor, lists, rule);
    return Object.assign(lists, { rule });
  }
  if (translationTypes.has(first) || (first === 'no' && translationTypes.has(cursor.peek() ?? ''))) {
    const negated = first === 'no';
    const type = (negated ? cursor.next('nat, rdr or binat') : first) as TranslationRule['type'];
    const rule: TranslationRule = {
      kind: 'translation',
      type,
      negated,
      pass: false,
      ...emptyMatch(),
      target: null,
      line,
    };
    if (!negated && cursor.accept('pass')) rule.pass = true;
    parseMatchPrefix(cursor, lists, rule);
    parseHosts(cursor, lists);
    parseTranslationOptions(cursor, lists, rule);
    return Object.assign(lists, { rule });
  }
  if (anchorTypes.has(first)) {
    let name: string | null = null;
    const candidate = cursor.peek();
    if (candidate !== undefined && (cursor.isQuoted() || !anchorNameStop.has(candidate))) {
      name = cursor.next('an anchor name');
    }
    const rule: AnchorRule = {
      kind: 'anchor',
      type: first as AnchorRule['type'],
      name,
      ...emptyMatch(),
      body: null,
      line,
    };
    parseMatchPrefix(cursor, lists, rule);
    parseHosts(cursor, lists);
    parseAnchorOptions(cursor, rule);
    return Object.assign(lists, { rule });
  }
  if (first === 'include') {
    throw new ParseError('include is not supported: pfexpose reads a single ruleset text');
  }
  throw new ParseError(`syntax error: unknown rule "${first}"`);
}

function parseMatchPrefix(cursor: Cursor, lists: RuleLists, rule: RuleMatch): void {
  for (;;) {
    if (cursor.accept('in')) rule.direction = 'in';
    else if (cursor.accept('out')) rule.direction = 'out';
    else if (cursor.accept('log')) {
      rule.log = { options: null };
      if (cursor.accept('(')) rule.log.options = cursor.parenthesised();
    } else if (cursor.accept('quick')) rule.quick = true;
    else if (cursor.accept('on')) lists.interfaces = parseInterfaces(cursor);
    else if (cursor.accept('inet')) rule.family = 'inet';
    else if (cursor.accept('inet6')) rule.family = 'inet6';
    else if (cursor.accept('proto')) lists.protocols = parseList(cursor, () => parseProtocol(cursor));
    else return;
  }
}

function parseInterfaces(cursor: Cursor): InterfaceSpec[] {
  const negated = cursor.accept('!');
  return parseList(cursor, () => {
    const itemNegated = cursor.accept('!');
    const name = cursor.next('an interface name');
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) cursor.fail('an interface name expected');
    return { name, negated: negated || itemNegated };
  });
}

function parseProtocol(cursor: Cursor): string {
  const name = cursor.next('a protocol');
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new ParseError(`syntax error: "${name}" is not a protocol`);
  return name;
}

/** `item` or `{ item [,] item ... }`. */
function parseList<T>(cursor: Cursor, item: () => T): T[] {
  if (!cursor.accept('{')) return [item()];
  const items: T[] = [];
  while (!cursor.accept('}')) {
    if (cursor.accept(',')) continue;
    if (cursor.atEnd()) cursor.fail('"}" expected');
    items.push(item());
  }
  if (items.length === 0) throw new ParseError('syntax error: empty list');
  return items;
}

function parseHosts(cursor: Cursor, lists: RuleLists): void {
  if (cursor.accept('all')) return;
  if (cursor.accept('from')) {
    if (cursor.peek() !== 'port') lists.fromHosts = parseHostList(cursor);
    if (cursor.accept('port')) lists.fromPorts = parsePortList(cursor);
    if (cursor.peek() === 'os') cursor.fail('os fingerprints are not supported');
  }
  if (cursor.accept('to')) {
    if (cursor.peek() !== 'port') lists.toHosts = parseHostList(cursor);
    if (cursor.accept('port')) lists.toPorts = parsePortList(cursor);
  }
}

function parseHostList(cursor: Cursor): HostItem[] {
  const negated = cursor.accept('!');
  return parseList(cursor, () => {
    const itemNegated = cursor.accept('!');
    return { negated: negated !== itemNegated, address: parseAddress(cursor) };
  });
}

function parseAddress(cursor: Cursor): Address {
  if (cursor.accept('(')) {
    const inner = cursor.next('an interface name');
    cursor.expect(')');
    const parts = inner.split(':');
    // -v appends the number of addresses (`:2`, or `:*` when there are none); it is not a modifier.
    const last = parts.at(-1);
    if (parts.length > 1 && last !== undefined && /^(\*|[1-9][0-9]*)$/.test(last)) parts.pop();
    const [name, ...modifiers] = parts;
    if (name === undefined || !/^[A-Za-z0-9_.-]+$/.test(name)) {
      throw new ParseError(`syntax error: "(${inner})" is not an interface address`);
    }
    return { kind: 'dynamic', name, modifiers };
  }
  const quoted = cursor.isQuoted();
  const word = cursor.next('an address');
  if (quoted) throw new ParseError(`syntax error: "${word}" is not an address`);
  if (word === 'any') return { kind: 'any' };
  const table = /^<([^:>]+)(?::(?:\d+|\*))?>$/.exec(word);
  if (table !== null) return { kind: 'table', name: table[1] ?? '' };
  const network = parseNetwork(word);
  if (network !== null) {
    if (cursor.peek() === '-' && network.prefix === (network.family === 'inet' ? 32 : 128)) {
      cursor.next('-');
      const to = parseNetwork(cursor.next('the end of an address range'));
      if (to === null || to.family !== network.family) cursor.fail('an address range end expected');
      return { kind: 'range', family: network.family, from: network.text, to: to.text };
    }
    return { kind: 'network', family: network.family, text: network.text };
  }
  if (word.startsWith('$')) throw new ParseError(`macro ${word} is not defined: macros are not supported`);
  if (!/^[A-Za-z0-9_.:/-]+$/.test(word) || /^[0-9.:/]+$/.test(word)) {
    throw new ParseError(`syntax error: "${word}" is not an address`);
  }
  return { kind: 'word', text: word };
}

const unaryOperators = new Set(['=', '!=', '<', '<=', '>', '>=']);

function parsePortList(cursor: Cursor): PortMatch[] {
  return parseList(cursor, () => parsePortMatch(cursor));
}

function parsePortMatch(cursor: Cursor): PortMatch {
  const op = cursor.peek();
  if (op !== undefined && unaryOperators.has(op)) {
    cursor.next('an operator');
    const value = parsePortValue(cursor.next('a port'));
    return { op: op as MatchOperator, start: value.port, end: value.port, name: value.name };
  }
  const word = cursor.next('a port');
  const range = /^([^:]+):([^:]+)$/.exec(word);
  if (range !== null) {
    const start = parsePortValue(range[1] ?? '').port;
    const end = parsePortValue(range[2] ?? '').port;
    if (start > end)
      throw new ParseError(`invalid port range ${start}:${end}: the first port must not exceed the second`);
    return { op: ':', start, end, name: null };
  }
  const first = parsePortValue(word);
  const binary = cursor.peek();
  if (binary === '><' || binary === '<>') {
    cursor.next('an operator');
    const second = parsePortValue(cursor.next('a port'));
    return { op: binary, start: first.port, end: second.port, name: null };
  }
  return { op: '=', start: first.port, end: first.port, name: first.name };
}

function parsePortValue(word: string): { port: number; name: string | null } {
  if (/^[0-9]+$/.test(word)) {
    const port = Number(word);
    if (port > 65535) throw new ParseError(`illegal port value ${word}: ports are 0 to 65535`);
    return { port, name: null };
  }
  if (/^[A-Za-z][A-Za-z0-9_-]*$/.test(word)) {
    const port = servicePort(word);
    if (port === null) {
      throw new ParseError(
        `unknown service name "${word}": only a partial table of names is built in; read rules back with pfctl -P`,
      );
    }
    return { port, name: word };
  }
  throw new ParseError(`syntax error: "${word}" is not a port`);
}

function parseIdMatch(cursor: Cursor): IdMatch {
  const op = cursor.peek();
  const value = (word: string): { id: number | null; name: string | null } =>
    /^[0-9]+$/.test(word) ? { id: Number(word), name: null } : { id: null, name: word };
  if (op !== undefined && unaryOperators.has(op)) {
    cursor.next('an operator');
    const v = value(cursor.next('a user or group'));
    return { op: op as MatchOperator, start: v.id, end: v.id, name: v.name };
  }
  const word = cursor.next('a user or group');
  if (word === '{') cursor.fail('lists of users or groups are not supported');
  const range = /^([0-9]+):([0-9]+)$/.exec(word);
  if (range !== null) return { op: ':', start: Number(range[1]), end: Number(range[2]), name: null };
  const v = value(word);
  return { op: '=', start: v.id, end: v.id, name: v.name };
}

function parseCommonOption(cursor: Cursor, rule: RuleMatch): boolean {
  if (cursor.accept('flags')) {
    const word = cursor.next('flags');
    if (word === 'any') rule.flags = { check: '', mask: '', any: true };
    else {
      const flags = /^([FSRPAUEW]*)\/([FSRPAUEW]*)$/.exec(word);
      if (flags === null) throw new ParseError(`syntax error: "${word}" is not a set of tcp flags`);
      rule.flags = { check: flags[1] ?? '', mask: flags[2] ?? '', any: false };
    }
    return true;
  }
  if (cursor.accept('user')) {
    rule.user = parseIdMatch(cursor);
    return true;
  }
  if (cursor.accept('group')) {
    rule.group = parseIdMatch(cursor);
    return true;
  }
  for (const keyword of ['icmp-type', 'icmp6-type'] as const) {
    if (cursor.accept(keyword)) {
      const type = cursor.next('an icmp type');
      if (type === '{') cursor.fail('lists of icmp types are not supported');
      let text = type;
      if (cursor.accept('code')) text += ` code ${cursor.next('an icmp code')}`;
      rule.icmpType = { keyword, text };
      return true;
    }
  }
  if (cursor.accept('tag')) {
    rule.tag = cursor.next('a tag name');
    return true;
  }
  if (cursor.peek() === 'tagged' || (cursor.peek() === '!' && cursor.peek(1) === 'tagged')) {
    const negated = cursor.accept('!');
    cursor.expect('tagged');
    rule.tagged = { name: cursor.next('a tag name'), negated };
    return true;
  }
  return false;
}

const extraOptionOrder = ['fragment', 'no-df', 'random-id', 'allow-opts'];

function parseFilterOptions(cursor: Cursor, lists: RuleLists, rule: FilterRule): void {
  while (!cursor.atEnd()) {
    if (parseCommonOption(cursor, rule)) continue;
    const word = cursor.peek() ?? '';
    if (word === 'keep' || word === 'modulate' || word === 'synproxy') {
      cursor.next('state');
      cursor.expect('state');
      rule.state = word === 'keep' ? 'keep' : word;
      if (cursor.accept('(')) rule.stateOptions = cursor.parenthesised();
    } else if (word === 'no' && cursor.peek(1) === 'state') {
      cursor.next('no');
      cursor.next('state');
      rule.state = 'no';
    } else if (cursor.accept('label')) {
      rule.labels.push(cursor.next('a label'));
    } else if (extraOptionOrder.includes(word)) {
      cursor.next(word);
      rule.extraOptions = [...rule.extraOptions, word].sort(
        (a, b) => extraOptionOrder.indexOf(a) - extraOptionOrder.indexOf(b),
      );
    } else if (cursor.accept('rdr-to')) {
      rule.rdrTo = parseTarget(cursor, lists, 'rdr');
    } else {
      cursor.fail('a filter option expected');
    }
  }
}

function parseTranslationOptions(cursor: Cursor, lists: RuleLists, rule: TranslationRule): void {
  while (!cursor.atEnd()) {
    if (cursor.peek() === 'tag' || cursor.peek() === 'tagged' || cursor.peek() === '!') {
      if (parseCommonOption(cursor, rule)) continue;
    }
    if (!rule.negated && cursor.accept('->')) {
      rule.target = parseTarget(cursor, lists, rule.type);
      continue;
    }
    cursor.fail(rule.negated ? 'end of rule expected' : '"->" and a translation address expected');
  }
  if (!rule.negated && rule.target === null) {
    throw new ParseError(`syntax error: ${rule.type} rule without "->" target`);
  }
}

function parseAnchorOptions(cursor: Cursor, rule: AnchorRule): void {
  while (!cursor.atEnd() && !cursor.atBodyOpen()) {
    if (!parseCommonOption(cursor, rule)) cursor.fail('an anchor option expected');
  }
}

const poolOptions = new Set(['bitmask', 'random', 'round-robin', 'sticky-address', 'least-states']);

function parseTarget(cursor: Cursor, lists: RuleLists, type: TranslationRule['type']): RedirectTarget {
  const addresses = parseList(cursor, () => parseAddress(cursor));
  const target: RedirectTarget = { addresses, port: null, options: [] };
  if (cursor.accept('port')) {
    const word = cursor.next('a port');
    const match = /^([0-9]+)(?::([0-9]+|\*))?$/.exec(word);
    if (match === null) throw new ParseError(`syntax error: "${word}" is not a redirect port`);
    const start = parsePortValue(match[1] ?? '').port;
    const endText = match[2];
    if (endText === '*') lists.targetPortStar = true;
    const end = endText === undefined || endText === '*' ? start : parsePortValue(endText).port;
    if (start > end)
      throw new ParseError(`invalid port range ${start}:${end}: the first port must not exceed the second`);
    target.port = { start, end };
  }
  while (!cursor.atEnd()) {
    const word = cursor.peek() ?? '';
    if (word === 'static-port') {
      if (type !== 'nat') throw new ParseError("the 'static-port' option is only valid with nat rules");
      cursor.next(word);
      target.options.push(word);
    } else if (poolOptions.has(word)) {
      cursor.next(word);
      target.options.push(word);
    } else if (word === 'source-hash') {
      cursor.next(word);
      const key = cursor.peek();
      target.options.push(
        key !== undefined && /^0x[0-9a-fA-F]+$/.test(key) ? `source-hash ${cursor.next('key')}` : word,
      );
    } else {
      break;
    }
  }
  return target;
}

// ---------------------------------------------------------------------------------------------
// Expansion of lists, as pfctl's expand_rule does: interface outermost, then protocol, source
// address, source port, destination address, destination port. Combinations whose addresses
// name different families are skipped, and the family an address implies is written out.

function expand(template: RuleTemplate, body: ParsedRule[] | null): ParsedRule[] {
  const rules: ParsedRule[] = [];
  const single =
    template.interfaces.length === 1 &&
    template.protocols.length === 1 &&
    template.fromHosts.length === 1 &&
    template.fromPorts.length === 1 &&
    template.toHosts.length === 1 &&
    template.toPorts.length === 1;
  for (const iface of template.interfaces) {
    for (const protocol of template.protocols) {
      for (const fromHost of template.fromHosts) {
        for (const fromPort of template.fromPorts) {
          for (const toHost of template.toHosts) {
            for (const toPort of template.toPorts) {
              const family = combinedFamily(template, fromHost.address, toHost.address);
              if (family === false) continue;
              const base = {
                interface: iface,
                protocol,
                family,
                from: { negated: fromHost.negated, address: fromHost.address, port: fromPort },
                to: { negated: toHost.negated, address: toHost.address, port: toPort },
              };
              rules.push(instantiate(template, base, body, single));
            }
          }
        }
      }
    }
  }
  return rules;
}

function combinedFamily(template: RuleTemplate, from: Address, to: Address): Family | null | false {
  let family = template.rule.family;
  for (const address of [from, to]) {
    const implied = addressFamily(address);
    if (implied === null) continue;
    if (family === null) family = implied;
    else if (family !== implied) return false;
  }
  if (family === null) {
    const target =
      template.rule.kind === 'translation'
        ? template.rule.target
        : template.rule.kind === 'filter'
          ? template.rule.rdrTo
          : null;
    const implied = target?.addresses.map(addressFamily).find((f) => f !== null);
    if (implied !== undefined) family = implied;
  }
  return family;
}

/**
 * One rule of the expansion. The template's rule was made for this statement alone: when the
 * statement has no lists it becomes the rule itself, rather than a copy (most lines, and all of
 * pfctl's printed output, are such statements).
 */
function instantiate(
  template: RuleTemplate,
  base: Pick<RuleMatch, 'interface' | 'protocol' | 'family' | 'from' | 'to'>,
  body: ParsedRule[] | null,
  only: boolean,
): ParsedRule {
  const rule = template.rule;
  const withTarget = (target: RedirectTarget | null): RedirectTarget | null => {
    if (target === null || !template.targetPortStar || target.port === null) return target;
    const to = base.to.port;
    const span = to !== null && to.op === ':' ? to.end - to.start : 0;
    return { ...target, port: { start: target.port.start, end: Math.min(65535, target.port.start + span) } };
  };
  if (only) {
    Object.assign(rule, base);
    if (rule.kind === 'filter') rule.rdrTo = withTarget(rule.rdrTo);
    else if (rule.kind === 'translation') rule.target = withTarget(rule.target);
    else rule.body = body;
    return rule;
  }
  switch (rule.kind) {
    case 'filter':
      return { ...rule, ...base, labels: [...rule.labels], rdrTo: withTarget(rule.rdrTo) };
    case 'translation':
      return { ...rule, ...base, target: withTarget(rule.target) };
    case 'anchor':
      return { ...rule, ...base, body };
  }
}
