// Codes for problems met on the host side: files pfexpose reads or writes beside the manifests,
// and pfctl's verdict on a ruleset.
import type { CodeInfo } from './code-info.js';

export const hostCodes = {
  'lock-unreadable': {
    summary: 'the lock file exists but cannot be read (not a regular file, over 32 MiB, permissions)',
  },
  'address-stale': {
    summary:
      "a container's address is held by another jail now, or its jail no longer holds it (jls): apply refuses unless --allow-stale",
  },
  'container-stopped': {
    summary: "a warning: the container's jail is not running (jls); its exposures wait for it, or are withheld",
  },
  'container-unchecked': {
    summary: "a warning: the container's jail is a VNET jail, whose addresses jls cannot show: they were not checked",
  },
  'pfctl-rejected': {
    summary: 'pfctl rejected a line of the ruleset in its dry run; the diagnostic sits on the entry that made it',
  },
} as const satisfies Record<string, CodeInfo>;
