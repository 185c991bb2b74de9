/** The Manager's lifecycle hooks: upstream failures with the keys they delay, registration states. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeApiError } from '../../../src/kube/core/errors.ts';
import { DEPLOYMENTS } from './fakes.ts';
import { CHECK_TARGETS_EVERY_PASS, setup, watchOf } from './helpers.ts';

const health = CHECK_TARGETS_EVERY_PASS;

describe('Manager lifecycle listener', () => {
  it('reports upstream errors with the registrations they delay, and Active → TargetGone → Removed', async (t) => {
    const { cluster, manager } = setup(t, { health, sharing: { mode: 'per-name' } });
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    const errors: string[] = [];
    const states: string[] = [];
    const listener = manager.addLifecycleListener({
      onUpstreamError: (error, info) => errors.push(`${info.status}:${info.keys.join(',')}:${error.message}`),
      onRegistrationState: (info, state) => states.push(`${info.key}=${state}`),
    });
    const key = await manager.add(watchOf('es1', 'web'));
    assert.deepEqual(states, [`${key}=Active`]);

    const [informer] = cluster.live();
    assert.ok(informer);
    const forbidden = new KubeApiError({ status: 403, verb: 'watch', url: '/x', reason: 'Forbidden' });
    informer.fail(forbidden, 403, 2);
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', new RegExp(`^403:${key}:`));

    cluster.remove(DEPLOYMENTS, 'team-a', 'web');
    await manager.runHealthCheck();
    assert.deepEqual(states.at(-1), `${key}=TargetGone`);

    await manager.stopInformer(key);
    assert.deepEqual(states.at(-1), `${key}=Removed`);
    informer.fail(forbidden, 403);
    assert.equal(errors.length, 1, 'a stopped upstream reports nothing');

    listener.remove();
    await manager.add(watchOf('es2', 'other')).catch(() => undefined);
    assert.equal(states.length, 3, 'a removed listener hears nothing');
  });

  it('a throwing hook does not disturb the Manager', async (t) => {
    const { cluster, manager } = setup(t);
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    manager.addLifecycleListener({
      onRegistrationState: () => {
        throw new Error('boom');
      },
    });
    const key = await manager.add(watchOf('es1', 'web'));
    assert.deepEqual(
      manager.list().map((r) => [r.key, r.state]),
      [[key, 'Active']],
    );
  });
});
