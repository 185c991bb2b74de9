/**
 * The operator's HTTP endpoints: `/metrics` (Prometheus text from the registry the whole
 * operator writes to), `/healthz` (the process is alive and its event loop turns) and
 * `/readyz` (every readiness check passes, e.g. informers synced).
 *
 * The two groups — metrics, and the probes (`/healthz`, `/livez`, `/readyz`) — are separate
 * route sets, so they can be served on one address (today's `--bind-address`) or on two
 * (controller-runtime's `--metrics-bind-address` / `--health-probe-bind-address`), and each can
 * be turned off with the address `0` (controller-runtime's convention).
 *
 * @module
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import { type AddressInfo, isIPv4, isIPv6 } from 'node:net';
import type { Registry } from 'prom-client';

/**
 * `node:http` through `process.getBuiltinModule`, not an ES `import`: importing a built-in as an
 * ES module builds its namespace from every export, and `node:http`'s exports include lazy
 * getters that load Node's own bundled undici (fetch, WebSocket, web streams): 13 MiB more RSS
 * for an HTTP server that uses none of it (measured: `import('node:http')` +16.5 MiB, this
 * +3.4 MiB). Exported for the operator's other server (`scaling/server.ts`).
 */
export const nodeHttp: typeof import('node:http') = process.getBuiltinModule('node:http');
const { createServer } = nodeHttp;

/** A named readiness check; `true` means ready, a string explains why not. */
export type ReadinessCheck = () => true | string;

/** A running endpoint server. */
export interface OperatorHttpServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Where to listen. `host` undefined means every interface, IPv6 and IPv4 where the machine has
 * them (Node's default, like Go's `:8080`).
 */
export interface BindAddress {
  readonly host: string | undefined;
  readonly port: number;
}

/** A bind address that is not `host:port`, `:port`, `[ipv6]:port` or `0`. */
export class BindAddressError extends Error {
  override readonly name = 'BindAddressError';
  readonly value: string;
  constructor(value: string, problem: string) {
    super(`bind address ${JSON.stringify(value)} ${problem}`);
    this.value = value;
  }
}

/** The address that turns an endpoint off (controller-runtime's convention). */
export const DISABLED_BIND_ADDRESS = '0';

const HOSTNAME =
  /^(?=.{1,253}$)[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*$/;

/**
 * Parses controller-runtime's bind address forms: `host:port`, `:port` (every interface),
 * `[ipv6]:port` (e.g. `[::]:8080`), and `0` (disabled: returns `undefined`). Port `0` picks a
 * free port.
 *
 * @throws {BindAddressError} naming what is wrong.
 */
export function parseBindAddress(value: string): BindAddress | undefined {
  if (value === DISABLED_BIND_ADDRESS) return undefined;
  const match = /^(.*):([^:\]]*)$/.exec(value);
  if (!match) throw new BindAddressError(value, 'is not host:port, :port, [ipv6]:port or 0 (disabled)');
  const [, rawHost = '', rawPort = ''] = match;
  if (!/^\d{1,5}$/.test(rawPort) || Number(rawPort) > 65535) {
    throw new BindAddressError(value, `has an invalid port ${JSON.stringify(rawPort)} (0..65535)`);
  }
  const port = Number(rawPort);
  if (rawHost === '') return { host: undefined, port };
  if (rawHost.startsWith('[') && rawHost.endsWith(']')) {
    const inner = rawHost.slice(1, -1);
    if (!isIPv6(inner)) throw new BindAddressError(value, `has an invalid IPv6 address ${inner}`);
    return { host: inner, port };
  }
  if (isIPv6(rawHost))
    throw new BindAddressError(value, `needs brackets around the IPv6 address: [${rawHost}]:${port}`);
  if (isIPv4(rawHost) || HOSTNAME.test(rawHost)) return { host: rawHost, port };
  throw new BindAddressError(value, `has an invalid host ${JSON.stringify(rawHost)}`);
}

/** What one server serves: the metrics route, the probe routes, or both. */
export interface EndpointRoutes {
  /** Serve `/metrics` from this registry. */
  metrics?: Registry | undefined;
  /** Serve `/healthz`, `/livez` and `/readyz` (evaluating these checks per request). */
  probes?: Record<string, ReadinessCheck> | undefined;
}

/** The endpoint server could not listen (address in use, not an address of this machine…). */
export class EndpointListenError extends Error {
  override readonly name = 'EndpointListenError';
  constructor(bind: string, routes: string, cause: unknown) {
    super(`cannot serve ${routes} on ${bind}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

/**
 * Serves `routes` on `bind` (a string in the forms {@link parseBindAddress} takes). Resolves to
 * `undefined` when `bind` is `0` (disabled). Readiness checks are evaluated per request, so
 * `/readyz` reflects the state at that moment.
 *
 * @throws {BindAddressError} for a malformed address, {@link EndpointListenError} when it cannot listen.
 */
export async function startEndpointServer(
  bind: string,
  routes: EndpointRoutes,
): Promise<OperatorHttpServer | undefined> {
  const address = parseBindAddress(bind);
  if (!address) return undefined;
  const { metrics, probes } = routes;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (metrics && path === '/metrics') {
      metrics.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.contentType });
          res.end(text);
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`metrics failed: ${String(error)}\n`);
        },
      );
      return;
    }
    if (probes && (path === '/healthz' || path === '/livez')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
      return;
    }
    if (probes && path === '/readyz') {
      const failing = Object.entries(probes)
        .map(([name, check]) => [name, safeCheck(check)] as const)
        .filter(([, result]) => result !== true);
      res.writeHead(failing.length === 0 ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(failing.length === 0 ? 'ok\n' : `${failing.map(([n, why]) => `${n}: ${why}`).join('\n')}\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  try {
    server.listen(address.port, address.host);
    await once(server, 'listening');
  } catch (error) {
    const served = [metrics ? '/metrics' : '', probes ? '/healthz, /readyz' : ''].filter(Boolean).join(', ');
    throw new EndpointListenError(bind, served, error);
  }
  return listeningServer(server);
}

/**
 * A listening server as a handle: its port, and a `close` that ends kept-alive connections too
 * (a plain `server.close` would wait for every idle keep-alive socket to time out).
 */
export function listeningServer(server: Server): OperatorHttpServer {
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Serves `/metrics`, `/healthz` and `/readyz` together on `bind` (the operator's
 * `--bind-address`); `undefined` when `bind` is `0`.
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * import { startOperatorHttp } from 'elasti-informer/health';
 *
 * const server = await startOperatorHttp(':8080', new Registry(), { informers: () => informer.hasSynced() || 'not synced' });
 * // GET /metrics, /healthz, /readyz; later: await server?.close();
 * ```
 */
export function startOperatorHttp(
  bind: string,
  registry: Registry,
  readiness: Record<string, ReadinessCheck>,
): Promise<OperatorHttpServer | undefined> {
  return startEndpointServer(bind, { metrics: registry, probes: readiness });
}

function safeCheck(check: ReadinessCheck): true | string {
  try {
    return check();
  } catch (error) {
    return `check failed: ${String(error)}`;
  }
}
