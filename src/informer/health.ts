/**
 * The health monitor's judgement, as pure functions over the engine's `ReflectorStatus`, so
 * every decision can be tested without clocks or sockets.
 *
 * Two upstream failure modes shape the rules:
 * - KubeElasti PR #303: the monitor restarted every informer that had not synced yet, including
 *   ones still doing a slow initial LIST, so a LIST longer than the check period never finished
 *   (restart storm). Here an informer that is listing is left alone as long as the list makes
 *   progress within `listDeadlineMs`, and "not synced" alone is never a reason to restart.
 * - KubeElasti #134: informers on deleted namespaces were restarted forever. Here an informer
 *   failing with 403/404 is not restarted at all (the engine already retries with backoff);
 *   after `goneAfterFailures` such failures the monitor asks for a target check instead, and
 *   the Manager stops the watch if the namespace or object is gone.
 *
 * @module
 */

import type { ReflectorStatus } from '../kube/index.ts';
import { backoffCeiling, statusOf } from '../kube/index.ts';
import type { HealthBounds, RestartBackoff, UpstreamHealth } from './types.ts';

/** Defaults of {@link HealthBounds}. */
export const defaultHealthBounds: HealthBounds = {
  idleBoundMs: 150_000,
  listDeadlineMs: 60_000,
  backoffBoundMs: 120_000,
  goneAfterFailures: 3,
  targetCheckIntervalMs: 30_000,
};

/** Defaults of {@link RestartBackoff}. */
export const defaultRestartBackoff: RestartBackoff = {
  initialMs: 5_000,
  factor: 2,
  capMs: 300_000,
  resetAfterMs: 600_000,
};

/** Why the monitor restarts an informer. */
export type RestartReason = 'stalled-watch' | 'stuck-list' | 'stuck-backoff';

/** What the monitor remembers per upstream informer between ticks. */
export interface MonitorMemory {
  /** Monitor restarts not yet forgiven by a healthy period. */
  readonly restarts: number;
  readonly lastRestartAt: number | undefined;
  readonly lastTargetCheckAt: number | undefined;
}

/** A fresh memory. */
export const initialMemory: MonitorMemory = {
  restarts: 0,
  lastRestartAt: undefined,
  lastTargetCheckAt: undefined,
};

/** The monitor's decision for one informer on one tick. */
export type HealthVerdict =
  | { readonly action: 'none'; readonly health: UpstreamHealth }
  | { readonly action: 'restart'; readonly reason: RestartReason }
  /** A restart is warranted but the monitor's own backoff says not before `retryAt`. */
  | { readonly action: 'hold'; readonly reason: RestartReason; readonly retryAt: number }
  /** The informer keeps failing with 403/404: check whether its namespace/object still exist. */
  | { readonly action: 'check-target'; readonly status: number };

/** Input of {@link judgeHealth}. */
export interface HealthInput {
  readonly status: ReflectorStatus;
  readonly now: number;
  readonly bounds: HealthBounds;
  readonly backoff: RestartBackoff;
  readonly memory: MonitorMemory;
}

/**
 * Judges one informer. Rules, first match wins:
 * 1. `Stopped` → none (Stopped); `Idle` → none (Starting).
 * 2. Last error 403/404 with at least `goneAfterFailures` consecutive failures → `check-target`
 *    (at most once per `targetCheckIntervalMs`; in between: none, Failing). Never a restart.
 * 3. `Listing`: stuck only if no progress (list page / event) for more than `listDeadlineMs`.
 * 4. `Watching`: stalled if no progress (event / bookmark) for more than `idleBoundMs`.
 * 5. `Backoff`: stuck if the phase lasted more than `backoffBoundMs`.
 * A stuck/stalled informer gets `restart`, or `hold` while the monitor's backoff runs.
 */
export function judgeHealth(input: HealthInput): HealthVerdict {
  const { status, now, bounds, memory } = input;
  if (status.phase === 'Stopped') return { action: 'none', health: 'Stopped' };
  if (status.phase === 'Idle') return { action: 'none', health: 'Starting' };

  const httpStatus = statusOf(status.lastError);
  const goneLike = httpStatus === 403 || httpStatus === 404;
  if (goneLike && status.phase !== 'Watching' && status.consecutiveFailures >= bounds.goneAfterFailures) {
    const due =
      memory.lastTargetCheckAt === undefined ||
      now - memory.lastTargetCheckAt >= bounds.targetCheckIntervalMs;
    return due ? { action: 'check-target', status: httpStatus } : { action: 'none', health: 'Failing' };
  }

  const progressAt = Math.max(status.phaseSince, status.lastEventAt ?? Number.NEGATIVE_INFINITY);
  switch (status.phase) {
    case 'Listing':
      if (now - progressAt <= bounds.listDeadlineMs) {
        return { action: 'none', health: status.synced ? 'Recovering' : 'Starting' };
      }
      return gate('stuck-list', input);
    case 'Watching':
      if (now - progressAt <= bounds.idleBoundMs) return { action: 'none', health: 'Healthy' };
      return gate('stalled-watch', input);
    case 'Backoff':
      if (now - status.phaseSince <= bounds.backoffBoundMs) {
        return { action: 'none', health: goneLike ? 'Failing' : 'Recovering' };
      }
      return gate('stuck-backoff', input);
  }
}

/**
 * A namespace-wide informer the API server refuses (403) while it lists or backs off. RBAC can
 * allow field-selected lists of named objects (`resourceNames`) and still forbid listing the
 * namespace, so the group should go back to per-name watches rather than wait on this one.
 */
export function wideWatchRefused(status: ReflectorStatus): boolean {
  return (status.phase === 'Listing' || status.phase === 'Backoff') && statusOf(status.lastError) === 403;
}

/** The monitor's wait before its (n+1)-th restart of one informer: 0, initial, initial·factor, … ≤ cap. */
export function restartDelay(restarts: number, backoff: RestartBackoff): number {
  if (restarts <= 0) return 0;
  return backoffCeiling(restarts - 1, backoff);
}

/**
 * The memory after acting on `verdict` at `now`: a restart is remembered, a target check is
 * timestamped, and a healthy informer whose last restart is older than `resetAfterMs` is
 * forgiven its restarts.
 */
export function nextMemory(
  memory: MonitorMemory,
  verdict: HealthVerdict,
  now: number,
  backoff: RestartBackoff,
): MonitorMemory {
  switch (verdict.action) {
    case 'restart':
      return { ...memory, restarts: memory.restarts + 1, lastRestartAt: now };
    case 'check-target':
      return { ...memory, lastTargetCheckAt: now };
    case 'hold':
      return memory;
    case 'none':
      if (
        verdict.health === 'Healthy' &&
        memory.restarts > 0 &&
        memory.lastRestartAt !== undefined &&
        now - memory.lastRestartAt >= backoff.resetAfterMs
      ) {
        return { ...memory, restarts: 0 };
      }
      return memory;
  }
}

function gate(reason: RestartReason, input: HealthInput): HealthVerdict {
  const { memory, now, backoff } = input;
  if (memory.lastRestartAt === undefined) return { action: 'restart', reason };
  const retryAt = memory.lastRestartAt + restartDelay(memory.restarts, backoff);
  return now >= retryAt ? { action: 'restart', reason } : { action: 'hold', reason, retryAt };
}
