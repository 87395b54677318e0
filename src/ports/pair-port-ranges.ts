// How a host port range and a container port range combine: one-to-one when both have the same
// length, a pool to pick one host port from when only the host side is a range (Docker and the
// long form; an error in Kleene syntax), an error when only the container side is a range.
import type { PortRange, PortSpecError, PortSyntax } from './port-spec.js';
import { portError } from './port-error.js';
import { formatPortRange, isPortRange, MAX_PORT, portRangeLength } from './port-number.js';

export type PairResult =
  { ok: true; hostPort: PortRange; hostPortIsPool: boolean } | { ok: false; errors: PortSpecError[] };

/** `start`/`end` locate both ports in the spec, for the error. */
export function pairPortRanges(
  host: PortRange,
  container: PortRange,
  syntax: PortSyntax,
  start: number,
  end: number,
): PairResult {
  const hostLength = portRangeLength(host);
  const containerLength = portRangeLength(container);
  if (hostLength === containerLength) return { ok: true, hostPort: host, hostPortIsPool: false };
  const hostText = formatPortRange(host);
  const containerText = formatPortRange(container);
  if (!isPortRange(container) && syntax !== 'kleene') {
    return { ok: true, hostPort: host, hostPortIsPool: true };
  }
  if (!isPortRange(container)) {
    return fail(
      'port-pool-in-kleene',
      `in Kleene syntax a host port range maps one-to-one, so ${hostText} needs a container range of ` +
        `${hostLength} ports (e.g. ${hostText}:${formatPortRange(sameLength(container.start, hostLength))}); ` +
        `to pick one free host port from ${hostText} for port ${containerText}, use docker syntax ` +
        `(${hostText}:${containerText}) or the long form (published: ${hostText}, target: ${containerText})`,
      start,
      end,
    );
  }
  if (!isPortRange(host)) {
    return fail(
      'port-range-to-single',
      `container ports ${containerText} cannot all be published on the single host port ${hostText}: ` +
        `publish them on a host range of the same length, e.g. ${formatPortRange(sameLength(host.start, containerLength))}`,
      start,
      end,
    );
  }
  return fail(
    'port-range-length',
    `host ports ${hostText} (${hostLength} ports) and container ports ${containerText} (${containerLength} ports) ` +
      `map one-to-one, so they must have the same length: e.g. host ports ` +
      `${formatPortRange(sameLength(host.start, containerLength))}`,
    start,
    end,
  );
}

/** A range of `length` ports from `from`, moved down when it would pass 65535. */
function sameLength(from: number, length: number): PortRange {
  const start = Math.min(from, MAX_PORT - length + 1);
  return { start, end: start + length - 1 };
}

function fail(code: Parameters<typeof portError>[0], message: string, start: number, end: number): PairResult {
  return { ok: false, errors: [portError(code, message, start, end)] };
}
