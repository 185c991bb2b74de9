/**
 * The conditions the controller maintains in `status.conditions`, besides the API's `SpecValid`:
 *
 * - `ScaleTargetFound`: the scaleTargetRef resolves to an existing object.
 * - `Ready`: the last reconcile applied the decided mode (`ProxyMode`/`ServeMode`); when it
 *   failed, `False` with the failure's reason (e.g. `NoResolverEndpoints`) and message.
 *
 * @module
 */
import type { ElastiMode } from '../api/v1alpha1/index.ts';
import type { Condition } from '../kube/index.ts';
import { condition } from '../runtime/index.ts';

export const CONDITION_SCALE_TARGET_FOUND = 'ScaleTargetFound';
export const CONDITION_READY = 'Ready';

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
