// Codes for problems inside one port entry (src/ports/).
import type { CodeInfo } from './code-info.js';

export const portCodes = {
  'port-syntax': { summary: 'a port spec does not follow the grammar of its syntax' },
  'port-empty': { summary: 'a port number (or the whole spec) is missing' },
  'port-zero': { summary: 'port 0 is not a usable port: ports run from 1 to 65535' },
  'port-out-of-range': { summary: 'a port number is greater than 65535' },
  'port-sign': { summary: 'a port number carries a + or - sign' },
  'port-leading-zero': { summary: 'a port number is written with a leading zero (080)' },
  'port-not-a-number': { summary: 'a port is neither a number nor a range of numbers' },
  'port-whitespace': { summary: 'a port spec contains white space' },
  'port-range-reversed': { summary: 'a port range ends before it starts (90-80)' },
  'port-range-length': { summary: 'host and container port ranges map one-to-one but differ in length' },
  'port-range-to-single': { summary: 'a container port range is published on a single host port' },
  'port-pool-in-kleene': { summary: 'Kleene syntax maps a host port range onto a single container port' },
  'port-protocol': { summary: 'the protocol is missing, unknown or not supported by the syntax' },
  'port-too-many-fields': { summary: 'a port spec has more `:` or `/` separated fields than its syntax allows' },
  'port-interface-name': { summary: 'an interface name is not one pf accepts' },
  'port-interface-in-docker': { summary: 'Docker syntax has a host address, not an interface, before the host port' },
  'port-address-in-kleene': { summary: 'Kleene syntax has an interface, not an address, before the host port' },
  'port-address-invalid': { summary: 'a host address or source network is not a valid IP address or network' },
  'port-from-host-bits': { summary: 'a source network has bits set beyond its prefix length' },
  'port-family': { summary: 'an address family is neither inet nor inet6' },
  'port-family-mismatch': { summary: 'addresses or the family of one port entry belong to different families' },
  'port-name': { summary: 'a port name is not a safe label (letters, digits, _ . -, at most 32)' },
  'port-mode': { summary: 'a long-form mode other than host (ingress is Docker Swarm only)' },
  'port-long-type': { summary: 'a port entry or one of its values has the wrong type' },
  'port-long-key': { summary: 'a long-form port entry has a key it does not know' },
  'port-long-missing-target': { summary: 'a long-form port entry has no target (container port)' },
  'port-long-conflict': { summary: 'a port entry uses keys that exclude each other' },
  'port-long-empty': { summary: 'a list in a port entry (interfaces, from) is empty' },
  'port-long-duplicate': { summary: 'a list in a port entry names the same value twice' },
  'port-sctp-translation': {
    summary:
      'an sctp entry whose host port differs from its container port: pf never rewrites SCTP ports, so publish the same port on both sides',
  },
} as const satisfies Record<string, CodeInfo>;

export type PortCode = keyof typeof portCodes;
