/**
 * A set of callers waiting for one moment (e.g. "the cache has synced"), each wait abortable by
 * its own AbortSignal, settled all together. Used by the shared informer and by the Manager's
 * upstreams, so the abort bookkeeping (remove the listener when settled, forget the waiter when
 * aborted) is written once.
 *
 * @module
 */

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/** Callers waiting for one event. */
export class Waiters {
  readonly #waiting = new Set<Waiter>();

  /** How many callers are waiting. */
  get size(): number {
    return this.#waiting.size;
  }

  /**
   * Waits until {@link resolveAll} or {@link rejectAll}; rejects with the signal's reason if
   * `signal` aborts first (and then no longer counts as waiting).
   */
  wait(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiting.delete(waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      this.#waiting.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Resolves every current waiter. */
  resolveAll(): void {
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const w of waiting) w.resolve();
  }

  /** Rejects every current waiter with `error`. */
  rejectAll(error: unknown): void {
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const w of waiting) w.reject(error);
  }
}
