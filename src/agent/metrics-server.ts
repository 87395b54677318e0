// Serves the agent's /metrics (Prometheus text format) and /healthz over plain node:http. It binds
// to loopback unless the operator allows otherwise: firewall state is not for the whole network.
// Its sockets are bounded (issue 9, M7): at most METRICS_MAX_CONNECTIONS at once (more are closed
// as soon as they are accepted), and none stays idle for long, so clients that connect and say
// nothing can never take the file descriptors the agent needs to read manifests and run pfctl.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { isIP } from 'node:net';
import type { AgentMetrics } from './agent-metrics.js';
import { quoteText } from '../text/quote-text.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** `127.0.0.1:9813`, `[::1]:9813` or `localhost:9813` (port 0: any free port). */
export function parseListenAddress(
  text: string,
): { ok: true; address: ListenAddress } | { ok: false; message: string } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (match === null || host === undefined || !Number.isInteger(port) || port > 65535) {
    return {
      ok: false,
      message: `--metrics ${quoteText(text)} is not ADDRESS:PORT (for example 127.0.0.1:9813 or [::1]:9813)`,
    };
  }
  if (match[1] !== undefined && isIP(host) !== 6) {
    return { ok: false, message: `--metrics ${quoteText(text)}: only an IPv6 address goes in brackets` };
  }
  if (isIP(host) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(host)) {
    return {
      ok: false,
      message: `--metrics ${quoteText(text)}: ${quoteText(host)} is not an address or host name`,
    };
  }
  return { ok: true, address: { host, port } };
}

/** Loopback only: 127.0.0.0/8, ::1, ::ffff:127.x and the name localhost. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return /^::ffff:127\./i.test(host);
}

export interface MetricsServer {
  /** The address and port actually bound (port 0 becomes the one the kernel chose). */
  address: ListenAddress;
  close(): Promise<void>;
}

export type ServeResult = { ok: true; server: MetricsServer } | { ok: false; message: string };

/** Connections served at once; a scraper and a health check need a handful. */
export const METRICS_MAX_CONNECTIONS = 32;
/** A connection that sends nothing (no request, or half a request) for this long is closed. */
export const METRICS_IDLE_MS = 10_000;
/** A connection kept alive between requests is closed after this long without a new one. */
export const METRICS_KEEP_ALIVE_MS = 5_000;

export interface ServeLimits {
  maxConnections?: number;
  idleMs?: number;
  keepAliveMs?: number;
}

export async function serveMetrics(
  address: ListenAddress,
  metrics: AgentMetrics,
  limits: ServeLimits = {},
): Promise<ServeResult> {
  const idleMs = limits.idleMs ?? METRICS_IDLE_MS;
  // The timeouts below are checked this often (Node's default is every 30 s).
  const server: Server = createServer(
    { connectionsCheckingInterval: Math.min(1000, idleMs), headersTimeout: idleMs, requestTimeout: idleMs },
    (request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response
          .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
          .end('method not allowed\n');
        return;
      }
      if (path === '/metrics') {
        response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        response.end(request.method === 'HEAD' ? undefined : metrics.render());
        return;
      }
      if (path === '/healthz') {
        const health = metrics.currentHealth();
        response.writeHead(health.healthy ? 200 : 503, { 'content-type': 'application/json' });
        response.end(request.method === 'HEAD' ? undefined : `${JSON.stringify(health)}\n`);
        return;
      }
      response
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('not found: try /metrics or /healthz\n');
    },
  );
  // A scraper that never reads, or never writes, must not pin sockets open.
  server.maxConnections = limits.maxConnections ?? METRICS_MAX_CONNECTIONS;
  server.keepAliveTimeout = Math.min(limits.keepAliveMs ?? METRICS_KEEP_ALIVE_MS, idleMs);
  server.maxRequestsPerSocket = 100;
  // Any socket silent this long is destroyed (no 'timeout' listener: Node destroys it).
  server.timeout = idleMs;
  server.on('drop', () => {
    metrics.connectionsRefused += 1;
  });
  return new Promise((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'EADDRINUSE'
          ? 'the port is in use by another program'
          : error.code === 'EADDRNOTAVAIL'
            ? 'this host has no such address'
            : error.code === 'EACCES'
              ? 'permission denied (ports below 1024 need root)'
              : error.message;
      resolve({ ok: false, message: `cannot serve metrics on ${formatAddress(address)}: ${why}` });
    });
    server.listen(address.port, address.host, () => {
      const bound = server.address();
      const port = typeof bound === 'object' && bound !== null ? bound.port : address.port;
      resolve({
        ok: true,
        server: {
          address: { host: address.host, port },
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              server.closeAllConnections();
            }),
        },
      });
    });
  });
}

export function formatAddress(address: ListenAddress): string {
  return isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
