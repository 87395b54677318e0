// The three doors into the manifest stage: loadManifests(paths) reads files, loadManifestText
// parses one file's text, loadManifestDocuments takes parsed YAML. Each returns the typed
// ManifestSet and every diagnostic found, sorted; none throws on bad input.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { sortDiagnostics } from '../diagnostics/diagnostic.js';
import { buildManifestDocument } from './build-manifest-document.js';
import { checkManifests, createManifestSources } from './check-manifest.js';
import type { ManifestSources } from './check-manifest.js';
import { decodeManifestBytes } from './decode-manifest-bytes.js';
import { findManifestFiles, readManifestFile } from './find-manifest-files.js';
import type { ManifestDocument, ManifestSet } from './manifest.js';
import { parseYamlDocuments } from './parse-yaml-documents.js';
import type { YamlFile } from './parse-yaml-documents.js';
import { validateSchema } from './validate-schema.js';

export interface LoadResult {
  manifests: ManifestSet;
  diagnostics: Diagnostic[];
  /** The text of every file that was decoded, by file name (for code frames). */
  texts: ReadonlyMap<string, string>;
}

export interface LoadOptions {
  /** Directory relative paths are resolved against (default process.cwd()). */
  cwd?: string;
}

/** Finds, reads, parses, validates and checks every manifest under paths. */
export async function loadManifests(paths: readonly string[], options: LoadOptions = {}): Promise<LoadResult> {
  const found = await findManifestFiles(paths, options);
  const diagnostics: Diagnostic[] = [...found.diagnostics];
  const parsed: YamlFile[] = [];
  const files: string[] = [];
  for (const file of found.files) {
    files.push(file.file);
    const read = await readManifestFile(file);
    if (!read.ok) {
      diagnostics.push(read.diagnostic);
      continue;
    }
    const decoded = decodeManifestBytes(read.bytes, file.file, read.size);
    if (!decoded.ok) {
      diagnostics.push(decoded.diagnostic);
      continue;
    }
    parsed.push(parseYamlDocuments(decoded.text, file.file));
  }
  const result = loadManifestDocuments(parsed);
  return {
    manifests: { files, documents: result.manifests.documents },
    diagnostics: sortDiagnostics([...diagnostics, ...result.diagnostics]),
    texts: result.texts,
  };
}

/** One file's text (a leading BOM is dropped), under the name diagnostics should show. */
export function loadManifestText(text: string, fileName: string): LoadResult {
  const withoutBom = text.startsWith('\ufeff') ? text.slice(1) : text;
  return loadManifestDocuments([parseYamlDocuments(withoutBom, fileName)]);
}

/** Parsed YAML files: schema, port grammars and the checks across the whole set. */
export function loadManifestDocuments(files: readonly YamlFile[]): LoadResult {
  const diagnostics: Diagnostic[] = [];
  const documents: ManifestDocument[] = [];
  const sources: ManifestSources = createManifestSources();
  for (const yaml of files) {
    diagnostics.push(...yaml.diagnostics);
    for (const entry of yaml.documents) {
      if (!entry.ok) continue;
      const base = { file: yaml.file, text: yaml.text, lineCounter: yaml.lineCounter, document: entry.document };
      const schema = validateSchema({ ...base, data: entry.data });
      diagnostics.push(...schema.diagnostics);
      // A document that is not even a mapping has nothing more to say.
      if (schema.flagged.includes('')) continue;
      const built = buildManifestDocument({ ...base, index: entry.index, data: entry.data, flagged: schema.flagged, sources });
      diagnostics.push(...built.diagnostics);
      documents.push(built.document);
    }
  }
  const manifests: ManifestSet = { files: files.map((f) => f.file), documents };
  diagnostics.push(...checkManifests(manifests, sources));
  const texts = new Map(files.map((f) => [f.file, f.text]));
  return { manifests, diagnostics: sortDiagnostics(diagnostics), texts };
}
