/**
 * A rate-limited work queue of keys, the shape every Kubernetes controller feeds its reconciler
 * through:
 *
 * - **Dedupe**: a key queued twice is processed once.
 * - **One at a time per key**: a key handed to a worker is "processing" until `done(key)`; adding
 *   it meanwhile marks it dirty, and `done` puts it back so it is processed again afterwards
 *   (never by two workers at once).
 * - **Delays**: `addAfter(key, ms)`; `addRateLimited(key)` asks the {@link RateLimiter} how long.
 *   The default limiter is the max of a per-key exponential backoff (5 ms doubling to 1000 s) and
 *   an overall token bucket (10 per second, burst 100), so one failing key backs off alone while
 *   a storm of failures across keys is throttled as a whole.
 * - **Shutdown**: `shutDown()` refuses new keys and cancels pending delays; workers still receive
 *   what was already queued, then `get()` resolves `undefined`. `shutDownWithDrain()` also waits
 *   until every queued and in-flight key is done.
 *
 * Pure logic: time comes from an injectable {@link QueueClock}, so tests run on a fake clock.
 *
 * @module
 */

// The engine's vocabulary alone (core/ loads no I/O): a workqueue user does not pay for the client.
import { backoffCeiling } from '../kube/core/index.ts';

/** Time source and timers of the queue. */
export interface QueueClock {
  /** Milliseconds since some fixed origin. */
  now(): number;
  /** Calls `fn` once after `delayMs`; returns a handle for {@link clearTimer}. */
  setTimer(fn: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

/** Wall clock and Node timers. */
export const systemClock: QueueClock = {
  now: () => Date.now(),
  setTimer: (fn, delayMs) => setTimeout(fn, delayMs),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Decides how long a key waits before it is retried. */
export interface RateLimiter<K> {
  /** The delay (ms) for the next retry of `item`; records the attempt. */
  when(item: K): number;
  /** Clears what is recorded about `item` (call after it succeeded). */
  forget(item: K): void;
  /** How many retries of `item` were recorded since its last `forget`. */
  numRequeues(item: K): number;
}

/** Options of {@link ExponentialFailureRateLimiter}. */
export interface ExponentialBackoffOptions {
  /** Delay of the first retry (ms). Default 5. */
  baseDelayMs?: number;
  /** Cap (ms). Default 1 000 000 (1000 s). */
  maxDelayMs?: number;
}

/** Per-key backoff: `base * 2^failures`, capped. Independent for each key. */
export class ExponentialFailureRateLimiter<K> implements RateLimiter<K> {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly #failures = new Map<K, number>();

  constructor(options: ExponentialBackoffOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 5;
    this.maxDelayMs = options.maxDelayMs ?? 1_000_000;
    if (!(this.baseDelayMs > 0) || !Number.isFinite(this.baseDelayMs)) {
      throw new RangeError(`baseDelayMs must be a positive number, got ${this.baseDelayMs}`);
    }
    if (!(this.maxDelayMs >= this.baseDelayMs) || !Number.isFinite(this.maxDelayMs)) {
      throw new RangeError(`maxDelayMs must be a number >= baseDelayMs, got ${this.maxDelayMs}`);
    }
  }

  when(item: K): number {
    const failures = this.#failures.get(item) ?? 0;
    this.#failures.set(item, failures + 1);
    return backoffCeiling(failures, { initialMs: this.baseDelayMs, capMs: this.maxDelayMs });
  }

  forget(item: K): void {
    this.#failures.delete(item);
  }

  numRequeues(item: K): number {
    return this.#failures.get(item) ?? 0;
  }
}

/** Options of {@link TokenBucketRateLimiter}. */
export interface TokenBucketOptions {
  /** Sustained rate (tokens per second). Default 10. */
  qps?: number;
  /** Bucket size: how many retries may go at once. Default 100. */
  burst?: number;
  /** Default `Date.now`. */
  now?: () => number;
}

/**
 * Overall throttle shared by every key: each retry takes a token; when the bucket is empty the
 * retry is scheduled for when its token will have been refilled (reservation, not rejection).
 */
export class TokenBucketRateLimiter<K> implements RateLimiter<K> {
  readonly qps: number;
  readonly burst: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  constructor(options: TokenBucketOptions = {}) {
    this.qps = options.qps ?? 10;
    this.burst = options.burst ?? 100;
    if (!(this.qps > 0) || !Number.isFinite(this.qps)) {
      throw new RangeError(`qps must be a positive number, got ${this.qps}`);
    }
    if (!Number.isInteger(this.burst) || this.burst < 1) {
      throw new RangeError(`burst must be an integer >= 1, got ${this.burst}`);
    }
    this.#now = options.now ?? Date.now;
    this.#tokens = this.burst;
    this.#last = this.#now();
  }

  when(_item: K): number {
    const now = this.#now();
    const elapsedMs = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsedMs * this.qps) / 1000);
    this.#tokens -= 1;
    if (this.#tokens >= 0) return 0;
    return Math.ceil((-this.#tokens * 1000) / this.qps);
  }

  forget(_item: K): void {}

  numRequeues(_item: K): number {
    return 0;
  }
}

/** The longest delay of several limiters (each still records every attempt). */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  readonly #limiters: readonly RateLimiter<K>[];

  constructor(...limiters: RateLimiter<K>[]) {
    if (limiters.length === 0) throw new RangeError('MaxOfRateLimiter needs at least one limiter');
    this.#limiters = limiters;
  }

  when(item: K): number {
    let delay = 0;
    for (const limiter of this.#limiters) delay = Math.max(delay, limiter.when(item));
    return delay;
  }

  forget(item: K): void {
    for (const limiter of this.#limiters) limiter.forget(item);
  }

  numRequeues(item: K): number {
    let max = 0;
    for (const limiter of this.#limiters) max = Math.max(max, limiter.numRequeues(item));
    return max;
  }
}

/** Settings of {@link defaultControllerRateLimiter}. */
export interface ControllerRateLimiterOptions extends ExponentialBackoffOptions {
  qps?: number;
  burst?: number;
  now?: () => number;
}

/** Per-key exponential backoff (5 ms → 1000 s) combined with an overall bucket (10 qps, burst 100). */
export function defaultControllerRateLimiter<K>(options: ControllerRateLimiterOptions = {}): RateLimiter<K> {
  const bucket: TokenBucketOptions = {};
  if (options.qps !== undefined) bucket.qps = options.qps;
  if (options.burst !== undefined) bucket.burst = options.burst;
  if (options.now !== undefined) bucket.now = options.now;
  return new MaxOfRateLimiter<K>(
    new ExponentialFailureRateLimiter<K>(options),
    new TokenBucketRateLimiter<K>(bucket),
  );
}

/** Options of {@link RateLimitingQueue}. */
export interface RateLimitingQueueOptions<K> {
  /** Default: {@link defaultControllerRateLimiter} on the queue's clock. */
  rateLimiter?: RateLimiter<K>;
  /** Default: {@link systemClock}. */
  clock?: QueueClock;
}

interface Waiting {
  readonly readyAt: number;
  readonly handle: unknown;
}

/**
 * See the module documentation.
 *
 * @example
 * ```ts
 * import { RateLimitingQueue } from 'elasti-informer/workqueue';
 *
 * const queue = new RateLimitingQueue<string>();
 * informer.addEventHandler({ onAdd: (o) => queue.add(objectKey(o)), onUpdate: (_, o) => queue.add(objectKey(o)) });
 * async function worker(): Promise<void> {
 *   for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
 *     try {
 *       await reconcile(key);
 *       queue.forget(key); // success: reset its backoff
 *     } catch {
 *       queue.addRateLimited(key); // retry later, with per-key exponential backoff
 *     } finally {
 *       queue.done(key);
 *     }
 *   }
 * }
 * // on shutdown: await queue.shutDownWithDrain();
 * ```
 */
export class RateLimitingQueue<K extends string | number = string> {
  readonly #clock: QueueClock;
  readonly #limiter: RateLimiter<K>;
  /** FIFO of keys ready to be handed out; every key here is also in `#dirty`. */
  #queue: K[] = [];
  #head = 0;
  /** Keys that need processing (queued, or re-added while processing). */
  readonly #dirty = new Set<K>();
  /** Keys handed to a worker and not yet `done`. */
  readonly #processing = new Set<K>();
  /** Keys scheduled by `addAfter`, with their earliest due time. */
  readonly #waiting = new Map<K, Waiting>();
  /** Pending `get()` calls, oldest first. */
  readonly #getters: ((item: K | undefined) => void)[] = [];
  readonly #drainWaiters: (() => void)[] = [];
  #shuttingDown = false;

  constructor(options: RateLimitingQueueOptions<K> = {}) {
    this.#clock = options.clock ?? systemClock;
    const clock = this.#clock;
    this.#limiter = options.rateLimiter ?? defaultControllerRateLimiter<K>({ now: () => clock.now() });
  }

  /** Keys ready to be handed out (not counting in-flight or delayed ones). */
  get length(): number {
    return this.#queue.length - this.#head;
  }

  /** Keys handed to workers and not yet done. */
  get processingCount(): number {
    return this.#processing.size;
  }

  /** Keys waiting for a delay to pass. */
  get waitingCount(): number {
    return this.#waiting.size;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Queues `item` now (no-op if already queued, or after shutdown). */
  add(item: K): void {
    if (this.#shuttingDown || this.#dirty.has(item)) return;
    this.#dirty.add(item);
    // Re-added while a worker holds it: `done` will queue it again.
    if (this.#processing.has(item)) return;
    this.#queue.push(item);
    this.#handOut();
  }

  /**
   * Queues `item` once `delayMs` has passed. If it is already waiting, the earlier of the two due
   * times wins. A delay of 0 or less is an immediate {@link add}.
   */
  addAfter(item: K, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (!(delayMs > 0)) {
      this.add(item);
      return;
    }
    const readyAt = this.#clock.now() + delayMs;
    const existing = this.#waiting.get(item);
    if (existing && existing.readyAt <= readyAt) return;
    if (existing) this.#clock.clearTimer(existing.handle);
    const handle = this.#clock.setTimer(() => {
      if (this.#waiting.get(item)?.handle !== handle) return;
      this.#waiting.delete(item);
      this.add(item);
    }, delayMs);
    this.#waiting.set(item, { readyAt, handle });
  }

  /** Queues `item` after the delay its rate limiter decides (a retry). Returns that delay. */
  addRateLimited(item: K): number {
    const delay = this.#limiter.when(item);
    this.addAfter(item, delay);
    return delay;
  }

  /** Resets `item`'s backoff (call when its processing succeeded). */
  forget(item: K): void {
    this.#limiter.forget(item);
  }

  /** Retries of `item` since its last {@link forget}. */
  numRequeues(item: K): number {
    return this.#limiter.numRequeues(item);
  }

  /**
   * The next key to process; waits until one is ready. Resolves `undefined` once the queue is
   * shut down and nothing queued is left: the worker should then exit. The caller owns the key
   * until it calls {@link done}.
   */
  get(): Promise<K | undefined> {
    const item = this.#take();
    if (item !== undefined) return Promise.resolve(item);
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.#getters.push(resolve);
    });
  }

  /** Releases `item` after processing; if it was re-added meanwhile it is queued again. */
  done(item: K): void {
    if (!this.#processing.delete(item)) return;
    if (this.#dirty.has(item)) {
      this.#queue.push(item);
      this.#handOut();
    }
    this.#checkDrained();
  }

  /**
   * Stops accepting keys and cancels delayed ones. Queued keys are still handed out; once none is
   * left, pending and later `get()` calls resolve `undefined`. Idempotent.
   */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const waiting of this.#waiting.values()) this.#clock.clearTimer(waiting.handle);
    this.#waiting.clear();
    this.#handOut();
    this.#checkDrained();
  }

  /** {@link shutDown}, then resolves once every queued and in-flight key is done. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#isDrained()) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drainWaiters.push(resolve);
    });
  }

  #take(): K | undefined {
    if (this.#head >= this.#queue.length) return undefined;
    const item = this.#queue[this.#head] as K;
    this.#head++;
    // Compact once the consumed prefix dominates, keeping take() O(1) amortized.
    if (this.#head > 64 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#dirty.delete(item);
    this.#processing.add(item);
    return item;
  }

  #handOut(): void {
    while (this.#getters.length > 0) {
      const item = this.#take();
      if (item === undefined) break;
      this.#getters.shift()?.(item);
    }
    if (this.#shuttingDown && this.length === 0) {
      for (const resolve of this.#getters.splice(0)) resolve(undefined);
    }
  }

  #isDrained(): boolean {
    return this.length === 0 && this.#processing.size === 0;
  }

  #checkDrained(): void {
    if (!this.#shuttingDown || !this.#isDrained()) return;
    for (const resolve of this.#drainWaiters.splice(0)) resolve();
  }
}
