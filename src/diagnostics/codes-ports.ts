// Codes for problems inside one port entry (src/ports/).
import type { CodeInfo } from './codes.js';

export const portCodes = {
  'port-syntax': { summary: 'a port spec does not follow the grammar of its syntax' },
} as const satisfies Record<string, CodeInfo>;
