/**
 * A running controller: informer events → predicates → requests → the rate-limited work queue →
 * `maxConcurrentReconciles` workers calling the reconciler. Built by `ControllerBuilder`
 * (`builder.ts`); this module is the loop.
 *
 * - Errors are requeued with the key's backoff (`addRateLimited`); a {@link TerminalError} is
 *   not; `requeueAfterMs` schedules a look after a delay with the backoff reset.
 * - One reconcile per key at a time (the queue's guarantee), many keys in parallel.
 * - `start()` resolves once every watched cache has synced (bounded by `cacheSyncTimeoutMs`,
 *   then {@link ControllerStartError}); `stop()` aborts in-flight reconciles' signal, waits for
 *   them, drops queued keys and releases the informers (the last user stops each watch).
 *
 * @module
 */

import {
  boundedSignal,
  type Delta,
  errorMessage,
  type HandlerRegistration,
  type HeapReleaser,
  type KubeObjectLike,
  type Logger,
  processHeapReleaser,
  silentLogger,
} from '../kube/index.ts';
import { CacheSyncError, type InformerCache, type InformerLease } from './cache.ts';
import type { ControllerRuntimeMetrics, ReconcileOutcome } from './metrics.ts';
import type { Predicate } from './predicates.ts';
import {
  type ReconcileContext,
  type ReconcileFunc,
  type ReconcileRequest,
  type ReconcileResult,
  type Reconciler,
  requestKey,
  requestOfKey,
  TerminalError,
} from './reconcile.ts';
import { type QueueClock, type RateLimiter, RateLimitingQueue } from './workqueue.ts';

/** One watched source: its informer lease, what passes, and which requests an event makes. */
export interface WatchSource {
  readonly lease: InformerLease<KubeObjectLike>;
  readonly predicates: readonly Predicate[];
  /** Requests for one object (an update maps both the old and the new object). */
  readonly map: (obj: KubeObjectLike) => readonly ReconcileRequest[];
  /** Replay the cache every period (ms) through the predicates; 0: never. */
  readonly resyncPeriodMs: number;
  /** For logs: `for`, `owns`, `watches`. */
  readonly role: string;
  /** False: `start()` does not fail when this watch has not synced by the deadline. */
  readonly syncRequired: boolean;
}

/** How one reconcile ended, for {@link ControllerOptions.onReconciled}. */
export interface ReconcileReport {
  readonly request: ReconcileRequest;
  readonly outcome: ReconcileOutcome;
  /** The thrown error (outcomes `error` and `terminal_error`). */
  readonly error?: unknown;
  readonly durationSeconds: number;
}

/** The queue as a controller shows it: read-only. */
export interface ControllerQueueView {
  /** Keys waiting (not in-flight or delayed ones). */
  readonly length: number;
  /** Keys being reconciled now. */
  readonly processingCount: number;
  /** Failures since the key's last success. */
  numRequeues(key: string): number;
}

/** Tuning of a controller. */
export interface ControllerOptions {
  /** Workers reconciling different keys at once. Default 1. */
  readonly maxConcurrentReconciles?: number;
  /** Default: the queue's (per-key 5 ms → 1000 s backoff, max with 10 qps / burst 100). */
  readonly rateLimiter?: RateLimiter<string>;
  /** How long `start()` waits for the caches (ms). Default 120 000 (controller-runtime's). */
  readonly cacheSyncTimeoutMs?: number;
  /** Queue clock, for tests. */
  readonly clock?: QueueClock;
  /**
   * On `stop()`, how long in-flight reconciles may finish before their signal aborts (ms).
   * Default 0: abort at once.
   */
  readonly drainTimeoutMs?: number;
  /** Called after every reconcile (the operator's own metrics); must not throw. */
  readonly onReconciled?: (report: ReconcileReport) => void;
  /**
   * The level a retried failure is logged at (default `warn`); e.g. `info` for an error that is
   * expected and goes away by itself. The stack is logged at debug either way.
   */
  readonly failureLogLevel?: (error: unknown) => 'info' | 'warn';
  /**
   * When the queue has stayed drained for `idleMs` after at least `afterReconciles` reconciles,
   * ask for one memory-reducing collection (the engine's `HeapReleaser`, coalesced
   * process-wide): a burst of reconciles (start-up, a mass change) leaves garbage that V8 would
   * otherwise keep committed while the controller idles. `false` turns it off. Default
   * {@link DEFAULT_CONTROLLER_HEAP_RELEASE}.
   */
  readonly heapRelease?: ControllerHeapRelease | false;
  /** Default: the process's one releaser. */
  readonly heapReleaser?: HeapReleaser;
}

/** When a controller asks for a collection: after a burst of reconciles, once idle. */
export interface ControllerHeapRelease {
  /** Reconciles since the last collection that make a burst. */
  readonly afterReconciles: number;
  /** How long the queue must stay drained (ms) before the collection. */
  readonly idleMs: number;
}

/**
 * 50 reconciles, then 2 s idle: a start-up or mass change, collected once at its end rather
 * than at every pause inside it; the steady trickle (one reconcile per second) leads to at most
 * one collection per 50 s, a few ms each.
 */
export const DEFAULT_CONTROLLER_HEAP_RELEASE: ControllerHeapRelease = { afterReconciles: 50, idleMs: 2000 };

/** The caches did not sync in time: names the informers and their last errors. */
export class ControllerStartError extends Error {
  readonly controller: string;
  /** True when `cacheSyncTimeoutMs` passed (false: stopped while starting). */
  readonly timedOut: boolean;
  /** What the informers that did not sync last failed with (the cause itself if not a sync error). */
  readonly causes: readonly unknown[];
  constructor(controller: string, cause: unknown, timedOut = false) {
    super(
      `controller ${controller} did not start: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
    this.name = 'ControllerStartError';
    this.controller = controller;
    this.timedOut = timedOut;
    this.causes = cause instanceof CacheSyncError ? cause.causes : [cause];
  }
}

/** Everything a controller runs on, assembled by the builder. */
export interface ControllerSpec<T extends KubeObjectLike> {
  readonly name: string;
  readonly cache: InformerCache;
  /** One lease per watched namespace (or one for all). */
  readonly primary: readonly InformerLease<T>[];
  readonly sources: readonly WatchSource[];
  readonly reconciler: Reconciler<T>;
  readonly options: ControllerOptions;
  readonly logger?: Logger | undefined;
  /** Built by the builder from its registry, if any. */
  readonly metrics?: ((controller: Controller<T>) => ControllerRuntimeMetrics) | undefined;
}

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * See the module documentation. Built with `ControllerBuilder`.
 *
 * @example
 * ```ts
 * const controller = new ControllerBuilder('widgets', { cache })
 *   .for(widgets)
 *   .owns(resources.configMaps)
 *   .build(async (req, { object }) => (object ? ensureConfigMap(object) : undefined));
 * await controller.start();
 * // ... on shutdown
 * await controller.stop();
 * ```
 */
export class Controller<T extends KubeObjectLike> {
  readonly name: string;
  readonly #spec: ControllerSpec<T>;
  readonly #logger: Logger;
  readonly #queue: RateLimitingQueue<string>;
  readonly #abort = new AbortController();
  readonly #registrations: HandlerRegistration[] = [];
  readonly #reconcile: ReconcileFunc<T>;
  #metrics: ControllerRuntimeMetrics | undefined;
  #workers: Promise<void>[] = [];
  #active = 0;
  /** Reconciles since the last heap release this controller asked for. */
  #reconcilesSinceRelease = 0;
  #releaseTimer: NodeJS.Timeout | undefined;
  #state: State = 'new';
  #stopping: Promise<void> | undefined;

  constructor(spec: ControllerSpec<T>) {
    this.name = spec.name;
    this.#spec = spec;
    this.#logger = (spec.logger ?? silentLogger).child({ controller: spec.name });
    this.#queue = new RateLimitingQueue<string>({
      ...(spec.options.rateLimiter ? { rateLimiter: spec.options.rateLimiter } : {}),
      ...(spec.options.clock ? { clock: spec.options.clock } : {}),
    });
    const r = spec.reconciler;
    this.#reconcile = typeof r === 'function' ? r : (req, ctx) => r.reconcile(req, ctx);
  }

  /** The work queue, read-only. */
  get queue(): ControllerQueueView {
    return this.#queue;
  }

  /** Every cached primary object (shared with the cache: never mutate them). */
  primaryObjects(): T[] {
    const leases = this.#spec.primary;
    return leases.length === 1 ? (leases[0]?.lister.list() ?? []) : leases.flatMap((l) => l.lister.list());
  }

  /** One cached primary object (shared with the cache: never mutate it). */
  primaryObject(namespace: string | undefined, name: string): T | undefined {
    for (const lease of this.#spec.primary) {
      const found = lease.lister.get(namespace, name);
      if (found) return found;
    }
    return undefined;
  }

  /** Keys waiting in the queue (not counting in-flight or delayed ones). */
  get queueLength(): number {
    return this.#queue.length;
  }

  /** Reconciles running now. */
  get activeWorkers(): number {
    return this.#active;
  }

  /** True once every watched cache has synced and the workers run. */
  hasSynced(): boolean {
    return this.#state === 'running';
  }

  /** Queues a reconcile of `request` (e.g. from an external trigger). Ignored once stopped. */
  enqueue(request: ReconcileRequest): void {
    this.#queue.add(requestKey(request));
  }

  /**
   * Registers the handlers, starts the cache, waits for every watched informer to sync, then
   * starts the workers. Rejects with {@link ControllerStartError} on a sync timeout (the
   * controller is stopped then). Call once.
   */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`controller ${this.name} was already started`);
    this.#state = 'starting';
    for (const source of this.#spec.sources) this.#registrations.push(this.#register(source));
    this.#spec.cache.start();
    // A ref'd timer, not AbortSignal.timeout(): that one is unref'd, so a process with nothing
    // else pending could exit before the deadline instead of failing at it.
    const deadline = boundedSignal(this.#spec.options.cacheSyncTimeoutMs ?? 120_000, [this.#abort.signal]);
    const required = this.#spec.sources.filter((s) => s.syncRequired).map((s) => s.lease);
    const optional = this.#spec.sources.filter((s) => !s.syncRequired).map((s) => s.lease);
    try {
      await this.#spec.cache.waitForCacheSync(deadline.signal, required);
    } catch (error) {
      deadline.dispose();
      await this.stop();
      throw new ControllerStartError(this.name, error, deadline.timedOut());
    }
    try {
      await this.#spec.cache.waitForCacheSync(deadline.signal, optional);
    } catch (error) {
      // Optional by the builder's choice: its events arrive once it syncs.
      this.#logger.warn({ error: errorMessage(error) }, 'optional watch not synced; starting anyway');
    } finally {
      deadline.dispose();
    }
    if (this.#state !== 'starting') throw new ControllerStartError(this.name, 'stopped while starting');
    this.#metrics = this.#spec.metrics?.(this);
    this.#state = 'running';
    const workers = Math.max(1, Math.floor(this.#spec.options.maxConcurrentReconciles ?? 1));
    this.#workers = Array.from({ length: workers }, () => this.#worker());
    this.#logger.info({ workers }, 'controller started');
  }

  /** Stops: in-flight reconciles see their signal abort and are awaited; queued keys are dropped. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#doStop();
    return this.#stopping;
  }

  async #doStop(): Promise<void> {
    const wasRunning = this.#state === 'running';
    this.#state = 'stopping';
    // After stop() no timer of this controller remains.
    if (this.#releaseTimer) clearTimeout(this.#releaseTimer);
    this.#releaseTimer = undefined;
    const drainMs = this.#spec.options.drainTimeoutMs ?? 0;
    if (wasRunning && drainMs > 0) {
      // In-flight reconciles may finish; queued keys are handed out and skipped (state is no
      // longer running); then the signal aborts whatever is left.
      const drained = this.#queue.shutDownWithDrain();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), drainMs);
      });
      if ((await Promise.race([drained, timeout])) === 'timeout') {
        this.#logger.warn({ inFlight: this.#queue.processingCount }, 'drain timed out; aborting reconciles');
      }
      clearTimeout(timer);
    }
    this.#state = 'stopped';
    this.#abort.abort(new Error(`controller ${this.name} stopped`));
    this.#queue.shutDown();
    for (const r of this.#registrations.splice(0)) r.remove();
    await Promise.all(this.#workers);
    this.#metrics?.release();
    await Promise.all(this.#spec.sources.map((s) => s.lease.release()));
  }

  #register(source: WatchSource): HandlerRegistration {
    const informer = source.lease.informer;
    const offer = (delta: Delta<KubeObjectLike>): void => {
      if (this.#state === 'stopped') return;
      try {
        if (!source.predicates.every((p) => p(delta))) return;
        const objects = delta.type === 'update' ? [delta.oldObj, delta.newObj] : [delta.obj];
        // One key once per event: adding it twice could hand it to a worker and then mark it
        // dirty, reconciling it twice for one change.
        const keys = new Set<string>();
        for (const obj of objects) for (const req of source.map(obj)) keys.add(requestKey(req));
        for (const key of keys) this.#queue.add(key);
      } catch (error) {
        // A throwing predicate or map function loses this event only: say so loudly.
        this.#logger.error(
          { err: error, role: source.role, informer: informer.name },
          'event mapping failed',
        );
      }
    };
    return informer.addEventHandler(
      {
        onAdd: (obj, isInInitialList) => offer({ type: 'add', obj, isInInitialList }),
        onUpdate: (oldObj, newObj) => offer({ type: 'update', oldObj, newObj }),
        onDelete: (obj, info) => offer({ type: 'delete', obj, finalStateUnknown: info.finalStateUnknown }),
      },
      {
        name: `${this.name}/${source.role}`,
        ...(source.resyncPeriodMs > 0 ? { resyncPeriodMs: source.resyncPeriodMs } : {}),
      },
    );
  }

  async #worker(): Promise<void> {
    for (let key = await this.#queue.get(); key !== undefined; key = await this.#queue.get()) {
      try {
        if (this.#state === 'running') await this.#process(key);
      } finally {
        this.#queue.done(key);
      }
      this.#releaseHeapIfDrained();
    }
  }

  /**
   * After a burst: the last worker to finish, with nothing queued, arms one idle timer (or
   * re-arms it); if the queue is still drained when it fires, the collection runs. Work arriving
   * meanwhile only makes the timer find the queue busy; the next drain arms it again.
   */
  #releaseHeapIfDrained(): void {
    const policy = this.#spec.options.heapRelease ?? DEFAULT_CONTROLLER_HEAP_RELEASE;
    if (policy === false || this.#state !== 'running') return;
    this.#reconcilesSinceRelease++;
    if (this.#reconcilesSinceRelease < policy.afterReconciles || !this.#drained()) return;
    // Each drain restarts the idle wait; one timer, re-armed, not one per reconcile.
    if (this.#releaseTimer) {
      this.#releaseTimer.refresh();
      return;
    }
    this.#releaseTimer = setTimeout(() => {
      this.#releaseTimer = undefined;
      if (this.#state !== 'running' || !this.#drained()) return;
      const outcome = (this.#spec.options.heapReleaser ?? processHeapReleaser()).request();
      this.#logger.debug({ reconciles: this.#reconcilesSinceRelease, outcome }, 'heap release after a burst');
      this.#reconcilesSinceRelease = 0;
    }, policy.idleMs);
    // Idle bookkeeping must not keep a process alive.
    this.#releaseTimer.unref();
  }

  #drained(): boolean {
    return this.#queue.length === 0 && this.#queue.processingCount === 0;
  }

  async #process(key: string): Promise<void> {
    const request = requestOfKey(key);
    const logger = this.#logger.child({ request: key });
    const ctx: ReconcileContext<T> = {
      object: this.primaryObject(request.namespace, request.name),
      signal: this.#abort.signal,
      logger,
      retries: this.#queue.numRequeues(key),
    };
    const started = performance.now();
    this.#active++;
    let outcome: ReconcileOutcome;
    let failure: unknown;
    try {
      const result = (await this.#reconcile(request, ctx)) ?? {};
      outcome = this.#afterSuccess(key, result);
    } catch (error) {
      // Stopping: the failure is most likely the abort itself, and the queue takes no retries.
      if (this.#abort.signal.aborted) {
        logger.debug({ error: errorMessage(error) }, 'reconcile ended by stop');
        return;
      }
      failure = error;
      // One line per failure, the stack at debug: a retried failure is routine, not a crash.
      if (error instanceof TerminalError) {
        this.#queue.forget(key);
        logger.error({ error: errorMessage(error) }, 'reconcile failed (terminal, not retried)');
        outcome = 'terminal_error';
      } else {
        const retryInMs = this.#queue.addRateLimited(key);
        const level = this.#spec.options.failureLogLevel?.(error) ?? 'warn';
        logger[level](
          { error: errorMessage(error), retryInMs, retries: this.#queue.numRequeues(key) },
          'reconcile failed; retrying with backoff',
        );
        outcome = 'error';
      }
      logger.debug({ err: error }, 'reconcile failure detail');
    } finally {
      this.#active--;
    }
    const durationSeconds = (performance.now() - started) / 1000;
    this.#metrics?.observe(outcome, durationSeconds);
    this.#spec.options.onReconciled?.({
      request,
      outcome,
      durationSeconds,
      ...(failure === undefined ? {} : { error: failure }),
    });
  }

  #afterSuccess(key: string, result: ReconcileResult): ReconcileOutcome {
    const after = result.requeueAfterMs;
    if (after !== undefined && after > 0) {
      this.#queue.forget(key);
      this.#queue.addAfter(key, after);
      return 'requeue_after';
    }
    if (result.requeue) {
      this.#queue.addRateLimited(key);
      return 'requeue';
    }
    this.#queue.forget(key);
    return 'success';
  }
}
