// Turns the bytes of a manifest file into text, or into one diagnostic saying why they are not
// text: too large, binary (NUL bytes) or not UTF-8. A leading byte order mark is dropped.
import type { Diagnostic } from '../diagnostics/diagnostic.js';

/** Manifests are small; anything larger is refused before it is parsed (1 MiB). */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

/**
 * One decoder for every file: a decode without `stream` keeps no state between calls, and making
 * a decoder per file cost more than decoding a small manifest. It drops a leading BOM by default
 * (ignoreBOM: false).
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export type DecodeResult = { ok: true; text: string } | { ok: false; diagnostic: Diagnostic };

export function decodeManifestBytes(bytes: Uint8Array, file: string, size = bytes.length): DecodeResult {
  if (size > MAX_MANIFEST_BYTES) return { ok: false, diagnostic: manifestTooLarge(file, size) };
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    const { line, column } = positionOfByte(bytes, nul);
    return fail(
      file,
      line,
      column,
      'file-binary',
      'the file contains a NUL byte, so it is binary, not YAML: remove it from the manifest paths or rename it',
    );
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    const { line, column } = positionOfByte(bytes, bad);
    const hex = (bytes[bad] ?? 0).toString(16).toUpperCase().padStart(2, '0');
    return fail(file, line, column, 'file-not-utf8', `byte 0x${hex} is not valid UTF-8: save the file as UTF-8`);
  }
  return { ok: true, text: UTF8.decode(bytes) };
}

/** A manifest over the size limit; its bytes are never looked at. */
export function manifestTooLarge(file: string, size: number): Diagnostic {
  return {
    code: 'file-too-large',
    severity: 'error',
    message: `the file is ${size} bytes, over the limit of ${MAX_MANIFEST_BYTES} bytes (1 MiB) for a manifest: split it into several files`,
    file,
    line: 1,
    column: 1,
    endLine: 1,
    endColumn: 2,
  };
}

function fail(
  file: string,
  line: number,
  column: number,
  code: 'file-binary' | 'file-not-utf8',
  message: string,
): DecodeResult {
  return {
    ok: false,
    diagnostic: { code, severity: 'error', message, file, line, column, endLine: line, endColumn: column + 1 },
  };
}

/** Index of the first byte that does not belong to a well-formed UTF-8 sequence, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else {
      return i;
    }
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
    i += need + 1;
  }
  return -1;
}

/** 1-based line and column (in UTF-16 units of the valid text before it) of a byte offset. */
function positionOfByte(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let lineStart = 0;
  let line = 1;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  // The decoder drops a BOM at the start, as the parsed text does, so columns agree.
  const before = new TextDecoder('utf-8').decode(bytes.subarray(lineStart, offset));
  return { line, column: before.length + 1 };
}
