// The simulator's view of a ruleset: which lines pfctl would reject, and how it prints the rules
// back (-sn translation rules, -sr filter rules). Rules are read and printed by the project's own
// parser of pfctl's printed form, built into dist/pf/ (`npm run build`): the simulator runs as a
// plain node program and cannot load TypeScript.
import { existsSync } from 'node:fs';

const PARSER_URL = new URL('../../dist/pf/parse-pfctl.js', import.meta.url);
if (!existsSync(PARSER_URL)) {
  throw new Error(`the project's pf parser is not built (${PARSER_URL.pathname} is missing): run npm run build`);
}
const { parsePfctlOutput, normalizeAsLoaded, printRuleLines } = await import(PARSER_URL.href);

const TRANSLATION = /^(no\s+)?(nat|rdr|binat)(\s|$)|^(nat|rdr|binat)-anchor(\s|$)/;
const FILTER = /^(pass|block|match|anchor)(\s|$)/;
const TABLE = /^table\s+<([^>]+)>(.*)$/;

const ORDER_MESSAGE = 'Rules must be in order: options, ethernet, normalization, queueing, translation, filtering';

/**
 * Checks a ruleset the way `pfctl -nf` would, as far as pfexpose needs it: every line the project's
 * parser cannot read is a syntax error, and translation rules must come before filter rules.
 * Table definitions are taken out first (the parser reads rules, not tables), keeping line numbers.
 * Returns { errors: [{ line, message }], tables: [{ name, addresses }], rules: ParsedRule[] }.
 */
export function checkRuleset(text) {
  const errors = [];
  const tables = [];
  let sawFilter = false;
  const rulesOnly = text.split('\n').map((raw, index) => {
    const line = index + 1;
    const stripped = stripComment(raw).trim();
    const table = TABLE.exec(stripped);
    if (table !== null) {
      const body = /\{([^}]*)\}/.exec(table[2] ?? '');
      tables.push({ name: table[1], addresses: body === null ? [] : body[1].split(/[\s,]+/).filter((a) => a !== '') });
      return '';
    }
    if (TRANSLATION.test(stripped)) {
      if (sawFilter) errors.push({ line, message: ORDER_MESSAGE });
    } else if (FILTER.test(stripped)) {
      sawFilter = true;
    }
    return raw;
  });
  const parsed = parsePfctlOutput(rulesOnly.join('\n'));
  for (const diagnostic of parsed.diagnostics) errors.push({ line: diagnostic.line, message: 'syntax error' });
  errors.sort((a, b) => a.line - b.line);
  return { errors, tables, rules: parsed.rules };
}

/**
 * The rules of a ruleset as pfctl prints them after loading it: { nat: string[], filter: string[] }.
 * Without -P (numeric false) well-known ports are printed by service name, as pfctl does.
 */
export function printRuleset(text, { numeric }) {
  const { rules } = checkRuleset(text);
  const nat = [];
  const filter = [];
  for (const rule of normalizeAsLoaded(rules)) {
    const lines = printRuleLines(rule, { ports: numeric ? 'numeric' : 'names' });
    if (isTranslation(rule)) nat.push(...lines);
    else filter.push(...lines);
  }
  return { nat, filter };
}

function isTranslation(rule) {
  if (rule.kind === 'translation') return true;
  if (rule.kind === 'anchor') return rule.type !== 'anchor';
  if (rule.kind === 'unparsed') return TRANSLATION.test(rule.text);
  return false;
}

function stripComment(line) {
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    if (line[i] === '"') quoted = !quoted;
    else if (line[i] === '#' && !quoted) return line.slice(0, i);
  }
  return line;
}
