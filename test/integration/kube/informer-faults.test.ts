/**
 * SharedInformer guarantees on the real apiserver that the reflector-level tests do not show:
 * what handlers see after a 410 relist, handler isolation, and resync without API calls.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { SharedInformer } from '../../../src/kube/cache/informer.ts';
import { KubeClient } from '../../../src/kube/client/client.ts';
import type { ListerWatcher, ListOptions, WatchOptions } from '../../../src/kube/core/contracts.ts';
import { type ConfigMap, resources } from '../../../src/kube/core/resources.ts';
import type { KubeObjectLike, ListWatchTarget } from '../../../src/kube/core/types.ts';
import { EngineMetrics } from '../../../src/kube/metrics/metrics.ts';
import { startTcpProxy } from '../../../tools/controlplane/tcp-proxy.ts';
import {
  deferrer,
  kubeconfigFor,
  privateControlPlane,
  testCluster,
  testNamespace,
} from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';

const CM = resources.configMaps.gvr;
const cm = (name: string, data: Record<string, string> = {}): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name },
  data,
});

/** Counts the requests an informer makes, passing them through to the real client. */
class CountingListerWatcher implements ListerWatcher {
  lists = 0;
  watches = 0;
  readonly #inner: ListerWatcher;
  constructor(inner: ListerWatcher) {
    this.#inner = inner;
  }
  list<T extends KubeObjectLike>(target: ListWatchTarget, options: ListOptions) {
    this.lists++;
    return this.#inner.list<T>(target, options);
  }
  watch<T extends KubeObjectLike>(target: ListWatchTarget, options: WatchOptions) {
    this.watches++;
    return this.#inner.watch<T>(target, options);
  }
}

test('etcd compaction while disconnected → 410 → relist; handlers get the vanished object as a final-state-unknown delete', async (t) => {
  const defer = deferrer(t);
  // Without the watch cache, etcd serves watches and its compaction makes the old RV unusable.
  const plane = await privateControlPlane(t, ['--watch-cache=false']);
  const admin = await KubeClient.create(plane.kubeconfigPath);
  defer(() => admin.close());
  const url = new URL(plane.apiserverUrl);
  const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
  defer(() => proxy.close());
  const client = await KubeClient.create(kubeconfigFor(defer, proxy.url, plane.caPem, plane.tokens.admin));
  defer(() => client.close());

  await admin.create(CM, 'default', cm('keep', { v: '1' }));
  await admin.create(CM, 'default', cm('doomed'));
  const informer = new SharedInformer<ConfigMap>({
    lw: client,
    target: { gvr: CM, namespace: 'default' },
    reflector: { backoff: { initialMs: 100, capMs: 1_000 } },
  });
  defer(() => informer.stop());
  const seen: string[] = [];
  informer.addEventHandler({
    onAdd: (o) => void seen.push(`add ${o.metadata.name}`),
    onUpdate: (_old, o) => void seen.push(`update ${o.metadata.name} v=${o.data?.v}`),
    onDelete: (o, info) => void seen.push(`delete ${o.metadata.name} unknown=${info.finalStateUnknown}`),
  });
  informer.start();
  await informer.waitForSync();
  await waitFor(() => informer.status().phase === 'Watching', { message: 'watching' });
  seen.length = 0;

  proxy.pause();
  await admin.delete(CM, 'default', 'doomed');
  await admin.create(CM, 'default', cm('born'));
  await admin.patch(CM, 'default', 'keep', { data: { v: '2' } }, 'merge');
  await plane.compactEtcd();
  proxy.cutAll();
  proxy.resume();

  await waitFor(() => seen.length >= 3 && informer.status().relists === 1, {
    timeoutMs: 30_000,
    message: `relist deltas (seen: ${seen.join('; ')})`,
  });
  assert.deepEqual([...seen].sort(), ['add born', 'delete doomed unknown=true', 'update keep v=2']);
  assert.deepEqual(
    informer.store
      .list()
      .map((o) => o.metadata.name)
      .sort(),
    ['born', 'keep'],
  );
});

test('a handler taking 2 s per event and a throwing handler do not delay a third; errors are counted', async (t) => {
  const defer = deferrer(t);
  const cluster = await testCluster();
  const ns = await testNamespace(t, 'iso');
  const client = await KubeClient.create(cluster.kubeconfigPath);
  defer(() => client.close());
  const registry = new Registry();
  const informer = new SharedInformer<ConfigMap>({
    lw: client,
    target: { gvr: CM, namespace: ns },
    name: 'isolation',
    metrics: new EngineMetrics(registry),
  });
  defer(() => informer.stop());
  let slowDone = 0;
  let throwCalls = 0;
  const fast: string[] = [];
  informer.addEventHandler({
    async onAdd() {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      slowDone++;
    },
  });
  informer.addEventHandler({
    onAdd() {
      throwCalls++;
      throw new Error('handler bug');
    },
  });
  informer.addEventHandler({ onAdd: (o) => void fast.push(o.metadata.name ?? '') });
  informer.start();
  await informer.waitForSync();

  const count = 20;
  for (let i = 0; i < count; i++) await client.create(CM, ns, cm(`c-${i}`));
  await waitFor(() => fast.length === count, {
    timeoutMs: 30_000,
    message: 'the fast handler got every event',
  });
  // Promptly: all 20 reached the third handler while the slow one was still on its first few.
  assert.ok(slowDone < count / 2, `slow handler finished ${slowDone} of ${count} meanwhile`);
  assert.deepEqual(
    fast,
    Array.from({ length: count }, (_, i) => `c-${i}`),
  );
  await waitFor(() => throwCalls === count, { message: 'the throwing handler keeps receiving' });
  const errors = await registry.getSingleMetric('elasti_kube_handler_errors_total')?.get();
  const total = errors?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
  assert.equal(total, count, 'every throw is counted');
});

test('resync every 1 s delivers updates (old === new) with no list or watch request', async (t) => {
  const defer = deferrer(t);
  const cluster = await testCluster();
  const ns = await testNamespace(t, 'resync');
  const client = await KubeClient.create(cluster.kubeconfigPath);
  defer(() => client.close());
  for (const name of ['a', 'b', 'c']) await client.create(CM, ns, cm(name));
  const counting = new CountingListerWatcher(client);
  const informer = new SharedInformer<ConfigMap>({ lw: counting, target: { gvr: CM, namespace: ns } });
  defer(() => informer.stop());
  const resyncs: string[] = [];
  let plainUpdates = 0;
  informer.addEventHandler(
    {
      onUpdate(oldObj, newObj) {
        if (oldObj === newObj) resyncs.push(newObj.metadata.name ?? '');
        else plainUpdates++;
      },
    },
    { resyncPeriodMs: 1_000 },
  );
  let otherUpdates = 0;
  informer.addEventHandler({ onUpdate: () => void otherUpdates++ }); // no resync period
  informer.start();
  await informer.waitForSync();
  await waitFor(() => informer.status().phase === 'Watching', { message: 'watching' });
  const before = { lists: counting.lists, watches: counting.watches };

  await waitFor(() => resyncs.length >= 9, { timeoutMs: 15_000, message: 'three resync rounds' });
  assert.deepEqual(new Set(resyncs), new Set(['a', 'b', 'c']));
  assert.equal(plainUpdates, 0);
  assert.equal(otherUpdates, 0, 'a handler without a period gets no resync');
  assert.deepEqual({ lists: counting.lists, watches: counting.watches }, before, 'resync made no API call');
});
