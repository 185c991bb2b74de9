/**
 * Whether scale-to-zero is currently allowed by `spec.enabledPeriod`: each firing of the cron
 * schedule opens a window of `duration`; the policy is active while any window is open. Without
 * an enabled period the policy is always active. Evaluated in UTC, like upstream.
 *
 * @module
 */
import { lastFiringAtOrBefore } from './cron.ts';
import type { ResolvedEnabledPeriod } from './validate.ts';

/**
 * True when `now` lies in a window `[firing, firing + duration)` for some firing of the schedule,
 * or when there is no enabled period at all.
 */
export function isInEnabledPeriod(
  period: ResolvedEnabledPeriod | undefined,
  now: Date = new Date(),
): boolean {
  if (!period) return true;
  // A window that opened at t is still open at now iff now - duration < t <= now.
  const notBefore = new Date(now.getTime() - period.durationMs);
  return lastFiringAtOrBefore(period.cron, now, notBefore) !== undefined;
}
