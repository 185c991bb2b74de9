/**
 * The HTTP client of the engine: LIST (paged), WATCH (chunked JSON lines), and single-object
 * verbs, over one {@link ClusterConnection}. It implements {@link ListerWatcher} for the
 * reflector.
 *
 * Every failure is typed (see `errors.ts`). A 401 makes the client reload credentials once
 * and retry the request once (exec plugins and projected tokens rotate under long-running
 * processes); any other status is the caller's to handle.
 *
 * @module
 */
import type { Dispatcher } from 'undici';
import type { ClusterConnection, ConnectOptions, KubeConfigSource } from './config.ts';
import { connect } from './config.ts';
import type { ListerWatcher, ListOptions, ListPage, WatchOptions } from './contracts.ts';
import {
  asStatus,
  isNotFound,
  KubeApiError,
  KubeDecodeError,
  KubeTransportError,
  parseRetryAfter,
  WatchIdleTimeoutError,
} from './errors.ts';
import type {
  ApiStatus,
  GroupVersionResource,
  KubeObject,
  ListWatchTarget,
  Logger,
  WatchEvent,
} from './types.ts';
import { silentLogger } from './types.ts';
import { decodeWatchEvent, LineSplitter, toListPage } from './wire-format.ts';

// Decoding lives in wire-format.ts; re-exported so existing imports from client.ts keep working.
export { decodeWatchEvent, LineSplitter, toListPage } from './wire-format.ts';

/** Patch flavours and their content types. `apply` is server-side apply (needs `fieldManager`). */
export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

const patchContentTypes: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** Options of writes. */
export interface WriteOptions {
  /** `All` for a dry run. */
  dryRun?: 'All';
  fieldManager?: string;
  signal?: AbortSignal;
}

/** Options of {@link KubeClient.patch}. */
export interface PatchOptions extends WriteOptions {
  /** Server-side apply only: take ownership of conflicting fields. */
  force?: boolean;
}

/** Options of {@link KubeClient.delete}. */
export interface DeleteOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
  dryRun?: 'All';
  signal?: AbortSignal;
}

/** Options of {@link KubeClient.request}. */
export interface RawRequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  contentType?: string;
  signal?: AbortSignal;
}

/** Tuning of the client. */
export interface KubeClientOptions {
  logger?: Logger;
  /** Max silence between body chunks of a non-watch response (ms). Default 60 000. */
  bodyTimeoutMs?: number;
  /** Max wait for response headers (ms). Default 60 000. */
  headersTimeoutMs?: number;
}

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

interface RequestContext {
  verb: string;
  gvr?: GroupVersionResource | undefined;
  namespace?: string | undefined;
  name?: string | undefined;
}

interface SendOptions {
  method: Dispatcher.HttpMethod;
  path: string;
  body?: string | undefined;
  contentType?: string | undefined;
  signal?: AbortSignal | undefined;
  bodyTimeout?: number;
  headersTimeout?: number;
  accept?: string;
}

/** A Kubernetes API client over one cluster connection. */
export class KubeClient implements ListerWatcher {
  readonly connection: ClusterConnection;
  readonly #origin: string;
  readonly #basePath: string;
  readonly #logger: Logger;
  readonly #bodyTimeout: number;
  readonly #headersTimeout: number;
  readonly #ownsConnection: boolean;

  /**
   * Connects with a kubeconfig (path, object, or default loading rules). The client owns that
   * connection: {@link close} closes it.
   */
  static async create(
    source?: KubeConfigSource,
    options: KubeClientOptions & ConnectOptions = {},
  ): Promise<KubeClient> {
    const conn = await connect(source, options);
    return new KubeClient(conn, options.logger, options, true);
  }

  /**
   * Wraps an existing connection. The connection is shared, so {@link close} leaves it open
   * unless `ownsConnection` is true.
   */
  constructor(
    conn: ClusterConnection,
    logger?: Logger,
    options: KubeClientOptions = {},
    ownsConnection = false,
  ) {
    this.connection = conn;
    const url = new URL(conn.server);
    this.#origin = url.origin;
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.#logger = (logger ?? options.logger ?? silentLogger).child({ component: 'kube-client' });
    this.#bodyTimeout = options.bodyTimeoutMs ?? 60_000;
    this.#headersTimeout = options.headersTimeoutMs ?? 60_000;
    this.#ownsConnection = ownsConnection;
  }

  /** One page of a LIST. Items get `apiVersion`/`kind` filled in from the list (the server omits them). */
  async list<T extends KubeObject>(target: ListWatchTarget, options: ListOptions = {}): Promise<ListPage<T>> {
    const path =
      resourcePath(target.gvr, target.namespace) +
      queryString({
        labelSelector: target.labelSelector,
        fieldSelector: target.fieldSelector,
        limit: options.limit,
        continue: options.continue,
        resourceVersion: options.resourceVersion,
        resourceVersionMatch: options.resourceVersion ? options.resourceVersionMatch : undefined,
      });
    const ctx = { verb: 'list', gvr: target.gvr, namespace: target.namespace };
    const raw = await this.#json(ctx, { method: 'GET', path, signal: options.signal });
    return toListPage<T>(raw, this.#displayUrl(path));
  }

  /**
   * A WATCH stream as decoded events. Ends when the server closes the stream or the caller's
   * signal aborts (quietly in both cases); throws {@link KubeApiError} for an HTTP error or an
   * in-stream `ERROR` event, {@link WatchIdleTimeoutError} when nothing arrived for
   * `idleTimeoutMs`, {@link KubeTransportError} when the connection broke.
   */
  watch<T extends KubeObject>(
    target: ListWatchTarget,
    options: WatchOptions = {},
  ): AsyncIterable<WatchEvent<T>> {
    return this.#watch<T>(target, options);
  }

  async *#watch<T extends KubeObject>(
    target: ListWatchTarget,
    options: WatchOptions,
  ): AsyncGenerator<WatchEvent<T>, void, undefined> {
    const path =
      resourcePath(target.gvr, target.namespace) +
      queryString({
        watch: 'true',
        labelSelector: target.labelSelector,
        fieldSelector: target.fieldSelector,
        resourceVersion: options.resourceVersion,
        resourceVersionMatch: options.resourceVersionMatch,
        allowWatchBookmarks: options.allowWatchBookmarks ? 'true' : undefined,
        sendInitialEvents:
          options.sendInitialEvents === undefined ? undefined : String(options.sendInitialEvents),
        timeoutSeconds: options.timeoutSeconds,
      });
    const url = this.#displayUrl(path);
    const outer = options.signal;
    if (outer?.aborted) return;
    const controller = new AbortController();
    const onOuterAbort = (): void => controller.abort(outer?.reason);
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    let idleFired = false;
    const idleMs = options.idleTimeoutMs;
    const idleTimer =
      idleMs !== undefined && idleMs > 0
        ? setTimeout(() => {
            idleFired = true;
            controller.abort(new WatchIdleTimeoutError(idleMs, url));
          }, idleMs)
        : undefined;
    const ctx = { verb: 'watch', gvr: target.gvr, namespace: target.namespace };
    try {
      const res = await this.#send(ctx, {
        method: 'GET',
        path,
        signal: controller.signal,
        bodyTimeout: 0,
        // Waiting for headers is bounded by the idle timeout when one is set.
        ...(idleTimer ? { headersTimeout: 0 } : {}),
      });
      idleTimer?.refresh();
      const lines = new LineSplitter();
      for await (const chunk of res.body) {
        idleTimer?.refresh();
        for (const line of lines.push(chunk as Buffer)) {
          yield decodeWatchEvent<T>(line, url);
          // Time spent by the consumer is not silence on the wire.
          idleTimer?.refresh();
        }
      }
      const buffered = lines.end();
      if (buffered !== undefined) yield decodeWatchEvent<T>(buffered, url);
    } catch (error) {
      if (idleFired) throw new WatchIdleTimeoutError(idleMs ?? 0, url);
      if (outer?.aborted) return;
      if (
        error instanceof KubeApiError ||
        error instanceof KubeDecodeError ||
        error instanceof KubeTransportError
      ) {
        throw error;
      }
      throw new KubeTransportError('watch', url, error);
    } finally {
      if (idleTimer) clearTimeout(idleTimer);
      outer?.removeEventListener('abort', onOuterAbort);
      // Releases the socket when the consumer stopped early (break/return) or on error.
      if (!controller.signal.aborted) controller.abort();
    }
  }

  /** GET one object. */
  async get<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    signal?: AbortSignal,
  ): Promise<T> {
    const path = resourcePath(gvr, namespace, name);
    return (await this.#json({ verb: 'get', gvr, namespace, name }, { method: 'GET', path, signal })) as T;
  }

  /** POST a new object into its collection. */
  async create<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    obj: T,
    opts: WriteOptions = {},
  ): Promise<T> {
    const path = resourcePath(gvr, namespace) + writeQuery(opts);
    const ctx = { verb: 'create', gvr, namespace, name: obj.metadata?.name };
    return (await this.#json(ctx, {
      method: 'POST',
      path,
      body: JSON.stringify(obj),
      contentType: 'application/json',
      signal: opts.signal,
    })) as T;
  }

  /** PUT the whole object (optimistic concurrency via `metadata.resourceVersion`). */
  async replace<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    obj: T,
    opts: WriteOptions = {},
  ): Promise<T> {
    return this.#put(gvr, namespace, name, obj, undefined, opts);
  }

  /** PUT the `status` subresource. */
  async replaceStatus<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    obj: T,
    opts: WriteOptions = {},
  ): Promise<T> {
    return this.#put(gvr, namespace, name, obj, 'status', opts);
  }

  /** PATCH an object. `body` is an object (merge/strategic/apply) or an array of operations (json). */
  async patch<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    body: unknown,
    type: PatchType,
    opts: PatchOptions = {},
  ): Promise<T> {
    return this.#patch(gvr, namespace, name, body, type, undefined, opts);
  }

  /** PATCH the `status` subresource. */
  async patchStatus<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    body: unknown,
    type: PatchType,
    opts: PatchOptions = {},
  ): Promise<T> {
    return this.#patch(gvr, namespace, name, body, type, 'status', opts);
  }

  /** DELETE an object. A missing object is an error (404 `KubeApiError`); see {@link deleteIfExists}. */
  async delete(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions = {},
  ): Promise<void> {
    const path = resourcePath(gvr, namespace, name) + queryString({ dryRun: opts.dryRun });
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.preconditions) body.preconditions = opts.preconditions;
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    await this.#json(
      { verb: 'delete', gvr, namespace, name },
      {
        method: 'DELETE',
        path,
        body: JSON.stringify(body),
        contentType: 'application/json',
        signal: opts.signal,
      },
    );
  }

  /** Like {@link delete}, but resolves `false` instead of throwing when the object does not exist. */
  async deleteIfExists(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions = {},
  ): Promise<boolean> {
    try {
      await this.delete(gvr, namespace, name, opts);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /**
   * A raw request for endpoints without a typed method (discovery, `/version`, subresources).
   * `path` is relative to the server base (e.g. `/apis`); the JSON answer is returned undecoded
   * beyond `JSON.parse` (`undefined` for an empty body).
   */
  async request<T>(
    method: Dispatcher.HttpMethod,
    path: string,
    body?: unknown,
    opts: RawRequestOptions = {},
  ): Promise<T> {
    if (!path.startsWith('/')) throw new TypeError(`request path must start with '/': ${path}`);
    const fullPath = path + (opts.query ? queryString(opts.query) : '');
    const encoded = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return (await this.#json(
      { verb: method.toLowerCase() },
      {
        method,
        path: fullPath,
        body: encoded,
        contentType: encoded === undefined ? undefined : (opts.contentType ?? 'application/json'),
        signal: opts.signal,
      },
    )) as T;
  }

  /** Closes the connection if this client created it (see {@link KubeClient.create}). */
  async close(): Promise<void> {
    if (this.#ownsConnection) await this.connection.close();
  }

  async #put<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    obj: T,
    subresource: string | undefined,
    opts: WriteOptions,
  ): Promise<T> {
    const path = resourcePath(gvr, namespace, name, subresource) + writeQuery(opts);
    return (await this.#json(
      { verb: subresource ? `replace ${subresource}` : 'replace', gvr, namespace, name },
      {
        method: 'PUT',
        path,
        body: JSON.stringify(obj),
        contentType: 'application/json',
        signal: opts.signal,
      },
    )) as T;
  }

  async #patch<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    body: unknown,
    type: PatchType,
    subresource: string | undefined,
    opts: PatchOptions,
  ): Promise<T> {
    const contentType = patchContentTypes[type];
    if (!contentType) throw new TypeError(`unknown patch type ${String(type)}`);
    if (type === 'apply' && !opts.fieldManager) throw new TypeError('server-side apply needs a fieldManager');
    const query = writeQuery(opts, type === 'apply' && opts.force ? { force: 'true' } : {});
    const path = resourcePath(gvr, namespace, name, subresource) + query;
    return (await this.#json(
      { verb: subresource ? `patch ${subresource}` : 'patch', gvr, namespace, name },
      {
        method: 'PATCH',
        path,
        body: typeof body === 'string' ? body : JSON.stringify(body),
        contentType,
        signal: opts.signal,
      },
    )) as T;
  }

  /** Sends and decodes a JSON answer. */
  async #json(ctx: RequestContext, send: SendOptions): Promise<unknown> {
    const res = await this.#send(ctx, send);
    const url = this.#displayUrl(send.path);
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
   * Sends one request and returns a response with a 2xx status; otherwise throws. On 401 the
   * credentials are reloaded and the request is sent once more.
   */
  async #send(ctx: RequestContext, send: SendOptions): Promise<Dispatcher.ResponseData> {
    const url = this.#displayUrl(send.path);
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
      if (res.statusCode < 400) return res;
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

  #displayUrl(path: string): string {
    return `${this.#origin}${this.#basePath}${path}`;
  }
}

function writeQuery(opts: WriteOptions, extra: Record<string, string> = {}): string {
  return queryString({ dryRun: opts.dryRun, fieldManager: opts.fieldManager, ...extra });
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
