/**
 * `status.conditions` helpers: building the spec-validity condition from validation errors and
 * merging a condition into a list the way `metav1.Condition` consumers expect (one entry per
 * type, `lastTransitionTime` moves only when `status` changes).
 *
 * @module
 */

import { type Condition, formatConditionTime } from '../../kube/core/index.ts';
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

function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = '… (truncated)';
  return text.slice(0, max - marker.length) + marker;
}
