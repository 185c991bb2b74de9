/**
 * The vocabulary of the reflector's state machine: its fixed configuration, its state, the
 * inputs it is fed, the effects it asks for and the next operation it names. Plain readonly
 * data, no behaviour.
 *
 * Three modules speak it: `reflector-machine.ts` (the pure `transition` over these values),
 * `reflector.ts` (the driver that performs each {@link NextOp} and turns what happened on the
 * wire into a {@link MachineInput}) and `reflector-effects.ts` (which carries out each
 * {@link Effect}). Kept on its own so the machine's file holds only its rules and the effects
 * depend on the shapes, not on the rules.
 *
 * @module
 */
import type { ListOptions, ReflectorPhase, WatchOptions } from '../core/index.ts';

/** Fixed parameters of the machine. */
export interface MachineConfig {
  /** `limit` of list pages. */
  readonly pageSize: number;
  /** Whether streaming lists are requested. */
  readonly streamingList: boolean;
  /**
   * A watch the server closes normally within this time, having delivered nothing, counts as a
   * failure (backoff) instead of a routine close, so a misbehaving server cannot make us spin.
   */
  readonly shortWatchMs: number;
  /** Consecutive 410s on lists that are retried immediately before backing off. */
  readonly immediateExpiredRetries: number;
}

/** A list in progress. */
export interface ListProgress {
  /** True when an earlier complete state existed (a relist). */
  readonly relist: boolean;
  /** `streaming`: a `sendInitialEvents` watch; `paged`: LIST pages. */
  readonly mode: 'paged' | 'streaming';
  /** Continue token for the next page (paged only). */
  readonly continueToken: string | undefined;
  readonly pages: number;
}

/** What every phase of the machine carries. Plain data; every field is replaced, never mutated. */
export interface MachineCommon {
  /** Last resourceVersion synced (list RV, event RV, bookmark RV). Opaque. */
  readonly resourceVersion: string | undefined;
  /** False once the server said the RV is too old (or too new): the next list must be a quorum read. */
  readonly resourceVersionUsable: boolean;
  readonly synced: boolean;
  /** The next connection must (re)list rather than resume watching. */
  readonly needsList: boolean;
  /** `on`: streaming lists; `off`: never asked; `fallenBack`: tried, did not work, paged from now on. */
  readonly streaming: 'on' | 'off' | 'fallenBack';
  readonly lastError: Error | undefined;
  /** Consecutive list attempts that ended in 410. */
  readonly expiredInARow: number;
  readonly lists: number;
  readonly relists: number;
  readonly watchRestarts: number;
}

/**
 * The machine's state, one shape per phase: only `Listing` has a list in progress for certain,
 * `Backoff` may hold one (a list that failed midway continues from its page), and the other
 * phases have none, so no rule reads a list that cannot exist.
 */
export type MachineState =
  | (MachineCommon & { readonly phase: 'Idle' | 'Watching' | 'Stopped'; readonly listing?: undefined })
  | (MachineCommon & { readonly phase: 'Listing'; readonly listing: ListProgress })
  | (MachineCommon & { readonly phase: 'Backoff'; readonly listing?: ListProgress | undefined });

type Holds<T extends true> = T;
/** Compile-time check: every phase the reflector reports has its shape above (fails to compile otherwise). */
export type MachineStatePhasesCovered = Holds<ReflectorPhase extends MachineState['phase'] ? true : false>;

/** What happened, fed to `transition`. */
export type MachineInput =
  | { readonly type: 'start' }
  | {
      readonly type: 'listPage';
      readonly resourceVersion: string;
      readonly continueToken: string | undefined;
      readonly items: number;
    }
  | {
      readonly type: 'watchEvent';
      readonly eventType: 'ADDED' | 'MODIFIED' | 'DELETED';
      readonly resourceVersion: string | undefined;
    }
  | {
      readonly type: 'bookmark';
      readonly resourceVersion: string | undefined;
      readonly initialEventsEnd: boolean;
    }
  /** The server ended the stream normally. */
  | { readonly type: 'watchClosed'; readonly events: number; readonly elapsedMs: number }
  /** The current operation (list or watch) failed. */
  | { readonly type: 'failed'; readonly error: Error }
  /** The sink threw: its contents can no longer be trusted. */
  | { readonly type: 'sinkFailed'; readonly error: Error }
  /** A streaming list did not reach the end of its initial events in time. */
  | { readonly type: 'streamDeadline' }
  | { readonly type: 'backoffElapsed' }
  | { readonly type: 'restart'; readonly reason: string }
  | { readonly type: 'stop' };

/** A synchronous consequence of a transition, performed by the driver in order. */
export type Effect =
  /** Start collecting a fresh initial state. */
  | { readonly kind: 'resetBuffer' }
  /** Add the page's items (or fold the streamed event) into the collected state. */
  | { readonly kind: 'buffer' }
  /** Hand the collected state to `sink.replace` at this RV. */
  | { readonly kind: 'replace'; readonly resourceVersion: string; readonly streaming: boolean }
  /** Hand the current event to `sink.apply`. */
  | { readonly kind: 'apply'; readonly eventType: 'ADDED' | 'MODIFIED' | 'DELETED' }
  | { readonly kind: 'bookmark'; readonly resourceVersion: string }
  | { readonly kind: 'watchEnded'; readonly reason: 'closed' | 'error' | 'idle' | 'stopped' }
  /** Report an error (observer, log). `expected`: routine protocol events such as a 410. */
  | { readonly kind: 'error'; readonly error: Error; readonly expected: boolean }
  /** The streaming list is abandoned for this reflector. */
  | { readonly kind: 'streamingFallback'; readonly why: string };

/** The one asynchronous operation to perform next. */
export type NextOp =
  | { readonly op: 'list'; readonly options: Omit<ListOptions, 'signal'> }
  | {
      readonly op: 'watch';
      readonly options: Omit<WatchOptions, 'signal' | 'timeoutSeconds' | 'idleTimeoutMs'>;
      readonly streaming: boolean;
    }
  /** Keep reading the current watch stream. */
  | { readonly op: 'consume' }
  /** Wait (backoff with jitter, at least `minDelayMs`), then feed `backoffElapsed`. */
  | { readonly op: 'backoff'; readonly minDelayMs: number }
  | { readonly op: 'exit' };

/** Result of `transition`. */
export interface Transition {
  readonly state: MachineState;
  readonly effects: readonly Effect[];
  readonly next: NextOp;
}
