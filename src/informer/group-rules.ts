/**
 * The watch group's decisions as pure functions (as `health.ts` is for the monitor): which
 * layout a group should have, when a name may be cut over to its new upstream, what a forced
 * cut-over tells the handlers, and how an event of the name's source is turned into what the
 * handlers see after a synthesised delete. `group.ts` acts on the answers (its state is unions
 * with their own transitions, `name-state.ts` and `group-layout.ts`); these hold the rules and are
 * tested exhaustively (`test/unit/informer/group-rules.test.ts`).
 *
 * @module
 */
import { type Delta, formatGvr, type GroupVersionResource, type KubeObject } from '../kube/index.ts';
import { sameState } from './name-entry.ts';
import type { SharingPolicy } from './types.ts';

/** The policy with its defaults filled in. */
export interface ResolvedPolicy {
  readonly mode: SharingPolicy['mode'];
  readonly autoThreshold: number;
  readonly autoDowngradeBelow: number;
  /** First wait after a refused namespace-wide watch before it is tried again (ms). */
  readonly forbiddenRetryMs: number;
  readonly forbiddenRetryCapMs: number;
}

/** The id of the group of a GVR × namespace. */
export function groupId(gvr: GroupVersionResource, namespace: string): string {
  return namespace ? `${formatGvr(gvr)}/${namespace}` : formatGvr(gvr);
}

/** How a group serves its names: one watch per name, or one namespace-wide watch. */
export type GroupScope = 'name' | 'namespace';

/** What the layout decision reads. */
export interface ScopeInput {
  readonly policy: Pick<ResolvedPolicy, 'mode' | 'autoThreshold' | 'autoDowngradeBelow'>;
  readonly current: GroupScope;
  /** Names whose watch is held (all but those released after a `final` gone). */
  readonly activeNames: number;
  /**
   * Apply the upgrade threshold even when namespace-wide now (no hysteresis): used to roll back a
   * switch whose cause failed, and after a refusal.
   */
  readonly strict: boolean;
  /** Namespace-wide watches are off for now (refused with 403, retry not yet due). */
  readonly wideBlocked: boolean;
}

/**
 * The layout a group should have. `auto` widens at `autoThreshold` names and narrows below
 * `autoDowngradeBelow` (hysteresis, so a count wavering at the threshold does not flap); an
 * empty group keeps its layout; a blocked namespace-wide watch always means per-name.
 */
export function desiredScope(input: ScopeInput): GroupScope {
  const { policy, current, activeNames } = input;
  let desired: GroupScope;
  if (policy.mode === 'per-name') desired = 'name';
  else if (policy.mode === 'namespace') desired = 'namespace';
  else if (activeNames === 0) desired = current;
  else if (current === 'namespace' && !input.strict) {
    desired = activeNames < policy.autoDowngradeBelow ? 'name' : 'namespace';
  } else desired = activeNames >= policy.autoThreshold ? 'namespace' : 'name';
  return desired === 'namespace' && input.wideBlocked ? 'name' : desired;
}

/** What the cut-over decision reads about a name's two upstreams. */
export interface CutoverInput {
  readonly nextSynced: boolean;
  /** The current source, if the name has one. */
  readonly source: { readonly synced: boolean; readonly state: KubeObject | undefined } | undefined;
  readonly nextState: KubeObject | undefined;
}

/**
 * When a name moves to its new upstream: `wait` until the new one has synced and both agree on
 * the object (a clean cut-over loses and repeats nothing); `forced` when the old one has not
 * synced (it may never, e.g. a refused namespace-wide list), so the handlers are brought to the
 * new state with one reconciling event; `clean` when they agree.
 */
export function cutoverDecision(input: CutoverInput): 'wait' | 'clean' | 'forced' {
  if (!input.nextSynced) return 'wait';
  if (input.source && !input.source.synced) return 'forced';
  if (input.source && !sameState(input.source.state, input.nextState)) return 'wait';
  return 'clean';
}

/**
 * The one event that brings handlers holding `before` to `after` when a cut-over is forced:
 * an update, an add, a delete (`finalStateUnknown`: nobody saw it happen), or nothing when they
 * already agree.
 */
export function reconcilingDelta(
  before: KubeObject | undefined,
  after: KubeObject | undefined,
): Delta | undefined {
  if (before && after) {
    return sameState(before, after) ? undefined : { type: 'update', oldObj: before, newObj: after };
  }
  if (after) return { type: 'add', obj: after, isInInitialList: false };
  if (before) return { type: 'delete', obj: before, finalStateUnknown: true };
  return undefined;
}

/** What happens to an event of the name's source, given whether a delete was synthesised. */
export interface SourceEventOutcome {
  /** What the handlers get; `undefined`: nothing (the informer catching up on a delete already told). */
  readonly deliver: Delta | undefined;
  /** Whether a synthesised delete is still outstanding afterwards. */
  readonly syntheticDelete: boolean;
  /** The object exists again: an `object` gone verdict no longer holds. */
  readonly objectBack: boolean;
}

/**
 * After the monitor synthesised a delete (the target vanished), the handlers hold no object:
 * the source's own delete for it must not repeat it, and its next update must reach them as an
 * add. Any other event passes through.
 */
export function sourceEvent(change: Delta, syntheticDelete: boolean): SourceEventOutcome {
  if (change.type === 'delete') {
    return syntheticDelete
      ? { deliver: undefined, syntheticDelete: false, objectBack: false }
      : { deliver: change, syntheticDelete: false, objectBack: false };
  }
  const deliver: Delta =
    syntheticDelete && change.type === 'update'
      ? { type: 'add', obj: change.newObj, isInInitialList: false }
      : change;
  return { deliver, syntheticDelete: false, objectBack: true };
}
