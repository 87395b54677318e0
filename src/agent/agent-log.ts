// The agent's log: one line per event, either for people (`TIME LEVEL message key=value ...`) or as
// JSON lines for collectors (`{"time","level","event",...fields}`). Fields keep their types in JSON;
// in text, only the ones a reader needs are shown after the message.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';

export type LogValue = string | number | boolean | null | readonly LogValue[] | { readonly [key: string]: LogValue };
export type LogFields = Readonly<Record<string, LogValue | undefined>>;

export interface LogRecord {
  time: string;
  level: LogLevel;
  event: string;
  message: string;
  fields: LogFields;
}

export interface AgentLog {
  log(level: LogLevel, event: string, message: string, fields?: LogFields): void;
}

export interface AgentLogOptions {
  format: LogFormat;
  write: (line: string) => void;
  now?: () => Date;
  /** Lowest level written; default info. */
  level?: LogLevel;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createAgentLog(options: AgentLogOptions): AgentLog {
  const now = options.now ?? (() => new Date());
  const lowest = RANK[options.level ?? 'info'];
  return {
    log(level, event, message, fields = {}) {
      if (RANK[level] < lowest) return;
      const record: LogRecord = { time: now().toISOString(), level, event, message, fields };
      options.write(options.format === 'json' ? formatJsonRecord(record) : formatTextRecord(record));
    },
  };
}

/** A log that keeps records, for tests. */
export function createMemoryLog(): AgentLog & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  return {
    records,
    log(level, event, message, fields = {}) {
      records.push({ time: new Date(0).toISOString(), level, event, message, fields });
    },
  };
}

export function formatJsonRecord(record: LogRecord): string {
  const out: Record<string, unknown> = {
    time: record.time,
    level: record.level,
    event: record.event,
    message: record.message,
  };
  for (const [key, value] of Object.entries(record.fields)) {
    if (value !== undefined && !(key in out)) out[key] = value;
  }
  return `${JSON.stringify(out)}\n`;
}

// Diagnostics are printed on lines of their own below the message in text form; null fields
// (nothing to say) are left out. A message of several lines (a refusal that lists the pf.conf
// lines to add) keeps its lines: the first carries the fields, the others follow indented, so that
// only a record's first line starts at the margin, and a reader can tell records apart.
export function formatTextRecord(record: LogRecord): string {
  const pairs: string[] = [];
  const below: string[] = [];
  for (const [key, value] of Object.entries(record.fields)) {
    if (value === undefined || value === null) continue;
    if (key === 'diagnostics' && Array.isArray(value)) {
      for (const item of value as readonly LogValue[])
        below.push(...continued(typeof item === 'string' ? item : JSON.stringify(item)));
      continue;
    }
    pairs.push(
      `${key}=${typeof value === 'string' && !/[\s"=]/.test(value) && value !== '' ? value : JSON.stringify(value)}`,
    );
  }
  const [first = '', ...rest] = splitLines(record.message);
  const head = `${record.time} ${record.level.padEnd(5)} ${first}${pairs.length > 0 ? ` (${pairs.join(' ')})` : ''}`;
  return [head, ...rest.map((line) => `    ${line}`), ...below].map((line) => `${oneLine(line)}\n`).join('');
}

/** The lines of a text below a record's first line, indented. */
function continued(text: string): string[] {
  return splitLines(text).map((line, index) => (index === 0 ? `    ${line}` : `      ${line}`));
}

/** Lines of a text, without the empty ones a trailing line break would leave. */
function splitLines(text: string): string[] {
  return text.replace(/(?:\r?\n)+$/, '').split(/\r?\n/);
}

/** Log lines stay lines: control characters from file names or pfctl's stderr are escaped. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
