/**
 * A watch group's layout and its access to namespace-wide watches as unions, with their
 * transitions as pure functions (the decision itself, `desiredScope`, is in `group-rules.ts`).
 * `group.ts` holds one value of each and replaces it through these. Tested in
 * `test/unit/informer/group-layout.test.ts`.
 *
 * @module
 */
import { backoffCeiling } from '../kube/index.ts';
import type { GroupScope, ResolvedPolicy } from './group-rules.ts';

/**
 * How the group serves its names now. Upstreams of the other scope may still serve names during
 * a hand-over; this is the layout the names are moving to.
 */
export type Layout =
  | { readonly scope: 'name' }
  | {
      readonly scope: 'namespace';
      /** Key of the registration whose arrival switched the group here, for rollback if that add fails. */
      readonly upgradedBy: string | undefined;
    };

/** The layout a new group starts with. */
export function initialLayout(mode: ResolvedPolicy['mode']): Layout {
  return mode === 'namespace' ? { scope: 'namespace', upgradedBy: undefined } : { scope: 'name' };
}

/**
 * The layout after the scope decision gave `desired`; `cause`: the key of the registration
 * whose arrival is being decided on, remembered when it widens the group. An unchanged scope
 * keeps the layout as it is.
 */
export function relaid(layout: Layout, desired: GroupScope, cause?: string): Layout {
  if (layout.scope === desired) return layout;
  return desired === 'namespace' ? { scope: 'namespace', upgradedBy: cause } : { scope: 'name' };
}

/** Whether registration `key` is what switched the group to namespace-wide. */
export function widenedBy(layout: Layout, key: string): boolean {
  return layout.scope === 'namespace' && layout.upgradedBy === key;
}

/** Registration `key` left (or its add failed): it is no longer the cause of the layout. */
export function withoutCause(layout: Layout, key: string): Layout {
  return widenedBy(layout, key) ? { scope: 'namespace', upgradedBy: undefined } : layout;
}

/**
 * Whether namespace-wide watches may be used. `refusals` counts refusals (403) since the
 * namespace-wide watch last synced; it sets the wait after the next one.
 */
export type WideAccess =
  | { readonly state: 'allowed'; readonly refusals: number }
  | {
      readonly state: 'refused';
      readonly refusals: number;
      /** When namespace-wide may be tried again (ms since epoch). */
      readonly retryAt: number;
    };

/** No refusal yet. */
export const WIDE_ALLOWED: WideAccess = { state: 'allowed', refusals: 0 };

/** Namespace-wide was refused at `now`: off until a wait that doubles per refusal (capped). */
export function wideRefused(
  access: WideAccess,
  now: number,
  policy: Pick<ResolvedPolicy, 'forbiddenRetryMs' | 'forbiddenRetryCapMs'>,
): { readonly access: WideAccess; readonly waitMs: number } {
  const refusals = access.refusals + 1;
  const waitMs = backoffCeiling(refusals - 1, {
    initialMs: policy.forbiddenRetryMs,
    capMs: policy.forbiddenRetryCapMs,
  });
  return { access: { state: 'refused', refusals, retryAt: now + waitMs }, waitMs };
}

/** At `now`: allowed again once the wait after a refusal is over (the refusal count stays). */
export function wideRetryDue(access: WideAccess, now: number): WideAccess {
  return access.state === 'refused' && now >= access.retryAt
    ? { state: 'allowed', refusals: access.refusals }
    : access;
}

/** A namespace-wide watch synced: the refusal count starts again (a wait in progress stays). */
export function wideSynced(access: WideAccess): WideAccess {
  return access.refusals === 0 ? access : { ...access, refusals: 0 };
}
