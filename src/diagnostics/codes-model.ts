// Codes for problems found when manifests are resolved into exposures (src/model/).
import type { CodeInfo } from './codes.js';

export const modelCodes = {
  'duplicate-container': { summary: 'a container name is declared more than once for one host' },
} as const satisfies Record<string, CodeInfo>;
