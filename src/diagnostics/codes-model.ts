// Codes for problems found when manifests are resolved into exposures (src/model/), including the
// lock file that records dynamically chosen host ports.
import type { CodeInfo } from './code-info.js';

export const modelCodes = {
  'duplicate-container': { summary: 'a container name is declared more than once for one host' },
  'host-required': { summary: 'the manifests describe several hosts and no --host selects one' },
  'unknown-host': { summary: '--host names a host that no manifest mentions' },
  'host-undeclared': { summary: 'a `host:` names a host that no `hosts:` declares, while the manifests declare hosts' },
  'container-without-host': { summary: 'a multi-host repository has a container that belongs to no host' },
  'host-fact-conflict': { summary: 'two declarations of one host disagree about a fact (gateway, interfaces, pool)' },
  'gateway-missing': { summary: 'an entry listens on the gateway interface but no gateway is known' },
  'interface-not-allowed': { summary: "an interface is not in the host's declared `interfaces` list" },
  'invalid-pool': { summary: 'a pool of dynamic host ports is not a valid port range' },
  'family-unavailable': { summary: 'an entry asks for an address family that the container has no address of' },
  'from-family': { summary: "an entry's `from` sources cover no address family the exposure could use" },
  'invalid-network': { summary: 'a `from` source is not an IPv4 or IPv6 address or network' },
  'link-unknown-container': { summary: 'a link names a container that no manifest declares' },
  'link-to-itself': { summary: 'a container links to itself' },
  'link-alias-duplicate': { summary: 'two links of one container use the same alias' },
  'link-other-host': { summary: 'a link names a container of another host: links join containers of one host' },
  'link-no-common-family': {
    summary: 'a link joins containers that share no address family (one has only ip, the other only ip6)',
  },
  'link-nothing-exposed': {
    summary: 'a warning: a link names a server that exposes no port (no `expose` entry and no published entry)',
  },
  'invalid-container-network': {
    summary: 'a host `networks` entry is not an IPv4 or IPv6 network in CIDR notation without host bits',
  },
  'port-conflict': { summary: 'two exposures claim the same listen side, family, protocol and host port' },
  'pool-full': { summary: 'no free block of host ports is left for a dynamic host port' },
  'lock-frozen': { summary: 'the lock file would have to change but --frozen forbids it' },
  'lock-moved': {
    summary: 'a host port recorded in the lock file moved: it is outside the pool now, or another lock entry holds it',
  },
  'lock-syntax': { summary: 'the lock file is not valid JSON' },
  'lock-schema': { summary: 'the lock file is JSON but not a version 1 pfexpose lock' },
} as const satisfies Record<string, CodeInfo>;
