// The three doors into the manifest stage: loadManifests(paths) reads files, loadManifestText
// parses one file's text, loadManifestDocuments takes parsed YAML. Each returns the typed
// ManifestSet and every diagnostic found, sorted; none throws on bad input.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { sortDiagnostics } from '../diagnostics/diagnostic.js';
import { buildManifestDocument } from './build-manifest-document.js';
import { checkManifests, createManifestSources } from './check-manifest.js';
import type { ManifestSources } from './check-manifest.js';
import { decodeManifestBytes } from './decode-manifest-bytes.js';
import { findManifestFiles, readManifestFileSync } from './find-manifest-files.js';
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

/** How much is read and built between two turns of the event loop: so many files or bytes. */
const TURN_EVERY_FILES = 64;
const TURN_EVERY_BYTES = 64 * 1024;

/** Finds, reads, parses, validates and checks every manifest under paths. */
export async function loadManifests(paths: readonly string[], options: LoadOptions = {}): Promise<LoadResult> {
  const found = await findManifestFiles(paths, options);
  const diagnostics: Diagnostic[] = [...found.diagnostics];
  const files: string[] = [];
  const documents: ManifestDocument[] = [];
  const texts = new Map<string, string>();
  const sources = createManifestSources();
  let sinceTurn = { files: 0, bytes: 0 };
  for (const file of found.files) {
    // A turn of the event loop now and then: V8 finishes its incremental garbage collection in
    // tasks that run there, and a loop that never yields lets the heap grow meanwhile.
    if (sinceTurn.files >= TURN_EVERY_FILES || sinceTurn.bytes >= TURN_EVERY_BYTES) {
      await new Promise((resume) => setImmediate(resume));
      sinceTurn = { files: 0, bytes: 0 };
    }
    sinceTurn.files += 1;
    files.push(file.file);
    // Read with synchronous calls, one file at a time: with thousands of small files, the thread
    // pool's round trips (and the promises and handles they make) cost more than the reads.
    // A failure is a diagnostic, never a throw.
    const read = readManifestFileSync(file);
    if (!read.ok) {
      diagnostics.push(read.diagnostic);
      continue;
    }
    sinceTurn.bytes += read.size;
    const decoded = decodeManifestBytes(read.bytes, file.file, read.size);
    if (!decoded.ok) {
      diagnostics.push(decoded.diagnostic);
      continue;
    }
    // Each file is built as soon as it is parsed and its YAML nodes let go: holding every file's
    // nodes until the end made garbage collection the largest cost on big repositories.
    const loaded = loadYamlFile(parseYamlDocuments(decoded.text, file.file), sources);
    for (const d of loaded.diagnostics) diagnostics.push(d);
    for (const d of loaded.documents) documents.push(d);
    texts.set(file.file, decoded.text);
  }
  const manifests: ManifestSet = { files, documents };
  for (const d of checkManifests(manifests, sources)) diagnostics.push(d);
  return { manifests, diagnostics: sortDiagnostics(diagnostics), texts };
}

/** One file's text (a leading BOM is dropped), under the name diagnostics should show. */
export function loadManifestText(text: string, fileName: string): LoadResult {
  const withoutBom = text.startsWith('\ufeff') ? text.slice(1) : text;
  return loadManifestDocuments([parseYamlDocuments(withoutBom, fileName)]);
}

/**
 * Keeps each file's schema verdict and built documents between calls (the agent's cycles): they
 * depend on that file's parsed YAML alone, so a change re-validates only the files it touched.
 * Keyed by the YamlFile object itself; the finer positions the loader found live as long as the
 * entries they describe.
 */
export interface LoadCache {
  sources: ManifestSources;
  files: WeakMap<YamlFile, FileLoad>;
}

export function createLoadCache(): LoadCache {
  return { sources: createManifestSources(), files: new WeakMap() };
}

/** What one file contributes: its documents and its own diagnostics (YAML, schema, ports). */
export interface FileLoad {
  documents: ManifestDocument[];
  diagnostics: Diagnostic[];
}

/** Parsed YAML files: schema, port grammars and the checks across the whole set. */
export function loadManifestDocuments(files: readonly YamlFile[], cache: LoadCache | null = null): LoadResult {
  const diagnostics: Diagnostic[] = [];
  const documents: ManifestDocument[] = [];
  const sources: ManifestSources = cache?.sources ?? createManifestSources();
  for (const yaml of files) {
    let loaded = cache?.files.get(yaml);
    if (loaded === undefined) {
      loaded = loadYamlFile(yaml, sources);
      cache?.files.set(yaml, loaded);
    }
    for (const d of loaded.diagnostics) diagnostics.push(d);
    for (const d of loaded.documents) documents.push(d);
  }
  const manifests: ManifestSet = { files: files.map((f) => f.file), documents };
  for (const d of checkManifests(manifests, sources)) diagnostics.push(d);
  const texts = new Map(files.map((f) => [f.file, f.text]));
  return { manifests, diagnostics: sortDiagnostics(diagnostics), texts };
}

/** One parsed file: schema and port grammars. Positions for the family checks go into sources. */
export function loadYamlFile(yaml: YamlFile, sources: ManifestSources): FileLoad {
  const diagnostics: Diagnostic[] = [...yaml.diagnostics];
  const documents: ManifestDocument[] = [];
  for (const entry of yaml.documents) {
    if (!entry.ok) continue;
    const { file, text, lineCounter } = yaml;
    const schema = validateSchema({ file, text, lineCounter, root: entry.root, data: entry.data });
    // Nearly every document passes the schema: nothing to filter then.
    if (schema.diagnostics.length > 0) for (const d of quotingLess(schema.diagnostics, entry.data)) diagnostics.push(d);
    // A document that is not even a mapping has nothing more to say.
    if (schema.flagged.includes('')) continue;
    const built = buildManifestDocument({
      file,
      text,
      lineCounter,
      root: entry.root,
      index: entry.index,
      data: entry.data,
      flagged: schema.flagged,
      sources,
    });
    for (const d of built.diagnostics) diagnostics.push(d);
    documents.push(built.document);
  }
  return { documents, diagnostics };
}

/**
 * A document with no `version` at its top may be no manifest at all (a stray file, a link's target
 * read by mistake): its diagnostics quote none of its text. Its top-level unknown keys become one
 * diagnostic at the first of them, and a top that is not a mapping is named by its kind only.
 * A document that has `version` is a manifest, and its diagnostics quote as usual.
 */
function quotingLess(diagnostics: readonly Diagnostic[], data: unknown): Diagnostic[] {
  const isMapping = typeof data === 'object' && data !== null && !Array.isArray(data);
  if (isMapping && Object.hasOwn(data, 'version')) return [...diagnostics];
  const kept: Diagnostic[] = [];
  const unknownTop: Diagnostic[] = [];
  for (const d of diagnostics) {
    if (d.code === 'unknown-key' && d.pointer !== undefined && d.pointer.split('/').length === 2) unknownTop.push(d);
    else if (!isMapping && d.code === 'schema' && d.pointer === '')
      kept.push({
        ...d,
        message: `a manifest document must be a mapping that starts with version: 1, not ${kindOf(data)}`,
      });
    else kept.push(d);
  }
  const first = unknownTop[0];
  if (first !== undefined) {
    // The pointer names the key: the document's own pointer says where without quoting it.
    const { hint: _hint, ...rest } = first;
    kept.push({
      ...rest,
      pointer: '',
      message:
        `${unknownTop.length === 1 ? 'a key' : `${unknownTop.length} keys`} at the top of this document ${unknownTop.length === 1 ? 'is' : 'are'} not manifest keys; ` +
        `without version it does not look like a pfexpose manifest, so its text is not quoted: move the file out of the manifest paths or add version: 1`,
    });
  }
  return kept;
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    default:
      return 'a scalar';
  }
}
