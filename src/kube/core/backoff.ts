/**
 * Exponential backoff with full jitter and a reset after a healthy period.
 *
 * The ceiling doubles per consecutive failure (800 ms, 1.6 s, 3.2 s … capped at 30 s) and each
 * delay is drawn uniformly from `[0, ceiling)` ("full jitter"), so that many reflectors failing
 * together (an apiserver restart) do not come back in lock-step. Once the caller has been
 * healthy for `resetAfterMs` (2 min) since its last success, the failure count starts over:
 * a watch that ran fine for an hour and then broke is retried quickly, while one that breaks
 * seconds after every reconnect keeps backing off.
 *
 * @module
 */

/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** Ceiling of the first delay (ms). Default 800. */
  initialMs?: number;
  /** Growth of the ceiling per consecutive failure. Default 2. */
  factor?: number;
  /** Largest ceiling (ms). Default 30 000. */
  capMs?: number;
  /** Healthy time after which the failure count resets (ms). Default 120 000. */
  resetAfterMs?: number;
  /** Uniform random in [0, 1). Default `Math.random`; inject for deterministic tests. */
  random?: () => number;
  /** Clock used when `next`/`succeeded` get no explicit time. Default `Date.now`. */
  now?: () => number;
}

/** The growth of every backoff in this project: an initial ceiling, a factor, a cap. */
export interface BackoffCurve {
  readonly initialMs: number;
  /** Default 2. */
  readonly factor?: number;
  readonly capMs: number;
}

/**
 * The delay (or jitter ceiling) after `failures` consecutive failures: `initialMs × factor^failures`,
 * never above `capMs`. The one formula behind the reflector's {@link Backoff}, the workqueue's
 * per-item delay, the Manager's restart delay and its namespace-wide retry. `factor^failures`
 * overflows to Infinity long after the cap is reached; `min` handles both.
 *
 * @example
 * ```ts
 * backoffCeiling(3, { initialMs: 800, capMs: 30_000 }); // 6400
 * ```
 */
export function backoffCeiling(failures: number, curve: BackoffCurve): number {
  return Math.min(curve.capMs, curve.initialMs * (curve.factor ?? 2) ** Math.max(0, failures));
}

/** Failure-counting backoff. Not shared between reflectors: each owns one. */
export class Backoff {
  readonly #initialMs: number;
  readonly #factor: number;
  readonly #capMs: number;
  readonly #resetAfterMs: number;
  readonly #random: () => number;
  readonly #now: () => number;
  #failures = 0;
  /** Start of the current healthy period, if one is running. */
  #healthySince: number | undefined;

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = positive(options.initialMs, 800, 'initialMs');
    this.#factor = positive(options.factor, 2, 'factor');
    this.#capMs = positive(options.capMs, 30_000, 'capMs');
    this.#resetAfterMs = positive(options.resetAfterMs, 120_000, 'resetAfterMs', true);
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  /** Consecutive failures, already reset if the current healthy period is long enough. */
  get failures(): number {
    return this.#healthyLongEnough(this.#now()) ? 0 : this.#failures;
  }

  /** The ceiling the next delay would be drawn under (ms), for logs. */
  ceilingMs(now: number = this.#now()): number {
    const failures = this.#healthyLongEnough(now) ? 0 : this.#failures;
    return backoffCeiling(failures, { initialMs: this.#initialMs, factor: this.#factor, capMs: this.#capMs });
  }

  /** Records a failure and returns how long to wait before retrying (ms, full jitter). */
  next(now: number = this.#now()): number {
    if (this.#healthyLongEnough(now)) this.#failures = 0;
    this.#healthySince = undefined;
    const ceiling = this.ceilingMs(now);
    this.#failures += 1;
    const r = this.#random();
    const unit = r >= 0 && r < 1 ? r : 0;
    return Math.floor(unit * ceiling);
  }

  /**
   * Marks the start of a healthy period (a completed list, an opened watch). Calling it again
   * while already healthy keeps the original start, so "healthy for 2 min" means continuously.
   */
  succeeded(now: number = this.#now()): void {
    if (this.#healthySince === undefined) this.#healthySince = now;
  }

  /** Forgets all failures immediately. */
  reset(): void {
    this.#failures = 0;
    this.#healthySince = undefined;
  }

  #healthyLongEnough(now: number): boolean {
    return this.#healthySince !== undefined && now - this.#healthySince >= this.#resetAfterMs;
  }
}

function positive(value: number | undefined, fallback: number, name: string, allowZero = false): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(
      `BackoffOptions.${name} must be a ${allowZero ? 'non-negative' : 'positive'} number`,
    );
  }
  return value;
}
