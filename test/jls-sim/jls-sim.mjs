// A stand-in for FreeBSD's jls(8), for tests: `jls --libxo json [-d] [-v | PARAM ...]` over jails
// kept in $JLS_SIM_DIR/jails.json, printed the way jls.c emits them through libxo, with faults a
// test can switch on. test/jls-sim/README.md documents it.
//
// $JLS_SIM_DIR holds:
//   jails.json    [{"jid": N, "name": "web", "vnet": false, "dying": false,
//                   "ip4": ["10.0.0.2"], "ip6": [], "hostname": "...", "path": "..."}]
//                 (absent: no jail runs)
//   calls.log     one JSON line per run: {"time": ISO, "pid": N, "argv": [...]}
//   control.json  faults, all optional:
//     fail: "msg"            every run prints "jls: msg" and exits 1
//     hangMs: N | "forever"  every run sleeps this long first
//     output: "text"         printed as is on stdout instead of the jails (exit 0): garbage answers
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// The parameters jls.c knows how to print here (jail(8) has more; the stand-in refuses others).
const PARAMS = new Set(['jid', 'name', 'vnet', 'ip4.addr', 'ip6.addr', 'host.hostname', 'path', 'dying']);

export async function main(argv) {
  const dir = process.env.JLS_SIM_DIR;
  if (dir === undefined || dir === '') return finish(2, '', 'jls-sim: set JLS_SIM_DIR to the stand-in directory\n');
  appendFileSync(
    join(dir, 'calls.log'),
    `${JSON.stringify({ time: new Date().toISOString(), pid: process.pid, argv })}\n`,
  );
  const control = readJson(join(dir, 'control.json'), {});
  if (control.hangMs !== undefined) {
    if (control.hangMs === 'forever') await new Promise(() => setInterval(() => undefined, 60_000));
    else await new Promise((resolve) => setTimeout(resolve, Number(control.hangMs)));
  }
  if (typeof control.fail === 'string') return finish(1, '', `jls: ${control.fail}\n`);
  if (typeof control.output === 'string') return finish(0, control.output, '');

  let json = false;
  let dying = false;
  let verbose = false;
  const params = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--libxo') {
      json = argv[i + 1] === 'json';
      i += 1;
    } else if (arg === '--libxo=json') json = true;
    else if (arg === '-d' || arg === '-a') dying = true;
    else if (arg === '-v') verbose = true;
    else if (!arg.startsWith('-') && PARAMS.has(arg)) params.push(arg);
    else return finish(1, '', `jls: unknown parameter: ${arg}\nusage: jls [-dhNnqv] [-j jail] [param ...]\n`);
  }
  if (!json) return finish(2, '', 'jls-sim: only --libxo json output is simulated\n');
  const jails = readJson(join(dir, 'jails.json'), [])
    .filter((jail) => dying || jail.dying !== true)
    .sort((a, b) => a.jid - b.jid);
  const shown = jails.map((jail) =>
    verbose ? verboseJail(jail) : paramJail(jail, params.length > 0 ? params : ['jid', 'host.hostname', 'path']),
  );
  return finish(0, `${JSON.stringify({ __version: '2', 'jail-information': { jail: shown } })}\n`, '');
}

/** `-v`: jls.c's fixed layout (numbers for jid and cpusetid, address lists as ipv4_addrs / ipv6_addrs). */
function verboseJail(jail) {
  return {
    jid: jail.jid,
    hostname: jail.hostname ?? jail.name,
    path: jail.path ?? `/jails/${jail.name}`,
    name: jail.name,
    state: jail.dying === true ? 'DYING' : 'ACTIVE',
    cpusetid: jail.jid + 1,
    ipv4_addrs: jail.vnet === true ? [] : (jail.ip4 ?? []),
    ipv6_addrs: jail.vnet === true ? [] : (jail.ip6 ?? []),
  };
}

/** Parameters named on the command line: each exported as text under its own name, address lists as arrays. */
function paramJail(jail, params) {
  const out = {};
  for (const param of params) {
    if (param === 'jid') out.jid = String(jail.jid);
    else if (param === 'name') out.name = jail.name;
    else if (param === 'vnet') out.vnet = jail.vnet === true ? 'new' : 'inherit';
    else if (param === 'ip4.addr') out['ip4.addr'] = jail.vnet === true ? [] : (jail.ip4 ?? []);
    else if (param === 'ip6.addr') out['ip6.addr'] = jail.vnet === true ? [] : (jail.ip6 ?? []);
    else if (param === 'host.hostname') out['host.hostname'] = jail.hostname ?? jail.name;
    else if (param === 'path') out.path = jail.path ?? `/jails/${jail.name}`;
    else if (param === 'dying') out.dying = jail.dying === true ? 'true' : 'false';
  }
  return out;
}

function readJson(path, fallback) {
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : fallback;
}

function finish(code, stdout, stderr) {
  process.stdout.write(stdout);
  process.stderr.write(stderr);
  process.exitCode = code;
}
