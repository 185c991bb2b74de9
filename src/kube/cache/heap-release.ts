/**
 * Giving the heap back after a large list.
 *
 * A list of N objects leaves far more garbage than the N objects it caches: each page's text
 * (about 1 MB per 500 ConfigMaps), the decoded page, and the buffers that carried it. V8 collects
 * that garbage eventually, but a regular collection keeps the pages it emptied committed, and its
 * memory reducer only runs after the process has been quiet for a while. So right after a sync the
 * process holds the list's high-water mark: with 10,000 ConfigMaps, ~36 MiB of V8 heap committed
 * for 25 MiB live (`npm run bench -- engine`).
 *
 * After a list of at least `minItems` objects reached the cache, the informer asks the process's
 * {@link HeapReleaser} for one memory-reducing collection: V8's last-resort flavour of a full
 * collection, which compacts the old generation and returns the emptied pages to the operating
 * system. It costs one pause (~65 ms for 10,000 ConfigMaps on the project's machine) and takes
 * ~10 MiB off the RSS after that sync. Requests are coalesced process-wide: at most one
 * collection per `minIntervalMs`, the later requests of a burst (many informers syncing at once)
 * folded into one collection at the end of the interval.
 *
 * The collection is V8's `gc` extension. Node exposes it only under `--expose-gc`; without that
 * flag it is obtained once by setting the flag, creating one `vm` context (the only place V8
 * installs the function) and clearing the flag again, so no other context sees a `gc` global.
 * Where that is not possible the releaser does nothing ({@link HeapReleaser.available} is false).
 *
 * @module
 */
import type { Logger } from '../core/index.ts';

/** When the informer asks for a collection after a list. */
export interface HeapReleasePolicy {
  /** Lists of fewer objects leave too little garbage to be worth a pause. Default 1,000. */
  minItems: number;
}

/** The informer's default: release after lists of 1,000 objects or more. */
export const DEFAULT_HEAP_RELEASE: Readonly<HeapReleasePolicy> = { minItems: 1000 };

/** A memory-reducing full collection; `undefined` where none can be had. */
export type Collector = () => void;

/** What a {@link HeapReleaser} has done, for tests and logs. */
export interface HeapReleaseStats {
  /** Collections run. */
  releases: number;
  /** Requests folded into a collection already run or scheduled. */
  coalesced: number;
  /** Total time spent in the collections, ms. */
  pauseMs: number;
}

/** Options of a {@link HeapReleaser}; all injectable for tests. */
export interface HeapReleaserOptions {
  /** Default: V8's last-resort collection (see the module comment), or none where unavailable. */
  collector?: Collector | undefined;
  /** At most one collection per this many ms; later requests wait for its end. Default 1,000. */
  minIntervalMs?: number;
  /** Monotonic clock in ms. Default `performance.now`. */
  now?: () => number;
}

/**
 * Runs memory-reducing collections on request, at most one per interval.
 *
 * The first request runs its collection at once (so a single large sync is released before the
 * informer reports it synced); a request within `minIntervalMs` of the last collection arms one
 * unref'd timer for the end of the interval, and any further requests until then are folded into it.
 *
 * @example
 * ```ts
 * import { processHeapReleaser } from 'elasti-informer';
 *
 * // After a batch job of your own dropped a large structure:
 * processHeapReleaser().request();
 * ```
 */
export class HeapReleaser {
  readonly #collector: Collector | undefined;
  readonly #minIntervalMs: number;
  readonly #now: () => number;
  #lastAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #stats: HeapReleaseStats = { releases: 0, coalesced: 0, pauseMs: 0 };

  constructor(options: HeapReleaserOptions = {}) {
    this.#collector = 'collector' in options ? options.collector : lastResortCollector();
    this.#minIntervalMs = options.minIntervalMs ?? 1000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Whether this releaser can collect at all. */
  get available(): boolean {
    return this.#collector !== undefined;
  }

  /**
   * Asks for one collection. Returns what happened: `released` (ran now), `scheduled` (a timer
   * will run it at the end of the interval), `coalesced` (one is already scheduled) or
   * `unavailable`.
   */
  request(): 'released' | 'scheduled' | 'coalesced' | 'unavailable' {
    if (!this.#collector) return 'unavailable';
    if (this.#timer) {
      this.#stats.coalesced++;
      return 'coalesced';
    }
    const now = this.#now();
    const due = this.#lastAt === undefined ? now : this.#lastAt + this.#minIntervalMs;
    if (due <= now) {
      this.#collect();
      return 'released';
    }
    this.#stats.coalesced++;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#collect();
    }, due - now);
    // A pending release must not keep a process alive that has nothing else to do.
    this.#timer.unref();
    return 'scheduled';
  }

  /** A copy of what this releaser has done. */
  stats(): HeapReleaseStats {
    return { ...this.#stats };
  }

  /** Cancels a scheduled collection (tests; a process that is about to exit). */
  cancel(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #collect(): void {
    const start = this.#now();
    try {
      this.#collector?.();
    } catch {
      // A collection that cannot run changes nothing the caller could act on.
    }
    const end = this.#now();
    this.#lastAt = end;
    this.#stats.releases++;
    this.#stats.pauseMs += end - start;
  }
}

/**
 * The environment variable that turns the process's releaser off without code changes:
 * `ELASTI_HEAP_RELEASE=off` (or `false`, `0`); `on`, `true`, `1` or unset keep it on.
 */
export const HEAP_RELEASE_VARIABLE = 'ELASTI_HEAP_RELEASE';

/** {@link HEAP_RELEASE_VARIABLE} holds something other than on/off. */
export class HeapReleaseSettingError extends Error {
  readonly value: string;
  constructor(value: string) {
    super(
      `${HEAP_RELEASE_VARIABLE}: ${JSON.stringify(value)} is neither on nor off (on, off, true, false, 1, 0)`,
    );
    this.name = 'HeapReleaseSettingError';
    this.value = value;
  }
}

/**
 * Whether {@link HEAP_RELEASE_VARIABLE} in `env` leaves the process's releaser on.
 *
 * @throws HeapReleaseSettingError for any other value (the operator exits 2 with it).
 */
export function heapReleaseEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[HEAP_RELEASE_VARIABLE]?.trim().toLowerCase();
  if (value === undefined || value === '' || value === 'on' || value === 'true' || value === '1') return true;
  if (value === 'off' || value === 'false' || value === '0') return false;
  throw new HeapReleaseSettingError(env[HEAP_RELEASE_VARIABLE] ?? '');
}

/**
 * The informer's side: after its sink replaced the cache with a list of `items` objects, asks
 * for one collection if the policy says so. On the next turn, once the reflector's call into
 * the sink has returned: until then its frames still hold the list as received (with the
 * managedFields the cache dropped), and the collection would keep all of it. The handlers'
 * calls are only queued by then, so the collection still runs before most of them.
 */
export function releaseHeapAfterList(
  items: number,
  options: { heapRelease?: HeapReleasePolicy | false; heapReleaser?: HeapReleaser },
  running: () => boolean,
  logger: Logger,
): void {
  const policy = options.heapRelease ?? DEFAULT_HEAP_RELEASE;
  if (policy === false || items < policy.minItems) return;
  setImmediate(() => {
    if (!running()) return;
    const outcome = (options.heapReleaser ?? processHeapReleaser()).request();
    logger.debug({ items, outcome }, 'heap release after list');
  }).unref();
}

let shared: HeapReleaser | undefined;

/**
 * The process's one releaser, which informers and controllers use unless given their own. Off
 * (every request `unavailable`) when {@link HEAP_RELEASE_VARIABLE} says so; a value it does not
 * understand also turns it off, with a process warning naming it.
 */
export function processHeapReleaser(): HeapReleaser {
  if (shared) return shared;
  let enabled = false;
  try {
    enabled = heapReleaseEnabled();
  } catch (error) {
    process.emitWarning((error as Error).message, { code: 'ELASTI_HEAP_RELEASE' });
  }
  shared = enabled ? new HeapReleaser() : new HeapReleaser({ collector: undefined });
  return shared;
}

type GcFunction = (options?: { type?: string; execution?: string; flavor?: string }) => void;

/**
 * V8's last-resort full collection (compacting, returning emptied pages), or `undefined` where
 * the `gc` extension cannot be had. Obtained once; see the module comment for how.
 */
export function lastResortCollector(): Collector | undefined {
  const gc = gcFunction();
  if (!gc) return undefined;
  return () => gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

let cachedGc: GcFunction | null | undefined;

function gcFunction(): GcFunction | undefined {
  if (cachedGc !== undefined) return cachedGc ?? undefined;
  cachedGc = null;
  const given = (globalThis as { gc?: unknown }).gc;
  if (typeof given === 'function') {
    cachedGc = given as GcFunction;
    return cachedGc;
  }
  // Loaded here rather than imported: only a process that lists large collections pays for them.
  const v8 = process.getBuiltinModule('node:v8');
  const vm = process.getBuiltinModule('node:vm');
  try {
    v8.setFlagsFromString('--expose-gc');
    const fn: unknown = vm.runInNewContext('typeof gc === "function" ? gc : undefined');
    if (typeof fn === 'function') cachedGc = fn as GcFunction;
  } catch {
    // A runtime that refuses flags after start: no collector, nothing else changes.
  } finally {
    try {
      v8.setFlagsFromString('--no-expose-gc');
    } catch {
      // As above.
    }
  }
  return cachedGc ?? undefined;
}
