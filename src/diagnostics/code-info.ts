// What the registry records about each diagnostic code. Its own module so that the per-area tables
// (codes-*.ts) and codes.ts, which joins them, do not import each other.
export interface CodeInfo {
  /** One line saying what the code means, shown in the table of codes in docs/reference/diagnostics.md. */
  readonly summary: string;
}
