// The white-space separated fields of each line of a line-oriented file (Bastille's rdr.conf,
// pot.conf values), each with its offset in the file, so a problem points at its field.

export interface Field {
  text: string;
  /** Offset of the field's first character in the file. */
  start: number;
}

export interface Line {
  /** 1-based. */
  number: number;
  /** Offset of the line's first character. */
  start: number;
  text: string;
  fields: Field[];
}

/** Lines that hold something besides white space and a `#` comment. */
export function contentLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  let number = 1;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const raw = text.slice(start, end).replace(/\r$/, '');
    const fields = splitFields(raw, start);
    if (fields.length > 0 && !(fields[0]?.text.startsWith('#') ?? false)) {
      lines.push({ number, start, text: raw, fields });
    }
    if (end === text.length) break;
    start = end + 1;
    number++;
  }
  return lines;
}

export function splitFields(text: string, offset: number): Field[] {
  const fields: Field[] = [];
  const pattern = /[^ \t]+/g;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    fields.push({ text: match[0], start: offset + match.index });
  }
  return fields;
}
