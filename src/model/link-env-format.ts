// The outputs of `pfexpose env`, from what describeClientLinks computed: `env` (KEY=VALUE lines, as
// env(1) prints them and `docker run --env-file` reads them), `sh` (export lines a POSIX shell can
// source), `json` and `hosts` (the /etc/hosts lines). Links come in their given (alias) order and
// each link's variables in Docker's order, so the same manifests always print the same bytes.
import { isShellVariableName, quoteShellWord } from '../text/quote-shell.js';
import type { ClientLinks } from './client-links.js';
import { formatHostsLine } from './link-hosts.js';

export const LINK_ENV_FORMATS = ['env', 'sh', 'json', 'hosts'] as const;
export type LinkEnvFormat = (typeof LINK_ENV_FORMATS)[number];

export interface ClientLinksJson {
  container: string;
  links: {
    alias: string;
    server: string;
    address: string | null;
    /** Name to value, keys in Docker's order. */
    variables: Record<string, string>;
    hosts: { address: string; names: string[] }[];
  }[];
}

export function formatClientLinks(links: ClientLinks, format: LinkEnvFormat): string {
  switch (format) {
    case 'env':
      return lines(links.links.flatMap((link) => link.variables.map(({ name, value }) => `${name}=${value}`)));
    case 'sh':
      return lines(
        links.links.flatMap((link) =>
          link.variables
            .filter(({ name }) => isShellVariableName(name))
            .map(({ name, value }) => `export ${name}=${quoteShellWord(value)}`),
        ),
      );
    case 'json':
      return `${JSON.stringify(clientLinksJson(links), null, 2)}\n`;
    case 'hosts':
      return lines(links.links.flatMap((link) => link.hosts.map(formatHostsLine)));
  }
}

/**
 * Variables the `sh` format leaves out because a shell cannot name them: an alias that starts with
 * a digit or holds a `.` (both allowed in container names) makes `1DB_PORT` or `MY.DB_PORT`. The
 * other formats carry them; a caller should say which were left out.
 */
export function namesShellCannotSet(links: ClientLinks): string[] {
  return links.links.flatMap((link) =>
    link.variables.filter(({ name }) => !isShellVariableName(name)).map(({ name }) => name),
  );
}

export function clientLinksJson(links: ClientLinks): ClientLinksJson {
  return {
    container: links.container,
    links: links.links.map((link) => {
      // Variable names are never array indices (they hold a `_`), so the keys keep this order.
      const variables = Object.fromEntries(link.variables.map(({ name, value }) => [name, value]));
      return {
        alias: link.alias,
        server: link.server,
        address: link.address,
        variables,
        hosts: link.hosts.map((h) => ({ address: h.address, names: [...h.names] })),
      };
    }),
  };
}

function lines(texts: string[]): string {
  return texts.map((text) => `${text}\n`).join('');
}
