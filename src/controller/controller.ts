/**
 * The running controller, built on the runtime's `ControllerBuilder`: `for` the ElastiServices
 * (cluster-wide, or one informer per `--watch-namespace`), `watches` the resolver Service's
 * EndpointSlices (mapped to the ElastiServices that may be in proxy mode; optional at start), and
 * the runtime's rate-limited queue and workers calling {@link ElastiServiceReconciler}.
 *
 *   ElastiService informers (for) ─────────────────────┐
 *   resolver EndpointSlices (watches) ─────────────────┼──> runtime Controller ──> reconcile(key)
 *   scale target / public Service / resolver Deployment │      (queue, workers, backoff)
 *     (informer Manager, per ElastiService) ──enqueue───┘
 *
 * ElastiService updates pass the {@link shouldEnqueueUpdate} predicate only when something the
 * reconciler acts on changed (generation, deletion, uid, our finalizer missing) or on the periodic
 * resync: the reconciler's own status writes would otherwise feed it forever. The Manager's
 * watches are added per ElastiService at runtime, so they stay on the Manager; their handlers
 * call the runtime controller's `enqueue`.
 *
 * @module
 */
import type { Registry } from 'prom-client';
import type { ElastiService } from '../api/v1alpha1/index.ts';
import { ELASTI_FINALIZER, ELASTI_GVR } from '../api/v1alpha1/index.ts';
import type {
  EndpointSlice,
  EngineMetrics,
  HandlerOptions,
  HandlerRegistration,
  KubeObject,
  ListerWatcher,
  ListWatchTarget,
  Logger,
  ResourceEventHandler,
} from '../kube/index.ts';
import {
  errorMessage,
  InformerSyncError,
  isNamespaceTerminating,
  resources,
  silentLogger,
  statusOf,
} from '../kube/index.ts';
import {
  type Controller,
  ControllerBuilder,
  type ControllerQueueView,
  defaultControllerRateLimiter,
  InformerCache,
  type InformerLease,
  KubeEventRecorder,
  predicateFor,
  type ResourceClient,
  ControllerStartError as RuntimeStartError,
} from '../runtime/index.ts';
import { type OperatorConfig, type OperatorConfigInput, resolveOperatorConfig } from './config.ts';
import { cacheInformerFactory } from './informers.ts';
import { ControllerMetrics } from './metrics.ts';
import { ElastiServiceReconciler } from './reconciler.ts';
import { CachedResolverEndpoints } from './resolver-endpoints.ts';
import { SERVICE_NAME_LABEL, type ServiceDirectory, type WatchManager } from './types.ts';

/** The ElastiService kind, for the builder's `for`. */
const ELASTI_KIND = { gvr: ELASTI_GVR, kind: 'ElastiService' } as const;

/** The informer surface the controller uses; the engine's `SharedInformer` satisfies it. */
export interface ControllerInformer<T extends KubeObject> {
  start(): void;
  stop(): Promise<void>;
  hasSynced(): boolean;
  waitForSync(signal?: AbortSignal): Promise<void>;
  addEventHandler(handler: ResourceEventHandler<T>, options?: HandlerOptions): HandlerRegistration;
  readonly store: { list(): T[]; getByName?(namespace: string | undefined, name: string): T | undefined };
}

/** Builds the controller's informers (tests inject fakes). */
export type ControllerInformerFactory = <T extends KubeObject>(
  target: ListWatchTarget,
  name: string,
) => ControllerInformer<T>;

/** Options of {@link startController}. */
export interface StartControllerOptions {
  /** Reads and writes objects and lists/watches ElastiServices and EndpointSlices: a `KubeClient`. */
  client: ResourceClient & ListerWatcher;
  /** The informer Manager (scale target, public Service and resolver Deployment watches). */
  manager: WatchManager;
  /** The CRD directory the controller keeps up to date. */
  directory: ServiceDirectory;
  /** A resolved config, or input to resolve (defaults: upstream's). */
  config?: OperatorConfig | OperatorConfigInput;
  logger?: Logger;
  /** Where the controller's metrics go. Default: none registered. */
  registry?: Registry;
  /** Aborting it stops the controller (like calling `stop()`). */
  signal?: AbortSignal;
  /** Engine metrics for the controller's own informers (when it builds its own cache). */
  engineMetrics?: EngineMetrics;
  /**
   * The informer cache to take the controller's informers from, shared with other users (the
   * operator builds its Manager on the same one, so a Manager watch and a controller watch of
   * the same GVR × namespace × selectors are one apiserver watch). The controller only takes
   * and releases leases on it; its owner stops it. Default: a cache of the controller's own,
   * stopped with it.
   */
  cache?: InformerCache;
  /** Default: the engine's `SharedInformer` over `client`. Only with a cache of the controller's own. */
  informerFactory?: ControllerInformerFactory;
  /** Default: `HOSTNAME` (the pod name in a cluster). */
  instance?: string;
  /**
   * Extra cleanup when an ElastiService is finalized (e.g. unpausing its KEDA ScaledObject), run
   * before its objects are released; a rejection keeps the finalizer and the deletion is retried.
   */
  onFinalize?: (es: ElastiService, signal?: AbortSignal) => Promise<void>;
}

/**
 * The controller could not start: its ElastiService cache did not sync within
 * `cacheSyncTimeoutMs`. The message names the cause the informer saw (e.g. `403 Forbidden: …
 * cannot list resource "elastiservices"`, `ECONNREFUSED`, a TLS verification failure); `status`
 * is its HTTP status when the server answered.
 */
export class ControllerStartError extends Error {
  override readonly name = 'ControllerStartError';
  /** HTTP status of the last list error, when the server answered. */
  readonly status: number | undefined;
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.status = cause instanceof InformerSyncError ? cause.status : statusOf(cause);
  }
}

/** True for the ElastiService changes the reconciler must see (see the module documentation). */
export function shouldEnqueueUpdate(oldObj: ElastiService, newObj: ElastiService): boolean {
  if (oldObj === newObj) return true; // periodic resync
  if (oldObj.metadata.generation !== newObj.metadata.generation) return true;
  if (Boolean(oldObj.metadata.deletionTimestamp) !== Boolean(newObj.metadata.deletionTimestamp)) return true;
  if (oldObj.metadata.uid !== newObj.metadata.uid) return true;
  // Someone removed our finalizer: put it back.
  return !(newObj.metadata.finalizers ?? []).includes(ELASTI_FINALIZER) && !newObj.metadata.deletionTimestamp;
}

/** A running controller. Create it with {@link startController}. */
export class ElastiServiceController {
  readonly config: OperatorConfig;
  readonly reconciler: ElastiServiceReconciler;
  readonly events: KubeEventRecorder;
  /** The resolver's ready endpoints, from the controller's EndpointSlice cache. */
  readonly resolverEndpoints: CachedResolverEndpoints;
  /** Resolves once the controller has stopped (after {@link stop} or the signal). */
  readonly done: Promise<void>;

  readonly #cache: InformerCache;
  /** True when the cache is the controller's own (stopped with it). */
  readonly #ownsCache: boolean;
  readonly #runtime: Controller<ElastiService>;
  readonly #sliceLease: InformerLease<EndpointSlice>;
  readonly #manager: WatchManager;
  readonly #logger: Logger;
  readonly #signal: AbortSignal | undefined;
  #resolveDone!: () => void;
  #stopping: Promise<void> | undefined;
  #started = false;

  /** Use {@link startController}. */
  constructor(options: StartControllerOptions) {
    // Resolving an already resolved config is a no-op apart from re-checking it.
    this.config = resolveOperatorConfig(options.config ?? {});
    const config = this.config;
    // Each part binds its own `component` on the caller's logger: a child of a child would
    // write the key twice on every line.
    const baseLogger = options.logger ?? silentLogger;
    this.#logger = baseLogger.child({ component: 'elastiservice-controller' });
    this.#manager = options.manager;
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
    if (options.cache && options.informerFactory) {
      throw new TypeError('startController: pass cache or informerFactory, not both');
    }
    this.#ownsCache = options.cache === undefined;
    this.#cache =
      options.cache ??
      new InformerCache({
        lw: options.client,
        logger: baseLogger,
        ...(options.engineMetrics ? { metrics: options.engineMetrics } : {}),
        ...(options.informerFactory
          ? { informerFactory: cacheInformerFactory(options.informerFactory) }
          : {}),
      });
    const slices = {
      namespace: config.resolver.namespace,
      labelSelector: `${SERVICE_NAME_LABEL}=${config.resolver.serviceName}`,
      name: 'resolver-endpointslices',
    };
    // The same informer as the builder's watch below (same cache key): read by the reconciler.
    this.#sliceLease = this.#cache.acquire<EndpointSlice>({ gvr: resources.endpointSlices.gvr, ...slices });
    this.resolverEndpoints = new CachedResolverEndpoints(this.#sliceLease.informer);
    // Read at scrape time, once the runtime controller exists.
    const queue = {
      get length(): number {
        return runtime.queue.length;
      },
      get processingCount(): number {
        return runtime.queue.processingCount;
      },
    };
    const metrics = options.registry ? new ControllerMetrics(options.registry, queue) : undefined;
    this.events = new KubeEventRecorder(options.client, {
      component: config.eventComponent,
      logger: baseLogger,
      ...(options.instance ? { instance: options.instance } : {}),
    });
    this.reconciler = new ElastiServiceReconciler({
      client: options.client,
      manager: options.manager,
      directory: options.directory,
      resolver: this.resolverEndpoints,
      ...(options.onFinalize ? { onFinalize: options.onFinalize } : {}),
      events: this.events,
      config,
      enqueue: (request) => runtime.enqueue(request),
      // The cache may lag a moment behind; it is only used to find other ElastiServices fronting
      // the same Service, which were reconciled (and so cached) long before.
      listElastiServices: (namespace) =>
        runtime.primaryObjects().filter((es) => es.metadata.namespace === namespace),
      logger: baseLogger,
      ...(metrics ? { metrics } : {}),
    });
    const reconciler = this.reconciler;
    // controller-runtime names a controller after its kind, lowercased: `controller="elastiservice"`
    // in the `controller_runtime_*` series (upstream's `elasti_operator_*` ones stay as they are).
    const runtime: Controller<ElastiService> = new ControllerBuilder('elastiservice', {
      cache: this.#cache,
      logger: this.#logger,
      ...(options.registry ? { registry: options.registry } : {}),
    })
      .for<ElastiService>(ELASTI_KIND, {
        namespaces: config.watchNamespaces,
        name: 'elastiservices',
        predicates: [predicateFor<ElastiService>({ update: shouldEnqueueUpdate })],
        resyncPeriodMs: config.resyncPeriodMs,
      })
      // Not required at start: proxy-mode reconciles fail (and retry) until the endpoints are known.
      .watches<EndpointSlice>(resources.endpointSlices, () => reconciler.resolverDependents(), {
        ...slices,
        syncRequired: false,
      })
      .withOptions({
        maxConcurrentReconciles: config.workers,
        rateLimiter: defaultControllerRateLimiter<string>({ ...config.queue, now: () => Date.now() }),
        cacheSyncTimeoutMs: config.cacheSyncTimeoutMs,
        drainTimeoutMs: config.drainTimeoutMs,
        // A namespace being deleted refuses new objects: expected, and the ElastiService goes with it.
        failureLogLevel: (error) => (isNamespaceTerminating(error) ? 'info' : 'warn'),
        onReconciled: ({ outcome }) => {
          if (outcome === 'error') metrics?.retries.inc();
        },
      })
      .build(reconciler);
    this.#runtime = runtime;
    this.#signal = options.signal;
    options.signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  /** The work queue of ElastiService keys, read-only. */
  get queue(): ControllerQueueView {
    return this.#runtime.queue;
  }

  /** Every ElastiService in the controller's cache (shared objects: never mutate them). */
  elastiServices(): ElastiService[] {
    return this.#runtime.primaryObjects();
  }

  /** One ElastiService from the controller's cache (a shared object: never mutate it). */
  elastiService(namespace: string, name: string): ElastiService | undefined {
    return this.#runtime.primaryObject(namespace, name);
  }

  /** True once the caches synced and the workers run (until stopped). */
  get ready(): boolean {
    return this.#started && !this.#stopping;
  }

  /**
   * Starts the runtime controller (its informers, bounded by `cacheSyncTimeoutMs`, then its
   * workers) and hooks the Manager's resolver Deployment informer.
   *
   * @throws {ControllerStartError} when the ElastiService cache does not sync in time.
   */
  async start(): Promise<void> {
    if (this.#started || this.#stopping) return;
    if (this.#signal?.aborted) {
      await this.stop();
      return;
    }
    try {
      await this.#runtime.start();
    } catch (error) {
      const stopRequested = this.#stopping !== undefined;
      await this.stop();
      if (stopRequested) return; // stopped while starting: not a failure
      if (!(error instanceof RuntimeStartError)) throw error;
      // controller-runtime's convention: give up after CacheSyncTimeout and fail start-up with
      // the reason; unlike its "timed out waiting for cache to be synced", say what failed.
      const detail = error.causes.map(errorMessage).join('; ');
      throw new ControllerStartError(
        error.timedOut
          ? `ElastiService cache did not sync within ${this.config.cacheSyncTimeoutMs} ms: ${detail}`
          : `ElastiService cache did not sync: ${detail}`,
        error.causes[0],
      );
    }
    if (this.#stopping) return;
    const resolverChanged = (): void => this.reconciler.resolverChanged();
    try {
      await this.#manager.initializeResolverInformer({
        onAdd: resolverChanged,
        onUpdate: resolverChanged,
        onDelete: () => this.#logger.warn({}, 'resolver deployment deleted'),
      });
    } catch (error) {
      // The EndpointSlice informer already follows the resolver; its Deployment watch is a bonus.
      this.#logger.warn({ err: error }, 'resolver deployment informer not started');
    }
    if (this.#stopping) return;
    this.#started = true;
    this.#logger.info(
      {
        workers: this.config.workers,
        namespaces: this.config.watchNamespaces.length > 0 ? this.config.watchNamespaces : '(all)',
      },
      'controller started',
    );
  }

  /**
   * Stops taking work, lets in-flight reconciles finish (up to `drainTimeoutMs`, then aborts
   * them), stops the informers and the watches registered with the Manager. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#doStop();
    return this.#stopping;
  }

  async #doStop(): Promise<void> {
    await this.#runtime.stop();
    await this.#sliceLease.release();
    if (this.#ownsCache) await this.#cache.stop();
    // After the workers: no reconcile can register a watch again.
    await this.reconciler.releaseWatches();
    await this.events.flush();
    this.#logger.info({}, 'controller stopped');
    this.#resolveDone();
  }
}

/** Builds and starts the controller. Resolves once it runs; see {@link ElastiServiceController.start}. */
export async function startController(options: StartControllerOptions): Promise<ElastiServiceController> {
  const controller = new ElastiServiceController(options);
  await controller.start();
  return controller;
}
