/**
 * The reflector's protocol as a pure state machine: `transition(config, state, input) →
 * { state, effects, next }`. No I/O, no clock, no randomness: every rule of the list/watch
 * protocol (see `reflector.ts` for the rules and their reasons) lives here and is unit-tested
 * exhaustively (`test/unit/kube/watch/reflector-machine.test.ts`). The driver in `reflector.ts`
 * performs `next`; `reflector-effects.ts` carries out `effects`. The types the three speak
 * (config, state, input, effect, next operation) are in `reflector-types.ts`.
 *
 * @module
 */
import type { ListOptions } from '../core/index.ts';
import { isGone, retryAfterMs, statusOf, WatchIdleTimeoutError } from '../core/index.ts';
import type {
  Effect,
  ListProgress,
  MachineCommon,
  MachineConfig,
  MachineInput,
  MachineState,
  Transition,
} from './reflector-types.ts';

/** The state before `start`. */
export function initialState(config: Pick<MachineConfig, 'streamingList'>): MachineState {
  return {
    phase: 'Idle',
    resourceVersion: undefined,
    resourceVersionUsable: true,
    synced: false,
    needsList: true,
    streaming: config.streamingList ? 'on' : 'off',
    lastError: undefined,
    expiredInARow: 0,
    lists: 0,
    relists: 0,
    watchRestarts: 0,
  };
}

/** True while a streaming list's initial events are being collected. */
export function awaitingInitialEvents(state: MachineState): boolean {
  return state.phase === 'Listing' && state.listing.mode === 'streaming';
}

/** HTTP statuses with which a server refuses streaming-list parameters it does not support. */
const rejectedParamStatuses: ReadonlySet<number> = new Set([400, 422]);

/**
 * The reflector's rules: given the state and what just happened, the new state, the effects to
 * perform and the next operation. Pure: no I/O, no clock, no randomness.
 */
export function transition(config: MachineConfig, state: MachineState, input: MachineInput): Transition {
  if (state.phase === 'Stopped') return { state, effects: [], next: { op: 'exit' } };

  switch (input.type) {
    case 'start':
      if (state.phase !== 'Idle') return { state, effects: [], next: { op: 'consume' } };
      return beginList(config, state, []);

    case 'stop': {
      const effects: Effect[] =
        state.phase === 'Watching' || awaitingInitialEvents(state)
          ? [{ kind: 'watchEnded', reason: 'stopped' }]
          : [];
      return { state: { ...state, phase: 'Stopped', listing: undefined }, effects, next: { op: 'exit' } };
    }

    case 'listPage': {
      if (state.phase !== 'Listing' || state.listing.mode !== 'paged') return unexpected(state, input);
      const listing = state.listing;
      const effects: Effect[] = [{ kind: 'buffer' }];
      if (input.continueToken) {
        const next: ListProgress = {
          ...listing,
          continueToken: input.continueToken,
          pages: listing.pages + 1,
        };
        return {
          state: { ...state, listing: next },
          effects,
          next: { op: 'list', options: pageOptions(config, input.continueToken) },
        };
      }
      effects.push({ kind: 'replace', resourceVersion: input.resourceVersion, streaming: false });
      return startWatch(synced(state, input.resourceVersion), effects);
    }

    case 'watchEvent': {
      if (awaitingInitialEvents(state))
        return { state, effects: [{ kind: 'buffer' }], next: { op: 'consume' } };
      if (state.phase !== 'Watching') return unexpected(state, input);
      return {
        state: progressed(state, input.resourceVersion || state.resourceVersion),
        effects: [{ kind: 'apply', eventType: input.eventType }],
        next: { op: 'consume' },
      };
    }

    case 'bookmark': {
      if (awaitingInitialEvents(state)) {
        if (!input.initialEventsEnd || !input.resourceVersion) {
          // Progress inside the initial events; the state is not complete yet, so the RV is not ours to keep.
          return { state, effects: [], next: { op: 'consume' } };
        }
        const done = synced(state, input.resourceVersion);
        return {
          state: { ...done, phase: 'Watching' },
          effects: [
            { kind: 'replace', resourceVersion: input.resourceVersion, streaming: true },
            { kind: 'bookmark', resourceVersion: input.resourceVersion },
          ],
          next: { op: 'consume' },
        };
      }
      if (state.phase !== 'Watching') return unexpected(state, input);
      if (!input.resourceVersion) return { state, effects: [], next: { op: 'consume' } };
      return {
        state: progressed(state, input.resourceVersion),
        effects: [{ kind: 'bookmark', resourceVersion: input.resourceVersion }],
        next: { op: 'consume' },
      };
    }

    case 'watchClosed': {
      if (awaitingInitialEvents(state)) {
        return fallBackToPaged(config, state, 'server closed the stream before the initial events ended', [
          { kind: 'watchEnded', reason: 'closed' },
        ]);
      }
      if (state.phase !== 'Watching') return unexpected(state, input);
      const effects: Effect[] = [{ kind: 'watchEnded', reason: 'closed' }];
      if (input.events === 0 && input.elapsedMs < config.shortWatchMs) {
        const error = new Error(`watch closed by the server after ${input.elapsedMs} ms without any event`);
        effects.push({ kind: 'error', error, expected: false });
        return {
          state: { ...state, phase: 'Backoff', lastError: error },
          effects,
          next: { op: 'backoff', minDelayMs: 0 },
        };
      }
      return startWatch({ ...common(state), watchRestarts: state.watchRestarts + 1 }, effects);
    }

    case 'failed':
      return failed(config, state, input.error);

    case 'sinkFailed': {
      const effects: Effect[] = [];
      if (state.phase === 'Watching' || awaitingInitialEvents(state)) {
        effects.push({ kind: 'watchEnded', reason: 'error' });
      }
      effects.push({ kind: 'error', error: input.error, expected: false });
      return {
        state: { ...common(state), phase: 'Backoff', needsList: true, lastError: input.error },
        effects,
        next: { op: 'backoff', minDelayMs: 0 },
      };
    }

    case 'streamDeadline':
      if (!awaitingInitialEvents(state)) return unexpected(state, input);
      return fallBackToPaged(config, state, 'the initial events did not end before the deadline', [
        { kind: 'watchEnded', reason: 'stopped' },
      ]);

    case 'backoffElapsed':
      if (state.phase !== 'Backoff') return unexpected(state, input);
      return resume(config, state, []);

    case 'restart': {
      if (state.phase === 'Idle') return { state, effects: [], next: { op: 'exit' } };
      if (state.phase === 'Backoff') return resume(config, state, []);
      if (state.phase === 'Listing') {
        const listing = state.listing;
        if (listing.mode === 'paged') {
          // Same page again: the continue token still pins the list's snapshot.
          return {
            state,
            effects: [],
            next: { op: 'list', options: pageOptions(config, listing.continueToken) },
          };
        }
        return beginList(config, state, [{ kind: 'watchEnded', reason: 'stopped' }], true);
      }
      return startWatch({ ...common(state), watchRestarts: state.watchRestarts + 1 }, [
        { kind: 'watchEnded', reason: 'stopped' },
      ]);
    }
  }
}

/** Inputs that make no sense in the current phase are reported and answered by reconnecting. */
function unexpected(state: MachineState, input: MachineInput): Transition {
  const error = new Error(`reflector: unexpected ${input.type} in phase ${state.phase}`);
  return {
    state: { ...state, phase: 'Backoff', lastError: error },
    effects: [{ kind: 'error', error, expected: false }],
    next: { op: 'backoff', minDelayMs: 0 },
  };
}

function pageOptions(config: MachineConfig, continueToken: string | undefined): Omit<ListOptions, 'signal'> {
  // A continue token carries the snapshot's RV itself; the first page is a quorum read.
  return continueToken
    ? { limit: config.pageSize, continue: continueToken }
    : { limit: config.pageSize, resourceVersion: '' };
}

/**
 * Starts a list (or restarts it from the first page). `sameAttempt`: a restart of a list that
 * was already counted.
 */
function beginList(
  config: MachineConfig,
  state: MachineState,
  effects: Effect[],
  sameAttempt = false,
): Transition {
  const relist = state.listing?.relist ?? state.synced;
  const mode = state.streaming === 'on' ? 'streaming' : 'paged';
  const counted = sameAttempt || state.listing !== undefined;
  const next: MachineState = {
    ...state,
    phase: 'Listing',
    listing: { relist, mode, continueToken: undefined, pages: 0 },
    lists: counted ? state.lists : state.lists + 1,
    relists: counted || !relist ? state.relists : state.relists + 1,
  };
  const all: Effect[] = [...effects, { kind: 'resetBuffer' }];
  if (mode === 'paged')
    return { state: next, effects: all, next: { op: 'list', options: pageOptions(config, undefined) } };
  const resourceVersion = state.resourceVersionUsable ? (state.resourceVersion ?? '') : '';
  return {
    state: next,
    effects: all,
    next: {
      op: 'watch',
      streaming: true,
      options: {
        sendInitialEvents: true,
        resourceVersionMatch: 'NotOlderThan',
        allowWatchBookmarks: true,
        resourceVersion,
      },
    },
  };
}

/** The state after the watch made progress to `resourceVersion` (an event or a bookmark). */
function progressed(state: MachineState, resourceVersion: string | undefined): MachineState {
  return { ...state, resourceVersion, resourceVersionUsable: true, lastError: undefined };
}

/** The state after a complete initial state was handed to the sink (the phase is the caller's to set). */
function synced(state: MachineState, resourceVersion: string): MachineCommon {
  return {
    ...common(state),
    resourceVersion,
    resourceVersionUsable: true,
    synced: true,
    needsList: false,
    lastError: undefined,
    expiredInARow: 0,
  };
}

/** The fields of `state` that every phase carries: what a change of phase starts from. */
function common(state: MachineState): MachineCommon {
  const { phase: _phase, listing: _listing, ...rest } = state;
  return rest;
}

/** Watching from `base` (what every phase carries: callers drop the old phase's list with `common`). */
function startWatch(base: MachineCommon, effects: Effect[]): Transition {
  return {
    state: { ...base, phase: 'Watching' },
    effects,
    next: {
      op: 'watch',
      streaming: false,
      options: { resourceVersion: base.resourceVersion ?? '', allowWatchBookmarks: true },
    },
  };
}

/** After a backoff (or a restart during one): continue the list, or resume the watch. */
function resume(config: MachineConfig, state: MachineState, effects: Effect[]): Transition {
  if (state.needsList) {
    const listing = state.listing;
    if (listing?.mode === 'paged' && listing.continueToken) {
      return {
        state: { ...state, phase: 'Listing', listing },
        effects,
        next: { op: 'list', options: pageOptions(config, listing.continueToken) },
      };
    }
    return beginList(config, state, effects, listing !== undefined);
  }
  return startWatch({ ...common(state), watchRestarts: state.watchRestarts + 1 }, effects);
}

function fallBackToPaged(
  config: MachineConfig,
  state: MachineState,
  why: string,
  effects: Effect[],
): Transition {
  const relist = state.listing?.relist ?? state.synced;
  return beginList(
    config,
    {
      ...common(state),
      phase: 'Listing',
      streaming: 'fallenBack',
      listing: { relist, mode: 'paged', continueToken: undefined, pages: 0 },
    },
    [...effects, { kind: 'streamingFallback', why }],
    true,
  );
}

function failed(config: MachineConfig, state: MachineState, error: Error): Transition {
  const gone = isGone(error);
  const status = statusOf(error);
  const idle = error instanceof WatchIdleTimeoutError;
  const minDelayMs = retryAfterMs(error) ?? 0;

  if (state.phase === 'Listing') {
    const listing = state.listing;
    const streamingList = listing.mode === 'streaming';
    const effects: Effect[] = streamingList ? [{ kind: 'watchEnded', reason: idle ? 'idle' : 'error' }] : [];
    if (streamingList && status !== undefined && rejectedParamStatuses.has(status)) {
      effects.push({ kind: 'error', error, expected: true });
      return fallBackToPaged(
        config,
        { ...state, lastError: error },
        `server rejected the parameters (${status})`,
        effects,
      );
    }
    effects.push({ kind: 'error', error, expected: gone });
    if (gone) {
      // The snapshot is gone (expired continue token, or RV out of the server's window): start over, quorum.
      const expiredInARow = state.expiredInARow + 1;
      const fresh: MachineState = {
        ...state,
        lastError: error,
        resourceVersionUsable: false,
        expiredInARow,
        listing: { ...listing, continueToken: undefined, pages: 0 },
      };
      if (expiredInARow <= config.immediateExpiredRetries) return beginList(config, fresh, effects, true);
      return { state: { ...fresh, phase: 'Backoff' }, effects, next: { op: 'backoff', minDelayMs } };
    }
    // Keep the continue token: after the backoff the list continues where it stopped, and if the
    // token expired meanwhile the 410 path above restarts it.
    const keep: ListProgress = streamingList ? { ...listing, pages: 0 } : listing;
    return {
      state: {
        ...state,
        phase: 'Backoff',
        lastError: error,
        listing: keep,
        needsList: true,
      },
      effects,
      next: { op: 'backoff', minDelayMs },
    };
  }

  if (state.phase === 'Watching') {
    const effects: Effect[] = [
      { kind: 'watchEnded', reason: idle ? 'idle' : 'error' },
      { kind: 'error', error, expected: gone || idle },
    ];
    if (gone) {
      return beginList(
        config,
        { ...state, needsList: true, resourceVersionUsable: false, lastError: error },
        effects,
      );
    }
    if (idle) {
      // A silent connection is replaced at once; if the server is really gone, that attempt fails and backs off.
      return startWatch(
        { ...common(state), lastError: error, watchRestarts: state.watchRestarts + 1 },
        effects,
      );
    }
    return {
      state: { ...state, phase: 'Backoff', lastError: error },
      effects,
      next: { op: 'backoff', minDelayMs },
    };
  }

  return unexpected(state, { type: 'failed', error });
}
