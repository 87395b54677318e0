// `pfexpose import docker-run FILE`: `docker run` (and `docker create`, `docker container run`)
// command lines, as kept in a script or a README. Each command is one container: --name names it,
// -p/--publish are its ports (Docker's grammar, the same as the manifest's docker syntax), --expose
// and -P its declared ports, --link its links, --ip/--ip6 its addresses. Other commands in the file
// (docker network create, set -e) are not containers and are passed over.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { located } from '../diagnostics/diagnostic.js';
import { parseExpose } from '../manifest/parse-expose.js';
import { describeAddressProblem, parseAddress } from '../ports/address.js';
import { parseDockerPort } from '../ports/parse-docker-port.js';
import type { PortSpec } from '../ports/port-spec.js';
import { quoteText } from '../text/quote-text.js';
import { describeContainerNameProblem } from './container-name.js';
import type { ImportedContainer, ImportSource, ReadResult } from './imported-container.js';
import { emptyContainer } from './imported-container.js';
import type { FlagValue } from './read-command-flags.js';
import { flagTable, readCommandFlags } from './read-command-flags.js';
import type { SourcePlaces } from './source-places.js';
import { portDiagnostics, sourcePlaces } from './source-places.js';
import type { Word } from './split-command-line.js';
import { runArguments, splitCommandLines, wordRange } from './split-command-line.js';

// docker/cli's container options (cli/command/container/opts.go) and those of run and create.
const DOCKER_RUN_FLAGS = flagTable(
  [
    ['-a', '--attach'],
    ['--add-host'],
    ['--annotation'],
    ['--blkio-weight'],
    ['--blkio-weight-device'],
    ['--cap-add'],
    ['--cap-drop'],
    ['--cgroup-parent'],
    ['--cgroupns'],
    ['--cidfile'],
    ['--cpu-count'],
    ['--cpu-percent'],
    ['--cpu-period'],
    ['--cpu-quota'],
    ['--cpu-rt-period'],
    ['--cpu-rt-runtime'],
    ['-c', '--cpu-shares'],
    ['--cpus'],
    ['--cpuset-cpus'],
    ['--cpuset-mems'],
    ['--detach-keys'],
    ['--device'],
    ['--device-cgroup-rule'],
    ['--device-read-bps'],
    ['--device-read-iops'],
    ['--device-write-bps'],
    ['--device-write-iops'],
    ['--dns'],
    ['--dns-opt'],
    ['--dns-option'],
    ['--dns-search'],
    ['--domainname'],
    ['--entrypoint'],
    ['-e', '--env'],
    ['--env-file'],
    ['--expose'],
    ['--gpus'],
    ['--group-add'],
    ['--health-cmd'],
    ['--health-interval'],
    ['--health-retries'],
    ['--health-start-interval'],
    ['--health-start-period'],
    ['--health-timeout'],
    ['-h', '--hostname'],
    ['--io-maxbandwidth'],
    ['--io-maxiops'],
    ['--ip'],
    ['--ip6'],
    ['--ipc'],
    ['--isolation'],
    ['--kernel-memory'],
    ['-l', '--label'],
    ['--label-file'],
    ['--link'],
    ['--link-local-ip'],
    ['--log-driver'],
    ['--log-opt'],
    ['--mac-address'],
    ['-m', '--memory'],
    ['--memory-reservation'],
    ['--memory-swap'],
    ['--memory-swappiness'],
    ['--mount'],
    ['--name'],
    ['--net', '--network'],
    ['--net-alias', '--network-alias'],
    ['--oom-score-adj'],
    ['--pid'],
    ['--pids-limit'],
    ['--platform'],
    ['-p', '--publish'],
    ['--pull'],
    ['--restart'],
    ['--runtime'],
    ['--security-opt'],
    ['--shm-size'],
    ['--stop-signal'],
    ['--stop-timeout'],
    ['--storage-opt'],
    ['--sysctl'],
    ['--tmpfs'],
    ['--ulimit'],
    ['-u', '--user'],
    ['--userns'],
    ['--uts'],
    ['-v', '--volume'],
    ['--volume-driver'],
    ['--volumes-from'],
    ['-w', '--workdir'],
  ],
  [
    ['-d', '--detach'],
    ['-i', '--interactive'],
    ['-t', '--tty'],
    ['--init'],
    ['--privileged'],
    ['-P', '--publish-all'],
    ['--read-only'],
    ['--rm'],
    ['--sig-proxy'],
    ['--disable-content-trust'],
    ['--no-healthcheck'],
    ['--oom-kill-disable'],
    ['-q', '--quiet'],
    ['--use-api-socket'],
    ['--help'],
  ],
);

/** The options whose values reach the manifest: a shell expansion in them cannot be carried over. */
const CARRIED = new Set(['--name', '--publish', '--expose', '--link', '--ip', '--ip6', '--network']);

export function readDockerRun(source: ImportSource): ReadResult {
  const places = sourcePlaces(source.file, source.text);
  const split = splitCommandLines(source.text);
  if (!split.ok) {
    return {
      containers: [],
      diagnostics: [located('import-syntax', places.span(split.start, split.end), split.message)],
    };
  }
  const containers: ImportedContainer[] = [];
  const diagnostics: Diagnostic[] = [];
  let found = 0;
  for (const command of split.commands) {
    const args = runArguments(command, 'docker');
    if (args === null) continue;
    found++;
    const container = readOne(args.verb, args.rest, places, diagnostics);
    if (container !== null) containers.push(container);
  }
  if (found === 0) {
    diagnostics.push(
      located(
        'import-syntax',
        places.span(0, 0),
        'the file holds no docker run command: write one command per line, e.g. docker run --name web -p 8080:80 nginx',
      ),
    );
  }
  return { containers, diagnostics };
}

function readOne(verb: Word, words: Word[], places: SourcePlaces, diagnostics: Diagnostic[]): ImportedContainer | null {
  const at = (word: Word, from: number, to: number) => {
    const range = wordRange(word, from, to);
    return places.span(range.start, range.end);
  };
  const whole = (value: FlagValue) => at(value.word, value.from, value.word.text.length);
  const flags = readCommandFlags(words, DOCKER_RUN_FLAGS, `docker ${verb.text}`);
  if (!flags.ok) {
    diagnostics.push(located('import-syntax', at(flags.word, flags.from, flags.to), flags.message));
    return null;
  }
  const before = diagnostics.length;
  for (const value of flags.values) {
    if (CARRIED.has(value.flag) && value.word.expands) {
      diagnostics.push(
        located(
          'import-unsupported',
          whole(value),
          `${value.flag} ${quoteText(value.text)} holds a shell expansion ($ or a backquote) that only the shell running the command could resolve`,
          'write the value itself',
        ),
      );
    }
  }
  if (diagnostics.length > before) return null;

  const names = flags.values.filter((v) => v.flag === '--name');
  const name = names[names.length - 1];
  const line = places.span(verb.start, verb.end).line;
  if (name === undefined) {
    diagnostics.push(
      located(
        'import-syntax',
        places.span(verb.start, verb.end),
        `docker ${verb.text} without --name: Docker would make up a name, and a manifest needs the container's own`,
        'add --name NAME to the command',
      ),
    );
    return null;
  }
  const nameProblem = describeContainerNameProblem(name.text);
  if (nameProblem !== null) {
    diagnostics.push(located('invalid-name', whole(name), nameProblem));
    return null;
  }
  const container = emptyContainer(name.text, whole(name), `line ${line}`, 'docker');
  container.publishAll = flags.bools.has('--publish-all');

  for (const value of flags.values) {
    const place = (start: number, end: number) => at(value.word, value.from + start, value.from + end);
    switch (value.flag) {
      case '--publish': {
        const spec = readPublish(value, place, diagnostics);
        if (spec !== null) container.ports.push({ spec, source: whole(value) });
        break;
      }
      case '--expose': {
        const parsed = parseExpose(value.text);
        if (parsed.ok) container.expose.push(value.text);
        else diagnostics.push(...portDiagnostics(parsed.errors, place, '--expose: '));
        break;
      }
      case '--link': {
        const [server = '', alias, extra] = value.text.split(':');
        const problem =
          describeContainerNameProblem(server.replace(/^\//, '')) ?? describeContainerNameProblem(alias ?? 'x');
        if (problem !== null || extra !== undefined) {
          diagnostics.push(
            located(
              'import-syntax',
              whole(value),
              `--link ${quoteText(value.text)} is not NAME or NAME:ALIAS${problem === null ? '' : `: ${problem}`}`,
            ),
          );
        } else {
          container.links.push({ container: server.replace(/^\//, ''), alias: alias ?? null, source: whole(value) });
        }
        break;
      }
      case '--ip':
      case '--ip6': {
        const family = value.flag === '--ip' ? 'inet' : 'inet6';
        const parsed = parseAddress(value.text);
        if (parsed === null || parsed.family !== family) {
          const problem =
            describeAddressProblem(value.text) ?? `it is not an ${family === 'inet' ? 'IPv4' : 'IPv6'} address`;
          diagnostics.push(
            located('invalid-address', whole(value), `${value.flag} ${quoteText(value.text)}: ${problem}`),
          );
        } else if (family === 'inet') {
          container.ip = { text: parsed.text, source: whole(value) };
        } else {
          container.ip6 = { text: parsed.text, source: whole(value) };
        }
        break;
      }
      case '--network':
        if (
          (value.text === 'host' || value.text === 'none') &&
          (container.ports.length > 0 || hasPublish(flags.values))
        ) {
          diagnostics.push(
            located(
              'import-unsupported',
              whole(value),
              `--network ${value.text}: Docker publishes no port of a container on the ${value.text} network, so there is nothing to carry over as Docker ran it`,
              'remove --network, or remove the -p options if the container really runs this way',
            ),
          );
        }
        break;
      default:
        break;
    }
  }
  return container;
}

function hasPublish(values: readonly FlagValue[]): boolean {
  return values.some((v) => v.flag === '--publish' || v.flag === '--publish-all');
}

/** `-p SPEC` in Docker's grammar, or the `target=80,published=8080,protocol=udp` form. */
function readPublish(
  value: FlagValue,
  place: (start: number, end: number) => ReturnType<SourcePlaces['span']>,
  diagnostics: Diagnostic[],
): PortSpec | null {
  if (!value.text.includes('=')) {
    const parsed = parseDockerPort(value.text);
    if (parsed.ok) return parsed.spec;
    diagnostics.push(...portDiagnostics(parsed.errors, place));
    return null;
  }
  // docker/cli turns this form into PUBLISHED:TARGET/PROTOCOL and reads that (host_ip is not used).
  const fields = new Map<string, { text: string; start: number }>();
  let offset = 0;
  for (const part of value.text.split(',')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const text = eq < 0 ? '' : part.slice(eq + 1);
    if (!['target', 'published', 'protocol', 'mode', 'host_ip'].includes(key)) {
      diagnostics.push(
        located(
          'import-syntax',
          place(offset, offset + part.length),
          `--publish ${quoteText(key)} is not a key of Docker's long publish form: use target, published, protocol or mode`,
        ),
      );
      return null;
    }
    fields.set(key, { text, start: offset + eq + 1 });
    offset += part.length + 1;
  }
  const mode = fields.get('mode');
  if (mode !== undefined && mode.text !== 'host') {
    diagnostics.push(
      located(
        'import-unsupported',
        place(mode.start, mode.start + mode.text.length),
        `mode=${mode.text} is Docker Swarm's routing mesh, which pf cannot provide`,
        'use mode=host, or leave mode out',
      ),
    );
    return null;
  }
  const hostIp = fields.get('host_ip');
  if (hostIp !== undefined) {
    diagnostics.push(
      located(
        'import-dropped',
        place(hostIp.start - 'host_ip='.length, hostIp.start + hostIp.text.length),
        'docker run does not use host_ip in this form, so the port is published on every address, as Docker did',
        'to publish on one address, write -p ADDRESS:PUBLISHED:TARGET',
        'warning',
      ),
    );
  }
  const target = fields.get('target');
  if (target === undefined || target.text === '') {
    diagnostics.push(
      located(
        'port-long-missing-target',
        place(0, value.text.length),
        '--publish needs target=PORT (the container port)',
      ),
    );
    return null;
  }
  const published = fields.get('published');
  const protocol = fields.get('protocol');
  const spec = `${published === undefined ? '' : `${published.text}:`}${target.text}${protocol === undefined ? '' : `/${protocol.text}`}`;
  const parsed = parseDockerPort(spec);
  if (parsed.ok) return parsed.spec;
  diagnostics.push(
    ...parsed.errors.map((error) =>
      located(error.code, place(target.start, target.start + target.text.length), error.message),
    ),
  );
  return null;
}
