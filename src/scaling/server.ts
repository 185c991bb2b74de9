/**
 * The operator's HTTP API for the resolver, where upstream's resolver calls it (port 8013,
 * `ELASTI_OPERATOR_PORT`; the chart's `…-operator-controller-service`):
 *
 * - `POST /informer/incoming-request` with `{"count":1,"svc":"<service>","namespace":"<ns>"}` →
 *   wakes the Service's target, then `200 {"message":"Request received successfully!"}`.
 *   Unlike upstream (200 first, whatever happens next) the answer says how it went: `400` for a
 *   malformed body, `404` when no ElastiService fronts the Service, `413` for a body over the
 *   limit, `422` for an invalid ElastiService, `500` when scaling failed, `503` while this
 *   replica does not serve (not the leader, or its caches not synced) — each with
 *   `{"error":"…"}`. The resolver logs a non-200 and asks again on its next retry.
 * - `GET /crd-cache` → the directory as upstream serves it (`crd-cache.ts`); `503` while not
 *   serving (an empty answer would make the resolver drop the probe rules it holds).
 * - `GET /metrics` → the operator's registry (upstream serves its metrics on this port too; the
 *   chart's scrape annotations point here).
 * - Other paths `404 page not found`; wrong methods `405` with upstream's texts.
 *
 * @module
 */
import { once } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../kube/index.ts';
import { listeningServer, nodeHttp } from '../runtime/index.ts';
import { type CrdCacheEntry, renderCrdCache } from './crd-cache.ts';
import { DEFAULT_RESOLVER_API_PORT } from './settings.ts';
import { InvalidElastiServiceError, UnknownServiceError } from './wake.ts';

/** What the API needs while this replica serves. */
export interface ResolverApiBackend {
  wake(namespace: string, service: string): Promise<unknown>;
  crdCache(): Iterable<CrdCacheEntry>;
}

/** Options of {@link startResolverApi}. */
export interface ResolverApiOptions {
  /** Default 8013. 0 picks a free port. */
  port?: number;
  /** Default all interfaces. */
  host?: string;
  /** The backend, or `undefined` while this replica does not serve. */
  backend: () => ResolverApiBackend | undefined;
  registry?: Registry;
  logger: Logger;
  /** Largest request body (bytes). Default 16 KiB (the resolver sends under 100 bytes). */
  maxBodyBytes?: number;
}

/** A running resolver API. */
export interface ResolverApiServer {
  readonly port: number;
  close(): Promise<void>;
}

const SUCCESS_BODY = JSON.stringify({ message: 'Request received successfully!' });

/** A request body that cannot be used; the message says why. */
export class BadRequestBodyError extends Error {
  override readonly name = 'BadRequestBodyError';
  readonly status: 400 | 413;
  constructor(message: string, status: 400 | 413 = 400) {
    super(message);
    this.status = status;
  }
}

/**
 * Parses the body of `/informer/incoming-request`: a JSON object with non-empty strings `svc`
 * and `namespace` and, if present, an integer `count`; other fields are ignored (as upstream).
 * @throws {BadRequestBodyError}
 */
export function parseIncomingRequest(text: string): {
  svc: string;
  namespace: string;
  count: number | undefined;
} {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new BadRequestBodyError(
      text.trim() === ''
        ? 'invalid request body: empty'
        : `invalid request body: not JSON (${(error as Error).message})`,
    );
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestBodyError(
      'invalid request body: must be a JSON object {"count":1,"svc":"…","namespace":"…"}',
    );
  }
  const { svc, namespace, count } = body as Record<string, unknown>;
  for (const [field, value] of [
    ['svc', svc],
    ['namespace', namespace],
  ] as const) {
    if (typeof value !== 'string' || value === '') {
      throw new BadRequestBodyError(`invalid request body: "${field}" must be a non-empty string`);
    }
  }
  if (count !== undefined && !(typeof count === 'number' && Number.isInteger(count))) {
    throw new BadRequestBodyError('invalid request body: "count" must be an integer');
  }
  return { svc: svc as string, namespace: namespace as string, count: count as number | undefined };
}

/** Starts the server; resolves once it listens. */
export async function startResolverApi(options: ResolverApiOptions): Promise<ResolverApiServer> {
  const maxBody = options.maxBodyBytes ?? 16 * 1024;
  const logger = options.logger.child({ component: 'resolver-api' });
  const server: Server = nodeHttp.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error }, 'resolver API handler failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal server error' });
      else res.destroy();
    });
  });
  // Upstream: ReadHeaderTimeout 2 s, ReadTimeout/WriteTimeout 30 s.
  server.headersTimeout = 2_000;
  server.requestTimeout = 30_000;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/informer/incoming-request') {
      if (req.method !== 'POST') return sendText(res, 405, 'Invalid request method\n');
      let parsed: ReturnType<typeof parseIncomingRequest>;
      try {
        parsed = parseIncomingRequest(await readBody(req, maxBody));
      } catch (error) {
        if (!(error instanceof BadRequestBodyError)) throw error;
        return sendJson(res, error.status, { error: error.message });
      }
      const backend = options.backend();
      if (!backend) return notServing(res);
      try {
        await backend.wake(parsed.namespace, parsed.svc);
      } catch (error) {
        const status =
          error instanceof UnknownServiceError ? 404 : error instanceof InvalidElastiServiceError ? 422 : 500;
        if (status === 500)
          logger.warn({ err: error, svc: parsed.svc, namespace: parsed.namespace }, 'wake-up failed');
        return sendJson(res, status, { error: (error as Error).message ?? String(error) });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(SUCCESS_BODY);
      return;
    }
    if (path === '/crd-cache') {
      if (req.method !== 'GET') return sendText(res, 405, 'Method not allowed\n');
      const backend = options.backend();
      if (!backend) return notServing(res);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(renderCrdCache(backend.crdCache()));
      return;
    }
    if (path === '/metrics' && options.registry) {
      const text = await options.registry.metrics();
      res.writeHead(200, { 'content-type': options.registry.contentType });
      res.end(text);
      return;
    }
    sendText(res, 404, '404 page not found\n');
  };

  server.listen(options.port ?? DEFAULT_RESOLVER_API_PORT, options.host);
  await once(server, 'listening');
  return listeningServer(server);
}

function notServing(res: ServerResponse): void {
  sendJson(res, 503, {
    error: 'this operator replica is not serving (not the leader, or its caches have not synced); retry',
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
  res.end(text);
}

/**
 * The body as text, at most `max` bytes. Beyond that the rest is read and dropped (memory stays
 * bounded; the server's request timeout bounds the time) so the 413 reaches the client intact.
 * @throws {BadRequestBodyError} (413) beyond the limit.
 */
function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > max) reject(new BadRequestBodyError(`request body larger than ${max} bytes`, 413));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}
