/**
 * Standard status conditions (`metav1.Condition`) for any kind: the type, the time format the API
 * server keeps, and merging one condition into a list (`meta.SetStatusCondition`'s rule). Part of
 * the engine's vocabulary so the runtime, the ElastiService API and any operator share one.
 *
 * @module
 */

/** Values of `Condition.status`. */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** A standard `metav1.Condition`. */
export interface Condition {
  /** CamelCase, e.g. `SpecValid`. */
  type: string;
  status: ConditionStatus;
  /** `metadata.generation` the condition was computed from. */
  observedGeneration?: number;
  /** RFC 3339; when `status` last changed. */
  lastTransitionTime: string;
  /** CamelCase machine-readable cause, e.g. `InvalidSpec`. */
  reason: string;
  /** Human-readable detail; may be empty. */
  message: string;
}

/**
 * RFC 3339 at second precision, as `metav1.Time` serializes (the apiserver would truncate
 * milliseconds anyway; keeping them would make a read-back compare unequal).
 */
export function formatConditionTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/**
 * A new conditions list with `condition` merged in: an entry of the same type is replaced, keeping
 * its `lastTransitionTime` when `status` did not change; otherwise the condition is appended.
 * The input list is not modified.
 */
export function setStatusCondition(
  conditions: readonly Condition[] | undefined,
  condition: Condition,
): Condition[] {
  const list = conditions ? conditions.map((c) => ({ ...c })) : [];
  const index = list.findIndex((c) => c.type === condition.type);
  const existing = index >= 0 ? list[index] : undefined;
  if (!existing) {
    list.push({ ...condition });
    return list;
  }
  const merged: Condition = { ...condition };
  if (existing.status === condition.status) merged.lastTransitionTime = existing.lastTransitionTime;
  list[index] = merged;
  return list;
}

/** The condition of `type`, if present. */
export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** True when the condition of `type` is present with `status`. */
export function isConditionStatus(
  conditions: readonly Condition[] | undefined,
  type: string,
  status: ConditionStatus,
): boolean {
  return findCondition(conditions, type)?.status === status;
}
