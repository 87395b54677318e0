// Codes for finding and reading files, parsing YAML, validating against the schema and the
// checks on a manifest that need no host (src/manifest/). A bad `pool` uses the model's
// 'invalid-pool' code, so one mistake has one code whichever stage finds it.
import type { CodeInfo } from './code-info.js';

export const manifestCodes = {
  'path-not-found': { summary: 'a path given on the command line does not exist' },
  'no-manifests': { summary: 'no *.yaml or *.yml file was found under the paths given' },
  'file-unreadable': { summary: 'a file or directory cannot be read (permissions, a dangling symlink)' },
  'file-not-regular': {
    summary: 'a manifest path is a FIFO, socket or device, not a regular file: refused at once, never read',
  },
  'file-too-large': { summary: 'a manifest file is larger than the 1 MiB limit' },
  'file-binary': { summary: 'a manifest file contains NUL bytes: it is binary, not YAML' },
  'file-not-utf8': { summary: 'a manifest file is not valid UTF-8' },
  'symlink-loop': { summary: 'a symbolic link leads back into a directory being searched' },
  'symlink-outside': {
    summary: 'a symbolic link found while searching leads outside the paths given: not followed, its target never read',
  },
  'ignore-file-unreadable': {
    summary: 'the `.pfexposeignore` at the root of a directory given cannot be read: that directory is not searched',
  },
  'yaml-syntax': { summary: 'the file is not valid YAML' },
  'yaml-tab-indent': { summary: 'a tab is used for indentation; YAML indents with spaces only' },
  'yaml-duplicate-key': { summary: 'a mapping has the same key twice' },
  'yaml-alias-limit': { summary: 'aliases expand to too many nodes (an "alias bomb")' },
  'yaml-too-deep': { summary: 'collections are nested deeper than the limit of 64 levels' },
  'empty-document': { summary: 'a file or a document holds no content: it needs at least `version: 1`' },
  schema: { summary: 'a value does not match the manifest schema (wrong type, value or form)' },
  'unknown-key': { summary: 'a mapping has a key the format does not know' },
  'missing-key': { summary: 'a mapping lacks a key the format requires' },
  'invalid-name': { summary: 'a container, host, interface or port name uses characters or a length pf cannot take' },
  'invalid-address': { summary: 'an ip, ip6 or host address is not a valid address of its family' },
  'duplicate-host': { summary: 'a host is declared in more than one place' },
  'missing-address': { summary: 'a container publishes ports for an address family it has no address of' },
  'family-mismatch': { summary: 'a host address or source network is of a family the container has no address of' },
  'loopback-shared-stack': {
    summary:
      "a warning: a loopback entry (127.0.0.1, ::1, redirected on lo0) of a container whose `stack` is not declared reaches it only if it shares the host's network stack",
  },
  'loopback-vnet': {
    summary:
      'a loopback entry of a container declared `stack: vnet`: a VNET container drops packets from a loopback source',
  },
} as const satisfies Record<string, CodeInfo>;
