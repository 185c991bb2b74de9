import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../src/kube/index.ts';
import {
  CacheIndexError,
  CacheStoppedError,
  CacheSyncError,
  cacheKey,
  InformerCache,
} from '../../../src/runtime/index.ts';
import { refTimeout, waitFor } from '../../support/wait.ts';
import { FakeApi, gvr } from '../kube/watch/reflector-fake.ts';

const byData = (o: KubeObject): string[] => [String((o.data as Record<string, string> | undefined)?.k ?? '')];

describe('InformerCache', () => {
  it('hands the same informer and ONE watch to every requester of the same key; the last release stops it', async () => {
    const api = new FakeApi();
    api.put('a', {}, { labels: { app: 'x', tier: 'y' } });
    const cache = new InformerCache({ lw: api });
    const one = cache.acquire({ gvr, namespace: 'ns', labelSelector: { app: 'x', tier: 'y' } });
    const two = cache.acquire({ gvr, namespace: 'ns', labelSelector: 'tier=y,app=x' });
    assert.equal(one.informer, two.informer);
    assert.equal(one.key, 'configmaps.v1|ns=ns|labels=app=x,tier=y');
    cache.start();
    await cache.waitForCacheSync(refTimeout(10_000));
    await waitFor(() => api.openWatches === 1, { message: 'one watch' });
    assert.equal(api.listCalls.length, 1, 'one list');
    assert.deepEqual(
      one.lister.list().map((o) => o.metadata?.name),
      ['a'],
    );

    await one.release();
    await one.release(); // idempotent: does not release two's hold
    assert.equal(cache.size, 1);
    assert.equal(api.openWatches, 1, 'still watched for the second requester');
    await two.release();
    assert.equal(cache.size, 0);
    await waitFor(() => api.openWatches === 0, { message: 'the watch ended' });
    assert.equal(one.informer.status?.().phase, 'Stopped');
  });

  it('a release removes the handlers added through that lease, not those of other users', async () => {
    const api = new FakeApi();
    const cache = new InformerCache({ lw: api });
    const mine = cache.acquire({ gvr, namespace: 'ns' });
    const theirs = cache.acquire({ gvr, namespace: 'ns' });
    const seen = { mine: 0, theirs: 0 };
    mine.addEventHandler({ onAdd: () => void seen.mine++ });
    theirs.addEventHandler({ onAdd: () => void seen.theirs++ });
    cache.start();
    await cache.waitForCacheSync(refTimeout(10_000));
    assert.equal(mine.informer.handlerCount?.(), 2);
    await mine.release();
    assert.equal(theirs.informer.handlerCount?.(), 1);
    api.put('late');
    await waitFor(() => seen.theirs === 1, { message: 'the add reached the remaining user' });
    assert.equal(seen.mine, 0);
    assert.throws(() => mine.addEventHandler({}), /this lease was released/);
    await cache.stop();
  });

  it('keys on every field that changes what is watched or cached', () => {
    const keys = new Set(
      [
        { gvr },
        { gvr, namespace: 'ns' },
        { gvr, namespace: 'ns', labelSelector: 'a=b' },
        { gvr, namespace: 'ns', fieldSelector: 'metadata.name=x' },
        { gvr, namespace: 'ns', metadataOnly: true },
        { gvr, namespace: 'ns', transform: { name: 'strip-data' } },
      ].map((r) => cacheKey(r).key),
    );
    assert.equal(keys.size, 6);
    assert.equal(
      cacheKey({ gvr, fieldSelector: 'b=2, a=1' }).key,
      cacheKey({ gvr, fieldSelector: 'a=1,b=2' }).key,
      'field selectors in one spelling',
    );
  });

  it('merges indexers of later requesters before start, refuses a missing one after', async () => {
    const api = new FakeApi();
    api.put('a', { k: 'v1' });
    api.put('b', { k: 'v2' });
    const cache = new InformerCache({ lw: api });
    const plain = cache.acquire({ gvr, namespace: 'ns' });
    const indexed = cache.acquire({ gvr, namespace: 'ns', indexers: { byData } });
    cache.acquire({ gvr, namespace: 'ns', indexers: { byData } }); // the same function again: fine
    cache.start();
    await cache.waitForCacheSync(refTimeout(10_000), [plain]);
    assert.deepEqual(
      indexed.lister.byIndex('byData', 'v2').map((o) => o.metadata?.name),
      ['b'],
    );
    assert.throws(
      () => cache.acquire({ gvr, namespace: 'ns', indexers: { other: byData } }),
      (e: unknown) =>
        e instanceof CacheIndexError && /must be declared before the cache starts/.test(e.message),
    );
    assert.throws(
      () => cache.acquire({ gvr, namespace: 'ns', indexers: { byData: (o) => byData(o) } }),
      /already defined by another function/,
    );
    // After start a new key starts at once and can have its own indexes.
    const late = cache.acquire({
      gvr,
      namespace: 'ns',
      labelSelector: 'late=yes',
      indexers: { other: byData },
    });
    await late.informer.waitForSync(refTimeout(10_000));
    await cache.stop();
    assert.throws(() => cache.acquire({ gvr }), CacheStoppedError);
  });

  it('lists by namespace and label selector from the cache', async () => {
    const api = new FakeApi();
    api.put('a', {}, { labels: { app: 'web' } });
    api.put('b');
    const cache = new InformerCache({ lw: api });
    const lease = cache.acquire({ gvr });
    cache.start();
    await cache.waitForCacheSync(refTimeout(10_000));
    assert.deepEqual(
      lease.lister.list({ labelSelector: 'app=web' }).map((o) => o.metadata?.name),
      ['a'],
    );
    assert.equal(lease.lister.list({ namespace: 'ns' }).length, 2);
    assert.equal(lease.lister.list({ namespace: 'other' }).length, 0);
    assert.equal(lease.lister.get('ns', 'b')?.metadata?.name, 'b');
    await cache.stop();
  });

  it('waitForCacheSync names the informers that did not sync and why', async () => {
    const api = new FakeApi();
    api.injectFault('list', { hang: true });
    const cache = new InformerCache({ lw: api });
    cache.acquire({ gvr, namespace: 'ns' });
    cache.start();
    await assert.rejects(cache.waitForCacheSync(refTimeout(200)), (e: unknown) => {
      assert.ok(e instanceof CacheSyncError);
      assert.deepEqual(e.unsynced, ['configmaps.v1|ns=ns']);
      assert.match(e.message, /caches did not sync: informer configmaps\.v1\|ns=ns did not sync/);
      return true;
    });
    await cache.stop();
  });

  it('metadata-only requests ask the engine for PartialObjectMetadata on list and watch', async () => {
    const api = new FakeApi();
    const cache = new InformerCache({ lw: api });
    cache.acquire({ gvr, namespace: 'ns', metadataOnly: true });
    cache.start();
    await cache.waitForCacheSync(refTimeout(10_000));
    await waitFor(() => api.watchCalls.length === 1, { message: 'a watch' });
    assert.equal(api.listCalls[0]?.metadataOnly, true);
    assert.equal(api.watchCalls[0]?.metadataOnly, true);
    await cache.stop();
  });
});
