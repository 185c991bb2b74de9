/**
 * The HTTP client of the engine: LIST (paged), WATCH (chunked JSON lines), and single-object
 * verbs, over one {@link ClusterConnection}. It implements {@link ListerWatcher} for the
 * reflector.
 *
 * This module is the client's surface: what each verb sends and the options it takes. How a
 * request goes out lives beside it: `transport.ts` (paths and queries, auth headers, the send
 * loop, typed errors), `watch-stream.ts` (a WATCH as an event stream, with its idle timeout)
 * and `wire-format.ts` (list and watch bodies decoded). Their public helpers are re-exported
 * here, so `client.ts` stays the one import.
 *
 * Every failure is typed (see `errors.ts`). A 401 makes the client reload credentials once
 * and retry the request once (exec plugins and projected tokens rotate under long-running
 * processes); any other status is the caller's to handle.
 *
 * @module
 */
import type { Dispatcher } from 'undici';
import type { ClusterConnection, ConnectOptions, KubeConfigSource } from '../config/index.ts';
import { connect } from '../config/index.ts';
import type {
  GroupVersionResource,
  KubeObject,
  KubeObjectLike,
  ListerWatcher,
  ListOptions,
  ListPage,
  ListWatchTarget,
  Logger,
  WatchEvent,
  WatchOptions,
} from '../core/index.ts';
import { isNotFound, silentLogger } from '../core/index.ts';
import { METADATA_LIST_ACCEPT, queryString, resourcePath, Transport } from './transport.ts';
import { watchStream } from './watch-stream.ts';
import { toListPage } from './wire-format.ts';

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

/** A Kubernetes API client over one cluster connection. */
export class KubeClient implements ListerWatcher {
  readonly connection: ClusterConnection;
  readonly #transport: Transport;
  readonly #ownsConnection: boolean;

  /**
   * Connects with a kubeconfig (path, object, or default loading rules). The client owns that
   * connection: {@link close} closes it.
   *
   * @example
   * ```ts
   * import { KubeClient, resources, type ConfigMap } from 'elasti-informer';
   *
   * const client = await KubeClient.create(); // KUBECONFIG, ~/.kube/config, or in-cluster
   * const cm = await client.get<ConfigMap>(resources.configMaps.gvr, 'default', 'settings');
   * await client.patch(resources.configMaps.gvr, 'default', 'settings', { data: { a: '1' } }, 'merge');
   * await client.close();
   * ```
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
    this.#transport = new Transport(conn, {
      logger: (logger ?? options.logger ?? silentLogger).child({ component: 'kube-client' }),
      bodyTimeoutMs: options.bodyTimeoutMs ?? 60_000,
      headersTimeoutMs: options.headersTimeoutMs ?? 60_000,
    });
    this.#ownsConnection = ownsConnection;
  }

  /** One page of a LIST. Items get `apiVersion`/`kind` filled in from the list (the server omits them). */
  async list<T extends KubeObjectLike = KubeObject>(
    target: ListWatchTarget,
    options: ListOptions = {},
  ): Promise<ListPage<T>> {
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
    const raw = await this.#transport.json(ctx, {
      method: 'GET',
      path,
      signal: options.signal,
      ...(options.metadataOnly ? { accept: METADATA_LIST_ACCEPT } : {}),
    });
    return toListPage<T>(raw, this.#transport.displayUrl(path));
  }

  /**
   * A WATCH stream as decoded events. Ends when the server closes the stream or the caller's
   * signal aborts (quietly in both cases); throws `KubeApiError` for an HTTP error or an
   * in-stream `ERROR` event, `WatchIdleTimeoutError` when nothing arrived for
   * `idleTimeoutMs`, `KubeTransportError` when the connection broke (see `watch-stream.ts`).
   */
  watch<T extends KubeObjectLike = KubeObject>(
    target: ListWatchTarget,
    options: WatchOptions = {},
  ): AsyncIterable<WatchEvent<T>> {
    return watchStream<T>(this.#transport, target, options);
  }

  /** GET one object. */
  async get<T extends KubeObjectLike = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    signal?: AbortSignal,
  ): Promise<T> {
    const path = resourcePath(gvr, namespace, name);
    return (await this.#transport.json(
      { verb: 'get', gvr, namespace, name },
      { method: 'GET', path, signal },
    )) as T;
  }

  /** POST a new object into its collection. */
  async create<T extends KubeObjectLike = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    obj: T,
    opts: WriteOptions = {},
  ): Promise<T> {
    const path = resourcePath(gvr, namespace) + writeQuery(opts);
    const ctx = { verb: 'create', gvr, namespace, name: obj.metadata?.name };
    return (await this.#transport.json(ctx, {
      method: 'POST',
      path,
      body: JSON.stringify(obj),
      contentType: 'application/json',
      signal: opts.signal,
    })) as T;
  }

  /** PUT the whole object (optimistic concurrency via `metadata.resourceVersion`). */
  async replace<T extends KubeObjectLike = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    obj: T,
    opts: WriteOptions = {},
  ): Promise<T> {
    return this.#put(gvr, namespace, name, obj, undefined, opts);
  }

  /** PUT the `status` subresource. */
  async replaceStatus<T extends KubeObjectLike = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    obj: T,
    opts: WriteOptions = {},
  ): Promise<T> {
    return this.#put(gvr, namespace, name, obj, 'status', opts);
  }

  /** PATCH an object. `body` is an object (merge/strategic/apply) or an array of operations (json). */
  async patch<T extends KubeObjectLike = KubeObject>(
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
  async patchStatus<T extends KubeObjectLike = KubeObject>(
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
    await this.#transport.json(
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
    return (await this.#transport.json(
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

  async #put<T extends KubeObjectLike = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    obj: T,
    subresource: string | undefined,
    opts: WriteOptions,
  ): Promise<T> {
    const path = resourcePath(gvr, namespace, name, subresource) + writeQuery(opts);
    return (await this.#transport.json(
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

  async #patch<T extends KubeObjectLike = KubeObject>(
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
    return (await this.#transport.json(
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
}

function writeQuery(opts: WriteOptions, extra: Record<string, string> = {}): string {
  return queryString({ dryRun: opts.dryRun, fieldManager: opts.fieldManager, ...extra });
}
