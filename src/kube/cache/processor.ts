/**
 * Fan-out of deltas to event handlers. Every registration gets its own unbounded FIFO and its
 * own asynchronous delivery loop, so:
 * - per registration, events arrive in the order the cache produced them, and an async
 *   handler is awaited before its next event (per-object order holds);
 * - a slow handler only delays itself: enqueuing never waits, and other loops keep going;
 * - a handler that throws or rejects is logged and counted and keeps receiving later events.
 *
 * Enqueuing is synchronous and never runs handler code on the caller's stack: the reflector
 * that feeds the cache is never blocked or re-entered by a handler.
 *
 * The queues are deliberately unbounded: dropping or coalescing events would break the
 * "every state change is seen, in order" promise. Depth and high-water marks are tracked so
 * a stuck handler is visible in metrics instead.
 *
 * @module
 */

import type {
  HandlerOptions,
  HandlerRegistration,
  KubeObject,
  KubeObjectLike,
  Logger,
  ResourceEventHandler,
} from '../core/index.ts';
import { objectKey, silentLogger } from '../core/index.ts';
import type { Delta } from './store.ts';

/** After this many consecutive synchronous deliveries a loop yields to the event loop, so a long queue of sync handlers cannot starve I/O. */
const SYNC_DELIVERIES_PER_TURN = 256;

/** Unbounded FIFO with O(1) amortised push/shift and no retained references to shifted items. */
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
    // Compact once the dead prefix dominates, so memory follows the live length.
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

/** Callbacks through which the processor reports to metrics. All optional. */
export interface ProcessorHooks {
  /** A handler threw or rejected. */
  onHandlerError?(handlerName: string, error: unknown): void;
  /** A registration was removed (by its own `remove()` or by `removeAll()`). */
  onRemoved?(handlerName: string): void;
}

/** Options of a {@link Processor}. */
export interface ProcessorOptions {
  logger?: Logger;
  hooks?: ProcessorHooks;
}

/** One registration: a handler, its queue and its delivery loop. */
export class HandlerListener<T extends KubeObjectLike = KubeObject> implements HandlerRegistration {
  readonly id: number;
  readonly name: string;
  /** 0 when this handler wants no resync. */
  readonly resyncPeriodMs: number;
  /** When the next resync is due (ms since epoch); maintained by the informer. */
  nextResyncAt: number | undefined;

  readonly #handler: ResourceEventHandler<T>;
  readonly #logger: Logger;
  readonly #onError: (name: string, error: unknown) => void;
  readonly #onRemove: (listener: HandlerListener<T>) => void;
  readonly #queue = new Fifo<Delta<T>>();
  #enqueued = 0;
  #delivered = 0;
  #syncTarget: number | undefined;
  #highWater = 0;
  #removed = false;
  #wake: (() => void) | undefined;
  #errors = 0;
  /** Settles when the delivery loop has exited (after removal, once any in-flight handler call returns). */
  readonly done: Promise<void>;

  constructor(args: {
    id: number;
    handler: ResourceEventHandler<T>;
    options: HandlerOptions | undefined;
    logger: Logger;
    onError: (name: string, error: unknown) => void;
    onRemove: (listener: HandlerListener<T>) => void;
  }) {
    this.id = args.id;
    this.name = args.options?.name ?? `handler-${args.id}`;
    const period = args.options?.resyncPeriodMs ?? 0;
    if (!Number.isFinite(period) || period < 0) {
      throw new RangeError(`resyncPeriodMs must be a finite number >= 0, got ${String(period)}`);
    }
    this.resyncPeriodMs = period;
    this.#handler = args.handler;
    this.#logger = args.logger.child({ handler: this.name });
    this.#onError = args.onError;
    this.#onRemove = args.onRemove;
    this.done = this.#run();
  }

  /** Events queued and not yet handed to the handler. */
  get queueDepth(): number {
    return this.#queue.length;
  }

  /** The largest queue depth seen since registration. */
  get highWater(): number {
    return this.#highWater;
  }

  /** Deltas the handler has finished with (returned, resolved, threw or rejected). */
  get delivered(): number {
    return this.#delivered;
  }

  /** How many times the handler threw or rejected. */
  get errors(): number {
    return this.#errors;
  }

  get removed(): boolean {
    return this.#removed;
  }

  hasSynced(): boolean {
    return this.#syncTarget !== undefined && this.#delivered >= this.#syncTarget;
  }

  remove(): void {
    if (this.#removed) return;
    this.#removed = true;
    this.#queue.clear();
    this.#wakeLoop();
    this.#onRemove(this);
  }

  /** Queues one delta. Ignored after removal. */
  enqueue(delta: Delta<T>): void {
    if (this.#removed) return;
    this.#queue.push(delta);
    this.#enqueued++;
    const depth = this.#queue.length;
    if (depth > this.#highWater) this.#highWater = depth;
    this.#wakeLoop();
  }

  /**
   * Declares that everything queued so far is this handler's initial state: `hasSynced()`
   * turns true once all of it has been delivered. Later calls do not move the point.
   */
  markSyncPoint(): void {
    if (this.#syncTarget === undefined) this.#syncTarget = this.#enqueued;
  }

  #wakeLoop(): void {
    const wake = this.#wake;
    if (wake) {
      this.#wake = undefined;
      wake();
    }
  }

  async #run(): Promise<void> {
    let syncRun = 0;
    while (!this.#removed) {
      const delta = this.#queue.shift();
      if (delta === undefined) {
        syncRun = 0;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        continue;
      }
      try {
        const result = this.#dispatch(delta);
        if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
          syncRun = 0;
          await result;
        } else if (++syncRun >= SYNC_DELIVERIES_PER_TURN) {
          syncRun = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      } catch (error) {
        this.#errors++;
        this.#logger.error(
          {
            err: error,
            event: delta.type,
            key: objectKey(delta.type === 'update' ? delta.newObj : delta.obj),
          },
          'event handler failed',
        );
        this.#onError(this.name, error);
      }
      this.#delivered++;
    }
  }

  #dispatch(delta: Delta<T>): void | Promise<void> {
    const h = this.#handler;
    switch (delta.type) {
      case 'add':
        return h.onAdd?.(delta.obj, delta.isInInitialList);
      case 'update':
        return h.onUpdate?.(delta.oldObj, delta.newObj);
      case 'delete':
        return h.onDelete?.(delta.obj, { finalStateUnknown: delta.finalStateUnknown });
    }
  }
}

/** Owns the registrations of one informer and hands each delta to all of them. */
export class Processor<T extends KubeObjectLike = KubeObject> {
  readonly #listeners = new Set<HandlerListener<T>>();
  readonly #logger: Logger;
  readonly #hooks: ProcessorHooks;
  #nextId = 1;
  #highWater = 0;

  constructor(options: ProcessorOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
    this.#hooks = options.hooks ?? {};
  }

  /** Registers a handler. Throws `RangeError` for a bad `resyncPeriodMs`, or `TypeError` if `handler` is not an object. */
  add(handler: ResourceEventHandler<T>, options?: HandlerOptions): HandlerListener<T> {
    if (typeof handler !== 'object' || handler === null) {
      throw new TypeError('event handler must be an object with onAdd/onUpdate/onDelete');
    }
    const listener = new HandlerListener<T>({
      id: this.#nextId++,
      handler,
      options,
      logger: this.#logger,
      onError: (name, error) => this.#hooks.onHandlerError?.(name, error),
      onRemove: (l) => {
        this.#noteHighWater(l);
        this.#listeners.delete(l);
        this.#hooks.onRemoved?.(l.name);
      },
    });
    this.#listeners.add(listener);
    return listener;
  }

  /** Hands a delta to every registration. */
  distribute(delta: Delta<T>): void {
    for (const listener of this.#listeners) listener.enqueue(delta);
  }

  /** Current registrations. */
  listeners(): HandlerListener<T>[] {
    return [...this.#listeners];
  }

  get size(): number {
    return this.#listeners.size;
  }

  /** Sum of the current queue depths. */
  queueDepth(): number {
    let total = 0;
    for (const l of this.#listeners) total += l.queueDepth;
    return total;
  }

  /** The deepest any registration's queue has been, including registrations since removed. */
  highWater(): number {
    for (const l of this.#listeners) this.#noteHighWater(l);
    return this.#highWater;
  }

  /** Removes every registration (queued events are dropped). */
  removeAll(): void {
    for (const l of [...this.#listeners]) l.remove();
  }

  #noteHighWater(l: HandlerListener<T>): void {
    if (l.highWater > this.#highWater) this.#highWater = l.highWater;
  }
}
