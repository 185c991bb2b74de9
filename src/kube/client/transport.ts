/**
 * How one request reaches the API server and how its answer comes back, for `client.ts` and
 * `watch-stream.ts`: URL paths and query strings, the connection's auth headers, one retry after
 * reloading credentials on 401, and every non-2xx answer turned into a {@link KubeApiError}
 * (a 3xx into its subclass {@link KubeRedirectError}: never followed).
 *
 * Kept apart from the client's verbs so that the list/watch path and the CRUD surface share one
 * send loop (one place where credentials are refreshed and errors are typed), and the verbs read
 * as what they send rather than how.
 *
 * @module
 */
import type { Dispatcher } from 'undici';
import type { ClusterConnection } from '../config/index.ts';
import type { ApiStatus, GroupVersionResource, Logger } from '../core/index.ts';
import {
  asStatus,
  KubeApiError,
  KubeDecodeError,
  KubeRedirectError,
  KubeTransportError,
  parseRetryAfter,
} from '../core/index.ts';

/**
 * `Accept` of a metadata-only LIST: the server answers a `PartialObjectMetadataList` (falling back
 * to full JSON if it cannot, as the trailing `application/json` allows).
 */
export const METADATA_LIST_ACCEPT =
  'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';

/** `Accept` of a metadata-only WATCH: each event's object is a `PartialObjectMetadata`. */
export const METADATA_WATCH_ACCEPT =
  'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

/** Max bytes of an error body kept for the error message. */
const maxErrorBody = 64 * 1024;

/**
 * URL path of a resource collection, object or subresource, relative to the server's base path.
 * Core group: `/api/v1/...`; others: `/apis/<group>/<version>/...`.
 */
export function resourcePath(
  gvr: GroupVersionResource,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const seg = encodeURIComponent;
  let path = gvr.group ? `/apis/${seg(gvr.group)}/${seg(gvr.version)}` : `/api/${seg(gvr.version)}`;
  if (namespace) path += `/namespaces/${seg(namespace)}`;
  path += `/${seg(gvr.resource)}`;
  if (name !== undefined) {
    if (name === '') throw new TypeError(`empty object name for ${gvr.resource}`);
    path += `/${seg(name)}`;
  }
  if (subresource) path += `/${seg(subresource)}`;
  return path;
}

/** Encodes a query string, skipping undefined and empty-string values. */
export function queryString(query: Record<string, string | number | boolean | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === '') continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** What a request is about, for error messages and {@link KubeApiError} fields. */
export interface RequestContext {
  verb: string;
  gvr?: GroupVersionResource | undefined;
  namespace?: string | undefined;
  name?: string | undefined;
}

/** One request to send. `path` is relative to the server's base path and includes the query. */
export interface SendOptions {
  method: Dispatcher.HttpMethod;
  path: string;
  body?: string | undefined;
  contentType?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Overrides the transport's body timeout (0: none, as a watch needs). */
  bodyTimeout?: number;
  /** Overrides the transport's headers timeout (0: none). */
  headersTimeout?: number;
  accept?: string;
}

/** Settings of a {@link Transport}, defaults already applied by the client. */
export interface TransportSettings {
  logger: Logger;
  /** Max silence between body chunks of a non-watch response (ms). */
  bodyTimeoutMs: number;
  /** Max wait for response headers (ms). */
  headersTimeoutMs: number;
}

/** Sends requests over one {@link ClusterConnection}. */
export class Transport {
  readonly connection: ClusterConnection;
  readonly #origin: string;
  readonly #basePath: string;
  readonly #logger: Logger;
  readonly #bodyTimeout: number;
  readonly #headersTimeout: number;

  constructor(conn: ClusterConnection, settings: TransportSettings) {
    this.connection = conn;
    const url = new URL(conn.server);
    this.#origin = url.origin;
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.#logger = settings.logger;
    this.#bodyTimeout = settings.bodyTimeoutMs;
    this.#headersTimeout = settings.headersTimeoutMs;
  }

  /** The full URL of `path`, for messages and errors. */
  displayUrl(path: string): string {
    return `${this.#origin}${this.#basePath}${path}`;
  }

  /** Sends and decodes a JSON answer (`undefined` for an empty body). */
  async json(ctx: RequestContext, send: SendOptions): Promise<unknown> {
    const res = await this.send(ctx, send);
    const url = this.displayUrl(send.path);
    let text: string;
    try {
      text = await res.body.text();
    } catch (error) {
      if (send.signal?.aborted) throw error;
      throw new KubeTransportError(ctx.verb, url, error);
    }
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new KubeDecodeError(url, `invalid JSON (${text.length} bytes)`, error);
    }
  }

  /**
   * Sends one request and returns a response with a 2xx status; otherwise throws: a
   * {@link KubeRedirectError} for a 3xx, a {@link KubeApiError} for an error status. On 401 the
   * credentials are reloaded and the request is sent once more.
   */
  async send(ctx: RequestContext, send: SendOptions): Promise<Dispatcher.ResponseData> {
    const url = this.displayUrl(send.path);
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = {
        ...(await this.connection.headers()),
        accept: send.accept ?? 'application/json',
      };
      if (send.contentType) headers['content-type'] = send.contentType;
      let res: Dispatcher.ResponseData;
      try {
        res = await this.connection.dispatcher.request({
          origin: this.#origin,
          path: this.#basePath + send.path,
          method: send.method,
          headers,
          body: send.body,
          signal: send.signal,
          bodyTimeout: send.bodyTimeout ?? this.#bodyTimeout,
          headersTimeout: send.headersTimeout ?? this.#headersTimeout,
        });
      } catch (error) {
        // The caller's abort propagates as is; everything else is a transport failure.
        if (send.signal?.aborted) throw error;
        throw new KubeTransportError(ctx.verb, url, error);
      }
      if (res.statusCode < 300) return res;
      if (res.statusCode < 400) {
        // Not followed (undici does not by default): it would carry our credentials elsewhere.
        await res.body.dump().catch(() => undefined);
        const location = res.headers.location;
        throw new KubeRedirectError({
          status: res.statusCode,
          verb: ctx.verb,
          url,
          location: Array.isArray(location) ? location[0] : location,
          gvr: ctx.gvr,
          namespace: ctx.namespace,
          name: ctx.name,
        });
      }
      const failure = await this.#failure(ctx, url, res);
      if (res.statusCode === 401 && attempt === 1) {
        this.#logger.debug({ verb: ctx.verb, url }, 'unauthorized; reloading credentials and retrying once');
        try {
          await this.connection.refreshCredentials();
        } catch (error) {
          this.#logger.warn({ verb: ctx.verb, url, err: error }, 'credential reload failed');
          throw failure;
        }
        continue;
      }
      throw failure;
    }
  }

  async #failure(ctx: RequestContext, url: string, res: Dispatcher.ResponseData): Promise<KubeApiError> {
    let text = '';
    try {
      text = await res.body.text();
    } catch {
      // The body is only decoration for the error; the status is what matters.
    }
    if (text.length > maxErrorBody) text = text.slice(0, maxErrorBody);
    let body: ApiStatus | undefined;
    try {
      body = asStatus(JSON.parse(text));
    } catch {
      body = undefined;
    }
    return new KubeApiError({
      status: res.statusCode,
      verb: ctx.verb,
      url,
      body,
      reason: body?.reason ?? reasonFromStatus(res.statusCode),
      retryAfterSeconds: parseRetryAfter(res.headers['retry-after']),
      gvr: ctx.gvr,
      namespace: ctx.namespace,
      name: ctx.name,
      text: body ? undefined : text.trim().slice(0, 300) || undefined,
    });
  }
}

function reasonFromStatus(status: number): string | undefined {
  switch (status) {
    case 400:
      return 'BadRequest';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 405:
      return 'MethodNotAllowed';
    case 409:
      return 'Conflict';
    case 410:
      return 'Expired';
    case 422:
      return 'Invalid';
    case 429:
      return 'TooManyRequests';
    case 500:
      return 'InternalError';
    case 503:
      return 'ServiceUnavailable';
    case 504:
      return 'Timeout';
    default:
      return undefined;
  }
}
