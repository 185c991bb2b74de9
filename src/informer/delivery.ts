/**
 * Per-registration delivery: a serial queue in front of one RequestWatch's handlers.
 *
 * Many registrations share one upstream informer, which has a single dispatcher handler; the
 * dispatcher must not wait for any registration's handler, or one slow handler would hold back
 * every other ElastiService on that informer. So each registration gets its own queue: calls
 * to its handlers are made in event order, an async handler is awaited before its next event,
 * and a sync handler runs immediately (no extra tick) when its queue is idle.
 *
 * @module
 */
import type { KubeObject, KubeObjectLike, ResourceEventHandler } from '../kube/index.ts';

/** One change as delivered to handlers. */
export type Change<T extends KubeObjectLike = KubeObject> =
  | { readonly type: 'add'; readonly obj: T; readonly isInInitialList: boolean }
  | { readonly type: 'update'; readonly oldObj: T; readonly newObj: T }
  | { readonly type: 'delete'; readonly obj: T; readonly finalStateUnknown: boolean };

/** Called after each handler call: `error` is undefined on success. */
export type DeliveryReport<T extends KubeObjectLike = KubeObject> = (
  change: Change<T>,
  error: unknown,
) => void;

/** The serial queue of one registration. */
export class Delivery<T extends KubeObjectLike = KubeObject> {
  readonly #handlers: ResourceEventHandler<T>;
  readonly #report: DeliveryReport<T>;
  #queue: Change<T>[] = [];
  #head = 0;
  #running = false;
  #closed = false;
  #idleWaiters: (() => void)[] = [];

  constructor(handlers: ResourceEventHandler<T>, report: DeliveryReport<T>) {
    this.#handlers = handlers;
    this.#report = report;
  }

  /** Changes queued and not yet handed to the handlers. */
  get depth(): number {
    return this.#queue.length - this.#head;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Queues a change; ignored after {@link close}. */
  push(change: Change<T>): void {
    if (this.#closed) return;
    if (!this.#has(change)) return;
    this.#queue.push(change);
    if (!this.#running) void this.#drain();
  }

  /** Drops queued changes and refuses new ones. An in-flight handler call finishes on its own. */
  close(): void {
    this.#closed = true;
    this.#queue = [];
    this.#head = 0;
    if (!this.#running) this.#wakeIdle();
  }

  /** Resolves when nothing is queued or running (for tests and orderly shutdown). */
  idle(): Promise<void> {
    if (!this.#running && this.depth === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #has(change: Change<T>): boolean {
    const h = this.#handlers;
    return change.type === 'add' ? !!h.onAdd : change.type === 'update' ? !!h.onUpdate : !!h.onDelete;
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (!this.#closed && this.#head < this.#queue.length) {
        const change = this.#queue[this.#head++] as Change<T>;
        if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
          this.#queue = this.#queue.slice(this.#head);
          this.#head = 0;
        }
        let error: unknown;
        try {
          const result = this.#call(change);
          if (result !== undefined && typeof (result as Promise<void>).then === 'function') await result;
        } catch (caught) {
          // A failing handler must never affect other handlers or the next event; it is counted and logged.
          error = caught ?? new Error('handler threw a nullish value');
        }
        try {
          this.#report(change, error);
        } catch {
          // Reporting is best-effort.
        }
      }
    } finally {
      this.#running = false;
      if (this.depth === 0 || this.#closed) {
        this.#queue = [];
        this.#head = 0;
        this.#wakeIdle();
      }
    }
  }

  #call(change: Change<T>): void | Promise<void> {
    const h = this.#handlers;
    switch (change.type) {
      case 'add':
        return h.onAdd?.(change.obj, change.isInInitialList);
      case 'update':
        return h.onUpdate?.(change.oldObj, change.newObj);
      case 'delete':
        return h.onDelete?.(change.obj, { finalStateUnknown: change.finalStateUnknown });
    }
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
