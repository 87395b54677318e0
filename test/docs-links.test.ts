// README.md and docs/ link to each other and to files in the tree: every relative link must reach a file that
// exists, and an `#anchor` part a heading in that file (GitHub's slugs). README stays short.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

function markdownUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? markdownUnder(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
  );
}

/** Lines outside fenced code blocks: links and headings inside ``` are examples, not documentation. */
function prose(text: string): string[] {
  let fenced = false;
  return text.split('\n').filter((line) => {
    if (line.startsWith('```')) {
      fenced = !fenced;
      return false;
    }
    return !fenced;
  });
}

/** GitHub's anchor for a heading: lower-case, punctuation dropped except `-` and `_`, spaces to `-`. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_\- ]/gu, '')
    .replace(/ /g, '-');
}

/** Anchors of a file's headings; a repeated heading gets `-1`, `-2`, ... as on GitHub. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of prose(readFileSync(file, 'utf8'))) {
    const m = /^#{1,6} (.*)$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

function relativeLinks(file: string): string[] {
  const links: string[] = [];
  for (const line of prose(readFileSync(file, 'utf8'))) {
    const text = line.replace(/`[^`]*`/g, (code) => (code.includes('](') ? '' : code));
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) links.push(target);
    }
  }
  return links;
}

const files = ['README.md', ...markdownUnder('docs')].sort();

describe('documentation links', () => {
  it('finds the documentation', () => {
    expect(files).toContain('README.md');
    expect(files.length).toBeGreaterThan(5);
  });

  it('every relative link reaches an existing file, and its #anchor a heading there', () => {
    const broken: string[] = [];
    for (const file of files) {
      for (const link of relativeLinks(file)) {
        const [path, anchor] = link.split('#', 2) as [string, string | undefined];
        const target = path === '' ? file : join(dirname(file), decodeURIComponent(path));
        if (!existsSync(target)) {
          broken.push(`${file}: ${link} (no file ${relative('.', target)})`);
          continue;
        }
        if (anchor !== undefined && (statSync(target).isDirectory() || !anchors(target).has(anchor))) {
          broken.push(`${file}: ${link} (no heading #${anchor} in ${target})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('README links every file under docs/', () => {
    const linked = new Set(relativeLinks('README.md').map((l) => l.split('#')[0]));
    expect(files.filter((f) => f.startsWith('docs') && !linked.has(f))).toEqual([]);
  });

  it('README is at most 12 KiB', () => {
    expect(statSync('README.md').size).toBeLessThanOrEqual(12_288);
  });
});

describe('slug', () => {
  it('follows GitHub: lower case, punctuation dropped but - and _, spaces to -', () => {
    expect(slug('`pfexpose apply`, `rollback`, `confirm`: touching the firewall')).toBe(
      'pfexpose-apply-rollback-confirm-touching-the-firewall',
    );
    expect(slug('Wiring the anchor into `/etc/pf.conf`')).toBe('wiring-the-anchor-into-etcpfconf');
    expect(slug('Manifest format (version 1)')).toBe('manifest-format-version-1');
    expect(slug('a_b - c')).toBe('a_b---c');
  });
});
