/**
 * The shared informer: one reflector feeding one cache, fanned out to any number of handlers.
 *
 *   reflector --ReflectorSink--> Store (diff) --deltas--> Processor --per-handler queues--> handlers
 *
 * The sink runs synchronously inside the reflector: it updates the cache and enqueues deltas,
 * never running handler code, so the cache is always exactly as fresh as the reflector and a
 * slow handler can never hold the watch back.
 *
 * @module
 */
import type {
  HandlerOptions,
  HandlerRegistration,
  KubeObject,
  KubeObjectLike,
  ListerWatcher,
  ListWatchTarget,
  Logger,
  ReflectorObserver,
  ReflectorSink,
  ReflectorStatus,
  ResourceEventHandler,
} from '../core/index.ts';
import { formatGvr, silentLogger, Waiters } from '../core/index.ts';
import type { EngineMetrics, InformerMetricsHandle } from '../metrics/index.ts';
import { Reflector, type ReflectorOptions } from '../watch/index.ts';
import type { DEFAULT_HEAP_RELEASE, HeapReleasePolicy, HeapReleaser } from './heap-release.ts';
import { releaseHeapAfterList } from './heap-release.ts';
import {
  type InformerLifecycleListener,
  InformerSyncError,
  LifecycleListeners,
  type LifecycleRegistration,
} from './informer-lifecycle.ts';
import { type HandlerListener, Processor } from './processor.ts';
import { type Delta, type IndexFunc, type ReadonlyStore, Store } from './store.ts';

/** Options of the reflector the informer builds: `reflector.ts`'s, over raw objects (the transform runs in the cache). */
export type InformerReflectorOptions = ReflectorOptions<KubeObject>;

/** What the informer needs of a reflector. `reflector.ts`'s `Reflector` satisfies it. */
export interface ReflectorLike {
  start(): void;
  stop(): Promise<void>;
  status(): ReflectorStatus;
  restart(reason: string): void;
}

/** Builds the informer's reflector; tests inject fakes through it. */
export type ReflectorFactory = (options: InformerReflectorOptions) => ReflectorLike;

/** Options of a {@link SharedInformer}. */
export interface SharedInformerOptions<T extends KubeObjectLike = KubeObject> {
  lw: ListerWatcher;
  target: ListWatchTarget;
  /** For logs and metrics. Default: the GVR, plus `@namespace` when namespaced. */
  name?: string;
  logger?: Logger;
  metrics?: EngineMetrics;
  /** Applied to every object before it is cached (default: drop `metadata.managedFields`). Must not mutate its input. */
  transform?: (obj: KubeObject) => T;
  /** Extra cache indexes besides `namespace`. */
  indexers?: Record<string, IndexFunc<T>>;
  /** Passed through to the reflector. An `observer` here is called besides the metrics observer. */
  reflector?: Omit<Partial<InformerReflectorOptions>, 'lw' | 'target' | 'sink'>;
  /** Default: `new Reflector(options)` from `reflector.ts`. */
  reflectorFactory?: ReflectorFactory;
  /** Clock (ms since epoch). Default `Date.now`. */
  now?: () => number;
  /**
   * After a list of at least `minItems` objects reached the cache, ask for one memory-reducing
   * collection, so the process does not hold the list's garbage (`heap-release.ts`). `false`
   * turns it off. Default {@link DEFAULT_HEAP_RELEASE} (1,000 objects).
   */
  heapRelease?: HeapReleasePolicy | false;
  /** Default: the process's one releaser ({@link processHeapReleaser}), shared by all informers. */
  heapReleaser?: HeapReleaser;
}

/** The informer was stopped: it cannot be started again, take handlers, or become synced. */
export class InformerStoppedError extends Error {
  readonly informer: string;
  constructor(informer: string, what: string) {
    super(`informer ${informer} is stopped: ${what}`);
    this.name = 'InformerStoppedError';
    this.informer = informer;
  }
}

/** An operation only allowed before `start()` was attempted after it. */
export class InformerStartedError extends Error {
  readonly informer: string;
  constructor(informer: string, what: string) {
    super(`informer ${informer} has started: ${what}`);
    this.name = 'InformerStartedError';
    this.informer = informer;
  }
}

type Lifecycle = 'new' | 'started' | 'stopped';

const defaultReflectorFactory: ReflectorFactory = (options) => new Reflector<KubeObject>(options);

/**
 * A list/watch cache of one resource shared by many handlers.
 *
 * Lifecycle: construct, add handlers (any time), `start()`, `waitForSync()`, … `stop()`.
 * After `stop()` no timer, socket or listener of this informer remains; it cannot be restarted
 * (build a new one). The cache stays readable after stop, frozen at its last state.
 *
 * @example
 * ```ts
 * import { KubeClient, resources, SharedInformer } from 'elasti-informer';
 * import type { V1Pod } from '@kubernetes/client-node'; // or your own interface, or kubernetes-types
 *
 * const client = await KubeClient.create();
 * const pods = new SharedInformer<V1Pod>({
 *   lw: client,
 *   target: { gvr: resources.pods.gvr, namespace: 'web', labelSelector: 'app=shop' },
 *   indexers: { byNode: (pod) => [pod.spec?.nodeName ?? ''] },
 * });
 * pods.addEventHandler({ onUpdate: (_old, pod) => console.log(pod.metadata?.name, pod.status?.phase) });
 * pods.start();
 * await pods.waitForSync(AbortSignal.timeout(30_000));
 * const onNode1 = pods.store.byIndex('byNode', 'node-1');
 * ```
 */
export class SharedInformer<T extends KubeObjectLike = KubeObject> {
  readonly name: string;
  /** The cache. Objects are shared with handlers: treat them as read-only. */
  readonly store: ReadonlyStore<T>;

  readonly #options: SharedInformerOptions<T>;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #createdAt: number;
  readonly #store: Store<T>;
  readonly #processor: Processor<T>;
  #lifecycle: Lifecycle = 'new';
  #reflector: ReflectorLike | undefined;
  #metrics: InformerMetricsHandle | undefined;
  #synced = false;
  readonly #syncWaiters = new Waiters();
  readonly #lifecycleListeners: LifecycleListeners;
  #resyncTimer: NodeJS.Timeout | undefined;
  #resyncTimerAt: number | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: SharedInformerOptions<T>) {
    if (!options || typeof options !== 'object') throw new TypeError('SharedInformer needs options');
    if (!options.lw) throw new TypeError('SharedInformer needs a ListerWatcher (options.lw)');
    if (!options.target?.gvr) throw new TypeError('SharedInformer needs a target with a gvr');
    this.#options = options;
    const { target } = options;
    this.name =
      options.name ??
      (target.namespace ? `${formatGvr(target.gvr)}@${target.namespace}` : formatGvr(target.gvr));
    this.#logger = (options.logger ?? silentLogger).child({ informer: this.name });
    this.#now = options.now ?? Date.now;
    this.#createdAt = this.#now();
    this.#lifecycleListeners = new LifecycleListeners(this.#logger);
    this.#store = new Store<T>({
      ...(options.transform ? { transform: options.transform } : {}),
      ...(options.indexers ? { indexers: options.indexers } : {}),
      onInputError: (error) => {
        this.#logger.warn({ err: error, key: error.key }, 'object rejected by the cache');
        this.#metrics?.inputError();
      },
    });
    this.store = this.#store;
    this.#processor = new Processor<T>({
      logger: this.#logger,
      hooks: {
        onHandlerError: () => this.#metrics?.handlerError(),
        onRemoved: () => this.#scheduleResync(),
      },
    });
  }

  /** Adds cache indexes. Only before `start()`; throws {@link InformerStartedError} after. */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    if (this.#lifecycle !== 'new')
      throw new InformerStartedError(this.name, 'indexers must be added before start');
    this.#store.addIndexers(indexers);
  }

  /**
   * Starts listing and watching. Idempotent while running; throws {@link InformerStoppedError}
   * after `stop()`.
   */
  start(): void {
    if (this.#lifecycle === 'started') return;
    if (this.#lifecycle === 'stopped') throw new InformerStoppedError(this.name, 'cannot start again');
    const factory = this.#options.reflectorFactory ?? defaultReflectorFactory;
    if (!factory) {
      throw new TypeError(
        'no reflector factory: pass options.reflectorFactory or import the engine from index.ts',
      );
    }
    const metrics = this.#options.metrics?.register(this.name, {
      storeSize: () => this.#store.size,
      queueDepth: () => this.#processor.queueDepth(),
      queueHighWater: () => this.#processor.highWater(),
      lastEventAt: () => this.#reflector?.status().lastEventAt,
    });
    const passthrough = this.#options.reflector ?? {};
    const observer = composeObservers(
      this.#logger,
      this.#lifecycleObserver,
      metrics?.observer,
      passthrough.observer,
    );
    const reflector = factory({
      ...passthrough,
      lw: this.#options.lw,
      target: this.#options.target,
      sink: this.#sink,
      name: this.name,
      logger: this.#logger,
      now: this.#now,
      ...(observer ? { observer } : {}),
    });
    this.#metrics = metrics;
    this.#reflector = reflector;
    this.#lifecycle = 'started';
    reflector.start();
    this.#scheduleResync();
  }

  /**
   * Stops the reflector, drops every handler's queue and rejects pending `waitForSync` calls.
   * Resolves once the reflector has released its connection. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#doStop();
    return this.#stopping;
  }

  async #doStop(): Promise<void> {
    this.#lifecycle = 'stopped';
    this.#clearResyncTimer();
    this.#syncWaiters.rejectAll(new InformerStoppedError(this.name, 'stopped before sync'));
    this.#processor.removeAll();
    try {
      await this.#reflector?.stop();
    } finally {
      this.#metrics?.release();
      this.#metrics = undefined;
    }
  }

  /**
   * Registers a handler; works before or after start. If the cache has synced, the handler
   * first receives an add (`isInInitialList: true`) for every cached object, then live events.
   * Throws {@link InformerStoppedError} after stop, `TypeError`/`RangeError` for bad arguments.
   */
  addEventHandler(handler: ResourceEventHandler<T>, options?: HandlerOptions): HandlerRegistration {
    if (this.#lifecycle === 'stopped') throw new InformerStoppedError(this.name, 'cannot add a handler');
    const listener = this.#processor.add(handler, options);
    if (this.#synced) {
      // Synchronous snapshot + enqueue: no live delta can slip in between, so the handler sees
      // the cache state and then exactly the changes after it.
      for (const obj of this.#store.list()) listener.enqueue({ type: 'add', obj, isInInitialList: true });
      listener.markSyncPoint();
    }
    if (listener.resyncPeriodMs > 0) {
      listener.nextResyncAt = this.#now() + listener.resyncPeriodMs;
      this.#scheduleResync();
    }
    return registrationOf(listener);
  }

  /** True once the first complete list has been stored (handlers may still be catching up: see their own `hasSynced`). */
  hasSynced(): boolean {
    return this.#synced;
  }

  /**
   * Resolves once the cache has synced. Rejects with {@link InformerSyncError} if `signal` aborts
   * first — its message and fields carry the last list/watch error (HTTP status, the server's
   * message, the GVR), e.g. the 403 of a missing RBAC rule — or with {@link InformerStoppedError}
   * if the informer stops first.
   *
   * Without a signal it waits until sync or stop: failed lists are retried with backoff for as
   * long as the informer runs (client-go's behaviour), so bound the wait with a deadline.
   *
   * @example
   * ```ts
   * informer.start();
   * // Rejects after 30 s with e.g. "informer configmaps.v1@app did not sync: timed out; last error
   * // after 6 consecutive failure(s): 403 Forbidden: configmaps is forbidden: User "restricted" ..."
   * await informer.waitForSync(AbortSignal.timeout(30_000));
   * ```
   */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    if (this.#lifecycle === 'stopped') {
      return Promise.reject(new InformerStoppedError(this.name, 'stopped before sync'));
    }
    return this.#syncWaiters.wait(signal).catch((error: unknown) => {
      // The signal's own reason (a bare TimeoutError) says nothing about why: say what failed.
      if (signal?.aborted && error === signal.reason && !this.#synced) {
        throw new InformerSyncError(this.name, this.#options.target, this.status(), signal.reason);
      }
      throw error;
    });
  }

  /**
   * Calls `listener`'s hooks on list/watch errors, phase changes and the first sync, from now on
   * until `remove()`. Works before or after `start()`. See {@link InformerLifecycleListener}.
   */
  addLifecycleListener(listener: InformerLifecycleListener): LifecycleRegistration {
    return this.#lifecycleListeners.add(listener);
  }

  /** Forwards the reflector's errors and phases to the lifecycle listeners. */
  readonly #lifecycleObserver: ReflectorObserver = {
    onError: (error, status) => {
      if (this.#lifecycleListeners.size === 0) return;
      this.#lifecycleListeners.emit('onError', error, {
        informer: this.name,
        target: this.#options.target,
        status,
        failures: this.status().consecutiveFailures,
        synced: this.#synced,
      });
    },
    onPhase: (status) => this.#lifecycleListeners.emit('onPhase', status),
  };

  /** The reflector's state; before start a synthetic `Idle` status (or `Stopped` if stopped unstarted). */
  status(): ReflectorStatus {
    if (this.#reflector) return this.#reflector.status();
    return {
      phase: this.#lifecycle === 'stopped' ? 'Stopped' : 'Idle',
      phaseSince: this.#createdAt,
      synced: false,
      lastSyncResourceVersion: undefined,
      lastEventAt: undefined,
      lastError: undefined,
      consecutiveFailures: 0,
      lists: 0,
      relists: 0,
      watchRestarts: 0,
    };
  }

  /** Asks the reflector to drop its watch and relist (e.g. a health check judged it stale). No-op unless running. */
  restart(reason: string): void {
    if (this.#lifecycle !== 'started' || !this.#reflector) {
      this.#logger.debug({ reason }, 'restart ignored: informer not running');
      return;
    }
    this.#reflector.restart(reason);
  }

  /** Number of registered handlers. */
  handlerCount(): number {
    return this.#processor.size;
  }

  readonly #sink: ReflectorSink<KubeObject> = {
    replace: (items, resourceVersion) => {
      if (this.#lifecycle !== 'started') return;
      const deltas = this.#store.replace(items, resourceVersion);
      this.#distribute(deltas);
      if (!this.#synced) this.#markSynced();
      releaseHeapAfterList(items.length, this.#options, () => this.#lifecycle === 'started', this.#logger);
    },
    apply: (type, obj) => {
      if (this.#lifecycle !== 'started') return;
      const delta = this.#store.apply(type, obj);
      if (delta) this.#processor.distribute(delta);
    },
  };

  #distribute(deltas: Delta<T>[]): void {
    for (const delta of deltas) this.#processor.distribute(delta);
  }

  #markSynced(): void {
    this.#synced = true;
    for (const l of this.#processor.listeners()) l.markSyncPoint();
    this.#syncWaiters.resolveAll();
    this.#logger.debug({ objects: this.#store.size }, 'cache synced');
    this.#lifecycleListeners.emit('onSynced');
  }

  /** (Re)arms the single resync timer for the earliest due handler, or clears it if none needs one. */
  #scheduleResync(): void {
    if (this.#lifecycle !== 'started') {
      this.#clearResyncTimer();
      return;
    }
    let earliest: number | undefined;
    for (const l of this.#processor.listeners()) {
      if (l.resyncPeriodMs <= 0 || l.nextResyncAt === undefined) continue;
      if (earliest === undefined || l.nextResyncAt < earliest) earliest = l.nextResyncAt;
    }
    if (earliest === undefined) {
      this.#clearResyncTimer();
      return;
    }
    if (this.#resyncTimer && this.#resyncTimerAt === earliest) return;
    this.#clearResyncTimer();
    this.#resyncTimerAt = earliest;
    // Deliberately not unref'd: a running informer keeps its process alive anyway, and a ref'd
    // timer shows in process.getActiveResourcesInfo(), so leak checks can see one left behind.
    this.#resyncTimer = setTimeout(() => this.#onResyncTimer(), Math.max(0, earliest - this.#now()));
  }

  #clearResyncTimer(): void {
    if (this.#resyncTimer) clearTimeout(this.#resyncTimer);
    this.#resyncTimer = undefined;
    this.#resyncTimerAt = undefined;
  }

  #onResyncTimer(): void {
    this.#resyncTimer = undefined;
    this.#resyncTimerAt = undefined;
    if (this.#lifecycle !== 'started') return;
    const now = this.#now();
    for (const l of this.#processor.listeners()) {
      if (l.resyncPeriodMs <= 0 || l.nextResyncAt === undefined || l.nextResyncAt > now) continue;
      l.nextResyncAt = now + l.resyncPeriodMs;
      // Before the first sync there is nothing authoritative to replay; skip this round.
      if (!this.#synced) continue;
      for (const obj of this.#store.list()) l.enqueue({ type: 'update', oldObj: obj, newObj: obj });
    }
    this.#scheduleResync();
  }
}

/** A narrow view of a listener, so callers cannot enqueue into it. */
function registrationOf<T extends KubeObjectLike = KubeObject>(
  listener: HandlerListener<T>,
): HandlerRegistration {
  return {
    remove: () => listener.remove(),
    hasSynced: () => listener.hasSynced(),
    get queueDepth() {
      return listener.queueDepth;
    },
  };
}

/**
 * One observer calling several; a throwing observer is logged and never disturbs the
 * reflector's state machine or the other observers.
 */
function composeObservers(
  logger: Logger,
  ...observers: (ReflectorObserver | undefined)[]
): ReflectorObserver | undefined {
  const present = observers.filter((o): o is ReflectorObserver => o !== undefined);
  return present.length === 0 ? undefined : guardObserver(logger, present);
}

function guardObserver(logger: Logger, observers: ReflectorObserver[]): ReflectorObserver {
  const call = <K extends keyof ReflectorObserver>(
    hook: K,
    args: Parameters<NonNullable<ReflectorObserver[K]>>,
  ) => {
    for (const o of observers) {
      const fn = o[hook] as ((...a: unknown[]) => void) | undefined;
      if (!fn) continue;
      try {
        fn.apply(o, args);
      } catch (error) {
        logger.warn({ err: error, hook }, 'reflector observer threw');
      }
    }
  };
  return {
    onListStart: (...a) => call('onListStart', a),
    onListPage: (...a) => call('onListPage', a),
    onListDone: (...a) => call('onListDone', a),
    onWatchStart: (...a) => call('onWatchStart', a),
    onWatchEnd: (...a) => call('onWatchEnd', a),
    onEvent: (...a) => call('onEvent', a),
    onBookmark: (...a) => call('onBookmark', a),
    onError: (...a) => call('onError', a),
    onPhase: (...a) => call('onPhase', a),
  };
}
