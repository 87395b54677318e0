// Writes the manual pages man/pfexpose.8 and man/pfexpose.yaml.5 (mdoc) from the sources `--help`
// and editors already use: the commander program of dist/cli/main.js (every command, argument and
// option, and the notes each command prints after its options) and schema/pfexpose.schema.json
// (every key and its description). The prose around them is written here. Run after the build
// (`npm run build` does); output is deterministic: no date but MAN_DATE, no path, no host name.
//   node scripts/build-man.mjs [--out DIR]   (default: man/)
import { Buffer } from 'node:buffer';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { out: { type: 'string', default: join(root, 'man') } } });
const outDir = resolve(values.out);

/** The date both pages carry (mdoc's .Dd): change it when their content changes in substance. */
const MAN_DATE = 'December 6, 2026';

// ---- mdoc text ------------------------------------------------------------------------------

/**
 * Running text as mdoc input lines: backslashes escaped, a dash that starts a word (an option) as
 * \-, `code` as a quoted literal, one sentence per line (mandoc: "new sentence, new line"), and no
 * line starting with a control character.
 */
function prose(text) {
  const escaped = text
    .replace(/\\/g, '\\e')
    .replace(/(^|[\s(["'`=])(-{1,2})(?=[A-Za-z0-9])/g, (_m, before, dashes) => before + dashes.replace(/-/g, '\\-'))
    .replace(/`([^`]+)`/g, '\\(oq$1\\(cq')
    .replace(/\s+/g, ' ')
    .trim();
  if (escaped === '') return [];
  return escaped.split(/(?<=[.!?][)\]"']*) (?=[A-Z])/).flatMap(wrap);
}

/**
 * One sentence as lines of at most 80 bytes (mandoc's style limit; 78 leaves room for \\&). A line that
 * ends in the middle of the sentence with a full stop (e.g.) gets \& so roff does not end a sentence.
 */
function wrap(sentence) {
  const lines = [];
  let line = '';
  for (const word of sentence.split(' ')) {
    if (line !== '' && Buffer.byteLength(`${line} ${word}`) > 78) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines
    .map((l, i) => (i < lines.length - 1 && /[.!?][)\]"']*$/.test(l) ? `${l}\\&` : l))
    .flatMap(systemNames)
    .map((l) => (l.startsWith('.') && !l.startsWith('.\\') && /^\.(Fx|Pf) /.test(`${l} `) ? l : safeLine(l)));
}

/**
 * The operating system's name through mdoc's .Fx macro, as mandoc asks: `(FreeBSD's` becomes
 * `.Pf ( Fx Ns 's`, on a line of its own between the text before and after it.
 */
function systemNames(line) {
  if (!/\bFreeBSD\b/.test(line)) return [line];
  const out = [];
  let text = [];
  for (const word of line.split(' ')) {
    const match = /^([([]?)FreeBSD(.*)$/.exec(word);
    if (match === null) {
      text.push(word);
      continue;
    }
    if (text.length > 0) out.push(text.join(' '));
    text = [];
    const [, open, rest] = match;
    let macro = open === '' ? '.Fx' : `.Pf ${open} Fx`;
    const possessive = /^'s(.*)$/.exec(rest);
    const tail = possessive === null ? rest : possessive[1];
    if (possessive !== null) macro += " Ns 's";
    if (/^[.,;:)\]!?]*$/.test(tail)) macro += [...tail].map((c) => ` ${c}`).join('');
    else macro += ` Ns ${arg(tail)}`;
    out.push(macro);
  }
  if (text.length > 0) out.push(text.join(' '));
  return out;
}

/** A line of text that roff must not read as a request: a leading . or ' gets a zero-width \&. */
function safeLine(line) {
  return /^[.']/.test(line) ? `\\&${line}` : line;
}

/** One argument of a macro line, quoted when it holds a space or a quote. */
function arg(text) {
  const escaped = text.replace(/\\/g, '\\e');
  return /[\s"]/.test(escaped) ? `"${escaped.replace(/"/g, '\\(dq')}"` : escaped;
}

/** A literal display, as in an example: every line kept as written. */
function literal(lines, offset = 'indent') {
  return [`.Bd -literal -offset ${offset}`, ...lines.map((l) => safeLine(l.replace(/\\/g, '\\e'))), '.Ed'];
}

/** An option's flags as mdoc: `-o, --output <file>` -> `Fl o , Fl -output Ar file`. */
function flags(option) {
  const value = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1];
  const names = [option.short, option.long].filter((n) => n).map((n) => `Fl ${n.slice(1)}`);
  return `${names.join(' , ')}${value === undefined ? '' : ` Ar ${arg(value)}`}`;
}

/** The same option in a synopsis: the long name only, optional. */
function synopsisFlag(option) {
  const value = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1];
  const name = (option.long ?? option.short).slice(1);
  return `.Op Fl ${name}${value === undefined ? '' : ` Ar ${arg(value)}`}`;
}

/** A description as a sentence: a capital letter (pf and pfctl keep their small one) and a full stop. */
function sentence(text) {
  return text.replace(/^(?!pf)./, (c) => c.toUpperCase()).replace(/([^.])$/, '$1.');
}

function optionText(option) {
  let text = sentence(option.description);
  if (option.argChoices) text += ` One of: ${option.argChoices.join(', ')}.`;
  const shown = option.defaultValueDescription ?? option.defaultValue;
  if (shown !== undefined && shown !== false) text += ` Default: ${String(shown).replace(/^"(.*)"$/, '$1')}.`;
  return prose(text);
}

/**
 * The notes a command prints after its options, as mdoc: paragraphs of text; runs of indented
 * `KEY  text` lines (exit codes, the deployed states) as tag lists, a deeper-indented line
 * continuing the item above; other indented lines (examples) as literal displays.
 */
function notes(text) {
  const out = [];
  const lines = text.replace(/^\n+|\n+$/g, '').split('\n');
  let paragraph = [];
  let items = [];
  let display = [];
  const flush = () => {
    if (paragraph.length > 0) out.push('.Pp', ...prose(paragraph.join(' ')));
    if (items.length > 0) {
      out.push('.Bl -tag -width Ds -compact');
      for (const [key, value] of items) out.push(`.It ${arg(key).replace(/-/g, '\\-')}`, ...prose(value));
      out.push('.El');
    }
    if (display.length > 0) out.push(...literal(display));
    paragraph = [];
    items = [];
    display = [];
  };
  for (const line of lines) {
    const item = /^ {2}(\S.*?) {2,}(\S.*)$/.exec(line);
    if (line.trim() === '') flush();
    else if (!line.startsWith(' ')) {
      if (items.length > 0 || display.length > 0) flush();
      paragraph.push(line);
    } else if (item) {
      if (paragraph.length > 0 || display.length > 0) flush();
      items.push([item[1], item[2]]);
    } else if (/^ {3,}\S/.test(line) && items.length > 0) {
      const last = items[items.length - 1];
      last[1] += ` ${line.trim()}`;
    } else {
      if (paragraph.length > 0 || items.length > 0) flush();
      display.push(line.trim());
    }
  }
  flush();
  return out;
}

// ---- pfexpose.8 ---------------------------------------------------------------------------------

async function commandPage() {
  const { buildProgram } = await import(pathToFileURL(join(root, 'dist', 'cli', 'main.js')).href);
  let captured = '';
  const output = { write: (s) => void (captured += s), isTTY: false };
  const program = await buildProgram({ stdout: output, stderr: output, env: {}, cwd: '/', exitCode: 0 });
  const commands = program.commands.filter((c) => c.name() !== 'help');
  const visible = (command) => command.options.filter((o) => !o.hidden && o.long !== '--help');
  const argumentsOf = (command) =>
    command.registeredArguments.map((a) => {
      const name = `Ar ${arg(a.name())}${a.variadic ? ' ...' : ''}`;
      return a.required ? `.${name}` : `.Op ${name}`;
    });
  /** What the command prints after its options: its full help minus commander's part. */
  const after = (command) => {
    captured = '';
    command.outputHelp();
    const own = command.helpInformation();
    return captured.startsWith(own) ? captured.slice(own.length) : '';
  };

  const lines = [
    `.Dd ${MAN_DATE}`,
    '.Dt PFEXPOSE 8',
    '.Os',
    '.Sh NAME',
    '.Nm pfexpose',
    `.Nd ${program
      .description()
      .replace(/\.$/, '')
      .replace(/^./, (c) => c.toLowerCase())}`,
    '.Sh SYNOPSIS',
  ];
  for (const command of commands) {
    lines.push('.Nm', `.Cm ${command.name()}`, ...visible(command).map(synopsisFlag), ...argumentsOf(command));
  }
  lines.push('.Nm', '.Fl V | -version', '.Nm', '.Op Ar command', '.Fl h | -help');
  lines.push(
    '.Sh DESCRIPTION',
    ...prose(
      'pfexpose keeps the port exposures of containers (FreeBSD jails) in YAML manifests, usually in ' +
        'a git repository, and compiles them into a deterministic pf ruleset: the same manifests give ' +
        'the same bytes. It shows what would change against what pf holds, and loads the ruleset ' +
        'atomically into its own pf anchor, by hand or as an agent that follows the manifests.',
    ),
    '.Pp',
    ...prose(
      'A PATH argument is a manifest file or a directory, searched recursively for `*.yaml` and `*.yml` ' +
        'files (dot-files, dot-directories and `node_modules` are skipped, and so are files a ' +
        '`.pfexposeignore` at the root of the directory lists). With no PATH, the current directory is ' +
        'read. The manifest format is described in',
    ),
    '.Xr pfexpose.yaml 5 .',
    '.Pp',
    ...prose(
      'Every problem found in the manifests is reported as a diagnostic with a code, the file, line and ' +
        'column, and what would be right; no input makes pfexpose print a stack trace.',
    ),
    '.Pp',
    'The commands are:',
    '.Bl -tag -width Ds',
  );
  for (const command of commands) {
    const usage = argumentsOf(command).map((l) => l.slice(1));
    lines.push(`.It Cm ${command.name()}${usage.length > 0 ? ` ${usage.join(' ')}` : ''}`);
    lines.push(...prose(sentence(command.description())));
    const args = command.registeredArguments.filter((a) => a.description);
    if (args.length > 0 || visible(command).length > 0) lines.push('.Bl -tag -width Ds');
    for (const a of args) {
      let text = sentence(a.description);
      if (a.defaultValue !== undefined) text += ` Default: ${String(a.defaultValueDescription ?? a.defaultValue)}.`;
      lines.push(`.It Ar ${arg(a.name())}`, ...prose(text));
    }
    for (const option of visible(command)) lines.push(`.It ${flags(option)}`, ...optionText(option));
    if (args.length > 0 || visible(command).length > 0) lines.push('.El');
    lines.push(...notes(after(command)));
  }
  lines.push(
    '.El',
    '.Pp',
    'Every command takes',
    '.Fl h , Fl -help ,',
    'which prints its options and notes, and',
    '.Nm',
    '.Fl V , Fl -version',
    'prints the version.',
    '.Sh ENVIRONMENT',
    '.Bl -tag -width Ds',
    '.It Ev PFEXPOSE_PFCTL',
    ...prose('The pfctl program, when no `--pfctl` is given. Default: `pfctl` from PATH.'),
    '.It Ev PFEXPOSE_ROUTE',
    ...prose('The route program that finds the gateway interface, when no `--route` is given. Default: `route`.'),
    '.It Ev PFEXPOSE_JLS',
    ...prose(
      'The jls program apply, plan --live, status and watch ask which jails run and hold which addresses, when no `--jls` is given; `none` turns the check off. Default: `jls` on FreeBSD, none elsewhere.',
    ),
    '.It Ev PFEXPOSE_IFCONFIG',
    ...prose(
      "The ifconfig program `init` asks for the host's interfaces (`ifconfig -l`). Default: `ifconfig` from PATH.",
    ),
    '.It Ev PFEXPOSE_STATE_DIR',
    ...prose('The state directory, when no `--state-dir` is given. Default: /var/db/pfexpose.'),
    '.It Ev PFEXPOSE_LOGGER',
    ...prose(
      'The logger program through which the watchdog of `apply --confirm` reports a revert to syslog. ' +
        'Default: `logger` from PATH.',
    ),
    '.It Ev PFEXPOSE_DEBUG',
    ...prose('Set to any value: an internal error prints its stack trace.'),
    '.It Ev NO_COLOR',
    ...prose('Set to a non-empty value: no colours, even on a terminal. So does `TERM=dumb`.'),
    '.It Ev GITHUB_STEP_SUMMARY',
    ...prose('With `plan --format github`: the file the markdown plan is appended to (set by GitHub Actions).'),
    '.El',
    '.Sh FILES',
    '.Bl -tag -width Ds',
    '.It Pa pfexpose.lock.json',
    ...prose(
      'The host ports the compiler chose for dynamic entries, beside the manifests (the nearest one in ' +
        'their directory or above it, up to the repository root); commit it with them.',
    ),
    '.It Pa .pfexposeignore',
    ...prose('Files to skip in a directory PATH, in gitignore syntax.'),
    '.It Pa /var/db/pfexpose',
    ...prose(
      'The state directory: `current.json` and `current.pf` (what was applied last), `history/`, ' +
        '`pending-confirm.json` (an apply awaiting `confirm`), the `lock` and `confirm-watchdog.log`. ' +
        'It is created mode 0700 at the first apply.',
    ),
    '.It Pa /etc/pf.conf',
    ...prose(
      'Must call the anchor: `rdr-anchor "pfexpose"` in the translation rules and `anchor "pfexpose"` ' +
        'among the filter rules; `apply` and `plan --live` print the lines to add when they are missing.',
    ),
    '.It Pa /usr/local/etc/rc.d/pfexpose',
    ...prose(
      "The rc.d script that runs `pfexpose watch` under daemon(8), installed from the package's " +
        '`contrib/rc.d/pfexpose`; see rc.conf variables in the script.',
    ),
    '.El',
    '.Sh EXIT STATUS',
    ...prose(
      'Each command lists its own exit codes above. In general: 0 success, 1 invalid manifests or a ' +
        'refused or failed change (pf holds what it held before), 2 a usage or internal error. `plan` ' +
        "follows terraform's `-detailed-exitcode`: 0 no changes, 1 an error (usage errors included), " +
        '2 changes.',
    ),
    '.Sh EXAMPLES',
    ...prose('Check the manifests of a repository, as a pre-commit hook or CI would:'),
    ...literal(['$ pfexpose validate hosts/']),
    '.Pp',
    ...prose('Show what applying would change on this host, then apply it with a safety net of 60 seconds:'),
    ...literal([
      '# pfexpose plan --live /usr/local/etc/pfexpose',
      '# pfexpose apply --confirm 60s /usr/local/etc/pfexpose',
      '# pfexpose confirm',
    ]),
    '.Pp',
    ...prose('Compare the manifests with those of the main branch:'),
    ...literal(['$ pfexpose plan hosts/ --base origin/main']),
    '.Pp',
    ...prose('Where port 80 of container web is published:'),
    ...literal(['$ pfexpose port web 80 -m hosts/']),
    '.Pp',
    ...prose('Run the agent at boot:'),
    ...literal([
      '# sysrc pfexpose_enable=YES pfexpose_paths=/usr/local/etc/pfexpose',
      '# sysrc pfexpose_flags="--frozen --interval 60s"',
      '# service pfexpose start',
    ]),
    '.Sh SEE ALSO',
    '.Xr pf.conf 5 ,',
    '.Xr pfexpose.yaml 5 ,',
    '.Xr rc.conf 5 ,',
    '.Xr daemon 8 ,',
    '.Xr jail 8 ,',
    '.Xr pfctl 8',
  );
  return lines;
}

// ---- pfexpose.yaml.5 ----------------------------------------------------------------------------

function schemaPage() {
  const schema = JSON.parse(readFileSync(join(root, 'schema', 'pfexpose.schema.json'), 'utf8'));
  const defs = schema.$defs;
  const refName = (node) => node?.$ref?.replace('#/$defs/', '');
  const typeOf = (node) => {
    const target = refName(node) ? defs[refName(node)] : node;
    if (target.enum) return `one of ${target.enum.join(', ')}`;
    if (node.const !== undefined) return `the number ${node.const}`;
    const types = [target.type].flat().filter(Boolean);
    if (types.includes('object') && refName(node.additionalProperties)) return 'mapping';
    if (types.includes('array')) return 'list';
    return types.map((t) => ({ integer: 'number', string: 'string', boolean: 'true or false' })[t] ?? t).join(' or ');
  };
  const keyList = (properties, required = []) => {
    const out = ['.Bl -tag -width Ds'];
    for (const [key, node] of Object.entries(properties)) {
      const facts = [typeOf(node)];
      if (required.includes(key)) facts.push('required');
      if (node.default !== undefined) facts.push(`default ${JSON.stringify(node.default)}`);
      out.push(`.It Ic ${arg(key)} Pq ${arg(facts.join(', '))}`, ...prose(node.description));
      const sample = node.examples?.[0];
      if (sample !== undefined) {
        out.push(...prose(`Example: \`${typeof sample === 'string' ? sample : JSON.stringify(sample)}\`.`));
      }
    }
    out.push('.El');
    return out;
  };
  const example = (file) =>
    literal(
      readFileSync(join(root, 'examples', file), 'utf8')
        .trimEnd()
        .split('\n'),
    );

  return [
    `.Dd ${MAN_DATE}`,
    '.Dt PFEXPOSE.YAML 5',
    '.Os',
    '.Sh NAME',
    '.Nm pfexpose.yaml',
    '.Nd manifest format of pfexpose, version 1',
    '.Sh DESCRIPTION',
    ...prose(
      'The manifests that pfexpose(8) reads are YAML files (`*.yaml`, `*.yml`), each of one or more ' +
        'documents separated by `---`. A repository may hold any number of them; the compiler reads ' +
        'them all. Every document is checked against the JSON Schema `schema/pfexpose.schema.json` that ' +
        'comes with pfexpose; an editor with yaml-language-server completes and checks keys when a file ' +
        'starts with',
    ),
    ...literal(['# yaml-language-server: $schema=PATH/TO/pfexpose.schema.json']),
    '.Pp',
    ...prose(
      'Unknown keys are errors (`unknown-key`), and so is every value the format does not allow; ' +
        'pfexpose validate reports each at its file, line and column.',
    ),
    '.Ss Document keys',
    ...prose(schema.description),
    ...keyList(schema.properties, schema.required),
    '.Ss Host keys',
    ...prose(`Each entry of \`hosts\`, keyed by host name. ${defs.hostDeclaration.description}`),
    ...keyList(defs.hostDeclaration.properties),
    '.Ss Container keys',
    ...prose(`Each entry of \`containers\`, keyed by container name. ${defs.container.description}`),
    ...keyList(defs.container.properties),
    '.Ss Port entries',
    ...prose(
      "An entry of `ports` is a number, a string in the container's short syntax, or an object. The " +
        "two short syntaxes read the same text differently (`8080` is a host port in Kleene's and a " +
        "container port in Docker's), so the syntax is declared by the document or the container " +
        '(`syntax`, default `kleene`), never guessed.',
    ),
    '.Bl -tag -width Ds',
    '.It Kleene',
    ...prose(defs.kleenePort.properties.kleene.description),
    ...prose(
      "Protocols `tcp` (the default) and `udp`. No interface: the host's gateway interface. Examples: " +
        '`8080`, `8080:80/udp`, `em0:8443:443`, `9000-9010:9000-9010`.',
    ),
    '.It Docker',
    ...prose(defs.dockerPort.properties.docker.description),
    ...prose(
      'Protocols `tcp`, `udp` and `sctp`; an IPv6 host address in brackets (`[::1]:80:80`) or without. ' +
        'Examples: `80`, `127.0.0.1:8081:80`, `[::1]::53/udp`, `8000-8010:80`.',
    ),
    '.El',
    '.Pp',
    ...prose(
      'An sctp entry must keep its port (pf rewrites the address of an SCTP packet, never its port): ' +
        '`80:80/sctp`, not `8203:80/sctp`.',
    ),
    '.Pp',
    ...prose(defs.longPort.description),
    ...keyList(defs.longPort.properties, defs.longPort.required),
    '.Pp',
    ...prose(
      'An object with a `kleene` or a `docker` key is one entry in that syntax, whatever the ' +
        "container's syntax (`{kleene: SPEC}`, `{docker: SPEC}`); these are its keys:",
    ),
    ...keyList(
      Object.fromEntries(
        Object.entries({ ...defs.kleenePort.properties, ...defs.dockerPort.properties }).sort(([a], [b]) =>
          a < b ? -1 : a > b ? 1 : 0,
        ),
      ),
    ),
    '.Ss Names and values',
    '.Bl -tag -width Ds',
    ...[
      ['host name', 'hostName'],
      ['container name', 'containerName'],
      ['interface', 'interfaceName'],
      ['port name', 'portName'],
      ['ip', 'ipv4'],
      ['ip6', 'ipv6'],
      ['host address', 'hostAddress'],
      ['source network', 'network'],
      ['port', 'portOrRange'],
      ['pool', null],
    ].flatMap(([label, def]) => [
      `.It ${arg(label)}`,
      ...prose(def === null ? defs.hostDeclaration.properties.pool.description : defs[def].description),
    ]),
    '.El',
    '.Sh FILES',
    '.Bl -tag -width Ds',
    '.It Pa pfexpose.lock.json',
    ...prose(
      'Beside the manifests: the host ports the compiler chose for dynamic entries, so that they stay ' +
        'where they are. Written by pfexpose compile; commit it with the manifests.',
    ),
    '.El',
    '.Sh EXAMPLES',
    'A host declaration:',
    ...example('host.yaml'),
    '.Pp',
    'Containers in Kleene syntax, the long form and Docker syntax:',
    ...example('web.yaml'),
    '.Sh SEE ALSO',
    '.Xr pf.conf 5 ,',
    '.Xr pfexpose 8',
  ];
}

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'pfexpose.8'), `${(await commandPage()).join('\n')}\n`);
writeFileSync(join(outDir, 'pfexpose.yaml.5'), `${schemaPage().join('\n')}\n`);
