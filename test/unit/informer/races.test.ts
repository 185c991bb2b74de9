/**
 * Interleavings the chaos test found or could find, forced deterministically: a target check
 * whose answer is overtaken by the object's recreation, and add/stopInformer churn of one key
 * while an earlier add is still in flight.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddCancelledError } from '../../../src/informer/errors.ts';
import { DEPLOYMENTS, prng, recorder } from './fakes.ts';
import { CHECK_TARGETS_EVERY_PASS, settle, setup, waitFor, watchOf } from './helpers.ts';

const health = CHECK_TARGETS_EVERY_PASS;

/** A promise and the function that resolves it. */
function gate(): { promise: Promise<void>; open(): void } {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('target check overtaken by the object', () => {
  for (const mode of ['per-name', 'namespace'] as const) {
    it(`a 404 read before the object was recreated does not undo the recreation (${mode})`, async (t) => {
      const { cluster, manager } = setup(t, { health, sharing: { mode } });
      cluster.put(DEPLOYMENTS, 'team-a', 'web');
      const rec = recorder();
      await manager.add(watchOf('es1', 'web', rec.handlers));
      cluster.remove(DEPLOYMENTS, 'team-a', 'web');
      // The check reads "not found" now and answers only after the object is back.
      const answer = gate();
      cluster.answerGate = answer.promise;
      const check = manager.runHealthCheck();
      await waitFor(() => cluster.gets.length === 2, { message: 'the monitor checks the vanished target' });
      const back = cluster.put(DEPLOYMENTS, 'team-a', 'web');
      await settle();
      assert.equal(rec.events.at(-1), `add:web:${back.metadata.resourceVersion}`);
      answer.open();
      await check;
      cluster.answerGate = undefined;
      await settle();
      assert.equal(
        rec.events.at(-1),
        `add:web:${back.metadata.resourceVersion}`,
        `the handlers still hold the recreated object (events: ${rec.events.join(', ')})`,
      );
      assert.equal(manager.list()[0]?.state, 'Active');
      // A check that is not overtaken still finds the object gone.
      cluster.remove(DEPLOYMENTS, 'team-a', 'web');
      await manager.runHealthCheck();
      assert.equal(manager.list()[0]?.state, 'TargetGone');
    });
  }
});

describe('add/stopInformer churn of one key', () => {
  it('add right after stopInformer of an add still in flight registers', async (t) => {
    const { cluster, manager } = setup(t);
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    const slow = gate();
    cluster.getGate = slow.promise;
    const first = manager.add(watchOf('es1', 'web'));
    const firstOutcome = first.catch((error: unknown) => error);
    await waitFor(() => cluster.gets.length === 1);
    await manager.stopInformer('es1/team-a/deployments.apps/web');
    cluster.getGate = undefined;
    const rec = recorder();
    const key = await manager.add(watchOf('es1', 'web', rec.handlers));
    slow.open();
    assert.ok((await firstOutcome) instanceof AddCancelledError);
    assert.deepEqual(
      manager.list().map((r) => [r.key, r.state]),
      [[key, 'Active']],
    );
    assert.equal(rec.events.length, 1, 'the new registration got the object');
    assert.equal(cluster.live().length, 1);
  });

  it('add, stop, add back to back without awaiting: the last call wins', async (t) => {
    const { cluster, manager } = setup(t);
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    const rec = recorder();
    const a = manager.add(watchOf('es1', 'web'));
    const aOutcome = a.catch((error: unknown) => error);
    const stop = manager.stopInformer('es1/team-a/deployments.apps/web');
    const b = manager.add(watchOf('es1', 'web', rec.handlers));
    assert.ok((await aOutcome) instanceof AddCancelledError);
    await stop;
    await b;
    assert.deepEqual(
      manager.list().map((r) => r.state),
      ['Active'],
    );
    assert.equal(rec.events.length, 1);
  });

  it('seeded interleaved churn of one key ends in the state of the last call', async (t) => {
    const { cluster, manager } = setup(t, { cluster: { asyncDelivery: true } });
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    const key = 'es1/team-a/deployments.apps/web';
    for (let seed = 1; seed <= 40; seed++) {
      const random = prng(seed);
      const calls: Promise<unknown>[] = [];
      const recorders: ReturnType<typeof recorder>[] = [];
      let last: 'add' | 'stop' = 'stop';
      for (let i = 0; i < 8; i++) {
        // Each call starts at a random point of the previous ones' progress.
        const pause = Math.floor(random() * 4);
        for (let p = 0; p < pause; p++) await new Promise((resolve) => setImmediate(resolve));
        if (random() < 0.55) {
          const rec = recorder();
          recorders.push(rec);
          last = 'add';
          calls.push(manager.add(watchOf('es1', 'web', rec.handlers)).catch(() => undefined));
        } else {
          last = 'stop';
          calls.push(manager.stopInformer(key).catch(() => undefined));
        }
      }
      await Promise.all(calls);
      const states = manager.list().map((r) => r.state);
      assert.deepEqual(states, last === 'add' ? ['Active'] : [], `seed ${seed}: the last call was ${last}`);
      // The next change reaches the surviving registration's handlers, and only theirs.
      const next = cluster.put(DEPLOYMENTS, 'team-a', 'web', { seed });
      await waitFor(
        async () => {
          await settle();
          return (
            recorders.filter((r) => r.events.at(-1)?.endsWith(`>${next.metadata.resourceVersion}`)).length ===
            (last === 'add' ? 1 : 0)
          );
        },
        { timeoutMs: 2_000, message: `seed ${seed}: the update reaches exactly the live registration` },
      );
      if (last === 'add') await manager.stopInformer(key);
      await waitFor(() => cluster.live().length === 0, { message: `seed ${seed}: no informer left` });
    }
  });
});
