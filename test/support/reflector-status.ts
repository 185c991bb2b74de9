/**
 * A `ReflectorStatus` for tests that stand in for a reflector: all counters zero, nothing synced
 * unless the phase is `Watching`.
 */
import type { ReflectorPhase, ReflectorStatus } from '../../src/kube/core/index.ts';

export function reflectorStatus(
  phase: ReflectorPhase,
  overrides: Partial<ReflectorStatus> = {},
): ReflectorStatus {
  return {
    phase,
    phaseSince: 0,
    synced: phase === 'Watching',
    lastSyncResourceVersion: undefined,
    lastEventAt: undefined,
    lastError: undefined,
    consecutiveFailures: 0,
    lists: 0,
    relists: 0,
    watchRestarts: 0,
    ...overrides,
  };
}
