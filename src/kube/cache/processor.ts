/**
 * Fan-out of deltas to event handlers. Every registration gets its own unbounded queue
 * (`handler-queue.ts`), started on a microtask, so:
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
import { HandlerQueue } from './handler-queue.ts';
import type { Delta } from './store.ts';

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

/**
 * One registration on an informer: its identity (id, name, resync period) over its own
 * {@link HandlerQueue}. Handler failures are logged and counted here.
 */
export class HandlerListener<T extends KubeObjectLike = KubeObject> implements HandlerRegistration {
  readonly id: number;
  readonly name: string;
  /** 0 when this handler wants no resync. */
  readonly resyncPeriodMs: number;
  /** When the next resync is due (ms since epoch); maintained by the informer. */
  nextResyncAt: number | undefined;

  readonly #queue: HandlerQueue<T>;
  readonly #onRemove: (listener: HandlerListener<T>) => void;
  #removed = false;

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
    const logger = args.logger.child({ handler: this.name });
    this.#queue = new HandlerQueue<T>(args.handler, {
      start: 'microtask',
      report: (delta, error) => {
        if (error === undefined) return;
        logger.error(
          {
            err: error,
            event: delta.type,
            key: objectKey(delta.type === 'update' ? delta.newObj : delta.obj),
          },
          'event handler failed',
        );
        args.onError(this.name, error);
      },
    });
    this.#onRemove = args.onRemove;
  }

  /** Settles when delivery has ended (after removal, once any in-flight handler call returns). */
  get done(): Promise<void> {
    return this.#queue.done;
  }

  /** Events queued and not yet handed to the handler. */
  get queueDepth(): number {
    return this.#queue.depth;
  }

  /** The largest queue depth seen since registration. */
  get highWater(): number {
    return this.#queue.highWater;
  }

  /** Deltas the handler has finished with (returned, resolved, threw or rejected). */
  get delivered(): number {
    return this.#queue.delivered;
  }

  /** How many times the handler threw or rejected. */
  get errors(): number {
    return this.#queue.errors;
  }

  get removed(): boolean {
    return this.#removed;
  }

  hasSynced(): boolean {
    return this.#queue.hasSynced();
  }

  remove(): void {
    if (this.#removed) return;
    this.#removed = true;
    this.#queue.close();
    this.#onRemove(this);
  }

  /** Queues one delta. Ignored after removal. */
  enqueue(delta: Delta<T>): void {
    this.#queue.push(delta);
  }

  /**
   * Declares that everything queued so far is this handler's initial state: `hasSynced()`
   * turns true once all of it has been delivered. Later calls do not move the point.
   */
  markSyncPoint(): void {
    this.#queue.markSyncPoint();
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
