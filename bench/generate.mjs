// Writes a synthetic manifest tree: N containers, three ports each in mixed syntaxes (Kleene,
// Docker, long form), spread over several files, all for one host. Deterministic for a given N.
// With perFile 1 it is the one-manifest-per-container layout: one small file per container, the
// host defined in the first.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function generateTree(dir, containers, perFile = 250) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files = Math.ceil(containers / perFile);
  // Names sort in the order they were written whatever the count (part-000 for the usual shapes).
  const width = Math.max(3, String(files - 1).length);
  for (let f = 0; f < files; f += 1) {
    const lines = ['# yaml-language-server: $schema=../../schema/pfexpose.schema.json', 'version: 1'];
    if (f === 0) {
      lines.push('hosts:', '  bench:', '    gateway: em0', '    interfaces: [em0, em1]', '    pool: 40000-65000');
    }
    lines.push('host: bench', 'containers:');
    const end = Math.min(containers, (f + 1) * perFile);
    for (let i = f * perFile; i < end; i += 1) {
      const port = 10000 + i;
      const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255 || 1}`;
      lines.push(`  c${String(i).padStart(5, '0')}:`, `    ip: ${ip}`);
      if (i % 3 === 0) lines.push(`    ip6: fd00::${(i + 1).toString(16)}`);
      if (i % 2 === 0) {
        lines.push('    ports:', `      - em0:${port}:80`, `      - ${port}:53/udp`);
        lines.push(`      - published: ${port}`, '        target: 443', '        interfaces: [em1]');
      } else {
        lines.push('    syntax: docker', '    ports:', `      - 127.0.0.1:${port}:8080`);
        lines.push(i % 10 === 1 ? '      - "9000"' : `      - ${port}:9000/udp`);
        lines.push(`      - kleene: em1:${port}:22`);
      }
    }
    writeFileSync(join(dir, `part-${String(f).padStart(width, '0')}.yaml`), `${lines.join('\n')}\n`);
  }
}
