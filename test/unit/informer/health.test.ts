import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  defaultRestartBackoff,
  type HealthVerdict,
  initialMemory,
  judgeHealth,
  type MonitorMemory,
  nextMemory,
  restartDelay,
  wideWatchRefused,
} from '../../../src/informer/health.ts';
import type { HealthBounds, RestartBackoff } from '../../../src/informer/types.ts';
import { KubeApiError } from '../../../src/kube/core/errors.ts';
import type { ReflectorPhase, ReflectorStatus } from '../../../src/kube/core/types.ts';

const bounds: HealthBounds = {
  idleBoundMs: 10_000,
  listDeadlineMs: 20_000,
  backoffBoundMs: 30_000,
  goneAfterFailures: 3,
  targetCheckIntervalMs: 5_000,
};
const backoff: RestartBackoff = { initialMs: 1_000, factor: 2, capMs: 8_000, resetAfterMs: 60_000 };
const NOW = 1_000_000;

function apiError(status: number): KubeApiError {
  return new KubeApiError({ status, verb: 'list', url: '/x' });
}

function status(overrides: Partial<ReflectorStatus>): ReflectorStatus {
  return {
    phase: 'Watching',
    phaseSince: NOW - 1_000,
    synced: true,
    lastSyncResourceVersion: '1',
    lastEventAt: NOW - 1_000,
    lastError: undefined,
    consecutiveFailures: 0,
    lists: 1,
    relists: 0,
    watchRestarts: 0,
    ...overrides,
  };
}

function judge(s: Partial<ReflectorStatus>, memory: MonitorMemory = initialMemory): HealthVerdict {
  return judgeHealth({ status: status(s), now: NOW, bounds, backoff, memory });
}

describe('judgeHealth: table', () => {
  const cases: [string, Partial<ReflectorStatus>, HealthVerdict][] = [
    ['stopped', { phase: 'Stopped' }, { action: 'none', health: 'Stopped' }],
    ['idle', { phase: 'Idle', lastEventAt: undefined }, { action: 'none', health: 'Starting' }],
    ['healthy watch', {}, { action: 'none', health: 'Healthy' }],
    [
      'quiet watch exactly at the idle bound',
      { lastEventAt: NOW - 10_000, phaseSince: NOW - 50_000 },
      { action: 'none', health: 'Healthy' },
    ],
    [
      'stalled watch',
      { lastEventAt: NOW - 10_001, phaseSince: NOW - 50_000 },
      { action: 'restart', reason: 'stalled-watch' },
    ],
    [
      'a watch that just (re)started is judged from its phase start, not the older lastEventAt',
      { lastEventAt: NOW - 50_000, phaseSince: NOW - 100 },
      { action: 'none', health: 'Healthy' },
    ],
    [
      'stalled watch never saw an event',
      { lastEventAt: undefined, phaseSince: NOW - 10_001 },
      { action: 'restart', reason: 'stalled-watch' },
    ],
    [
      'slow initial list still inside its deadline (PR #303)',
      { phase: 'Listing', synced: false, phaseSince: NOW - 19_999, lastEventAt: undefined },
      { action: 'none', health: 'Starting' },
    ],
    [
      'very long list that keeps making progress (pages)',
      { phase: 'Listing', synced: false, phaseSince: NOW - 600_000, lastEventAt: NOW - 5_000 },
      { action: 'none', health: 'Starting' },
    ],
    [
      'relist of a synced informer in progress',
      { phase: 'Listing', synced: true, phaseSince: NOW - 1_000 },
      { action: 'none', health: 'Recovering' },
    ],
    [
      'list without progress past its deadline',
      { phase: 'Listing', synced: false, phaseSince: NOW - 20_001, lastEventAt: undefined },
      { action: 'restart', reason: 'stuck-list' },
    ],
    [
      'short backoff',
      { phase: 'Backoff', phaseSince: NOW - 29_000, consecutiveFailures: 5 },
      { action: 'none', health: 'Recovering' },
    ],
    [
      'backoff beyond its bound',
      { phase: 'Backoff', phaseSince: NOW - 30_001, consecutiveFailures: 1 },
      { action: 'restart', reason: 'stuck-backoff' },
    ],
    [
      '404 twice: not yet (engine retries)',
      { phase: 'Backoff', phaseSince: NOW - 100, lastError: apiError(404), consecutiveFailures: 2 },
      { action: 'none', health: 'Failing' },
    ],
    [
      '404 three times: check the target (issue #134)',
      { phase: 'Backoff', phaseSince: NOW - 100, lastError: apiError(404), consecutiveFailures: 3 },
      { action: 'check-target', status: 404 },
    ],
    [
      '403 three times while relisting: check the target',
      { phase: 'Listing', phaseSince: NOW - 100, lastError: apiError(403), consecutiveFailures: 7 },
      { action: 'check-target', status: 403 },
    ],
    [
      '404 long stuck in backoff: a check, never a restart',
      { phase: 'Backoff', phaseSince: NOW - 999_999, lastError: apiError(404), consecutiveFailures: 50 },
      { action: 'check-target', status: 404 },
    ],
    [
      '500s: not a gone signal',
      { phase: 'Backoff', phaseSince: NOW - 100, lastError: apiError(500), consecutiveFailures: 9 },
      { action: 'none', health: 'Recovering' },
    ],
    [
      'watching again after 404s: healthy',
      { phase: 'Watching', lastError: apiError(404), consecutiveFailures: 0 },
      { action: 'none', health: 'Healthy' },
    ],
  ];
  for (const [name, s, expected] of cases) {
    it(name, () => assert.deepEqual(judge(s), expected));
  }

  it('a target check is not repeated within targetCheckIntervalMs', () => {
    const failing = { phase: 'Backoff' as const, lastError: apiError(404), consecutiveFailures: 3 };
    assert.deepEqual(judge(failing, { ...initialMemory, lastTargetCheckAt: NOW - 4_999 }), {
      action: 'none',
      health: 'Failing',
    });
    assert.deepEqual(judge(failing, { ...initialMemory, lastTargetCheckAt: NOW - 5_000 }), {
      action: 'check-target',
      status: 404,
    });
  });

  it("the monitor's own backoff holds a second restart, then lets it through", () => {
    const stalled = { lastEventAt: NOW - 60_000, phaseSince: NOW - 60_000 };
    // After 1 restart the next one waits initialMs (1 s); after 3, initial * 2^2 = 4 s.
    assert.deepEqual(judge(stalled, { ...initialMemory, restarts: 1, lastRestartAt: NOW - 999 }), {
      action: 'hold',
      reason: 'stalled-watch',
      retryAt: NOW + 1,
    });
    assert.deepEqual(judge(stalled, { ...initialMemory, restarts: 1, lastRestartAt: NOW - 1_000 }), {
      action: 'restart',
      reason: 'stalled-watch',
    });
    assert.deepEqual(judge(stalled, { ...initialMemory, restarts: 3, lastRestartAt: NOW - 3_999 }), {
      action: 'hold',
      reason: 'stalled-watch',
      retryAt: NOW + 1,
    });
  });
});

describe('judgeHealth: exhaustive grid', () => {
  const phases: ReflectorPhase[] = ['Idle', 'Listing', 'Watching', 'Backoff', 'Stopped'];
  const ages = [
    0, 1, 4_999, 5_000, 9_999, 10_000, 10_001, 19_999, 20_000, 20_001, 29_999, 30_000, 30_001, 1e6,
  ];
  const errors = [undefined, 403, 404, 410, 500];
  const failures = [0, 1, 2, 3, 10];
  const memories: MonitorMemory[] = [
    initialMemory,
    { restarts: 1, lastRestartAt: NOW - 500, lastTargetCheckAt: undefined },
    { restarts: 2, lastRestartAt: NOW - 5_000, lastTargetCheckAt: NOW - 1_000 },
    { restarts: 9, lastRestartAt: NOW - 7_000, lastTargetCheckAt: NOW - 9_000 },
  ];

  it('holds every invariant over all phase × phase age × progress age × error × failures × memory', () => {
    let checked = 0;
    for (const phase of phases) {
      for (const phaseAge of ages) {
        for (const eventAge of [undefined, ...ages]) {
          for (const err of errors) {
            for (const n of failures) {
              for (const memory of memories) {
                const s = status({
                  phase,
                  phaseSince: NOW - phaseAge,
                  lastEventAt: eventAge === undefined ? undefined : NOW - eventAge,
                  lastError: err === undefined ? undefined : apiError(err),
                  consecutiveFailures: n,
                  synced: phase === 'Watching',
                });
                const v = judgeHealth({ status: s, now: NOW, bounds, backoff, memory });
                const progressAge = Math.min(phaseAge, eventAge ?? Number.POSITIVE_INFINITY);
                const wantsRestart = v.action === 'restart' || v.action === 'hold';
                // Stopped and Idle informers are never touched.
                if (phase === 'Stopped' || phase === 'Idle') assert.equal(v.action, 'none');
                // A list making progress within its deadline is never killed (PR #303).
                if (phase === 'Listing' && progressAge <= bounds.listDeadlineMs)
                  assert.equal(wantsRestart, false);
                // A watch with progress within the idle bound is never restarted.
                if (phase === 'Watching' && progressAge <= bounds.idleBoundMs) assert.equal(v.action, 'none');
                // A watch past the idle bound is always acted upon.
                if (phase === 'Watching' && progressAge > bounds.idleBoundMs)
                  assert.equal(wantsRestart, true);
                // Repeated 403/404 never cause a restart (issue #134): a target check or nothing.
                if (
                  (err === 403 || err === 404) &&
                  n >= bounds.goneAfterFailures &&
                  (phase === 'Listing' || phase === 'Backoff')
                ) {
                  assert.ok(v.action === 'check-target' || (v.action === 'none' && v.health === 'Failing'));
                }
                if (v.action === 'check-target') {
                  assert.ok(err === 403 || err === 404);
                  assert.ok(n >= bounds.goneAfterFailures);
                }
                // A restart respects the monitor's backoff; a hold names a future time.
                if (v.action === 'restart' && memory.lastRestartAt !== undefined) {
                  assert.ok(NOW >= memory.lastRestartAt + restartDelay(memory.restarts, backoff));
                }
                if (v.action === 'hold') assert.ok(v.retryAt > NOW);
                checked++;
              }
            }
          }
        }
      }
    }
    assert.equal(
      checked,
      phases.length * ages.length * (ages.length + 1) * errors.length * failures.length * memories.length,
    );
  });
});

describe('restartDelay and nextMemory', () => {
  it('restartDelay grows geometrically and is capped', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6].map((n) => restartDelay(n, backoff)),
      [0, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000],
    );
    assert.equal(restartDelay(1, defaultRestartBackoff), defaultRestartBackoff.initialMs);
  });

  it('a restart is remembered, a target check timestamped, a hold changes nothing', () => {
    const m1 = nextMemory(initialMemory, { action: 'restart', reason: 'stalled-watch' }, NOW, backoff);
    assert.deepEqual(m1, { restarts: 1, lastRestartAt: NOW, lastTargetCheckAt: undefined });
    const m2 = nextMemory(m1, { action: 'check-target', status: 404 }, NOW + 1, backoff);
    assert.deepEqual(m2, { restarts: 1, lastRestartAt: NOW, lastTargetCheckAt: NOW + 1 });
    assert.equal(
      nextMemory(m2, { action: 'hold', reason: 'stuck-list', retryAt: NOW + 9 }, NOW + 2, backoff),
      m2,
    );
  });

  it('restarts are forgiven only after a healthy period of resetAfterMs', () => {
    const m = { restarts: 4, lastRestartAt: NOW, lastTargetCheckAt: undefined };
    const healthy: HealthVerdict = { action: 'none', health: 'Healthy' };
    assert.equal(nextMemory(m, healthy, NOW + 59_999, backoff).restarts, 4);
    assert.equal(nextMemory(m, healthy, NOW + 60_000, backoff).restarts, 0);
    assert.equal(nextMemory(m, { action: 'none', health: 'Recovering' }, NOW + 600_000, backoff).restarts, 4);
  });
});

describe('wideWatchRefused', () => {
  it('is true only for a 403 while listing or backing off', () => {
    const phases: ReflectorPhase[] = ['Idle', 'Listing', 'Watching', 'Backoff', 'Stopped'];
    for (const phase of phases) {
      for (const code of [401, 403, 404, 500]) {
        const refused = wideWatchRefused(
          status({ phase, lastError: apiError(code), consecutiveFailures: 1 }),
        );
        assert.equal(
          refused,
          code === 403 && (phase === 'Listing' || phase === 'Backoff'),
          `${phase} ${code}`,
        );
      }
      assert.equal(wideWatchRefused(status({ phase, lastError: new Error('reset') })), false);
      assert.equal(wideWatchRefused(status({ phase })), false);
    }
  });
});
