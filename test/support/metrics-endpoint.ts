/** A `/metrics` endpoint served by this process (a test, the demo, a benchmark), for a real Prometheus to scrape. */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import type { Registry } from 'prom-client';

/** A running endpoint. */
export interface MetricsEndpoint {
  /** `127.0.0.1:<port>`, as a Prometheus scrape target names it. */
  readonly address: string;
  /** Scrapes served so far. */
  readonly scrapes: number;
}

/** An endpoint the caller closes. */
export interface ClosableMetricsEndpoint extends MetricsEndpoint {
  close(): Promise<void>;
}

/** Serves `registry` in the Prometheus text format at `http://127.0.0.1:<port>/metrics` until closed. */
export async function startMetricsEndpoint(registry: Registry): Promise<ClosableMetricsEndpoint> {
  let scrapes = 0;
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    scrapes++;
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    get scrapes() {
      return scrapes;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/**
 * Serves `registry` in the Prometheus text format at `http://127.0.0.1:<port>/metrics` until
 * the test ends.
 */
export async function serveMetrics(t: TestContext, registry: Registry): Promise<MetricsEndpoint> {
  const endpoint = await startMetricsEndpoint(registry);
  t.after(() => endpoint.close());
  return endpoint;
}
