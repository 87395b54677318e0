// The rules of Prometheus' text exposition format (0.0.4) and of its naming conventions that the
// agent's /metrics must keep, checked line by line: what `promtool check metrics` checks (help
// text, counters ending in _total, no abbreviated or non-base units) and what it lets through
// (HELP/TYPE once per family and before its samples, a family's lines together, no duplicate
// series, histogram buckets cumulative up to +Inf = _count). Returns the problems found.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

interface Family {
  help: boolean;
  type: MetricType | null;
  samples: number;
}

interface Sample {
  name: string;
  labels: [string, string][];
  value: number;
  line: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Units that are not base units, or abbreviations, as name parts (time in seconds, sizes in bytes). */
const NOT_BASE_UNITS = new Set([
  'ms',
  'us',
  'ns',
  'sec',
  'secs',
  'msec',
  'usec',
  'millis',
  'milliseconds',
  'microseconds',
  'nanoseconds',
  'minutes',
  'hours',
  'days',
  'kb',
  'mb',
  'gb',
  'kilobytes',
  'megabytes',
  'gigabytes',
  'bits',
  'percent',
]);

/** The problems of an exposition, one sentence each naming the line; [] when it keeps every rule. */
export function expositionProblems(text: string): string[] {
  const problems: string[] = [];
  const families = new Map<string, Family>();
  const samples: Sample[] = [];
  const series = new Set<string>();
  const closed = new Set<string>();
  let current: string | null = null;
  const enter = (family: string, line: number): Family => {
    if (family !== current) {
      if (current !== null) closed.add(current);
      if (closed.has(family)) problems.push(`line ${line}: family ${family} continues after another family began`);
      current = family;
    }
    let found = families.get(family);
    if (found === undefined) {
      found = { help: false, type: null, samples: 0 };
      families.set(family, found);
    }
    return found;
  };

  if (!text.endsWith('\n')) problems.push('the exposition does not end with a newline');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') {
      problems.push(`line ${line}: empty line`);
      return;
    }
    const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw);
    if (meta !== null) {
      const [, kind, name = '', rest = ''] = meta;
      if (!NAME.test(name)) problems.push(`line ${line}: ${name} is not a metric name`);
      const family = enter(name, line);
      if (family.samples > 0) problems.push(`line ${line}: # ${kind} ${name} comes after its samples`);
      if (kind === 'HELP') {
        if (family.help) problems.push(`line ${line}: second # HELP for ${name}`);
        if (rest.trim() === '') problems.push(`line ${line}: ${name} has an empty help text`);
        family.help = true;
      } else {
        if (family.type !== null) problems.push(`line ${line}: second # TYPE for ${name}`);
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) {
          problems.push(`line ${line}: ${name} has an unknown type ${JSON.stringify(rest)}`);
        } else {
          family.type = rest as MetricType;
        }
      }
      return;
    }
    if (raw.startsWith('#')) return;
    const sample = parseSample(raw, line);
    if (typeof sample === 'string') {
      problems.push(sample);
      return;
    }
    const family = enter(familyOf(sample.name, families), line);
    family.samples += 1;
    const key = `${sample.name}{${[...sample.labels]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(',')}}`;
    if (series.has(key)) problems.push(`line ${line}: duplicate series ${key}`);
    series.add(key);
    samples.push(sample);
  });

  for (const [name, family] of families) {
    if (!family.help) problems.push(`${name} has no # HELP`);
    if (family.type === null) problems.push(`${name} has no # TYPE`);
    problems.push(...nameProblems(name, family.type));
  }
  for (const sample of samples) {
    const name = familyOf(sample.name, families);
    const type = families.get(name)?.type ?? null;
    if (type === 'counter' && !(sample.value >= 0)) problems.push(`line ${sample.line}: counter ${name} is negative`);
    if (name.endsWith('_info') && sample.value !== 1)
      problems.push(`line ${sample.line}: info metric ${name} is not 1`);
    if (type === 'histogram' && sample.name === name) {
      problems.push(`line ${sample.line}: histogram ${name} has a sample without _bucket, _sum or _count`);
    }
    if (type !== 'histogram' && type !== 'summary' && sample.name !== name) {
      problems.push(`line ${sample.line}: ${sample.name} does not belong to a histogram or summary`);
    }
  }
  for (const [name, family] of families) {
    if (family.type === 'histogram') problems.push(...histogramProblems(name, samples));
  }
  return problems;
}

/** The family a sample belongs to: its own name, or the histogram/summary its suffix names. */
function familyOf(sampleName: string, families: Map<string, Family>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = sampleName.slice(0, -suffix.length);
    const type = families.get(base)?.type;
    if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base;
  }
  return sampleName;
}

function nameProblems(name: string, type: MetricType | null): string[] {
  const problems: string[] = [];
  const parts = name.split('_');
  if (type === 'counter' && !name.endsWith('_total')) problems.push(`counter ${name} does not end in _total`);
  if (type !== 'counter' && name.endsWith('_total')) problems.push(`${type ?? 'untyped'} ${name} ends in _total`);
  for (const part of parts) {
    if (NOT_BASE_UNITS.has(part.toLowerCase())) problems.push(`${name}: "${part}" is not a base unit`);
  }
  if (name !== name.toLowerCase()) problems.push(`${name} is not snake_case`);
  if (parts.includes('timestamp') && !name.endsWith('_timestamp_seconds')) {
    problems.push(`${name}: a timestamp is in seconds and its name ends in _timestamp_seconds`);
  }
  if (parts.includes('duration') && !name.endsWith('_duration_seconds')) {
    problems.push(`${name}: a duration is in seconds and its name ends in _duration_seconds`);
  }
  return problems;
}

function histogramProblems(name: string, samples: Sample[]): string[] {
  const problems: string[] = [];
  const groups = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const sample of samples) {
    const suffix = sample.name.slice(name.length);
    if (!sample.name.startsWith(name) || !['_bucket', '_sum', '_count'].includes(suffix)) continue;
    const le = sample.labels.find(([k]) => k === 'le')?.[1];
    const rest = JSON.stringify(sample.labels.filter(([k]) => k !== 'le'));
    let group = groups.get(rest);
    if (group === undefined) {
      group = { buckets: [] };
      groups.set(rest, group);
    }
    if (suffix === '_bucket') {
      const bound = le === '+Inf' ? Infinity : Number(le);
      if (le === undefined || le === '' || Number.isNaN(bound)) {
        problems.push(`line ${sample.line}: ${sample.name} has no numeric le label`);
        continue;
      }
      group.buckets.push([bound, sample.value]);
    } else if (suffix === '_sum') {
      group.sum = sample.value;
    } else {
      group.count = sample.value;
    }
  }
  if (groups.size === 0) problems.push(`histogram ${name} has no samples`);
  for (const [labels, group] of groups) {
    const where = `histogram ${name}${labels === '[]' ? '' : ` ${labels}`}`;
    for (let i = 1; i < group.buckets.length; i += 1) {
      const [bound, count] = group.buckets[i]!;
      const [lastBound, lastCount] = group.buckets[i - 1]!;
      if (!(bound > lastBound)) problems.push(`${where}: le ${bound} does not increase after ${lastBound}`);
      if (count < lastCount) problems.push(`${where}: bucket le=${bound} holds fewer than le=${lastBound}`);
    }
    const inf = group.buckets.at(-1);
    if (inf === undefined || inf[0] !== Infinity) problems.push(`${where}: no le="+Inf" bucket last`);
    else if (group.count !== undefined && inf[1] !== group.count) {
      problems.push(`${where}: the +Inf bucket (${inf[1]}) is not _count (${group.count})`);
    }
    if (group.sum === undefined) problems.push(`${where}: no _sum`);
    if (group.count === undefined) problems.push(`${where}: no _count`);
  }
  return problems;
}

function parseSample(raw: string, line: number): Sample | string {
  const head = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(raw);
  if (head === null) return `line ${line}: not a sample: ${raw}`;
  const name = head[1]!;
  let rest = raw.slice(name.length);
  const labels: [string, string][] = [];
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    while (!rest.startsWith('}')) {
      const label = /^([^=]*)="((?:[^"\\]|\\.)*)"(,?)/.exec(rest);
      if (label === null) return `line ${line}: unreadable labels: ${raw}`;
      const [whole, key = '', value = ''] = label;
      if (!LABEL_NAME.test(key) || key.startsWith('__')) return `line ${line}: ${key} is not a label name`;
      if ([...value.matchAll(/\\(.)/g)].some(([, c]) => c !== '\\' && c !== '"' && c !== 'n'))
        return `line ${line}: label ${key} has an unknown escape`;
      if (labels.some(([k]) => k === key)) return `line ${line}: label ${key} appears twice`;
      labels.push([key, value.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c))]);
      rest = rest.slice(whole.length);
      if (label[3] === '' && !rest.startsWith('}')) return `line ${line}: labels not separated by a comma: ${raw}`;
    }
    rest = rest.slice(1);
  }
  const value = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
  if (value === null) return `line ${line}: no value after the name and labels: ${raw}`;
  const text = value[1]!;
  const number = text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : text === 'NaN' ? NaN : Number(text);
  if (text !== 'NaN' && Number.isNaN(number)) return `line ${line}: ${text} is not a number`;
  return { name, labels, value: number, line };
}
