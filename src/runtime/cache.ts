/**
 * The shared informer cache (client-go's `SharedInformerFactory`, controller-runtime's cache):
 * one entry point that hands out informers keyed by GVR × namespace × label selector × field
 * selector × metadata-only × transform, so every requester of the same thing shares ONE watch.
 *
 * Each {@link InformerCache.acquire} returns a lease; the informer is reference-counted by its
 * leases and the last `release()` stops it (its watch ends, its cache is dropped). Informers
 * acquired before {@link InformerCache.start} start with it, so later requesters can still add
 * indexes; informers acquired after start start at once.
 *
 * @module
 */
import {
  type EngineMetrics,
  formatGvr,
  type GroupVersionResource,
  type HandlerOptions,
  type HandlerRegistration,
  type IndexFunc,
  type InformerLifecycleListener,
  type KubeObject,
  type KubeObjectLike,
  type LifecycleRegistration,
  type ListerWatcher,
  type ListWatchTarget,
  type Logger,
  type ReadonlyStore,
  type ReflectorStatus,
  type ResourceEventHandler,
  SharedInformer,
  type SharedInformerOptions,
  silentLogger,
} from '../kube/index.ts';
import { Lister } from './lister.ts';
import { metadataOnlyListerWatcher } from './metadata.ts';
import { type LabelSelectorInput, parseLabelSelector } from './selectors.ts';

/** A transform with a name: functions cannot be compared, so requesters share by the name. */
export interface NamedTransform<T extends KubeObjectLike> {
  /** Identifies the transform in the cache key; two requesters with the same name share. */
  readonly name: string;
  readonly fn: (obj: KubeObject) => T;
}

/** What to cache: the sharing key is every field except `indexers`. */
export interface InformerRequest<T extends KubeObjectLike = KubeObject> {
  readonly gvr: GroupVersionResource;
  /** Omit for all namespaces or a cluster-scoped resource. */
  readonly namespace?: string | undefined;
  readonly labelSelector?: LabelSelectorInput | undefined;
  readonly fieldSelector?: string | undefined;
  /**
   * Cache `PartialObjectMetadata` (apiVersion `meta.k8s.io/v1`, metadata only) instead of whole
   * objects: for many Secrets or ConfigMaps whose content the requester does not read.
   */
  readonly metadataOnly?: boolean | undefined;
  /** Applied before caching (default: drop `managedFields`). */
  readonly transform?: NamedTransform<T> | undefined;
  /**
   * Extra indexes. Merged into the shared informer while the cache has not started; after that
   * an index the running informer lacks is a {@link CacheIndexError}.
   */
  readonly indexers?: Readonly<Record<string, IndexFunc<T>>> | undefined;
  /**
   * The informer's name in logs and sync errors (default: the sharing key). Not part of the key:
   * the first requester names a shared informer.
   */
  readonly name?: string | undefined;
}

/**
 * What the cache and controllers use of an informer. The engine's `SharedInformer` is one; an
 * {@link InformerCacheOptions.informerFactory} may build others (an operator's test doubles).
 * `status` and `addIndexers` are optional: without them an informer takes no late indexes;
 * without `status` and `restart` it cannot be leased as a Manager's informer (`leased-informer.ts`).
 */
export interface CacheInformer<T extends KubeObjectLike = KubeObject> extends Syncable {
  readonly store: ReadonlyStore<T>;
  start(): void;
  stop(): Promise<void>;
  hasSynced(): boolean;
  addEventHandler(handler: ResourceEventHandler<T>, options?: HandlerOptions): HandlerRegistration;
  status?(): ReflectorStatus;
  /** Drops the watch and relists, keeping the store and handlers (the engine's `SharedInformer.restart`). */
  restart?(reason: string): void;
  addLifecycleListener?(listener: InformerLifecycleListener): LifecycleRegistration;
  /** Handlers registered now (diagnostics). */
  handlerCount?(): number;
  addIndexers?(indexers: Record<string, IndexFunc<T>>): void;
}

/** Builds the informer of one cache entry; the default builds a `SharedInformer`. */
export type CacheInformerFactory = (
  options: SharedInformerOptions<KubeObjectLike>,
) => CacheInformer<KubeObjectLike>;

/** What {@link InformerCache.waitForCacheSync} needs of an informer (any `SharedInformer<T>`). */
export interface Syncable {
  readonly name: string;
  waitForSync(signal?: AbortSignal): Promise<void>;
}

/** One requester's hold on a shared informer. */
export interface InformerLease<T extends KubeObjectLike = KubeObject> {
  /**
   * The shared informer. Others may use it too: never `stop()` it (release the lease), and
   * remove handlers added to it directly yourself, or add them through {@link addEventHandler}.
   */
  readonly informer: CacheInformer<T>;
  /** A handler on the informer that {@link release} removes (other users' handlers stay). */
  addEventHandler(handler: ResourceEventHandler<T>, options?: HandlerOptions): HandlerRegistration;
  /** Reads of the informer's cache by namespace, label selector and index. */
  readonly lister: Lister<T>;
  /** The sharing key (for logs and tests). */
  readonly key: string;
  /** Gives the lease back; the last one stops the informer. Idempotent. */
  release(): Promise<void>;
}

/** An index was asked of an informer that has already started without it. */
export class CacheIndexError extends Error {
  readonly key: string;
  readonly indexName: string;
  constructor(key: string, indexName: string, why: string) {
    super(`cache ${key}: index "${indexName}" ${why}`);
    this.name = 'CacheIndexError';
    this.key = key;
    this.indexName = indexName;
  }
}

/** The cache was stopped (it hands out nothing more), or a lease used after its release. */
export class CacheStoppedError extends Error {
  constructor(message = 'informer cache is stopped') {
    super(message);
    this.name = 'CacheStoppedError';
  }
}

/** Informers did not sync before the signal aborted; names each one that did not. */
export class CacheSyncError extends Error {
  readonly unsynced: readonly string[];
  /** What each informer in {@link unsynced} last failed with, in the same order. */
  readonly causes: readonly unknown[];
  constructor(unsynced: readonly string[], causes: readonly unknown[]) {
    const detail = causes.map((c) => (c instanceof Error ? c.message : String(c))).join('; ');
    super(`caches did not sync: ${detail}`, { cause: causes[0] });
    this.name = 'CacheSyncError';
    this.unsynced = unsynced;
    this.causes = causes;
  }
}

/** Options of an {@link InformerCache}. */
export interface InformerCacheOptions {
  /** Usually a `KubeClient`. */
  readonly lw: ListerWatcher;
  readonly logger?: Logger;
  readonly metrics?: EngineMetrics;
  /** Passed to every informer's reflector (page size, streaming list, timeouts). */
  readonly reflector?: SharedInformerOptions['reflector'];
  /** Builds each informer (default: the engine's `SharedInformer`). */
  readonly informerFactory?: CacheInformerFactory;
}

interface Entry {
  readonly key: string;
  readonly informer: CacheInformer<KubeObjectLike>;
  readonly indexers: Map<string, IndexFunc<KubeObjectLike>>;
  leases: number;
}

/**
 * See the module documentation.
 *
 * @example
 * ```ts
 * import { KubeClient, resources } from 'elasti-informer';
 * import { InformerCache } from 'elasti-informer/runtime';
 *
 * const cache = new InformerCache({ lw: await KubeClient.create() });
 * const a = cache.acquire({ gvr: resources.configMaps.gvr, namespace: 'web', labelSelector: { app: 'shop' } });
 * const b = cache.acquire({ gvr: resources.configMaps.gvr, namespace: 'web', labelSelector: 'app=shop' });
 * // a.informer === b.informer: one watch
 * cache.start();
 * await cache.waitForCacheSync(AbortSignal.timeout(30_000));
 * a.lister.list({ labelSelector: 'tier=front' });
 * await a.release(); // b still holds it
 * await b.release(); // the watch ends
 * ```
 */
export class InformerCache {
  readonly #options: InformerCacheOptions;
  readonly #logger: Logger;
  readonly #entries = new Map<string, Entry>();
  readonly #metadataLw: ListerWatcher;
  #started = false;
  #stopped = false;

  constructor(options: InformerCacheOptions) {
    if (!options?.lw) throw new TypeError('InformerCache needs a ListerWatcher (options.lw)');
    this.#options = options;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'informer-cache' });
    this.#metadataLw = metadataOnlyListerWatcher(options.lw);
  }

  /** True once {@link start} ran. */
  get started(): boolean {
    return this.#started;
  }

  /** Number of informers alive (one per distinct key). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The shared informer for `request`, created on first use. Throws `LabelSelectorError` for a
   * malformed selector, {@link CacheIndexError} for an index a started informer lacks (or one
   * defined twice differently), {@link CacheStoppedError} after {@link stop}.
   */
  acquire<T extends KubeObjectLike = KubeObject>(request: InformerRequest<T>): InformerLease<T> {
    if (this.#stopped) throw new CacheStoppedError();
    if (!request?.gvr?.resource) throw new TypeError('InformerCache.acquire needs a gvr');
    const { key, target } = cacheKey(request);
    let entry = this.#entries.get(key);
    if (!entry) {
      // The map holds informers of every T; each lease casts back to the T its requester asked for.
      entry = this.#create(key, target, request as unknown as InformerRequest<KubeObjectLike>);
      this.#entries.set(key, entry);
    } else {
      this.#mergeIndexers(
        entry,
        request.indexers as unknown as Record<string, IndexFunc<KubeObjectLike>> | undefined,
      );
    }
    entry.leases++;
    const held = entry;
    let released = false;
    const informer = held.informer as unknown as CacheInformer<T>;
    const registrations: HandlerRegistration[] = [];
    return {
      key,
      informer,
      lister: new Lister<T>(informer.store),
      addEventHandler: (handler, options) => {
        if (released) throw new CacheStoppedError('this lease was released');
        const registration = informer.addEventHandler(handler, options);
        registrations.push(registration);
        return registration;
      },
      release: async () => {
        if (released) return;
        released = true;
        for (const r of registrations.splice(0)) r.remove();
        held.leases--;
        if (held.leases > 0) return;
        if (this.#entries.get(key) === held) this.#entries.delete(key);
        this.#logger.debug({ key }, 'last lease released; stopping informer');
        await held.informer.stop();
      },
    };
  }

  /** Starts every informer acquired so far; later ones start when acquired. Idempotent. */
  start(): void {
    if (this.#stopped) throw new CacheStoppedError();
    this.#started = true;
    for (const entry of this.#entries.values()) entry.informer.start();
  }

  /**
   * Resolves once every informer in `leases` (default: every informer alive now) has synced;
   * rejects with {@link CacheSyncError} naming those that had not when `signal` aborted.
   */
  async waitForCacheSync(
    signal?: AbortSignal,
    leases?: readonly { readonly informer: Syncable }[],
  ): Promise<void> {
    const informers: Syncable[] = leases
      ? leases.map((l) => l.informer)
      : [...this.#entries.values()].map((e) => e.informer);
    const results = await Promise.allSettled(informers.map((i) => i.waitForSync(signal)));
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [{ name: informers[i]?.name ?? '', reason: r.reason as unknown }] : [],
    );
    if (failed.length > 0) {
      throw new CacheSyncError(
        failed.map((f) => f.name),
        failed.map((f) => f.reason),
      );
    }
  }

  /** The keys of the informers alive, sorted (for tests and diagnostics). */
  keys(): string[] {
    return [...this.#entries.keys()].sort();
  }

  /** Stops every informer, whatever its leases; the cache cannot be used again. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(entries.map((e) => e.informer.stop()));
  }

  #create(key: string, target: ListWatchTarget, request: InformerRequest<KubeObjectLike>): Entry {
    const indexers = new Map(Object.entries(request.indexers ?? {}));
    const build: CacheInformerFactory =
      this.#options.informerFactory ?? ((options) => new SharedInformer<KubeObjectLike>(options));
    const informer = build({
      lw: request.metadataOnly ? this.#metadataLw : this.#options.lw,
      target,
      name: request.name ?? key,
      logger: this.#options.logger ?? silentLogger,
      ...(this.#options.metrics ? { metrics: this.#options.metrics } : {}),
      ...(this.#options.reflector ? { reflector: this.#options.reflector } : {}),
      ...(request.transform ? { transform: request.transform.fn } : {}),
      ...(indexers.size > 0 ? { indexers: Object.fromEntries(indexers) } : {}),
    });
    if (this.#started) informer.start();
    return { key, informer, indexers, leases: 0 };
  }

  #mergeIndexers(entry: Entry, wanted: Record<string, IndexFunc<KubeObjectLike>> | undefined): void {
    if (!wanted) return;
    const missing: Record<string, IndexFunc<KubeObjectLike>> = {};
    for (const [name, fn] of Object.entries(wanted)) {
      const existing = entry.indexers.get(name);
      if (existing === fn) continue;
      if (existing) throw new CacheIndexError(entry.key, name, 'is already defined by another function');
      missing[name] = fn;
    }
    if (Object.keys(missing).length === 0) return;
    const { informer } = entry;
    const name = Object.keys(missing)[0] as string;
    if (!informer.addIndexers) throw new CacheIndexError(entry.key, name, 'cannot be added to this informer');
    if (informer.status?.().phase !== 'Idle' || this.#started) {
      throw new CacheIndexError(entry.key, name, 'must be declared before the cache starts');
    }
    informer.addIndexers(missing);
    for (const [name, fn] of Object.entries(missing)) entry.indexers.set(name, fn);
  }
}

/**
 * The sharing key of a request and the list/watch target it stands for. Selectors are keyed by
 * their canonical spelling, so `{app: 'web'}` and `"app=web"` share.
 */
export function cacheKey(
  request: Omit<InformerRequest<KubeObjectLike>, 'indexers' | 'transform'> & {
    readonly transform?: { readonly name: string } | undefined;
  },
): { key: string; target: ListWatchTarget } {
  const labelSelector = parseLabelSelector(request.labelSelector).text;
  const fieldSelector = (request.fieldSelector ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .sort()
    .join(',');
  const target: ListWatchTarget = {
    gvr: request.gvr,
    ...(request.namespace ? { namespace: request.namespace } : {}),
    ...(labelSelector ? { labelSelector } : {}),
    ...(fieldSelector ? { fieldSelector } : {}),
  };
  const parts = [
    formatGvr(request.gvr),
    request.namespace ? `ns=${request.namespace}` : 'all-namespaces',
    labelSelector && `labels=${labelSelector}`,
    fieldSelector && `fields=${fieldSelector}`,
    request.metadataOnly ? 'metadata-only' : '',
    request.transform ? `transform=${request.transform.name}` : '',
  ];
  return { key: parts.filter(Boolean).join('|'), target };
}
