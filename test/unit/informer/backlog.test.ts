/** A slow handler's backlog is visible per registration (`Manager.list()`) and in the metrics. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEPLOYMENTS, recorder } from './fakes.ts';
import { metricSum, settle, setup, waitFor, watchOf } from './helpers.ts';

describe('registration backlog', () => {
  it('events waiting for a slow handler show as queueDepth and in the queue-depth gauges', async (t) => {
    const { cluster, registry, manager } = setup(t);
    cluster.put(DEPLOYMENTS, 'team-a', 'slow');
    cluster.put(DEPLOYMENTS, 'team-a', 'fast');
    let release: () => void = () => {};
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    let updates = 0;
    await manager.add(
      watchOf('es-slow', 'slow', {
        onUpdate: async () => {
          updates++;
          await blocked;
        },
      }),
    );
    const fast = recorder();
    await manager.add(watchOf('es-fast', 'fast', fast.handlers));
    for (let i = 0; i < 50; i++) cluster.put(DEPLOYMENTS, 'team-a', 'slow', { i });
    cluster.put(DEPLOYMENTS, 'team-a', 'fast', { i: 1 });
    await settle();
    const depth = (es: string) => manager.list().find((r) => r.requester.name === es)?.queueDepth;
    // One update is inside the handler; the other 49 wait in the registration's own queue.
    assert.equal(updates, 1);
    assert.equal(depth('es-slow'), 49);
    assert.equal(depth('es-fast'), 0, 'the other registration is not held back');
    assert.equal(fast.events.at(-1)?.startsWith('update:fast:'), true);
    assert.equal(await metricSum(registry, 'elasti_operator_informer_registration_queue_depth'), 49);
    assert.equal(await metricSum(registry, 'elasti_operator_informer_registration_queue_depth_max'), 49);
    release();
    await waitFor(() => depth('es-slow') === 0 && updates === 50, { message: 'the backlog drains' });
    assert.equal(await metricSum(registry, 'elasti_operator_informer_registration_queue_depth'), 0);
  });
});
