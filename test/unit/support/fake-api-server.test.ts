/** The one in-memory fake API server of the unit tests keeps the protocol the engine relies on. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeApiError } from '../../../src/kube/core/errors.ts';
import type { KubeObject, ListWatchTarget, WatchEvent } from '../../../src/kube/core/types.ts';
import { FakeApiServer } from '../../support/fake-api-server.ts';
import { refTimeout } from '../../support/wait.ts';

const gvr = { group: '', version: 'v1', resource: 'configmaps' } as const;
const inNs: ListWatchTarget = { gvr, namespace: 'ns' };

function cm(name: string, extra: Partial<KubeObject['metadata']> = {}, namespace = 'ns'): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, ...extra } };
}

function status(error: unknown): [number, string | undefined] {
  assert.ok(error instanceof KubeApiError, String(error));
  return [error.status, error.reason];
}

/** Reads `count` events from a watch, then stops it. */
async function take(stream: AsyncIterable<WatchEvent>, count: number): Promise<string[]> {
  const out: string[] = [];
  for await (const event of stream) {
    if (event.type === 'BOOKMARK' || event.type === 'ERROR') continue;
    out.push(`${event.type} ${event.object.metadata.name}@${event.object.metadata.resourceVersion}`);
    if (out.length === count) break;
  }
  return out;
}

describe('FakeApiServer', () => {
  it('pages a list from one snapshot; the continue token expires with its snapshot (410)', async () => {
    const api = new FakeApiServer();
    for (const name of ['c', 'a', 'b']) api.upsert(gvr, cm(name));
    const first = await api.list(inNs, { limit: 2 });
    assert.deepEqual(
      first.items.map((o) => o.metadata.name),
      ['a', 'b'],
    );
    api.upsert(gvr, cm('d')); // after the snapshot: not in its pages
    const second = await api.list(inNs, { limit: 2, continue: first.continue });
    assert.deepEqual(
      second.items.map((o) => o.metadata.name),
      ['c'],
    );
    assert.equal(second.continue, undefined);
    assert.equal(second.resourceVersion, first.resourceVersion);
    const again = await api.list(inNs, { limit: 1 });
    api.snapshots.clear();
    await assert.rejects(api.list(inNs, { limit: 1, continue: again.continue }), (e) => {
      assert.deepEqual(status(e), [410, 'Expired']);
      return true;
    });
  });

  it('a watch replays the history after its revision and follows live writes; below the compaction floor it is 410', async () => {
    const api = new FakeApiServer({ initialRevision: 1 });
    api.upsert(gvr, cm('a')); // 2
    const from = String(api.revision);
    api.upsert(gvr, cm('a', { labels: { v: '2' } })); // 3
    api.upsert(gvr, cm('other', {}, 'elsewhere')); // 4: another namespace, not seen
    const signal = refTimeout(5_000);
    const events = take(api.watch(inNs, { resourceVersion: from, signal }), 2);
    await api.delete(gvr, 'ns', 'a'); // 5
    assert.deepEqual(await events, ['MODIFIED a@3', 'DELETED a@5']);
    api.compact();
    await assert.rejects(take(api.watch(inNs, { resourceVersion: from }), 1), (e) => {
      assert.deepEqual(status(e), [410, 'Expired']);
      return true;
    });
  });

  it('sends bookmarks, and a streaming list ends its initial events with the initial-events-end bookmark', async () => {
    const api = new FakeApiServer();
    api.upsert(gvr, cm('a'));
    const stream = api.watch(inNs, { sendInitialEvents: true, allowWatchBookmarks: true });
    const iterator = stream[Symbol.asyncIterator]();
    const added = await iterator.next();
    assert.equal(added.value?.type, 'ADDED');
    const end = await iterator.next();
    assert.equal(end.value?.type, 'BOOKMARK');
    assert.equal(end.value?.object.metadata?.annotations?.['k8s.io/initial-events-end'], 'true');
    const next = iterator.next();
    api.bookmark();
    assert.deepEqual((await next).value, {
      type: 'BOOKMARK',
      object: { metadata: { resourceVersion: '101' } },
    });
    await iterator.return?.();
    assert.equal(api.openWatches, 0);
  });

  it('selects by label and field selectors', async () => {
    const api = new FakeApiServer();
    api.upsert(gvr, cm('web', { labels: { app: 'web', tier: 'front' } }));
    api.upsert(gvr, cm('db', { labels: { app: 'db' } }));
    api.upsert(gvr, cm('bare'));
    const names = async (target: Partial<ListWatchTarget>) =>
      (await api.list({ ...inNs, ...target })).items.map((o) => o.metadata.name);
    assert.deepEqual(await names({ labelSelector: 'app=web' }), ['web']);
    assert.deepEqual(await names({ labelSelector: 'app in (web,db),!tier' }), ['db']);
    assert.deepEqual(await names({ labelSelector: 'app!=web' }), ['bare', 'db']);
    assert.deepEqual(await names({ labelSelector: 'app' }), ['db', 'web']);
    assert.deepEqual(await names({ fieldSelector: 'metadata.name=bare' }), ['bare']);
    assert.deepEqual(await names({ fieldSelector: 'metadata.namespace!=ns' }), []);
  });

  it('deletes with finalizers in two steps: deletionTimestamp first, gone when the last finalizer is removed', async () => {
    const api = new FakeApiServer();
    const created = await api.create(gvr, 'ns', cm('a', { finalizers: ['x/y'] }));
    assert.equal(created.metadata.generation, 1);
    await api.delete(gvr, 'ns', 'a');
    const marked = api.peek(gvr, 'ns', 'a');
    assert.ok(marked?.metadata.deletionTimestamp, 'marked for deletion, still there');
    assert.equal(marked?.metadata.uid, created.metadata.uid);
    await api.patch(gvr, 'ns', 'a', { metadata: { finalizers: null } }, 'merge');
    assert.equal(api.peek(gvr, 'ns', 'a'), undefined);
    assert.deepEqual(
      api.history.map((c) => c.type),
      ['ADDED', 'MODIFIED', 'DELETED'],
    );
  });

  it('merge patch, status subresource, conflicts and scripted faults', async () => {
    const api = new FakeApiServer();
    const obj = await api.create(gvr, 'ns', { ...cm('a'), spec: { n: 1 }, status: { ok: false } });
    const patched = await api.patch<KubeObject>(
      gvr,
      'ns',
      'a',
      { spec: { n: 2 }, status: { ok: true } },
      'merge',
    );
    assert.deepEqual(
      [patched.spec, patched.status, patched.metadata.generation],
      [{ n: 2 }, { ok: false }, 2],
    );
    const withStatus = await api.patchStatus<KubeObject>(gvr, 'ns', 'a', { status: { ok: true } }, 'merge');
    assert.deepEqual([withStatus.status, withStatus.metadata.generation], [{ ok: true }, 2]);
    await assert.rejects(api.replace(gvr, 'ns', 'a', obj), (e) => {
      assert.deepEqual(status(e), [409, 'Conflict']);
      return true;
    });
    await assert.rejects(api.create(gvr, 'ns', cm('a')), (e) => status(e)[0] === 409);
    const boom = new Error('boom');
    api.injectFault('get', { error: boom }, { resource: 'configmaps' });
    await assert.rejects(api.get(gvr, 'ns', 'a'), boom);
    assert.equal(
      (await api.get<KubeObject>(gvr, 'ns', 'a')).metadata.name,
      'a',
      'the fault was for one call',
    );
    api.injectFault('list', { hang: true });
    const hung = new AbortController();
    const listing = api.list(inNs, { signal: hung.signal });
    hung.abort(new Error('gave up'));
    await assert.rejects(listing, /gave up/);
  });

  it('a deleted namespace terminates until its objects are gone; creating in it is refused', async () => {
    const api = new FakeApiServer();
    const nsGvr = { group: '', version: 'v1', resource: 'namespaces' };
    api.upsert(gvr, cm('held', { finalizers: ['x/y'] }));
    api.deleteNamespace('ns');
    const ns = await api.get<KubeObject>(nsGvr, undefined, 'ns');
    assert.ok(ns.metadata.deletionTimestamp, 'terminating while an object is left');
    await assert.rejects(api.create(gvr, 'ns', cm('new')), (e) => status(e)[0] === 403);
    await api.patch(gvr, 'ns', 'held', { metadata: { finalizers: [] } }, 'merge');
    api.deleteNamespace('ns');
    await assert.rejects(api.get(nsGvr, undefined, 'ns'), (e) => status(e)[0] === 404);
  });
});
