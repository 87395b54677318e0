// Codes for what a command says about its own run rather than about a place in the manifests: a
// wrong option or argument, a container or port the manifests do not have, a step that could not
// be done (a file, git, pfctl, the state directory) and warnings of the host side. They have no
// place (diagnostic.ts atCommandLine); `--format json` carries them in the envelope's diagnostics.
import type { CodeInfo } from './code-info.js';

export const cliCodes = {
  usage: {
    summary:
      'an option or argument is wrong, missing or combined with one it excludes (a bad --host or --lock-wait value): exit 2 (plan: 1)',
  },
  'unknown-container': {
    summary: '`port` or `env` names a container the manifests do not have (`port`: none that publishes a port)',
  },
  'port-not-published': { summary: '`port CONTAINER PORT[/PROTO]`: the container does not publish that port' },
  'command-failed': {
    summary:
      'the command could not do its work for a reason outside the manifests: a file, git, pfctl or the state directory (the message says which, and what was left untouched)',
  },
  'run-warning': {
    summary:
      'a warning about the run rather than the manifests: from pf or pfctl (pf.conf hooks that see part of the traffic, tables in the anchor, connections not ended), jls, or a damaged record of the state directory',
  },
} as const satisfies Record<string, CodeInfo>;
