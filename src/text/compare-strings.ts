// String order used wherever output must be deterministic (sorting names, files, codes): it is a
// general utility, not a diagnostics concern, so every stage imports it from here.

/** Code-unit order, independent of locale: the same everywhere, so output is deterministic. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
