// The floor the compiler is measured against: find the same manifest files, read them and parse
// them with `yaml` (keeping source positions, as pfexpose must), and do nothing else.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';

function walk(path, out) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) walk(join(path, name), out);
  } else if (/\.ya?ml$/.test(path)) out.push(path);
  return out;
}

let documents = 0;
for (const file of walk(process.argv[2], [])) {
  const lineCounter = new LineCounter();
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'), { lineCounter })) {
    doc.toJS();
    documents += 1;
  }
}
if (documents === 0) process.exitCode = 1;
