/**
 * The reflector: keeps a {@link ReflectorSink} in step with one resource collection by
 * listing and then watching it, for as long as it runs, through every failure.
 *
 * It is built in two layers:
 *
 * 1. {@link transition} (`reflector-machine.ts`, its types in `reflector-types.ts`) — a pure
 *    function `(state, input) -> { state, effects, next }`. The state is a plain value; the input
 *    is what just happened on the wire (a page arrived, an event, a close, an error, a timer);
 *    `effects` are the synchronous things to do about it (buffer items, hand the sink a full
 *    state or one event, report an error) and `next` is the one asynchronous operation to
 *    perform now (list a page, open a watch, keep reading, back off, exit). Every rule of the
 *    protocol lives there and is unit-tested without I/O or time.
 * 2. {@link Reflector} (this module) — a small driver that performs `next` (requests, the watch
 *    stream, backoff timers, interrupts), turns what happened into the next input, and hands the
 *    effects to `reflector-effects.ts`, which carries them out against the sink, the observer
 *    and the logger, fencing each against their failures.
 *
 * Protocol choices (facts checked against the API docs, decisions ours):
 * - Lists are quorum reads (`resourceVersion` unset) paged with `limit`/`continue`. A list at
 *   `resourceVersion="0"` is served from the watch cache, which ignores `limit` and returns the
 *   whole collection in one response (KEP-4988, "Serve pagination from cache", describes that
 *   behaviour), so it would never page; a consistent read pages and, on current servers, is itself
 *   served from the cache when it can be.
 * - A 410 (or "too large resource version") means the RV is unusable: relist with a quorum read.
 *   A 410 on a `continue` token restarts that list from its first page.
 * - Watches resume from the last RV seen (events and bookmarks) with bookmarks on and a random
 *   server timeout; a normal close resumes immediately; the RV is opaque and never compared.
 * - Streaming lists (`sendInitialEvents`) are optional: the initial state is complete at the
 *   bookmark annotated `k8s.io/initial-events-end`; a server that does not get there in time, or
 *   rejects the parameters, makes this reflector fall back to paged lists for good.
 *
 * @module
 */

import type {
  KubeObject,
  KubeObjectLike,
  ListerWatcher,
  ListOptions,
  ListWatchTarget,
  Logger,
  ReflectorObserver,
  ReflectorSink,
  ReflectorStatus,
  WatchEvent,
  WatchOptions,
} from '../core/index.ts';
import {
  asStatus,
  Backoff,
  type BackoffOptions,
  formatGvr,
  isObjectEvent,
  KubeApiError,
  silentLogger,
} from '../core/index.ts';
import { guardedLogger, ReflectorEffects, SinkError } from './reflector-effects.ts';
import { awaitingInitialEvents, initialState, transition } from './reflector-machine.ts';
import type { MachineConfig, MachineInput, MachineState, NextOp, Transition } from './reflector-types.ts';

// The pure machine lives in its own module; re-exported so `reflector.ts` stays the one import.

/** The annotation on the bookmark that ends a streaming list's initial events. */
export const initialEventsEndAnnotation = 'k8s.io/initial-events-end';

/** Options of {@link Reflector}. */
export interface ReflectorOptions<T extends KubeObjectLike = KubeObject> {
  lw: ListerWatcher;
  target: ListWatchTarget;
  sink: ReflectorSink<T>;
  /** For logs; default: the formatted GVR (and namespace). */
  name?: string;
  logger?: Logger;
  observer?: ReflectorObserver;
  /** `limit` of list pages. Default 500. */
  pageSize?: number;
  /** Streaming lists (`sendInitialEvents`). Default off. */
  streamingList?: { enabled: boolean; deadlineMs?: number /* default 30000 */ };
  /** Server-side watch timeout, drawn uniformly per watch. Default 300..600 s. */
  watchTimeoutSeconds?: { min: number; max: number };
  /** Client-side idle timeout of a watch (ms). Default: that watch's server timeout + 30 s. */
  idleTimeoutMs?: number;
  backoff?: BackoffOptions;
  now?: () => number;
  /** Uniform random in [0, 1) for the watch timeout and backoff jitter. Default `Math.random`. */
  random?: () => number;
}

type Interrupt =
  | { readonly type: 'stop' }
  | { readonly type: 'restart'; readonly reason: string }
  | { readonly type: 'deadline' };

/**
 * Lists and watches one collection into a sink, forever, until stopped. See the module doc.
 */
export class Reflector<T extends KubeObjectLike = KubeObject> {
  readonly name: string;
  readonly #lw: ListerWatcher;
  readonly #target: ListWatchTarget;
  readonly #logger: Logger;
  readonly #config: MachineConfig;
  readonly #backoff: Backoff;
  readonly #effects: ReflectorEffects<T>;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #watchTimeout: { min: number; max: number };
  readonly #idleTimeoutMs: number | undefined;
  readonly #streamDeadlineMs: number;

  #state: MachineState;
  #phaseSince: number;
  #lastEventAt: number | undefined;
  #loop: Promise<void> | undefined;
  /** Aborts the operation in flight (request, stream or backoff timer). */
  #op: AbortController | undefined;
  #interrupt: Interrupt | undefined;
  #stopRequested = false;

  constructor(opts: ReflectorOptions<T>) {
    if (!opts?.lw || !opts.target?.gvr || !opts.sink) {
      throw new TypeError('Reflector needs lw, target (with gvr) and sink');
    }
    const pageSize = opts.pageSize ?? 500;
    if (!Number.isInteger(pageSize) || pageSize <= 0)
      throw new RangeError('pageSize must be a positive integer');
    const wt = opts.watchTimeoutSeconds ?? { min: 300, max: 600 };
    if (!(wt.min > 0 && wt.max >= wt.min)) throw new RangeError('watchTimeoutSeconds needs 0 < min <= max');
    if (opts.idleTimeoutMs !== undefined && !(opts.idleTimeoutMs > 0)) {
      throw new RangeError('idleTimeoutMs must be positive');
    }
    this.#lw = opts.lw;
    this.#target = opts.target;
    this.name =
      opts.name ?? `${formatGvr(opts.target.gvr)}${opts.target.namespace ? `@${opts.target.namespace}` : ''}`;
    this.#logger = guardedLogger((opts.logger ?? silentLogger).child({ reflector: this.name }));
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? Math.random;
    this.#config = {
      pageSize,
      streamingList: opts.streamingList?.enabled ?? false,
      shortWatchMs: 1000,
      immediateExpiredRetries: 1,
    };
    this.#backoff = new Backoff({ random: this.#random, now: this.#now, ...opts.backoff });
    this.#effects = new ReflectorEffects({
      sink: opts.sink,
      observer: opts.observer ?? {},
      logger: this.#logger,
      backoff: this.#backoff,
      now: this.#now,
    });
    this.#watchTimeout = { min: Math.floor(wt.min), max: Math.floor(wt.max) };
    this.#idleTimeoutMs = opts.idleTimeoutMs;
    this.#streamDeadlineMs = opts.streamingList?.deadlineMs ?? 30_000;
    this.#state = initialState(this.#config);
    this.#phaseSince = this.#now();
  }

  /** Starts listing and watching. Idempotent; a stopped reflector stays stopped. */
  start(): void {
    if (this.#loop || this.#state.phase === 'Stopped') return;
    this.#loop = this.#run().catch((error: unknown) => {
      // Unreachable by design (every failure becomes an input); kept so a bug cannot surface
      // as an unhandled rejection.
      this.#state = { ...this.#state, phase: 'Stopped', listing: undefined, lastError: toError(error) };
    });
  }

  /**
   * Stops: aborts the request in flight, clears every timer, and resolves once the loop has
   * exited. Idempotent.
   */
  async stop(): Promise<void> {
    this.#stopRequested = true;
    if (!this.#loop) {
      if (this.#state.phase !== 'Stopped') this.#apply({ type: 'stop' }, undefined);
      return;
    }
    this.#interruptOp({ type: 'stop' });
    await this.#loop;
  }

  /**
   * Drops the current connection and resumes from the last resourceVersion (continuing a list in
   * progress, or cutting a backoff short). No relist unless the server then requires one.
   */
  restart(reason: string): void {
    if (!this.#loop || this.#stopRequested || this.#state.phase === 'Stopped') return;
    this.#logger.info({ reason, phase: this.#state.phase }, 'reflector restart requested');
    this.#interruptOp({ type: 'restart', reason });
  }

  /** A snapshot of the reflector's state. */
  status(): ReflectorStatus {
    const s = this.#state;
    return {
      phase: s.phase,
      phaseSince: this.#phaseSince,
      synced: s.synced,
      lastSyncResourceVersion: s.resourceVersion,
      lastEventAt: this.#lastEventAt,
      lastError: s.lastError,
      consecutiveFailures: this.#backoff.failures,
      lists: s.lists,
      relists: s.relists,
      watchRestarts: s.watchRestarts,
    };
  }

  /** The machine's full state, for tests and debugging. */
  machineState(): MachineState {
    return this.#state;
  }

  #interruptOp(interrupt: Interrupt): void {
    // A stop is never downgraded by a later restart.
    if (this.#interrupt?.type !== 'stop') this.#interrupt = interrupt;
    this.#op?.abort();
  }

  async #run(): Promise<void> {
    let step = this.#apply({ type: 'start' }, undefined);
    while (step.next.op !== 'exit') {
      if (this.#stopRequested) {
        step = this.#apply({ type: 'stop' }, undefined);
        break;
      }
      try {
        step = await this.#perform(step.next);
      } catch (error) {
        // A bug in an effect or hook must not end the loop: report and reconnect after a backoff.
        this.#logger.error({ err: error }, 'reflector driver error');
        step = this.#apply({ type: 'sinkFailed', error: toError(error) }, undefined);
      }
    }
    this.#op = undefined;
    this.#interrupt = undefined;
    this.#effects.clearBuffer();
  }

  async #perform(next: NextOp): Promise<Transition> {
    switch (next.op) {
      case 'list':
        return this.#list(next.options);
      case 'watch':
        return this.#watch(next.options, next.streaming);
      case 'backoff':
        return this.#sleep(next.minDelayMs);
      case 'consume':
        // Only reachable from a restart/start in an unexpected phase: resume cleanly.
        return this.#apply({ type: 'restart', reason: 'driver resync' }, undefined);
      case 'exit':
        return { state: this.#state, effects: [], next };
    }
  }

  #beginOp(): AbortController {
    this.#interrupt = undefined;
    this.#op = new AbortController();
    return this.#op;
  }

  /** The input for an operation that ended because we aborted it, if we did. */
  #takeInterrupt(): MachineInput | undefined {
    const interrupt = this.#stopRequested ? ({ type: 'stop' } as const) : this.#interrupt;
    this.#interrupt = undefined;
    if (!interrupt) return undefined;
    if (interrupt.type === 'deadline') return { type: 'streamDeadline' };
    return interrupt;
  }

  async #list(options: Omit<ListOptions, 'signal'>): Promise<Transition> {
    const op = this.#beginOp();
    if (!options.continue)
      this.#effects.hook('onListStart', (o) => o.onListStart?.(this.#state.listing?.relist ?? false));
    try {
      const page = await this.#lw.list<T>(this.#target, { ...options, signal: op.signal });
      if (this.#stopRequested) return this.#apply({ type: 'stop' }, undefined);
      this.#interrupt = undefined;
      this.#lastEventAt = this.#now();
      this.#effects.hook('onListPage', (o) => o.onListPage?.(page.items.length));
      return this.#apply(
        {
          type: 'listPage',
          resourceVersion: page.resourceVersion,
          continueToken: page.continue,
          items: page.items.length,
        },
        page.items,
      );
    } catch (error) {
      return this.#apply(this.#takeInterrupt() ?? { type: 'failed', error: toError(error) }, undefined);
    } finally {
      if (this.#op === op) this.#op = undefined;
    }
  }

  async #watch(
    options: Omit<WatchOptions, 'signal' | 'timeoutSeconds' | 'idleTimeoutMs'>,
    streaming: boolean,
  ): Promise<Transition> {
    const op = this.#beginOp();
    const { min, max } = this.#watchTimeout;
    const timeoutSeconds = min + Math.floor(this.#random() * (max - min + 1));
    const idleTimeoutMs = this.#idleTimeoutMs ?? timeoutSeconds * 1000 + 30_000;
    const startedAt = this.#now();
    let events = 0;
    let deadline: NodeJS.Timeout | undefined;
    if (streaming) {
      this.#effects.hook('onListStart', (o) => o.onListStart?.(this.#state.listing?.relist ?? false));
      deadline = setTimeout(() => {
        if (awaitingInitialEvents(this.#state)) this.#interruptOp({ type: 'deadline' });
      }, this.#streamDeadlineMs);
    } else {
      // An opened watch starts a healthy period; if it keeps failing within seconds, backoff still grows.
      this.#backoff.succeeded(startedAt);
    }
    const rv = options.resourceVersion ?? '';
    this.#effects.hook('onWatchStart', (o) => o.onWatchStart?.(rv));
    this.#logger.debug({ resourceVersion: rv, timeoutSeconds, streaming }, 'watch starting');
    try {
      const stream = this.#lw.watch<T>(this.#target, {
        ...options,
        timeoutSeconds,
        idleTimeoutMs,
        signal: op.signal,
      });
      for await (const event of stream) {
        if (this.#stopRequested) break;
        this.#lastEventAt = this.#now();
        events += 1;
        const step = this.#apply(eventInput(event), isObjectEvent(event) ? event.object : undefined);
        if (deadline && !awaitingInitialEvents(this.#state)) {
          clearTimeout(deadline);
          deadline = undefined;
        }
        if (step.next.op !== 'consume') return step;
      }
      return this.#apply(
        this.#takeInterrupt() ?? { type: 'watchClosed', events, elapsedMs: this.#now() - startedAt },
        undefined,
      );
    } catch (error) {
      return this.#apply(this.#takeInterrupt() ?? { type: 'failed', error: toError(error) }, undefined);
    } finally {
      if (deadline) clearTimeout(deadline);
      if (this.#op === op) this.#op = undefined;
      // Leaving the for-await early already closed the stream; aborting covers the rest.
      if (!op.signal.aborted) op.abort();
    }
  }

  async #sleep(minDelayMs: number): Promise<Transition> {
    const op = this.#beginOp();
    const now = this.#now();
    const delay = Math.max(minDelayMs, this.#backoff.next(now));
    this.#logger.info(
      { delayMs: delay, failures: this.#backoff.failures, err: this.#state.lastError?.message },
      'backing off',
    );
    const interrupted = await new Promise<boolean>((resolve) => {
      if (op.signal.aborted) {
        resolve(true);
        return;
      }
      const timer = setTimeout(() => {
        op.signal.removeEventListener('abort', onAbort);
        resolve(false);
      }, delay);
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      op.signal.addEventListener('abort', onAbort, { once: true });
    });
    if (this.#op === op) this.#op = undefined;
    const input = interrupted ? this.#takeInterrupt() : undefined;
    return this.#apply(input ?? { type: 'backoffElapsed' }, undefined);
  }

  /** Runs the machine on one input and performs its effects. */
  #apply(input: MachineInput, payload: T[] | T | undefined): Transition {
    const before = this.#state;
    const step = transition(this.#config, before, input);
    this.#state = step.state;
    if (step.state.phase !== before.phase) {
      this.#phaseSince = this.#now();
      this.#logger.debug({ from: before.phase, to: step.state.phase, input: input.type }, 'phase');
    }
    let sinkError: SinkError | undefined;
    try {
      for (const effect of step.effects) this.#effects.perform(effect, input, payload, step.state);
    } catch (error) {
      if (!(error instanceof SinkError)) throw error;
      sinkError = error;
    }
    if (step.state.phase !== before.phase) {
      const status = this.status();
      this.#effects.hook('onPhase', (o) => o.onPhase?.(status));
    }
    if (sinkError) {
      this.#logger.error({ err: sinkError.cause }, 'sink failed; relisting after backoff');
      return this.#apply({ type: 'sinkFailed', error: toError(sinkError.cause) }, undefined);
    }
    return step;
  }
}

function eventInput<T extends KubeObjectLike = KubeObject>(event: WatchEvent<T>): MachineInput {
  switch (event.type) {
    case 'BOOKMARK':
      return {
        type: 'bookmark',
        resourceVersion: event.object?.metadata?.resourceVersion,
        initialEventsEnd: event.object?.metadata?.annotations?.[initialEventsEndAnnotation] === 'true',
      };
    case 'ERROR': {
      // Our client throws these; another ListerWatcher might yield them.
      const status = asStatus(event.object);
      return {
        type: 'failed',
        error: new KubeApiError({ status: status?.code ?? 500, verb: 'watch', url: '', body: status }),
      };
    }
    default:
      return {
        type: 'watchEvent',
        eventType: event.type,
        resourceVersion: event.object?.metadata?.resourceVersion,
      };
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
