/**
 * The running controller: an informer on ElastiServices (through our engine) and one on the
 * resolver Service's EndpointSlices, both feeding a rate-limited work queue of
 * `namespace/name` keys that a few workers drain through {@link ElastiServiceReconciler}.
 *
 *   ElastiService informer ──┐
 *   scale target / public Service watches (Manager) ──┼──> RateLimitingQueue ──> workers ──> reconcile(key)
 *   resolver EndpointSlices / Deployment ─────────────┘        (retry with backoff on throw)
 *
 * ElastiService updates are enqueued only when something the reconciler acts on changed
 * (generation, deletion, our finalizer missing) or on the periodic resync: the reconciler's own
 * status writes would otherwise feed it forever.
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
  boundedSignal,
  errorMessage,
  InformerSyncError,
  isNamespaceTerminating,
  resources,
  SharedInformer,
  silentLogger,
  statusOf,
} from '../kube/index.ts';
import type { ResourceClient } from '../runtime/index.ts';
import { defaultControllerRateLimiter, KubeEventRecorder, RateLimitingQueue } from '../runtime/index.ts';
import { type OperatorConfig, type OperatorConfigInput, resolveOperatorConfig } from './config.ts';
import { elastiServiceKey, InvalidKeyError } from './keys.ts';
import { ControllerMetrics } from './metrics.ts';
import { ElastiServiceReconciler } from './reconciler.ts';
import { CachedResolverEndpoints } from './resolver-endpoints.ts';
import { SERVICE_NAME_LABEL, type ServiceDirectory, type WatchManager } from './types.ts';

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
  /** Engine metrics for the controller's own informers. */
  engineMetrics?: EngineMetrics;
  /** Default: the engine's `SharedInformer` over `client`. */
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
  readonly queue: RateLimitingQueue<string>;
  readonly reconciler: ElastiServiceReconciler;
  readonly events: KubeEventRecorder;
  /** The resolver's ready endpoints, from the controller's EndpointSlice cache. */
  readonly resolverEndpoints: CachedResolverEndpoints;
  /** Resolves once the controller has stopped (after {@link stop} or the signal). */
  readonly done: Promise<void>;

  /** One per watched namespace, or one cluster-wide. */
  readonly #esInformers: ControllerInformer<ElastiService>[];
  readonly #sliceInformer: ControllerInformer<EndpointSlice>;
  readonly #manager: WatchManager;
  readonly #logger: Logger;
  readonly #metrics: ControllerMetrics | undefined;
  readonly #lifetime = new AbortController();
  readonly #signal: AbortSignal | undefined;
  readonly #workers: Promise<void>[] = [];
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
    const factory: ControllerInformerFactory =
      options.informerFactory ??
      (<T extends KubeObject>(target: ListWatchTarget, name: string) =>
        new SharedInformer<T>({
          lw: options.client,
          target,
          name,
          logger: options.logger ?? silentLogger,
          ...(options.engineMetrics ? { metrics: options.engineMetrics } : {}),
        }));
    this.#esInformers =
      config.watchNamespaces.length === 0
        ? [factory<ElastiService>({ gvr: ELASTI_GVR }, 'elastiservices')]
        : config.watchNamespaces.map((namespace) =>
            factory<ElastiService>({ gvr: ELASTI_GVR, namespace }, `elastiservices/${namespace}`),
          );
    this.#sliceInformer = factory<EndpointSlice>(
      {
        gvr: resources.endpointSlices.gvr,
        namespace: config.resolver.namespace,
        labelSelector: `${SERVICE_NAME_LABEL}=${config.resolver.serviceName}`,
      },
      'resolver-endpointslices',
    );

    const clock = { now: () => Date.now() };
    this.queue = new RateLimitingQueue<string>({
      rateLimiter: defaultControllerRateLimiter<string>({ ...config.queue, now: clock.now }),
    });
    this.#metrics = options.registry ? new ControllerMetrics(options.registry, this.queue) : undefined;
    this.events = new KubeEventRecorder(options.client, {
      component: config.eventComponent,
      logger: baseLogger,
      ...(options.instance ? { instance: options.instance } : {}),
    });
    const esInformers = this.#esInformers;
    this.resolverEndpoints = new CachedResolverEndpoints(this.#sliceInformer);
    this.reconciler = new ElastiServiceReconciler({
      client: options.client,
      manager: options.manager,
      directory: options.directory,
      resolver: this.resolverEndpoints,
      ...(options.onFinalize ? { onFinalize: options.onFinalize } : {}),
      events: this.events,
      config,
      enqueue: (key) => this.queue.add(key),
      // The cache may lag a moment behind; it is only used to find other ElastiServices fronting
      // the same Service, which were reconciled (and so cached) long before.
      listElastiServices: (namespace) =>
        esInformers.flatMap((i) => i.store.list()).filter((es) => es.metadata.namespace === namespace),
      logger: baseLogger,
      ...(this.#metrics ? { metrics: this.#metrics } : {}),
    });
    this.#signal = options.signal;
    options.signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  /** Every ElastiService in the controller's cache (shared objects: never mutate them). */
  elastiServices(): ElastiService[] {
    return this.#esInformers.length === 1
      ? (this.#esInformers[0]?.store.list() ?? [])
      : this.#esInformers.flatMap((i) => i.store.list());
  }

  /** One ElastiService from the controller's cache (a shared object: never mutate it). */
  elastiService(namespace: string, name: string): ElastiService | undefined {
    for (const informer of this.#esInformers) {
      const found = informer.store.getByName
        ? informer.store.getByName(namespace, name)
        : informer.store
            .list()
            .find((es) => es.metadata.namespace === namespace && es.metadata.name === name);
      if (found) return found;
    }
    return undefined;
  }

  /** True once the caches synced and the workers run (until stopped). */
  get ready(): boolean {
    return this.#started && !this.#stopping;
  }

  /**
   * Starts informers, waits for the ElastiService cache (bounded by `cacheSyncTimeoutMs`),
   * hooks the resolver informer and starts the workers.
   *
   * @throws {ControllerStartError} when the ElastiService cache does not sync in time.
   */
  async start(): Promise<void> {
    if (this.#started || this.#stopping) return;
    if (this.#signal?.aborted) {
      await this.stop();
      return;
    }
    const enqueue = (es: ElastiService): void => {
      const { namespace, name } = es.metadata;
      if (namespace && name) this.queue.add(elastiServiceKey(namespace, name));
    };
    for (const informer of this.#esInformers) {
      informer.addEventHandler(
        {
          onAdd: enqueue,
          onUpdate: (oldObj, newObj) => {
            if (shouldEnqueueUpdate(oldObj, newObj)) enqueue(newObj);
          },
          onDelete: enqueue,
        },
        { name: 'elastiservice-controller', resyncPeriodMs: this.config.resyncPeriodMs },
      );
    }
    const resolverChanged = (): void => this.reconciler.resolverChanged();
    this.#sliceInformer.addEventHandler(
      { onAdd: resolverChanged, onUpdate: resolverChanged, onDelete: resolverChanged },
      { name: 'resolver-endpoints' },
    );
    for (const informer of this.#esInformers) informer.start();
    this.#sliceInformer.start();

    // A ref'd timer, not AbortSignal.timeout(): that one is unref'd, so a process with nothing
    // else pending (seen on Node 22) could exit before the deadline instead of failing at it.
    const deadline = boundedSignal(this.config.cacheSyncTimeoutMs, [this.#lifetime.signal]);
    const bound = deadline.signal;
    try {
      await Promise.all(this.#esInformers.map((i) => i.waitForSync(bound)));
    } catch (error) {
      deadline.dispose();
      const stopRequested = this.#stopping !== undefined;
      await this.stop();
      if (stopRequested) return; // stopped while starting: not a failure
      // controller-runtime's convention: give up after CacheSyncTimeout and fail start-up with
      // the reason; unlike its "timed out waiting for cache to be synced", say what failed.
      throw new ControllerStartError(
        deadline.timedOut()
          ? `ElastiService cache did not sync within ${this.config.cacheSyncTimeoutMs} ms: ${errorMessage(error)}`
          : `ElastiService cache did not sync: ${errorMessage(error)}`,
        error,
      );
    }
    try {
      await this.#sliceInformer.waitForSync(bound);
    } catch (error) {
      // Not fatal: proxy-mode reconciles fail (and retry) until the resolver endpoints are known.
      this.#logger.warn({ err: error }, 'resolver endpoint cache not synced; continuing');
    } finally {
      deadline.dispose();
    }
    if (this.#stopping) return;
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
    for (let i = 0; i < this.config.workers; i++) this.#workers.push(this.#work(i));
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
    const drained = this.queue.shutDownWithDrain();
    const timer = new Promise<'timeout'>((resolve) => {
      const t = setTimeout(() => resolve('timeout'), this.config.drainTimeoutMs);
      void drained.then(() => clearTimeout(t));
    });
    if ((await Promise.race([drained, timer])) === 'timeout') {
      this.#logger.warn({ inFlight: this.queue.processingCount }, 'drain timed out; aborting reconciles');
    }
    this.#lifetime.abort(new Error('controller stopped'));
    await Promise.allSettled(this.#workers);
    await Promise.allSettled([...this.#esInformers.map((i) => i.stop()), this.#sliceInformer.stop()]);
    await this.reconciler.releaseWatches();
    await this.events.flush();
    this.#logger.info({}, 'controller stopped');
    this.#resolveDone();
  }

  async #work(id: number): Promise<void> {
    const signal = this.#lifetime.signal;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        const result = await this.reconciler.reconcile(key, signal);
        this.queue.forget(key);
        if (result.requeueAfter !== undefined && result.requeueAfter > 0) {
          this.queue.addAfter(key, result.requeueAfter);
        }
      } catch (error) {
        if (signal.aborted) {
          // Stopping: the failure is most likely the abort itself, and the queue takes no retries.
          this.#logger.debug({ key, err: error }, 'reconcile ended by stop');
        } else if (error instanceof InvalidKeyError) {
          // Not retryable: the key itself is malformed (never produced by our own handlers).
          this.queue.forget(key);
          this.#logger.error({ err: error, key }, 'dropping malformed key');
        } else {
          const delay = this.queue.addRateLimited(key);
          this.#metrics?.retries.inc();
          const fields = {
            key,
            error: errorMessage(error),
            worker: id,
            retryInMs: delay,
            retries: this.queue.numRequeues(key),
          };
          // One line per failed reconcile; the stack is for us, at debug. A namespace being
          // deleted refuses new objects: expected, and the ElastiService goes with it.
          if (isNamespaceTerminating(error))
            this.#logger.info(fields, 'reconcile failed: namespace is being deleted; retrying with backoff');
          else this.#logger.warn(fields, 'reconcile failed; retrying with backoff');
          this.#logger.debug({ key, err: error }, 'reconcile failure detail');
        }
      } finally {
        this.queue.done(key);
      }
    }
  }
}

/** Builds and starts the controller. Resolves once it runs; see {@link ElastiServiceController.start}. */
export async function startController(options: StartControllerOptions): Promise<ElastiServiceController> {
  const controller = new ElastiServiceController(options);
  await controller.start();
  return controller;
}
