/**
 * Writes a synthetic manifest tree of `containers` containers, `perFile` to a file (default 250;
 * 1 gives the one-manifest-per-container layout).
 */
export function generateTree(dir: string, containers: number, perFile?: number): void;
