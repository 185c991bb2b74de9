/**
 * The controller runtime on a real apiserver: the cache's one watch per key (counted by the
 * apiserver itself), owns() noticing drift of owned objects within a second (no resync),
 * predicates filtering real events, and metadata-only informers.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { type ConfigMap, KubeClient, type KubeObject, resources } from '../../../src/kube/index.ts';
import {
  ControllerBuilder,
  controllerReference,
  generationChanged,
  InformerCache,
  type PartialObjectMetadata,
} from '../../../src/runtime/index.ts';
import { rawApi, testCluster, testNamespace } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';
import { apiserverWatches, CountingListerWatcher, deployment } from '../informer/support.ts';

const configMaps = resources.configMaps;

/** A cache over its own client, stopped before the client closes (see managerFor). */
async function cacheFor(
  t: TestContext,
): Promise<{ cache: InformerCache; client: KubeClient; counting: CountingListerWatcher }> {
  const cluster = await testCluster();
  const client = await KubeClient.create(cluster.kubeconfigPath);
  const counting = new CountingListerWatcher(client);
  const cache = new InformerCache({ lw: counting });
  t.after(async () => {
    await cache.stop();
    await client.close();
  });
  return { cache, client, counting };
}

describe('runtime on the control plane', { concurrency: false }, () => {
  it('two requesters of the same GVR × namespace × selector share ONE apiserver watch; the last release ends it', async (t) => {
    const api = await rawApi(t);
    const namespace = await testNamespace(t, 'rt-share');
    const { cache, counting } = await cacheFor(t);
    const before = await apiserverWatches(api, 'configmaps');
    const one = cache.acquire({ gvr: configMaps.gvr, namespace, labelSelector: { app: 'x' } });
    const two = cache.acquire({ gvr: configMaps.gvr, namespace, labelSelector: 'app=x' });
    cache.start();
    await cache.waitForCacheSync(AbortSignal.timeout(60_000));
    assert.equal(one.informer, two.informer);
    await waitFor(async () => (await apiserverWatches(api, 'configmaps')) === before + 1, {
      message: 'one more WATCH at the apiserver',
    });
    assert.equal(counting.started, 1, 'one watch opened by us');
    await one.release();
    assert.equal(await apiserverWatches(api, 'configmaps'), before + 1, 'still held by the second user');
    await two.release();
    await waitFor(async () => (await apiserverWatches(api, 'configmaps')) === before, {
      message: 'the watch ended at the apiserver',
    });
    assert.equal(counting.open, 0);
  });

  it('owns(): deleting or editing an owned ConfigMap reconciles its owner within a second, without resync', async (t) => {
    const namespace = await testNamespace(t, 'rt-owns');
    const { cache, client } = await cacheFor(t);
    const reconciles: { name: string; at: number }[] = [];
    const copies = cache.acquire<ConfigMap>({ gvr: configMaps.gvr, namespace, labelSelector: 'role=copy' });
    t.after(() => copies.release());
    const controller = new ControllerBuilder('copier', { cache })
      .for<ConfigMap>(configMaps, { namespace, labelSelector: 'role=source' })
      .owns(configMaps, { namespace, labelSelector: 'role=copy' })
      .build(async (req, { object: source }) => {
        reconciles.push({ name: req.name, at: performance.now() });
        if (!source) return;
        const name = `${req.name}-copy`;
        const copy: ConfigMap = {
          metadata: {
            name,
            namespace,
            labels: { role: 'copy' },
            ownerReferences: [controllerReference(source, configMaps)],
          },
          data: source.data ?? {},
        };
        const current = copies.lister.get(namespace, name);
        if (!current) await client.create(configMaps.gvr, namespace, copy);
        else if (JSON.stringify(current.data) !== JSON.stringify(copy.data)) {
          await client.replace(configMaps.gvr, namespace, name, {
            ...copy,
            metadata: { ...copy.metadata, resourceVersion: current.metadata.resourceVersion },
          });
        }
      });
    t.after(() => controller.stop());
    await controller.start();
    assert.equal(
      copies.informer,
      cache.acquire({ gvr: configMaps.gvr, namespace, labelSelector: 'role=copy' }).informer,
    );

    await client.create(configMaps.gvr, namespace, {
      metadata: { name: 'src', namespace, labels: { role: 'source' } },
      data: { color: 'blue' },
    });
    await waitFor(() => copies.lister.get(namespace, 'src-copy')?.data?.color === 'blue', {
      message: 'the copy',
    });

    const reconcileAfter = async (what: string, action: () => Promise<unknown>): Promise<number> => {
      const count = reconciles.length;
      const started = performance.now();
      await action();
      const hit = await waitFor(() => reconciles.slice(count).find((r) => r.name === 'src'), {
        timeoutMs: 10_000,
        intervalMs: 5,
        message: `a reconcile of the owner after ${what}`,
      });
      return hit.at - started;
    };
    const afterDelete = await reconcileAfter('deleting the copy', () =>
      client.delete(configMaps.gvr, namespace, 'src-copy'),
    );
    await waitFor(() => copies.lister.get(namespace, 'src-copy')?.data?.color === 'blue', {
      message: 'the copy re-created',
    });
    const afterEdit = await reconcileAfter('editing the copy', () =>
      client.patch(configMaps.gvr, namespace, 'src-copy', { data: { color: 'red' } }, 'merge'),
    );
    await waitFor(() => copies.lister.get(namespace, 'src-copy')?.data?.color === 'blue', {
      message: 'the edit undone',
    });
    console.log(
      `owner reconciled ${afterDelete.toFixed(0)} ms after deleting its copy, ${afterEdit.toFixed(0)} ms after editing it`,
    );
    assert.ok(afterDelete < 1000, `delete → reconcile took ${afterDelete} ms`);
    assert.ok(afterEdit < 1000, `edit → reconcile took ${afterEdit} ms`);
  });

  it('predicates: with generationChanged a label edit of a Deployment reconciles nothing, a spec edit does', async (t) => {
    const namespace = await testNamespace(t, 'rt-pred');
    const { cache, client } = await cacheFor(t);
    const seen: number[] = [];
    const controller = new ControllerBuilder('gen', { cache })
      .for<KubeObject>(resources.deployments, { namespace, predicates: [generationChanged] })
      .build(async (_req, { object }) => {
        seen.push(Number(object?.metadata.generation ?? 0));
      });
    t.after(() => controller.stop());
    await controller.start();
    await client.create(resources.deployments.gvr, namespace, deployment('web'));
    await waitFor(() => seen.length === 1, { message: 'the add' });
    await client.patch(
      resources.deployments.gvr,
      namespace,
      'web',
      { metadata: { labels: { extra: 'x' } } },
      'merge',
    );
    await client.patch(resources.deployments.gvr, namespace, 'web', { spec: { replicas: 1 } }, 'merge');
    await waitFor(() => seen.length >= 2, { message: 'the spec edit' });
    // Events of one object arrive in order: had the label edit passed, it would have come first.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(seen, [1, 2]);
  });

  it('metadata-only informers cache PartialObjectMetadata: names, labels and versions, no data', async (t) => {
    const namespace = await testNamespace(t, 'rt-meta');
    const { cache, client } = await cacheFor(t);
    await client.create(configMaps.gvr, namespace, {
      metadata: { name: 'big', namespace, labels: { a: 'b' } },
      data: { payload: 'x'.repeat(4096) },
    });
    const meta = cache.acquire<PartialObjectMetadata>({ gvr: configMaps.gvr, namespace, metadataOnly: true });
    const full = cache.acquire<ConfigMap>({ gvr: configMaps.gvr, namespace });
    assert.notEqual(meta.informer, full.informer, 'metadata-only is its own key');
    cache.start();
    await cache.waitForCacheSync(AbortSignal.timeout(60_000));
    const listed = meta.lister.get(namespace, 'big');
    assert.equal(listed?.kind, 'PartialObjectMetadata');
    assert.equal(listed?.apiVersion, 'meta.k8s.io/v1');
    assert.deepEqual(listed?.metadata.labels, { a: 'b' });
    assert.equal(listed && 'data' in listed, false);
    assert.equal(full.lister.get(namespace, 'big')?.data?.payload?.length, 4096);
    // Watch events are metadata-only too.
    await client.patch(configMaps.gvr, namespace, 'big', { metadata: { labels: { a: 'c' } } }, 'merge');
    await waitFor(() => meta.lister.get(namespace, 'big')?.metadata.labels?.a === 'c', {
      message: 'the watch event',
    });
    const watched = meta.lister.get(namespace, 'big');
    assert.equal(watched?.kind, 'PartialObjectMetadata');
    assert.equal(watched && 'data' in watched, false);
  });
});
