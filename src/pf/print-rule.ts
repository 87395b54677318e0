// Prints a rule the way pfctl prints it back (`pfctl -sn` / `-sr`): the same words in the same
// order, so that rules we render and rules we read back compare as plain text lines.
import type { Address, Endpoint, IdMatch, ParsedRule, PortMatch, RedirectTarget, RuleMatch } from './rule.js';
import { serviceName } from './service-ports.js';

export interface PrintOptions {
  /**
   * How `port = N` / `port != N` matches are spelled. `as-parsed` (default): the service name when
   * the text used one, else the number; `numeric`: always the number (what `pfctl -P` prints);
   * `names`: the service name whenever the partial table knows it (what pfctl prints without -P).
   */
  ports?: 'as-parsed' | 'numeric' | 'names';
}

const indentUnit = '  ';

/** The canonical printed text of one rule; an inline anchor spans several lines. */
export function printRule(rule: ParsedRule, options: PrintOptions = {}): string {
  return printRuleLines(rule, options).join('\n');
}

/**
 * The printed lines of one rule; inline anchor bodies are indented by two spaces per level. The
 * bodies are walked with a stack of its own, not by recursion: nesting never overflows the call
 * stack (the reader refuses deep nesting too, see parsePfctlOutput).
 */
export function printRuleLines(rule: ParsedRule, options: PrintOptions = {}, depth = 0): string[] {
  const lines: string[] = [];
  // A body's rules, the next one to print, and the indent of the anchor that holds it.
  const stack: { rules: readonly ParsedRule[]; next: number; indent: string }[] = [
    { rules: [rule], next: 0, indent: indentUnit.repeat(depth) },
  ];
  for (let top = stack.at(-1); top !== undefined; top = stack.at(-1)) {
    const current = top.rules[top.next];
    if (current === undefined) {
      stack.pop();
      // The body of an anchor is done: its closing brace, at the anchor's indent.
      if (stack.length > 0) lines.push(`${top.indent.slice(indentUnit.length)}}`);
      continue;
    }
    top.next += 1;
    if (current.kind === 'unparsed') {
      lines.push(top.indent + current.text);
      continue;
    }
    const head = top.indent + printSingleLine(current, options);
    if (current.kind !== 'anchor' || current.body === null) {
      lines.push(head);
      continue;
    }
    lines.push(`${head} {`);
    stack.push({ rules: current.body, next: 0, indent: top.indent + indentUnit });
  }
  return lines;
}

function printSingleLine(rule: Exclude<ParsedRule, { kind: 'unparsed' }>, options: PrintOptions): string {
  const words: string[] = [];
  switch (rule.kind) {
    case 'filter':
      words.push(rule.action);
      if (rule.action === 'block' && rule.blockPolicy !== null) words.push(rule.blockPolicy);
      break;
    case 'translation':
      words.push(rule.negated ? `no ${rule.type}` : rule.type);
      if (rule.pass) words.push('pass');
      break;
    case 'anchor':
      words.push(rule.name === null ? rule.type : `${rule.type} "${rule.name}"`);
      break;
  }
  pushMatch(words, rule, options);
  if (rule.kind === 'filter') {
    if (rule.state !== null) words.push(rule.state === 'no' ? 'no state' : `${rule.state} state`);
    if (rule.stateOptions !== null) words.push(`(${rule.stateOptions})`);
    words.push(...rule.extraOptions);
    for (const label of rule.labels) words.push(`label "${label}"`);
  }
  pushTags(words, rule);
  if (rule.kind === 'filter' && rule.rdrTo !== null) words.push('rdr-to', printTarget(rule.rdrTo));
  if (rule.kind === 'translation' && rule.target !== null) words.push('->', printTarget(rule.target));
  return words.join(' ');
}

function pushMatch(words: string[], rule: RuleMatch, options: PrintOptions): void {
  if (rule.direction !== null) words.push(rule.direction);
  if (rule.log !== null) words.push(rule.log.options === null ? 'log' : `log (${rule.log.options})`);
  if (rule.quick) words.push('quick');
  if (rule.interface !== null) {
    words.push(rule.interface.negated ? `on ! ${rule.interface.name}` : `on ${rule.interface.name}`);
  }
  if (rule.family !== null) words.push(rule.family);
  if (rule.protocol !== null) words.push(`proto ${rule.protocol}`);
  if (isAll(rule.from) && isAll(rule.to)) {
    words.push('all');
  } else {
    words.push('from', printEndpoint(rule.from, options), 'to', printEndpoint(rule.to, options));
  }
  if (rule.user !== null) words.push(`user${printId(rule.user)}`);
  if (rule.group !== null) words.push(`group${printId(rule.group)}`);
  if (rule.flags !== null) {
    words.push(rule.flags.any ? 'flags any' : `flags ${rule.flags.check}/${rule.flags.mask}`);
  }
  if (rule.icmpType !== null) words.push(`${rule.icmpType.keyword} ${rule.icmpType.text}`);
}

function pushTags(words: string[], rule: RuleMatch): void {
  if (rule.tag !== null) words.push(`tag ${rule.tag}`);
  if (rule.tagged !== null) {
    words.push(rule.tagged.negated ? `! tagged ${rule.tagged.name}` : `tagged ${rule.tagged.name}`);
  }
}

function isAll(endpoint: Endpoint): boolean {
  return !endpoint.negated && endpoint.address.kind === 'any' && endpoint.port === null;
}

function printEndpoint(endpoint: Endpoint, options: PrintOptions): string {
  const address = printAddress(endpoint.address);
  const text = endpoint.negated ? `! ${address}` : address;
  return endpoint.port === null ? text : `${text} ${printPort(endpoint.port, options)}`;
}

export function printAddress(address: Address): string {
  switch (address.kind) {
    case 'any':
      return 'any';
    case 'network':
      return address.text;
    case 'dynamic':
      return `(${[address.name, ...address.modifiers].join(':')})`;
    case 'table':
      return `<${address.name}>`;
    case 'range':
      return `${address.from} - ${address.to}`;
    case 'word':
      return address.text;
  }
}

function printPort(port: PortMatch, options: PrintOptions): string {
  const mode = options.ports ?? 'as-parsed';
  const first = (): string => {
    if (port.op !== '=' && port.op !== '!=') return String(port.start);
    if (mode === 'numeric') return String(port.start);
    if (mode === 'names') return serviceName(port.start) ?? port.name ?? String(port.start);
    return port.name ?? String(port.start);
  };
  return `port${printOperator(port.op, first(), String(port.end))}`;
}

function printId(id: IdMatch): string {
  const first = id.name ?? String(id.start);
  return printOperator(id.op, first, String(id.end));
}

function printOperator(op: PortMatch['op'], first: string, second: string): string {
  switch (op) {
    case ':':
      return ` ${first}:${second}`;
    case '><':
    case '<>':
      return ` ${first} ${op} ${second}`;
    default:
      return ` ${op} ${first}`;
  }
}

function printTarget(target: RedirectTarget): string {
  const addresses = target.addresses.map(printAddress);
  let text = addresses.length === 1 ? (addresses[0] ?? '') : `{ ${addresses.join(', ')} }`;
  if (target.port !== null) {
    text += ` port ${target.port.start}`;
    if (target.port.end !== target.port.start) text += `:${target.port.end}`;
  }
  for (const option of target.options) text += ` ${option}`;
  return text;
}
