// The positions of a manifest document's nodes, kept after parsing so that diagnostics and later
// stages can point at keys and values: a small tree of mappings, lists and scalars with their
// offsets in the text. It is built either by the line scanner (scan-simple-yaml.ts) or from a
// document yaml's composer made (every other file), and both give the same tree for the same text.

/** How a scalar was written; spans inside a scalar are exact only for the first three. */
export type ScalarStyle = 'plain' | 'single' | 'double' | 'other';

export interface TreeScalar {
  kind: 'scalar';
  /** Offset of the node's first character (UTF-16, as in yaml's `range[0]`). */
  start: number;
  /** Offset just past the value (yaml's `range[1]`). */
  end: number;
  value: unknown;
  style: ScalarStyle;
}

export interface TreePair {
  /** The key as the plain data names it (String of the key's value); null when it is not a scalar. */
  name: string | null;
  key: TreeNode | null;
  value: TreeNode | null;
}

export interface TreeMap {
  kind: 'map';
  start: number;
  end: number;
  pairs: TreePair[];
}

export interface TreeSeq {
  kind: 'seq';
  start: number;
  end: number;
  items: (TreeNode | null)[];
}

export type TreeNode = TreeScalar | TreeMap | TreeSeq;
