/**
 * The operator's HTTP endpoints: `/metrics` (Prometheus text from the registry the whole
 * operator writes to), `/healthz` (the process is alive and its event loop turns) and
 * `/readyz` (every readiness check passes, e.g. informers synced).
 *
 * @module
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A named readiness check; `true` means ready, a string explains why not. */
export type ReadinessCheck = () => true | string;

/** A running endpoint server. */
export interface OperatorHttpServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Parses `host:port` / `:port` (controller-runtime's flag form); `0` picks a free port. */
export function parseBindAddress(value: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(value);
  if (!match) throw new Error(`bind address "${value}" is not host:port`);
  const port = Number(match[2]);
  if (port > 65535) throw new Error(`bind address "${value}" has an invalid port`);
  return { host: match[1] || '0.0.0.0', port };
}

/**
 * Serves the endpoints on `bind`. Readiness checks are evaluated per request, so `/readyz`
 * reflects the state at that moment.
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * import { startOperatorHttp } from 'elasti-informer/health';
 *
 * const server = await startOperatorHttp(':8080', new Registry(), { informers: () => informer.hasSynced() || 'not synced' });
 * // GET /metrics, /healthz, /readyz; later: await server.close();
 * ```
 */
export async function startOperatorHttp(
  bind: string,
  registry: Registry,
  readiness: Record<string, ReadinessCheck>,
): Promise<OperatorHttpServer> {
  const { host, port } = parseBindAddress(bind);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`metrics failed: ${String(error)}\n`);
        },
      );
      return;
    }
    if (path === '/healthz' || path === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
      return;
    }
    if (path === '/readyz') {
      const failing = Object.entries(readiness)
        .map(([name, check]) => [name, safeCheck(check)] as const)
        .filter(([, result]) => result !== true);
      res.writeHead(failing.length === 0 ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(failing.length === 0 ? 'ok\n' : `${failing.map(([n, why]) => `${n}: ${why}`).join('\n')}\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  server.listen(port, host);
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function safeCheck(check: ReadinessCheck): true | string {
  try {
    return check();
  } catch (error) {
    return `check failed: ${String(error)}`;
  }
}
