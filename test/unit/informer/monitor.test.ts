import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeApiError } from '../../../src/kube/core/errors.ts';
import { DEPLOYMENTS, recorder } from './fakes.ts';
import { metricSum, setup, waitFor, watchOf } from './helpers.ts';

const health = {
  idleBoundMs: 1_000,
  listDeadlineMs: 2_000,
  backoffBoundMs: 3_000,
  goneAfterFailures: 3,
  targetCheckIntervalMs: 1,
};
const restartBackoff = { initialMs: 60_000, factor: 2, capMs: 120_000, resetAfterMs: 600_000 };

function notFound(): KubeApiError {
  return new KubeApiError({ status: 404, verb: 'list', url: '/x', reason: 'NotFound' });
}

describe('health monitor', () => {
  it('restarts a stalled watch once, then holds further restarts by its own backoff', async (t) => {
    const { cluster, registry, manager } = setup(t, { health, restartBackoff });
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    await manager.add(watchOf('es1', 'web'));
    const informer = cluster.live()[0];
    assert.ok(informer);
    informer.statusOverride = {
      phase: 'Watching',
      phaseSince: Date.now() - 60_000,
      lastEventAt: Date.now() - 5_000,
    };
    await manager.runHealthCheck();
    assert.deepEqual(informer.restarts, ['health monitor: stalled-watch']);
    await manager.runHealthCheck();
    await manager.runHealthCheck();
    assert.equal(informer.restarts.length, 1, 'held by the monitor backoff');
    assert.equal(manager.upstreams()[0]?.health, 'Recovering');
    assert.equal(manager.upstreams()[0]?.monitorRestarts, 1);
    assert.equal(
      await metricSum(registry, 'elasti_operator_informer_monitor_restarts_total', {
        reason: 'stalled-watch',
      }),
      1,
    );
  });

  it('never restarts an informer whose initial list is slow but within its deadline (PR #303)', async (t) => {
    const { cluster, manager } = setup(t, { health, restartBackoff, cluster: { autoList: false } });
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    const adding = manager.add(watchOf('es1', 'web'));
    await waitFor(() => cluster.informers.length === 1);
    const informer = cluster.informers[0];
    assert.ok(informer);
    informer.statusOverride = { phase: 'Listing', phaseSince: Date.now() - 1_500, lastEventAt: undefined };
    for (let i = 0; i < 5; i++) await manager.runHealthCheck();
    assert.deepEqual(informer.restarts, []);
    assert.equal(manager.upstreams()[0]?.health, 'Starting');
    informer.statusOverride = undefined;
    informer.list();
    await adding;
  });

  it('a watch failing with 404 on a deleted namespace: delete delivered once, TargetGone, watch stopped, no restarts (#134)', async (t) => {
    const { cluster, registry, manager } = setup(t, {
      health,
      restartBackoff,
      sharing: { mode: 'per-name' },
    });
    cluster.put(DEPLOYMENTS, 'doomed', 'web');
    cluster.put(DEPLOYMENTS, 'safe', 'web');
    const doomed = recorder();
    const safe = recorder();
    await manager.add(watchOf('es1', 'web', doomed.handlers, { namespace: 'doomed' }));
    await manager.add(watchOf('es2', 'web', safe.handlers, { namespace: 'safe' }));
    const informer = cluster.live().find((i) => i.target.namespace === 'doomed');
    assert.ok(informer);
    // The namespace vanished while the watch was down: no delete event reached the informer.
    informer.hold();
    cluster.deleteNamespace('doomed');
    informer.statusOverride = {
      phase: 'Backoff',
      lastError: notFound(),
      consecutiveFailures: 3,
      phaseSince: Date.now(),
    };
    for (let i = 0; i < 4; i++) await manager.runHealthCheck();
    assert.deepEqual(
      doomed.events.map((e) => e.split(':')[0]),
      ['add', 'delete'],
    );
    assert.match(doomed.events[1] ?? '', /:unknown$/, 'delete with finalStateUnknown');
    assert.equal(informer.stopped, true);
    assert.deepEqual(informer.restarts, []);
    const [gone] = manager.list().filter((r) => r.namespace === 'doomed');
    assert.equal(gone?.state, 'TargetGone');
    assert.equal(gone?.upstreamId, undefined);
    assert.equal(manager.list().find((r) => r.namespace === 'safe')?.state, 'Active');
    assert.deepEqual(
      safe.events.map((e) => e.split(':')[0]),
      ['add'],
    );
    assert.equal(await metricSum(registry, 'elasti_operator_informer_target_gone_total'), 1);
    // The registration stays until its requester stops it.
    await manager.stopInformer('es1/doomed/deployments.apps/web');
    assert.equal(manager.list().length, 1);
  });

  it('a namespace deleted under a live watch: the stream delete is delivered once and the watch is released', async (t) => {
    const { cluster, manager } = setup(t, { health, restartBackoff, sharing: { mode: 'namespace' } });
    cluster.put(DEPLOYMENTS, 'doomed', 'a');
    cluster.put(DEPLOYMENTS, 'doomed', 'b');
    const recA = recorder();
    const recB = recorder();
    await manager.add(watchOf('es-a', 'a', recA.handlers, { namespace: 'doomed' }));
    await manager.add(watchOf('es-b', 'b', recB.handlers, { namespace: 'doomed' }));
    const informer = cluster.live()[0];
    cluster.deleteNamespace('doomed');
    await manager.runHealthCheck();
    for (const rec of [recA, recB]) {
      assert.deepEqual(
        rec.events.map((e) => e.split(':')[0]),
        ['add', 'delete'],
      );
      assert.doesNotMatch(rec.events[1] ?? '', /:unknown$/, 'the real delete, not a synthetic one');
    }
    assert.equal(informer?.stopped, true);
    assert.deepEqual(manager.upstreams(), []);
    assert.deepEqual(
      manager.list().map((r) => r.state),
      ['TargetGone', 'TargetGone'],
    );
    for (let i = 0; i < 3; i++) await manager.runHealthCheck();
    assert.deepEqual(informer?.restarts, []);
  });

  it('an object deleted in a live namespace: TargetGone but still watched; recreated → Active again', async (t) => {
    const { cluster, manager } = setup(t, { health, restartBackoff });
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    const rec = recorder();
    await manager.add(watchOf('es1', 'web', rec.handlers));
    cluster.remove(DEPLOYMENTS, 'team-a', 'web');
    await manager.runHealthCheck();
    assert.equal(manager.list()[0]?.state, 'TargetGone');
    assert.equal(cluster.live().length, 1, 'the watch stays: the object may come back');
    const back = cluster.put(DEPLOYMENTS, 'team-a', 'web');
    assert.equal(manager.list()[0]?.state, 'Active');
    assert.deepEqual(
      rec.events.map((e) => e.split(':')[0]),
      ['add', 'delete', 'add'],
    );
    assert.equal(rec.events.at(-1), `add:web:${back.metadata.resourceVersion}`);
  });

  it('403s are not a reason to stop watching an object that still exists', async (t) => {
    const { cluster, manager } = setup(t, { health, restartBackoff });
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    const rec = recorder();
    await manager.add(watchOf('es1', 'web', rec.handlers));
    const informer = cluster.live()[0];
    assert.ok(informer);
    informer.statusOverride = {
      phase: 'Backoff',
      lastError: new KubeApiError({ status: 403, verb: 'watch', url: '/x' }),
      consecutiveFailures: 5,
      phaseSince: Date.now(),
    };
    await manager.runHealthCheck();
    await manager.runHealthCheck();
    assert.equal(informer.stopped, false);
    assert.deepEqual(informer.restarts, []);
    assert.equal(manager.list()[0]?.state, 'Active');
    assert.equal(manager.upstreams()[0]?.health, 'Failing');
    assert.equal(rec.events.length, 1);
  });

  it('the monitor also watches over the resolver informer', async (t) => {
    const { cluster, manager } = setup(t, { health, restartBackoff, resolver: { namespace: 'elasti' } });
    cluster.put(DEPLOYMENTS, 'elasti', 'elasti-resolver');
    await manager.initializeResolverInformer({});
    const informer = cluster.live()[0];
    assert.ok(informer);
    informer.statusOverride = { phase: 'Backoff', phaseSince: Date.now() - 10_000 };
    await manager.runHealthCheck();
    assert.deepEqual(informer.restarts, ['health monitor: stuck-backoff']);
  });

  it('start() runs the checks periodically', async (t) => {
    const { cluster, manager } = setup(t, { health, restartBackoff, monitorPeriodMs: 10 });
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    await manager.add(watchOf('es1', 'web'));
    const informer = cluster.live()[0];
    assert.ok(informer);
    informer.statusOverride = {
      phase: 'Watching',
      phaseSince: Date.now() - 60_000,
      lastEventAt: Date.now() - 60_000,
    };
    manager.start();
    manager.start(); // idempotent
    await waitFor(() => informer.restarts.length === 1, { timeoutMs: 5_000 });
  });
});

describe('gone targets coming back', () => {
  it('a new add for a name marked gone (object deleted) clears the verdict once the GET sees the object', async (t) => {
    const { cluster, manager } = setup(t, { health, restartBackoff });
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    await manager.add(watchOf('es1', 'web'));
    cluster.remove(DEPLOYMENTS, 'team-a', 'web');
    await manager.runHealthCheck();
    assert.equal(manager.list()[0]?.state, 'TargetGone');
    // The object comes back while the watch lags behind.
    cluster.live()[0]?.hold();
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    await manager.add(watchOf('es2', 'web'));
    assert.deepEqual(
      manager.list().map((r) => r.state),
      ['Active', 'Active'],
    );
  });
});

describe('resync', () => {
  it('with resyncPeriodMs, every registration periodically gets its object again as update(obj, obj)', async (t) => {
    const { cluster, manager } = setup(t, { resyncPeriodMs: 20 });
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    const seen: boolean[] = [];
    await manager.add(watchOf('es1', 'web', { onUpdate: (o, n) => void seen.push(o === n) }));
    manager.start();
    await waitFor(() => seen.length >= 2, { timeoutMs: 5_000 });
    assert.ok(seen.every(Boolean));
  });
});
