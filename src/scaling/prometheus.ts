/**
 * A small client of the Prometheus HTTP API: instant queries (`GET /api/v1/query`), as the
 * scale-down loop sends them. One pooled undici dispatcher for every Prometheus it talks to
 * (keep-alive connections per origin, never a client per query), a timeout per request, a bound
 * on the response size, and every failure as one typed {@link PrometheusQueryError}.
 *
 * A successful answer is one of four {@link QueryOutcome}s — one finite sample, an empty result,
 * several samples, or a value that is not a number — and the caller decides what each means.
 * (For scaling: only a single finite sample is evidence; the rest never scale to zero.)
 *
 * @module
 */
import type { Dispatcher } from 'undici';
// Not `undici`'s package entry: it evaluates fetch, WebSocket and mocks too (~2.5 MB of live heap
// in the operator, bench/RESULTS.md "operator").
import { UndiciAgent as Agent, undiciErrors } from '../kube/index.ts';

/** What an instant query returned. */
export type QueryOutcome =
  /** Exactly one sample with a finite value (a one-element vector, or a scalar). */
  | { readonly kind: 'sample'; readonly value: number }
  /** An empty vector: nothing matched (a query without `or vector(0)` over absent series). */
  | { readonly kind: 'empty' }
  /** More than one series: the query does not aggregate to one value. */
  | { readonly kind: 'multiple'; readonly count: number }
  /** One sample whose value is `NaN`, `±Inf` or `null`. */
  | { readonly kind: 'not-a-number'; readonly raw: string | null };

/**
 * How a query failed. Prometheus' own `errorType`s pass through (`bad_data`, `execution`,
 * `timeout`, `canceled`, `internal`, `unavailable`, `not_found`); ours:
 * - `unreachable`: no answer (connection refused or reset, DNS, TLS);
 * - `client_timeout`: no complete answer within the request timeout;
 * - `http`: a non-2xx answer without a Prometheus error body;
 * - `bad_response`: an answer that is not a Prometheus query response (not JSON, too large, a
 *   result type other than vector or scalar).
 */
export type PrometheusErrorType =
  | 'unreachable'
  | 'client_timeout'
  | 'http'
  | 'bad_response'
  | 'bad_data'
  | 'execution'
  | 'timeout'
  | 'canceled'
  | 'internal'
  | 'unavailable'
  | 'not_found'
  | (string & {});

/** A query that produced no usable answer. */
export class PrometheusQueryError extends Error {
  override readonly name = 'PrometheusQueryError';
  /** HTTP status of the answer; `undefined` when there was none. */
  readonly status: number | undefined;
  readonly errorType: PrometheusErrorType;
  /** The server address the query went to. */
  readonly address: string;
  readonly query: string;

  constructor(
    init: {
      status?: number | undefined;
      errorType: PrometheusErrorType;
      address: string;
      query: string;
      detail: string;
    },
    cause?: unknown,
  ) {
    const status = init.status === undefined ? '' : ` (HTTP ${init.status})`;
    super(
      `prometheus ${init.address}: ${init.errorType}${status}: ${init.detail}`,
      cause === undefined ? undefined : { cause },
    );
    this.status = init.status;
    this.errorType = init.errorType;
    this.address = init.address;
    this.query = init.query;
  }
}

/** Options of {@link PrometheusClient}. */
export interface PrometheusClientOptions {
  /** Per-request bound on connect + answer (ms). Default 5000 (upstream's `http.Client` timeout). */
  timeoutMs?: number;
  /** Largest answer read (bytes). Default 1 MiB: a scaling query's answer is one sample. */
  maxResponseBytes?: number;
  /** Kept-alive connections per Prometheus origin. Default 8. */
  connectionsPerOrigin?: number;
  /** Default: an undici `Agent` owned (and closed) by this client. */
  dispatcher?: Dispatcher;
}

/** Options of one {@link PrometheusClient.query}. */
export interface QueryOptions {
  /** Request headers (e.g. `Authorization`). Names are case-insensitive; later entries win. */
  headers?: Readonly<Record<string, string>>;
  /** Evaluation time, sent as `time=` (RFC 3339, seconds). Default: now. */
  time?: Date;
  signal?: AbortSignal;
}

/** The Prometheus HTTP API's `/api/v1/query` response (the fields read). */
interface QueryResponse {
  status?: unknown;
  errorType?: unknown;
  error?: unknown;
  data?: { resultType?: unknown; result?: unknown };
}

const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/** `<address>/api/v1/query?query=…&time=…`; a trailing `/` on the address is dropped. */
export function queryUrl(address: string, query: string, time: Date): string {
  const base = address.replace(/\/+$/, '');
  const seconds = `${time.toISOString().slice(0, 19)}Z`;
  return `${base}/api/v1/query?query=${encodeURIComponent(query)}&time=${encodeURIComponent(seconds)}`;
}

/**
 * Reads one answer of the query API into an outcome.
 * @throws {PrometheusQueryError} (`errorType` from the body, or `bad_response`).
 */
export function parseQueryResponse(
  status: number,
  text: string,
  context: { address: string; query: string },
): QueryOutcome {
  let body: QueryResponse | undefined;
  try {
    body = JSON.parse(text) as QueryResponse;
  } catch {
    body = undefined;
  }
  const fail = (errorType: PrometheusErrorType, detail: string): PrometheusQueryError =>
    new PrometheusQueryError({ status, errorType, detail, ...context });
  if (status < 200 || status > 299) {
    if (body && body.status === 'error' && typeof body.errorType === 'string') {
      throw fail(body.errorType, String(body.error ?? 'query failed'));
    }
    throw fail('http', snippet(text));
  }
  if (!body || typeof body !== 'object') throw fail('bad_response', `not JSON: ${snippet(text)}`);
  if (body.status === 'error') {
    throw fail(
      typeof body.errorType === 'string' ? body.errorType : 'bad_response',
      String(body.error ?? ''),
    );
  }
  if (body.status !== 'success' || !body.data || typeof body.data !== 'object') {
    throw fail('bad_response', `unexpected answer: ${snippet(text)}`);
  }
  const { resultType, result } = body.data;
  if (resultType === 'scalar') return sampleOf(result, fail);
  if (resultType !== 'vector') {
    throw fail('bad_response', `result type ${String(resultType)}; the query must return one value`);
  }
  if (!Array.isArray(result)) throw fail('bad_response', 'vector result is not an array');
  if (result.length === 0) return { kind: 'empty' };
  if (result.length > 1) return { kind: 'multiple', count: result.length };
  const only = result[0] as { value?: unknown } | null;
  return sampleOf(only?.value, fail);
}

function sampleOf(pair: unknown, fail: (type: PrometheusErrorType, detail: string) => Error): QueryOutcome {
  if (!Array.isArray(pair) || pair.length !== 2) throw fail('bad_response', 'sample is not [time, value]');
  const raw = pair[1];
  if (raw === null) return { kind: 'not-a-number', raw: null };
  if (typeof raw !== 'string')
    throw fail('bad_response', `sample value ${JSON.stringify(raw)} is not a string`);
  const value = raw === '+Inf' || raw === 'Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
  if (!Number.isFinite(value)) {
    if (Number.isNaN(value) && raw !== 'NaN')
      throw fail('bad_response', `sample value "${raw}" is not a number`);
    return { kind: 'not-a-number', raw };
  }
  return { kind: 'sample', value };
}

function snippet(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine || '(empty body)';
}

/** See the module documentation. */
export class PrometheusClient {
  readonly #dispatcher: Dispatcher;
  readonly #owned: boolean;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;

  constructor(options: PrometheusClientOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    if (!(this.#timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${this.#timeoutMs}`);
    if (!(this.#maxBytes > 0)) throw new RangeError(`maxResponseBytes must be > 0, got ${this.#maxBytes}`);
    this.#owned = options.dispatcher === undefined;
    this.#dispatcher =
      options.dispatcher ??
      new Agent({
        connections: options.connectionsPerOrigin ?? 8,
        keepAliveTimeout: 30_000,
        connectTimeout: this.#timeoutMs,
      });
  }

  /**
   * Runs an instant query against the Prometheus at `address` (its base URL, e.g.
   * `http://prometheus.monitoring:9090`).
   * @throws {PrometheusQueryError} on any failure, including the timeout; a caller's abort
   *   rejects with the signal's reason.
   */
  async query(address: string, query: string, options: QueryOptions = {}): Promise<QueryOutcome> {
    const context = { address, query };
    let url: URL;
    try {
      url = new URL(queryUrl(address, query, options.time ?? new Date()));
    } catch (error) {
      throw new PrometheusQueryError(
        { errorType: 'bad_data', detail: 'server address is not a URL', ...context },
        error,
      );
    }
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
    let status: number;
    let text: string;
    try {
      const res = await this.#dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: { accept: 'application/json', ...headers },
        signal,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
      status = res.statusCode;
      text = await readCapped(res.body, this.#maxBytes, context, status);
    } catch (error) {
      if (error instanceof PrometheusQueryError) throw error;
      if (options.signal?.aborted) throw options.signal.reason;
      if (timeout.aborted || isTimeout(error)) {
        throw new PrometheusQueryError(
          { errorType: 'client_timeout', detail: `no answer within ${this.#timeoutMs} ms`, ...context },
          error,
        );
      }
      throw new PrometheusQueryError(
        { errorType: 'unreachable', detail: describeTransportError(error), ...context },
        error,
      );
    }
    return parseQueryResponse(status, text, context);
  }

  /** Closes the pooled connections (only those of a dispatcher this client created). */
  async close(): Promise<void> {
    if (this.#owned) await this.#dispatcher.close();
  }
}

async function readCapped(
  body: Dispatcher.ResponseData['body'],
  max: number,
  context: { address: string; query: string },
  status: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > max) {
      body.destroy();
      throw new PrometheusQueryError({
        status,
        errorType: 'bad_response',
        detail: `answer larger than ${max} bytes`,
        ...context,
      });
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function isTimeout(error: unknown): boolean {
  return (
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError ||
    error instanceof undiciErrors.ConnectTimeoutError ||
    (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
  );
}

function describeTransportError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code ?? (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
}
