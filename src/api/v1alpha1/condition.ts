/**
 * `status.conditions` helpers: building the spec-validity condition from validation errors and
 * merging a condition into a list the way `metav1.Condition` consumers expect (one entry per
 * type, `lastTransitionTime` moves only when `status` changes).
 *
 * @module
 */

import type { Condition, ConditionStatus } from './types.ts';
import type { FieldError } from './validate.ts';

/** Condition type that reports whether the spec passed {@link validateElastiService}. */
export const CONDITION_SPEC_VALID = 'SpecValid';
/** Reason when the spec is invalid. */
export const REASON_INVALID_SPEC = 'InvalidSpec';
/** Reason when the spec is valid. */
export const REASON_VALID_SPEC = 'ValidSpec';

/** The apiserver caps `Condition.message` at this many characters. */
export const MAX_CONDITION_MESSAGE_LENGTH = 32_768;

/** Options of {@link toCondition}. */
export interface ToConditionOptions {
  /** `metadata.generation` of the object that was validated. */
  observedGeneration?: number;
  /** Clock for `lastTransitionTime`; defaults to now. */
  now?: Date;
}

/**
 * The `SpecValid` condition for a validation outcome: `True`/`ValidSpec` with an empty message
 * when `errors` is empty, else `False`/`InvalidSpec` with every error as `field: message`, joined
 * by `; ` and cut to the apiserver's length limit.
 */
export function toCondition(errors: readonly FieldError[], options: ToConditionOptions = {}): Condition {
  const now = options.now ?? new Date();
  const condition: Condition = {
    type: CONDITION_SPEC_VALID,
    status: errors.length === 0 ? 'True' : 'False',
    reason: errors.length === 0 ? REASON_VALID_SPEC : REASON_INVALID_SPEC,
    message: truncate(errors.map(formatFieldError).join('; '), MAX_CONDITION_MESSAGE_LENGTH),
    lastTransitionTime: formatConditionTime(now),
  };
  if (options.observedGeneration !== undefined) condition.observedGeneration = options.observedGeneration;
  return condition;
}

/** `field: message`, the form used in condition messages and logs. */
export function formatFieldError(error: FieldError): string {
  return error.field ? `${error.field}: ${error.message}` : error.message;
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

function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = '… (truncated)';
  return text.slice(0, max - marker.length) + marker;
}
