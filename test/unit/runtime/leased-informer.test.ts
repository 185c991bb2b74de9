import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../src/kube/index.ts';
import {
  type CacheInformer,
  CacheStoppedError,
  InformerCache,
  leasingInformerFactory,
} from '../../../src/runtime/index.ts';
import { refTimeout, waitFor } from '../../support/wait.ts';
import { FakeApi, gvr } from '../kube/watch/reflector-fake.ts';

const target = { gvr, namespace: 'ns' };

describe('leasingInformerFactory', () => {
  it('each call is a lease on the shared informer: one watch, ended by the last stop()', async (t) => {
    const api = new FakeApi();
    api.put('a');
    const cache = new InformerCache({ lw: api });
    t.after(() => cache.stop());
    const factory = leasingInformerFactory(cache);
    const one = factory(target, 'first');
    const two = factory({ ...target }, 'second');
    assert.equal(one.key, two.key);
    assert.equal(one.name, 'first', 'the first requester names the shared informer');
    assert.equal(two.name, 'first');
    assert.equal(cache.size, 1);
    one.start();
    two.start(); // already running: a no-op
    await Promise.all([one.waitForSync(refTimeout(10_000)), two.waitForSync(refTimeout(10_000))]);
    await waitFor(() => api.openWatches === 1, { message: 'one watch' });
    assert.equal(api.listCalls.length, 1);
    assert.equal(one.status().phase, 'Watching');

    await one.stop();
    assert.equal(cache.size, 1, 'the other user still holds it');
    assert.equal(two.status().phase, 'Watching', 'and it is not stopped under them');
    assert.throws(() => one.start(), CacheStoppedError);
    await two.stop();
    assert.equal(cache.size, 0);
    await waitFor(() => api.openWatches === 0, { message: 'the watch ended' });
  });

  it("stop() removes that user's handlers and lifecycle listeners only", async (t) => {
    const api = new FakeApi();
    const cache = new InformerCache({ lw: api });
    t.after(() => cache.stop());
    const factory = leasingInformerFactory(cache);
    const mine = factory(target, 'mine');
    const theirs = factory(target, 'theirs');
    const seen = { mine: 0, theirs: 0, myErrors: 0, theirErrors: 0 };
    mine.addEventHandler({ onAdd: () => void seen.mine++ });
    theirs.addEventHandler({ onAdd: () => void seen.theirs++ });
    mine.addLifecycleListener({ onError: () => void seen.myErrors++ });
    theirs.addLifecycleListener({ onError: () => void seen.theirErrors++ });
    mine.start();
    await mine.waitForSync(refTimeout(10_000));
    await mine.stop();
    api.put('late');
    await waitFor(() => seen.theirs === 1, { message: 'the add reached the remaining user' });
    api.failWatches(new Error('connection reset'));
    await waitFor(() => seen.theirErrors > 0, { message: 'the remaining listener hears the failure' });
    assert.equal(seen.mine, 0);
    assert.equal(seen.myErrors, 0);
  });

  it('restart() restarts the shared informer: every user gets what the hung watch missed, once', async (t) => {
    const api = new FakeApi();
    api.put('a');
    const cache = new InformerCache({ lw: api });
    t.after(() => cache.stop());
    const leased = leasingInformerFactory(cache)(target, 'manager');
    const other = cache.acquire({ ...target });
    const events = { leased: [] as string[], other: [] as string[] };
    const record = (into: string[]) => ({
      onAdd: (o: KubeObject) => void into.push(`add:${o.metadata.name}`),
      onDelete: (o: KubeObject) => void into.push(`delete:${o.metadata.name}`),
    });
    leased.addEventHandler(record(events.leased));
    other.addEventHandler(record(events.other));
    leased.start();
    await leased.waitForSync(refTimeout(10_000));
    await waitFor(() => api.openWatches === 1 && events.other.length === 1, { message: 'watching' });
    api.freezeWatches(); // hung: open but silent
    api.put('b');
    leased.restart('health monitor: idle');
    await waitFor(() => events.leased.includes('add:b') && events.other.includes('add:b'), {
      message: 'both users converge after the relist',
    });
    assert.deepEqual(events.leased, ['add:a', 'add:b']);
    assert.deepEqual(events.other, ['add:a', 'add:b'], 'the other user saw no stop, no replay, no delete');
    assert.equal(api.watchCalls.length, 2, 'one new watch, for everyone');
    await waitFor(() => api.openWatches === 1, { message: 'the hung watch was dropped' });
  });

  it('refuses an informer without status() or restart(), releasing the lease it took', () => {
    const api = new FakeApi();
    const bare = (): CacheInformer<KubeObject> => ({
      name: 'bare',
      store: undefined as never,
      start: () => {},
      stop: async () => {},
      hasSynced: () => true,
      waitForSync: async () => {},
      addEventHandler: () => ({ remove: () => {}, hasSynced: () => true }) as never,
    });
    const cache = new InformerCache({ lw: api, informerFactory: bare as never });
    assert.throws(() => leasingInformerFactory(cache)(target, 'x'), /no status\(\) or restart\(\)/);
    assert.equal(cache.size, 0);
  });
});
