/**
 * The Reflector against a real kube-apiserver: a 5,000-object paged sync, watch resumption
 * after the network is cut (no relist), relist after a 410 caused by etcd compaction while
 * disconnected, the streaming list and its forced fallback, and a 403 that heals when RBAC
 * is granted — all without restarting the reflector.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeClient } from '../../../src/kube/client/client.ts';
import type { ReflectorSink } from '../../../src/kube/core/contracts.ts';
import { KubeApiError } from '../../../src/kube/core/errors.ts';
import { type ConfigMap, resources } from '../../../src/kube/core/resources.ts';
import { type KubeObject, type ListWatchTarget, objectKey } from '../../../src/kube/core/types.ts';
import { Reflector, type ReflectorOptions } from '../../../src/kube/watch/reflector.ts';
import { startTcpProxy, type TcpProxy } from '../../../tools/controlplane/tcp-proxy.ts';
import {
  type Defer,
  deferrer,
  kubeconfigFor,
  privateControlPlane,
  testCluster,
  testNamespace,
} from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';

const CM = resources.configMaps.gvr;

/** A sink that keeps the state the reflector describes and counts what it was told. */
class MapSink implements ReflectorSink<KubeObject> {
  readonly state = new Map<string, KubeObject>();
  replaces = 0;
  applies = 0;
  replace(items: KubeObject[]): void {
    this.state.clear();
    for (const item of items) this.state.set(objectKey(item), item);
    this.replaces += 1;
  }
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject): void {
    if (type === 'DELETED') this.state.delete(objectKey(obj));
    else this.state.set(objectKey(obj), obj);
    this.applies += 1;
  }
  names(): string[] {
    return [...this.state.values()].map((o) => o.metadata.name ?? '').sort();
  }
}

/**
 * Cleanups run last-registered-first (node:test runs `t.after` hooks in registration order, and a
 * reflector must stop before its client closes, which must happen after the objects are removed).
 */
async function proxyTo(defer: Defer, apiserverUrl: string): Promise<TcpProxy> {
  const url = new URL(apiserverUrl);
  const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
  defer(() => proxy.close());
  return proxy;
}

interface Started {
  reflector: Reflector<KubeObject>;
  sink: MapSink;
  pages: () => number;
  streamingDone: () => number;
}

function startReflector(
  defer: Defer,
  client: KubeClient,
  target: ListWatchTarget,
  options: Partial<ReflectorOptions<KubeObject>> = {},
): Started {
  const sink = new MapSink();
  let pages = 0;
  let streamingDone = 0;
  const reflector = new Reflector<KubeObject>({
    lw: client,
    target,
    sink,
    backoff: { initialMs: 100, capMs: 1000 },
    observer: {
      onListPage: () => {
        pages += 1;
      },
      onListDone: (_n, _rv, streaming) => {
        if (streaming) streamingDone += 1;
      },
    },
    ...options,
  });
  defer(() => reflector.stop());
  reflector.start();
  return { reflector, sink, pages: () => pages, streamingDone: () => streamingDone };
}

/** Creates `count` ConfigMaps with bounded concurrency. */
async function createMany(client: KubeClient, ns: string, count: number, concurrency = 24): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const cm: ConfigMap = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `cm-${String(i).padStart(5, '0')}` },
        data: { i: String(i) },
      };
      await client.create(CM, ns, cm);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function cm(name: string, v = '1'): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v } };
}

describe('Reflector on a real apiserver', () => {
  it('syncs 5,000 ConfigMaps through a paged quorum list, then follows changes', async (t) => {
    const defer = deferrer(t);
    const cluster = await testCluster();
    const client = await KubeClient.create(cluster.kubeconfigPath);
    defer(() => client.close());
    const ns = await testNamespace(t, 'r5k');
    // Without a controller-manager the namespace's contents outlive it: remove them in one call.
    defer(() => client.request('DELETE', `/api/v1/namespaces/${ns}/configmaps`));
    await createMany(client, ns, 5000);
    const { reflector, sink, pages } = startReflector(
      defer,
      client,
      { gvr: CM, namespace: ns },
      { pageSize: 500 },
    );
    await waitFor(() => reflector.status().synced, { timeoutMs: 120_000, message: '5,000 objects synced' });
    assert.equal(sink.state.size, 5000);
    assert.equal(pages(), 10, '5,000 objects in pages of 500');
    assert.equal(sink.replaces, 1);
    assert.equal(reflector.status().lists, 1);
    await client.patch(CM, ns, 'cm-04999', { data: { i: 'changed' } }, 'merge');
    await waitFor(() => (sink.state.get(`${ns}/cm-04999`) as ConfigMap | undefined)?.data?.i === 'changed');
    assert.equal(reflector.status().phase, 'Watching');
  });

  it('resumes the watch from the last RV after the proxy cuts every connection, without a relist', async (t) => {
    const defer = deferrer(t);
    const cluster = await testCluster();
    const admin = await KubeClient.create(cluster.kubeconfigPath);
    defer(() => admin.close());
    const ns = await testNamespace(t, 'rcut');
    const proxy = await proxyTo(defer, cluster.apiserverUrl);
    const client = await KubeClient.create(kubeconfigFor(defer, proxy.url, cluster.caPem, cluster.token));
    defer(() => client.close());
    await admin.create(CM, ns, cm('a'));
    const { reflector, sink } = startReflector(defer, client, { gvr: CM, namespace: ns });
    await waitFor(() => reflector.status().synced);
    await admin.create(CM, ns, cm('b'));
    await waitFor(() => sink.state.has(`${ns}/b`), { message: 'b via watch' });

    for (let round = 0; round < 3; round++) {
      proxy.cutAll();
      await admin.create(CM, ns, cm(`during-cut-${round}`));
      await waitFor(() => sink.state.has(`${ns}/during-cut-${round}`), {
        message: `event after cut ${round}`,
      });
    }
    await admin.delete(CM, ns, 'a');
    await waitFor(() => !sink.state.has(`${ns}/a`));
    const status = reflector.status();
    assert.equal(status.relists, 0, 'no relist');
    assert.equal(status.lists, 1);
    assert.equal(sink.replaces, 1);
    assert.ok(status.watchRestarts >= 3, `watch restarts: ${status.watchRestarts}`);
    assert.deepEqual(sink.names(), ['b', 'during-cut-0', 'during-cut-1', 'during-cut-2']);
  });

  it('relists after a 410 when etcd was compacted while it was disconnected (paused proxy)', async (t) => {
    const defer = deferrer(t);
    // Without the watch cache, watches are served by etcd, whose compaction makes old RVs unusable.
    const plane = await privateControlPlane(t, ['--watch-cache=false']);
    const admin = await KubeClient.create(plane.kubeconfigPath);
    defer(() => admin.close());
    const proxy = await proxyTo(defer, plane.apiserverUrl);
    const client = await KubeClient.create(kubeconfigFor(defer, proxy.url, plane.caPem, plane.tokens.admin));
    defer(() => client.close());
    const target = { gvr: CM, namespace: 'default' };
    await admin.create(CM, 'default', cm('keep'));
    await admin.create(CM, 'default', cm('doomed'));
    const errors: number[] = [];
    const { reflector, sink } = startReflector(defer, client, target, {
      observer: { onError: (_e, status) => errors.push(status ?? 0) },
    });
    await waitFor(() => reflector.status().synced && reflector.status().phase === 'Watching');
    const syncedAt = reflector.status().lastSyncResourceVersion;

    proxy.pause();
    await admin.delete(CM, 'default', 'doomed');
    await admin.create(CM, 'default', cm('born-while-away'));
    await admin.patch(CM, 'default', 'keep', { data: { v: '2' } }, 'merge');
    await plane.compactEtcd();
    proxy.cutAll(); // the paused connection dies; the reflector reconnects from its old RV
    proxy.resume();

    await waitFor(() => reflector.status().relists === 1 && reflector.status().phase === 'Watching', {
      timeoutMs: 30_000,
      message: 'relist after 410',
    });
    assert.ok(errors.includes(410), `errors seen: ${errors.join(',')}`);
    assert.deepEqual(sink.names(), ['born-while-away', 'keep']);
    assert.equal((sink.state.get('default/keep') as ConfigMap).data?.v, '2');
    assert.equal(sink.replaces, 2);
    assert.notEqual(reflector.status().lastSyncResourceVersion, syncedAt);
  });

  it('uses a streaming list when enabled: initial state from the watch, no LIST pages', async (t) => {
    const defer = deferrer(t);
    const cluster = await testCluster();
    const client = await KubeClient.create(cluster.kubeconfigPath);
    defer(() => client.close());
    const ns = await testNamespace(t, 'rstream');
    await Promise.all(['x', 'y', 'z'].map((n) => client.create(CM, ns, cm(n))));
    const { reflector, sink, pages, streamingDone } = startReflector(
      defer,
      client,
      { gvr: CM, namespace: ns },
      { streamingList: { enabled: true } },
    );
    await waitFor(() => reflector.status().synced);
    assert.deepEqual(sink.names(), ['x', 'y', 'z']);
    assert.equal(pages(), 0, 'no paged LIST');
    assert.equal(streamingDone(), 1);
    assert.equal(reflector.machineState().streaming, 'on');
    await client.create(CM, ns, cm('live'));
    await waitFor(() => sink.state.has(`${ns}/live`), { message: 'live event on the same stream' });
  });

  it('falls back to a paged list when the streaming list misses its deadline', async (t) => {
    const defer = deferrer(t);
    const cluster = await testCluster();
    const client = await KubeClient.create(cluster.kubeconfigPath);
    defer(() => client.close());
    const ns = await testNamespace(t, 'rfall');
    await client.create(CM, ns, cm('only'));
    const { reflector, sink, pages, streamingDone } = startReflector(
      defer,
      client,
      { gvr: CM, namespace: ns },
      { streamingList: { enabled: true, deadlineMs: 1 } },
    );
    await waitFor(() => reflector.status().synced && reflector.status().phase === 'Watching');
    assert.equal(reflector.machineState().streaming, 'fallenBack');
    assert.equal(streamingDone(), 0);
    assert.equal(pages(), 1);
    assert.deepEqual(sink.names(), ['only']);
  });

  it('keeps retrying a 403 with the error visible, and syncs once RBAC grants access — no restart', async (t) => {
    const defer = deferrer(t);
    const cluster = await testCluster();
    const admin = await KubeClient.create(cluster.kubeconfigPath);
    defer(() => admin.close());
    const restricted = await KubeClient.create(cluster.restrictedKubeconfigPath);
    defer(() => restricted.close());
    const ns = await testNamespace(t, 'r403');
    await admin.create(CM, ns, cm('secret-ish'));
    const errors: Array<number | undefined> = [];
    const { reflector, sink } = startReflector(
      defer,
      restricted,
      { gvr: CM, namespace: ns },
      { backoff: { initialMs: 50, capMs: 400 }, observer: { onError: (_e, status) => errors.push(status) } },
    );
    await waitFor(
      () => reflector.status().consecutiveFailures >= 3 && reflector.status().phase === 'Backoff',
      {
        message: 'repeated 403s',
      },
    );
    const status = reflector.status();
    assert.equal(status.synced, false);
    assert.ok(status.lastError instanceof KubeApiError);
    assert.equal(status.lastError.status, 403);
    assert.ok(errors.length >= 3 && errors.every((s) => s === 403));

    await admin.create(resources.roles.gvr, ns, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'read-configmaps' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] }],
    });
    await admin.create(resources.roleBindings.gvr, ns, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'restricted-reads' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-configmaps' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'restricted' }],
    });
    await waitFor(() => reflector.status().synced && reflector.status().phase === 'Watching', {
      message: 'synced after the grant',
    });
    assert.deepEqual(sink.names(), ['secret-ish']);
    assert.equal(reflector.status().lastError, undefined);
    assert.equal(reflector.status().lists, 1, 'the same list attempt, retried until allowed');
  });

  it('stop() releases the connection: the apiserver-side watch goes away', async (t) => {
    const defer = deferrer(t);
    const cluster = await testCluster();
    const proxy = await proxyTo(defer, cluster.apiserverUrl);
    const client = await KubeClient.create(kubeconfigFor(defer, proxy.url, cluster.caPem, cluster.token));
    defer(() => client.close());
    const ns = await testNamespace(t, 'rstop');
    const { reflector } = startReflector(defer, client, { gvr: CM, namespace: ns });
    await waitFor(() => reflector.status().phase === 'Watching' && proxy.open >= 1);
    await reflector.stop();
    assert.equal(reflector.status().phase, 'Stopped');
    await client.close();
    await waitFor(() => proxy.open === 0, { message: 'sockets closed', timeoutMs: 5000 });
  });
});
