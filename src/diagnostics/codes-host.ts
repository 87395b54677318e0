// Codes for problems met on the host side: files pfexpose reads or writes beside the manifests,
// and pfctl's verdict on a ruleset.
import type { CodeInfo } from './code-info.js';

export const hostCodes = {
  'lock-unreadable': {
    summary: 'the lock file exists but cannot be read (not a regular file, over 32 MiB, permissions)',
  },
  'pfctl-rejected': {
    summary: 'pfctl rejected a line of the ruleset in its dry run; the diagnostic sits on the entry that made it',
  },
} as const satisfies Record<string, CodeInfo>;
