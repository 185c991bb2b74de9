/**
 * The serial queue in front of one set of event handlers: the one per-handler queue of the
 * project (each `SharedInformer` registration has one, and so has each Manager registration).
 *
 * Why a queue per handler: many handlers share one informer, and the informer must never wait
 * for any of them, or one slow handler would hold back every other. So each handler's deltas are
 * queued and handed over in order; an async handler is awaited before its next delta, a sync one
 * is called back to back (yielding to the event loop every {@link SYNC_CALLS_PER_TURN} calls so a
 * long backlog does not starve timers and I/O). A handler that throws or rejects never stops its
 * queue, and never affects another queue: the failure is reported and the next delta follows.
 *
 * When the queue is idle a new delta starts the drain either at once (`start: 'now'`, no extra
 * tick: for callers already outside the reflector, such as the Manager's registrations fed by an
 * informer handler) or on a microtask (`start: 'microtask'`, the informer's own registrations: a
 * handler then never runs inside the reflector's step, so it may stop the informer or remove
 * itself without re-entering the code that is delivering to it).
 *
 * @module
 */
import type { KubeObject, KubeObjectLike, ResourceEventHandler } from '../core/index.ts';
import type { Delta } from './store.ts';

/** Sync handler calls made back to back before the queue yields to the event loop. */
export const SYNC_CALLS_PER_TURN = 256;

/** Called after each handler call with what it threw or rejected with (`undefined` on success). */
export type HandlerQueueReport<T extends KubeObjectLike = KubeObject> = (
  delta: Delta<T>,
  error: unknown,
) => void;

/** Options of {@link HandlerQueue}. */
export interface HandlerQueueOptions<T extends KubeObjectLike = KubeObject> {
  /** How an idle queue starts on a new delta (see the module comment). Default `'microtask'`. */
  readonly start?: 'now' | 'microtask';
  /** Told the outcome of every handler call; a throwing report is ignored. */
  readonly report?: HandlerQueueReport<T>;
}

/**
 * A FIFO whose memory follows its live length: `shift` is O(1) and the dead prefix is dropped
 * once it dominates.
 */
export class Fifo<V> {
  #items: (V | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(value: V): void {
    this.#items.push(value);
  }

  shift(): V | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const value = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head++;
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    } else if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    }
    return value;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}

/**
 * One handler set's serial queue.
 *
 * @example
 * ```ts
 * const queue = new HandlerQueue<ConfigMap>({ onAdd: (cm) => console.log(cm.metadata.name) });
 * queue.push({ type: 'add', obj: configMap, isInInitialList: false });
 * await queue.idle();
 * ```
 */
export class HandlerQueue<T extends KubeObjectLike = KubeObject> {
  readonly #handlers: ResourceEventHandler<T>;
  readonly #report: HandlerQueueReport<T> | undefined;
  readonly #startNow: boolean;
  readonly #queue = new Fifo<Delta<T>>();
  #draining = false;
  #closed = false;
  #pushed = 0;
  #delivered = 0;
  #errors = 0;
  #highWater = 0;
  #syncTarget: number | undefined;
  #idleWaiters: (() => void)[] = [];
  readonly #done: { promise: Promise<void>; resolve: () => void } = Promise.withResolvers<void>();

  constructor(handlers: ResourceEventHandler<T>, options: HandlerQueueOptions<T> = {}) {
    this.#handlers = handlers;
    this.#report = options.report;
    this.#startNow = options.start === 'now';
  }

  /** Deltas queued and not yet handed to the handlers. */
  get depth(): number {
    return this.#queue.length;
  }

  /** The largest depth seen. */
  get highWater(): number {
    return this.#highWater;
  }

  /** Deltas the handlers have finished with (returned, resolved, threw or rejected). */
  get delivered(): number {
    return this.#delivered;
  }

  /** Handler calls that threw or rejected. */
  get errors(): number {
    return this.#errors;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Settles once the queue is closed and no handler call is in flight. */
  get done(): Promise<void> {
    return this.#done.promise;
  }

  /** Queues a delta. Ignored after {@link close}, and for a delta type the handlers do not handle. */
  push(delta: Delta<T>): void {
    if (this.#closed || !this.#handles(delta)) return;
    this.#queue.push(delta);
    this.#pushed++;
    if (this.#queue.length > this.#highWater) this.#highWater = this.#queue.length;
    if (this.#draining) return;
    this.#draining = true;
    if (this.#startNow) void this.#drain();
    else queueMicrotask(() => void this.#drain());
  }

  /**
   * Declares that everything queued so far is the handlers' initial state: {@link hasSynced} turns
   * true once all of it has been delivered. Later calls do not move the point.
   */
  markSyncPoint(): void {
    if (this.#syncTarget === undefined) this.#syncTarget = this.#pushed;
  }

  hasSynced(): boolean {
    return this.#syncTarget !== undefined && this.#delivered >= this.#syncTarget;
  }

  /** Drops queued deltas and refuses new ones. A handler call in flight finishes on its own. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.clear();
    if (!this.#draining) this.#settle();
  }

  /** Resolves when nothing is queued or running (for tests and orderly shutdown). */
  idle(): Promise<void> {
    if (!this.#draining && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #handles(delta: Delta<T>): boolean {
    const h = this.#handlers;
    return delta.type === 'add' ? !!h.onAdd : delta.type === 'update' ? !!h.onUpdate : !!h.onDelete;
  }

  async #drain(): Promise<void> {
    let syncCalls = 0;
    try {
      for (let delta = this.#queue.shift(); delta !== undefined; delta = this.#queue.shift()) {
        let error: unknown;
        try {
          const result = this.#call(delta);
          if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
            syncCalls = 0;
            await result;
          } else if (++syncCalls >= SYNC_CALLS_PER_TURN) {
            syncCalls = 0;
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
        } catch (caught) {
          error = caught ?? new Error('handler threw a nullish value');
          this.#errors++;
        }
        this.#delivered++;
        try {
          this.#report?.(delta, error);
        } catch {
          // Reporting is best-effort: it must not stop the queue.
        }
        if (this.#closed) break;
      }
    } finally {
      this.#draining = false;
      this.#settle();
    }
  }

  #call(delta: Delta<T>): void | Promise<void> {
    const h = this.#handlers;
    switch (delta.type) {
      case 'add':
        return h.onAdd?.(delta.obj, delta.isInInitialList);
      case 'update':
        return h.onUpdate?.(delta.oldObj, delta.newObj);
      case 'delete':
        return h.onDelete?.(delta.obj, { finalStateUnknown: delta.finalStateUnknown });
    }
  }

  #settle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
    if (this.#closed) this.#done.resolve();
  }
}
