/**
 * The conditions the controller maintains in `status.conditions`, besides the API's `SpecValid`:
 *
 * - `ScaleTargetFound`: the scaleTargetRef resolves to an existing object.
 * - `Ready`: the last reconcile applied the decided mode (`ProxyMode`/`ServeMode`); when it
 *   failed, `False` with the failure's reason (e.g. `NoResolverEndpoints`) and message.
 *
 * @module
 */

import type { Condition, ConditionStatus, ElastiMode } from '../api/v1alpha1/index.ts';
import { formatConditionTime } from '../api/v1alpha1/index.ts';

export const CONDITION_SCALE_TARGET_FOUND = 'ScaleTargetFound';
export const CONDITION_READY = 'Ready';

/** Builds a condition stamped with `now`. */
export function condition(
  type: string,
  status: ConditionStatus,
  reason: string,
  message: string,
  now: Date,
  observedGeneration: number | undefined,
): Condition {
  const c: Condition = { type, status, reason, message, lastTransitionTime: formatConditionTime(now) };
  if (observedGeneration !== undefined) c.observedGeneration = observedGeneration;
  return c;
}

/** `Ready=True` for a mode that was applied. */
export function readyCondition(
  mode: ElastiMode,
  message: string,
  now: Date,
  generation: number | undefined,
): Condition {
  return condition(
    CONDITION_READY,
    'True',
    mode === 'proxy' ? 'ProxyMode' : 'ServeMode',
    message,
    now,
    generation,
  );
}
