/**
 * The serving state of one watched name as a union per phase, and its transitions as pure
 * functions (state → state, no I/O), as `health.ts` is for the monitor. `group.ts` applies them
 * to a {@link NameEntry} (one assignment per transition) and acts on the difference: upstreams
 * held before and not after are released. Tested exhaustively in
 * `test/unit/informer/name-state.test.ts`.
 *
 * The phases:
 * - `serving`: one upstream, the *source*, delivers the name's events.
 * - `handover`: the layout changed; the source keeps delivering while the *next* upstream
 *   catches up, until the cut-over (`since`: when the hand-over started or last restarted its
 *   timeout).
 * - `released`: no watch is held: the name is not attached yet, its target was found gone for
 *   good (`gone: 'final'`), or its last registration left.
 *
 * The upstream type is a parameter so that the rules are tested without informers.
 *
 * @module
 */

/** Why a name was declared gone. `object`: the object is gone, its watch stays. `final`: the watch was released. */
export type GoneKind = 'object' | 'final';

/** What a state holding a watch carries, whatever its phase. */
interface Held<U> {
  /** The upstream whose events are delivered. */
  readonly source: U;
  /** `object`: the monitor found the object gone; the watch stays, the object may come back. */
  readonly gone: 'object' | undefined;
  /** A delete was synthesised for this name; the source's own delete for it must not repeat it. */
  readonly syntheticDelete: boolean;
}

/** One upstream serves the name. */
export interface ServingState<U> extends Held<U> {
  readonly phase: 'serving';
}

/** The source serves the name while `next` takes it over. */
export interface HandoverState<U> extends Held<U> {
  readonly phase: 'handover';
  readonly next: U;
  /** When the hand-over started, or its timeout last restarted (ms since epoch). */
  readonly since: number;
}

/** No watch is held for the name. */
export interface ReleasedState {
  readonly phase: 'released';
  /** `final` after the target was found gone for good; a name that left keeps its verdict. */
  readonly gone: GoneKind | undefined;
}

/** The serving state of one name. */
export type NameState<U> = ServingState<U> | HandoverState<U> | ReleasedState;

/** A name not attached yet. */
export const UNATTACHED: ReleasedState = { phase: 'released', gone: undefined };

/**
 * A released name gets its watch (attach). An earlier verdict no longer holds: the Manager
 * checked that the target exists before attaching, and the handlers are replayed its state.
 */
export function served<U>(source: U): ServingState<U> {
  return { phase: 'serving', source, gone: undefined, syntheticDelete: false };
}

/**
 * The layout changed and `target` is the name's upstream now: back to serving when it is the
 * source (a hand-over in progress is cancelled), unchanged when it is already the next, else a
 * hand-over to it starting at `now` (replacing one in progress). A released name stays released.
 */
export function retargeted<U>(state: NameState<U>, target: U, now: number): NameState<U> {
  if (state.phase === 'released') return state;
  if (state.source === target) return state.phase === 'serving' ? state : servingOf(state, state.source);
  if (state.phase === 'handover' && state.next === target) return state;
  return { ...held(state), phase: 'handover', next: target, since: now };
}

/** The cut-over: the next upstream becomes the source. Only a hand-over has one. */
export function cutOver<U>(state: NameState<U>): NameState<U> {
  return state.phase === 'handover' ? servingOf(state, state.next) : state;
}

/** A hand-over waiting for a next upstream that has not synced: its timeout starts again at `now`. */
export function handoverRestarted<U>(state: NameState<U>, now: number): NameState<U> {
  return state.phase === 'handover' ? { ...state, since: now } : state;
}

/** The last registration of the name left: no watch is held; the verdict is kept. */
export function detached<U>(state: NameState<U>): ReleasedState {
  return { phase: 'released', gone: state.gone };
}

/** A declared verdict: the state after it, and whether a delete is to be synthesised. */
export interface GoneOutcome<U> {
  readonly state: NameState<U>;
  /** Deliver a delete (`finalStateUnknown`): the handlers still hold the object and were not told. */
  readonly synthesizeDelete: boolean;
}

/**
 * The monitor declared the target gone; `handlersHaveObject`: the handlers' last state (the
 * source's view) still has the object. `final` releases the watch; `object` keeps it. A `final`
 * verdict is never weakened to `object`.
 */
export function declaredGone<U>(
  state: NameState<U>,
  kind: GoneKind,
  handlersHaveObject: boolean,
): GoneOutcome<U> {
  if (state.phase === 'released') {
    return {
      state: { phase: 'released', gone: state.gone === 'final' ? 'final' : kind },
      synthesizeDelete: false,
    };
  }
  const synthesizeDelete = handlersHaveObject && !state.syntheticDelete;
  if (kind === 'final') return { state: { phase: 'released', gone: 'final' }, synthesizeDelete };
  return {
    state: { ...state, gone: 'object', syntheticDelete: state.syntheticDelete || synthesizeDelete },
    synthesizeDelete,
  };
}

/**
 * An event of the source was handled (`sourceEvent` in `group-rules.ts` decided what the
 * handlers get): whether a synthesised delete is still outstanding, and whether the object is
 * back (an `object` verdict no longer holds).
 */
export function afterSourceEvent<U>(
  state: NameState<U>,
  outcome: { readonly syntheticDelete: boolean; readonly objectBack: boolean },
): NameState<U> {
  if (state.phase === 'released') return state;
  const gone = outcome.objectBack ? undefined : state.gone;
  // Most events change neither: the same state, no allocation on the hot path.
  if (gone === state.gone && outcome.syntheticDelete === state.syntheticDelete) return state;
  return { ...state, syntheticDelete: outcome.syntheticDelete, gone };
}

/** The target was seen to exist (the Manager's GET at `add`): an `object` verdict no longer holds. */
export function targetFound<U>(state: NameState<U>): NameState<U> {
  return state.phase !== 'released' && state.gone === 'object' ? { ...state, gone: undefined } : state;
}

/**
 * The upstreams a state holds the name on, the next before the source (the order in which a
 * release lets them go). Those held before a transition and not after are released.
 */
export function heldUpstreams<U>(state: NameState<U>): U[] {
  if (state.phase === 'released') return [];
  return state.phase === 'handover' && state.next !== state.source
    ? [state.next, state.source]
    : [state.source];
}

function held<U>(state: ServingState<U> | HandoverState<U>): Held<U> {
  return { source: state.source, gone: state.gone, syntheticDelete: state.syntheticDelete };
}

function servingOf<U>(state: ServingState<U> | HandoverState<U>, source: U): ServingState<U> {
  return { ...held(state), phase: 'serving', source };
}
