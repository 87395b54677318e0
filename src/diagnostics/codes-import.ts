// Codes for `pfexpose import`: what a source file of another tool (docker-compose.yml, a
// `docker run` line, Bastille's rdr.conf, pot.conf, Kleene's inspect output) says that cannot be
// carried into a manifest. Port grammar problems inside those files keep their port-* codes.
import type { CodeInfo } from './code-info.js';

export const importCodes = {
  'import-syntax': {
    summary: 'a file given to `import` does not follow its format (a line of rdr.conf, a docker run command, JSON)',
  },
  'import-unsupported': {
    summary:
      'a setting of the imported file that no manifest can express (Compose ingress mode, a pf table as source, host networking)',
  },
  'import-address-missing': {
    summary: 'an imported container has no address: neither the file nor `--ip NAME=ADDR` gives one',
  },
  'import-interface-unknown': {
    summary: 'an imported entry names an interface that is not among `--interfaces`',
  },
  'import-duplicate-container': {
    summary: 'two imported files (or two parts of one) define a container of the same name',
  },
  'import-dropped': {
    summary:
      'a warning: a setting that changes no exposure (Bastille `log`, Compose `app_protocol`) is left out of the manifest',
  },
  'import-skipped': {
    summary: 'a warning: a Compose service that publishes and declares no port and that no link names is not imported',
  },
} as const satisfies Record<string, CodeInfo>;
