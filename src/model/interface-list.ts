// What `ifconfig -l` printed, as the interfaces a host file's `interfaces:` allowlist should name:
// every name pf can take, minus the ones no exposure listens on (loopback, pflog, pfsync, enc and
// the epair halves that wire VNET jails). The output is external input: names are checked as a
// manifest's are before they reach a file.
import { compareStrings } from '../text/compare-strings.js';
import { isInterfaceName } from '../ports/interface-name.js';

const NOT_LISTENED_ON = /^(?:lo|pflog|pfsync|enc)[0-9]+$|^epair[0-9]+[ab]$/;

export function parseInterfaceList(text: string): string[] {
  const names = text.split(/\s+/).filter((name) => name !== '' && isInterfaceName(name) && !NOT_LISTENED_ON.test(name));
  return [...new Set(names)].sort(compareStrings);
}
