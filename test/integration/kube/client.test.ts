/**
 * KubeClient against a real kube-apiserver: CRUD and status subresource, typed errors, list
 * paging, watch decoding, the streaming-list bookmark, 410 after etcd compaction, credential
 * reload on 401, idle-timeout detection through a paused proxy, aborts and transport errors.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { KubeClient } from '../../../src/kube/client/client.ts';
import {
  isAlreadyExists,
  isConflict,
  isGone,
  isNotFound,
  KubeApiError,
  KubeTransportError,
  WatchIdleTimeoutError,
} from '../../../src/kube/core/errors.ts';
import { type ConfigMap, type Deployment, resources } from '../../../src/kube/core/resources.ts';
import { isObjectEvent, type KubeObjectLike, type WatchEvent } from '../../../src/kube/core/types.ts';
import { freePort } from '../../../tools/controlplane/harness.ts';
import { startTcpProxy } from '../../../tools/controlplane/tcp-proxy.ts';
import { privateControlPlane, type TestCluster, testCluster, testNamespace } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';

const CM = resources.configMaps.gvr;

function configMap(name: string, data: Record<string, string> = {}): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data };
}

/** A kubeconfig for `server` with the cluster's CA and the given token, in a temp dir removed after the test. */
function writeKubeconfig(t: TestContext, cluster: TestCluster, server: string, token: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kube-client-it-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'config');
  writeKubeconfigAt(path, cluster, server, token);
  return path;
}

function writeKubeconfigAt(path: string, cluster: TestCluster, server: string, token: string): void {
  const ca = Buffer.from(cluster.caPem).toString('base64');
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: '${server}', certificate-authority-data: ${ca}}
users:
- name: u
  user: {token: '${token}'}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`,
  );
}

async function adminClient(t: TestContext): Promise<KubeClient> {
  const cluster = await testCluster();
  const client = await KubeClient.create(cluster.kubeconfigPath);
  t.after(() => client.close());
  return client;
}

/** Collects events of a watch until `until` says stop (or the stream ends). */
async function collect<T extends KubeObjectLike>(
  stream: AsyncIterable<WatchEvent<T>>,
  until: (events: WatchEvent<T>[]) => boolean,
): Promise<WatchEvent<T>[]> {
  const events: WatchEvent<T>[] = [];
  for await (const event of stream) {
    events.push(event);
    if (until(events)) break;
  }
  return events;
}

describe('KubeClient CRUD', () => {
  it('creates, gets, replaces, patches (merge, json, strategic, apply) and deletes', async (t) => {
    const client = await adminClient(t);
    const ns = await testNamespace(t, 'crud');
    const created = await client.create(CM, ns, configMap('a', { k: '1' }));
    assert.equal(created.metadata.namespace, ns);
    assert.ok(created.metadata.resourceVersion);
    assert.ok(created.metadata.uid);

    const got = await client.get<ConfigMap>(CM, ns, 'a');
    assert.deepEqual(got.data, { k: '1' });

    got.data = { k: '2' };
    const replaced = await client.replace(CM, ns, 'a', got);
    assert.deepEqual(replaced.data, { k: '2' });
    assert.notEqual(replaced.metadata.resourceVersion, got.metadata.resourceVersion);

    const merged = await client.patch<ConfigMap>(CM, ns, 'a', { data: { m: 'x' } }, 'merge');
    assert.deepEqual(merged.data, { k: '2', m: 'x' });
    const jsonPatched = await client.patch<ConfigMap>(
      CM,
      ns,
      'a',
      [{ op: 'remove', path: '/data/k' }],
      'json',
    );
    assert.deepEqual(jsonPatched.data, { m: 'x' });
    const strategic = await client.patch<ConfigMap>(
      CM,
      ns,
      'a',
      { metadata: { labels: { l: 'v' } } },
      'strategic',
    );
    assert.equal(strategic.metadata.labels?.l, 'v');
    const applied = await client.patch<ConfigMap>(
      CM,
      ns,
      'b',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' }, data: { s: 'a' } },
      'apply',
      { fieldManager: 'it-test' },
    );
    assert.deepEqual(applied.data, { s: 'a' });

    await client.delete(CM, ns, 'a');
    await assert.rejects(client.get(CM, ns, 'a'), (e: unknown) => isNotFound(e));
    assert.equal(await client.deleteIfExists(CM, ns, 'a'), false);
    assert.equal(await client.deleteIfExists(CM, ns, 'b', { propagationPolicy: 'Background' }), true);
  });

  it('throws typed errors: 404 on delete, AlreadyExists, Conflict on a stale replace, failed preconditions', async (t) => {
    const client = await adminClient(t);
    const ns = await testNamespace(t, 'errs');
    await assert.rejects(client.delete(CM, ns, 'missing'), (e: unknown) => {
      assert.ok(e instanceof KubeApiError);
      assert.equal(e.status, 404);
      assert.equal(e.reason, 'NotFound');
      assert.equal(e.verb, 'delete');
      assert.equal(e.objectName, 'missing');
      assert.equal(e.namespace, ns);
      return true;
    });
    const first = await client.create(CM, ns, configMap('dup'));
    await assert.rejects(client.create(CM, ns, configMap('dup')), (e: unknown) => isAlreadyExists(e));
    await client.patch(CM, ns, 'dup', { data: { x: 'y' } }, 'merge');
    await assert.rejects(client.replace(CM, ns, 'dup', first), (e: unknown) => isConflict(e));
    await assert.rejects(
      client.delete(CM, ns, 'dup', { preconditions: { uid: 'not-the-uid' } }),
      (e: unknown) => e instanceof KubeApiError && e.status === 409,
    );
    await assert.rejects(
      client.patch(CM, ns, 'dup', {}, 'apply'),
      TypeError,
      'server-side apply without a field manager is refused locally',
    );
  });

  it('reads and writes the status subresource', async (t) => {
    const client = await adminClient(t);
    const ns = await testNamespace(t, 'status');
    const deployments = resources.deployments.gvr;
    const deployment: Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'd' } },
        template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
      },
    };
    await client.create(deployments, ns, deployment);
    const patched = await client.patchStatus<Deployment>(
      deployments,
      ns,
      'd',
      { status: { replicas: 7 } },
      'merge',
    );
    assert.equal(patched.status?.replicas, 7);
    const current = await client.get<Deployment>(deployments, ns, 'd');
    current.status = { ...current.status, readyReplicas: 1 };
    const replaced = await client.replaceStatus(deployments, ns, 'd', current);
    assert.equal(replaced.status?.readyReplicas, 1);
    // The main resource ignores status, the status subresource ignores spec.
    const specOnly = await client.patch<Deployment>(
      deployments,
      ns,
      'd',
      { status: { replicas: 99 } },
      'merge',
    );
    assert.equal(specOnly.status?.replicas, 7);
  });

  it('sends raw requests for discovery and other endpoints', async (t) => {
    const client = await adminClient(t);
    const version = await client.request<{ gitVersion: string }>('GET', '/version');
    assert.match(version.gitVersion, /^v1\.\d+\.\d+/);
    const core = await client.request<{ resources: Array<{ name: string }> }>('GET', '/api/v1');
    assert.ok(core.resources.some((r) => r.name === 'configmaps'));
  });
});

describe('KubeClient list and watch', () => {
  it('pages a quorum list with limit/continue; the server ignores limit for resourceVersion=0', async (t) => {
    const client = await adminClient(t);
    const ns = await testNamespace(t, 'page');
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        client.create(CM, ns, configMap(`c${String(i).padStart(2, '0')}`)),
      ),
    );
    const target = { gvr: CM, namespace: ns };
    const names: string[] = [];
    let pages = 0;
    let cont: string | undefined;
    let rv: string | undefined;
    do {
      const page = await client.list<ConfigMap>(
        target,
        cont ? { limit: 10, continue: cont } : { limit: 10, resourceVersion: '' },
      );
      pages += 1;
      names.push(...page.items.map((i) => i.metadata.name ?? ''));
      assert.ok(page.items.every((i) => i.kind === 'ConfigMap' && i.apiVersion === 'v1'));
      rv ??= page.resourceVersion;
      assert.equal(page.resourceVersion, rv, 'every page belongs to the same snapshot');
      cont = page.continue;
    } while (cont);
    assert.equal(pages, 3);
    assert.equal(new Set(names).size, 25);
    // The fact behind the reflector's choice of quorum lists: RV=0 is served whole from the watch cache.
    const fromCache = await client.list(target, { limit: 10, resourceVersion: '0' });
    assert.equal(fromCache.items.length, 25);
    assert.equal(fromCache.continue, undefined);
    // Label selectors reach the server.
    await client.patch(CM, ns, 'c03', { metadata: { labels: { pick: 'me' } } }, 'merge');
    const picked = await client.list({ ...target, labelSelector: 'pick=me' }, {});
    assert.deepEqual(
      picked.items.map((i) => i.metadata.name),
      ['c03'],
    );
  });

  it('watches from a list RV: ADDED, MODIFIED, DELETED in order, with objects', async (t) => {
    const client = await adminClient(t);
    const ns = await testNamespace(t, 'watch');
    const target = { gvr: CM, namespace: ns };
    const { resourceVersion } = await client.list(target, {});
    const ac = new AbortController();
    t.after(() => ac.abort());
    const stream = client.watch<ConfigMap>(target, {
      resourceVersion,
      signal: ac.signal,
      idleTimeoutMs: 60_000,
    });
    const collecting = collect(stream, (events) => events.length === 3);
    await client.create(CM, ns, configMap('w', { v: '1' }));
    await client.patch(CM, ns, 'w', { data: { v: '2' } }, 'merge');
    await client.delete(CM, ns, 'w');
    const events = await collecting;
    assert.deepEqual(
      events.map((e) => (isObjectEvent(e) ? [e.type, e.object.metadata.name, e.object.data?.v] : [e.type])),
      [
        ['ADDED', 'w', '1'],
        ['MODIFIED', 'w', '2'],
        ['DELETED', 'w', '2'],
      ],
    );
  });

  it('a streaming list sends the initial state, then the initial-events-end bookmark, then live events', async (t) => {
    const client = await adminClient(t);
    const ns = await testNamespace(t, 'stream');
    await client.create(CM, ns, configMap('s1'));
    await client.create(CM, ns, configMap('s2'));
    const ac = new AbortController();
    t.after(() => ac.abort());
    const events: WatchEvent<ConfigMap>[] = [];
    const done = (async () => {
      for await (const event of client.watch<ConfigMap>(
        { gvr: CM, namespace: ns },
        {
          sendInitialEvents: true,
          resourceVersionMatch: 'NotOlderThan',
          allowWatchBookmarks: true,
          resourceVersion: '',
          signal: ac.signal,
        },
      )) {
        events.push(event);
      }
    })();
    await waitFor(() => events.some((e) => e.type === 'BOOKMARK'), {
      message: 'initial-events-end bookmark',
    });
    await client.create(CM, ns, configMap('s3'));
    await waitFor(() => events.some((e) => isObjectEvent(e) && e.object.metadata.name === 's3'), {
      message: 'live event',
    });
    ac.abort();
    await done; // an aborted watch ends quietly
    const bookmarkAt = events.findIndex((e) => e.type === 'BOOKMARK');
    const bookmark = events[bookmarkAt];
    assert.ok(bookmark?.type === 'BOOKMARK');
    assert.equal(bookmark.object.metadata.annotations?.['k8s.io/initial-events-end'], 'true');
    assert.ok(bookmark.object.metadata.resourceVersion);
    assert.deepEqual(
      events.slice(0, bookmarkAt).map((e) => [e.type, isObjectEvent(e) ? e.object.metadata.name : undefined]),
      [
        ['ADDED', 's1'],
        ['ADDED', 's2'],
      ],
    );
    assert.deepEqual(
      // Later bookmarks (progress notifications) may come at any time; only objects matter here.
      events
        .slice(bookmarkAt + 1)
        .filter(isObjectEvent)
        .map((e) => [e.type, e.object.metadata.name]),
      [['ADDED', 's3']],
    );
  });

  it('a server-side timeout ends the watch normally', async (t) => {
    const client = await adminClient(t);
    const ns = await testNamespace(t, 'timeout');
    const { resourceVersion } = await client.list({ gvr: CM, namespace: ns }, {});
    const events = await collect(
      client.watch(
        { gvr: CM, namespace: ns },
        { resourceVersion, timeoutSeconds: 1, allowWatchBookmarks: true },
      ),
      () => false,
    );
    assert.ok(events.every((e) => e.type === 'BOOKMARK'));
  });
});

describe('KubeClient failure modes', () => {
  it('410 Gone for a watch and a continue token older than an etcd compaction (watch cache off)', async (t) => {
    const plane = await privateControlPlane(t, ['--watch-cache=false']);
    const client = await KubeClient.create(plane.kubeconfigPath);
    t.after(() => client.close());
    const target = { gvr: CM, namespace: 'default' };
    for (let i = 0; i < 6; i++) await client.create(CM, 'default', configMap(`g${i}`));
    const page = await client.list(target, { limit: 2 });
    assert.ok(page.continue);
    await client.create(CM, 'default', configMap('later-1'));
    await client.create(CM, 'default', configMap('later-2'));
    await plane.compactEtcd();
    await assert.rejects(client.list(target, { limit: 2, continue: page.continue }), (e: unknown) => {
      assert.ok(isGone(e), String(e));
      return true;
    });
    await assert.rejects(
      collect(client.watch(target, { resourceVersion: page.resourceVersion }), () => true),
      (e: unknown) => {
        assert.ok(e instanceof KubeApiError && e.status === 410 && isGone(e), String(e));
        return true;
      },
    );
  });

  it('reloads credentials once on 401 and retries', async (t) => {
    const cluster = await testCluster();
    const path = writeKubeconfig(t, cluster, cluster.apiserverUrl, 'wrong-token');
    const client = await KubeClient.create(path);
    t.after(() => client.close());
    await assert.rejects(client.request('GET', '/api/v1/namespaces'), (e: unknown) => {
      assert.ok(e instanceof KubeApiError && e.status === 401, String(e));
      return true;
    });
    // The token is rotated in the file (as a credential helper or projected token would).
    writeKubeconfigAt(path, cluster, cluster.apiserverUrl, cluster.token);
    const namespaces = await client.request<{ items: unknown[] }>('GET', '/api/v1/namespaces');
    assert.ok(Array.isArray(namespaces.items));
  });

  it('403 for an identity without RBAC grants', async (t) => {
    const cluster = await testCluster();
    const client = await KubeClient.create(cluster.restrictedKubeconfigPath);
    t.after(() => client.close());
    await assert.rejects(client.list({ gvr: CM, namespace: 'default' }, {}), (e: unknown) => {
      assert.ok(e instanceof KubeApiError && e.status === 403 && e.reason === 'Forbidden', String(e));
      return true;
    });
  });

  it('detects a silently dead watch (paused proxy) with the idle timeout', async (t) => {
    const cluster = await testCluster();
    const url = new URL(cluster.apiserverUrl);
    const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    t.after(() => proxy.close());
    const client = await KubeClient.create(writeKubeconfig(t, cluster, proxy.url, cluster.token));
    t.after(() => client.close());
    const ns = await testNamespace(t, 'idle');
    const { resourceVersion } = await client.list({ gvr: CM, namespace: ns }, {});
    const events: string[] = [];
    const watching = (async () => {
      for await (const e of client.watch<ConfigMap>(
        { gvr: CM, namespace: ns },
        { resourceVersion, idleTimeoutMs: 1500 },
      )) {
        if (isObjectEvent(e)) events.push(e.object.metadata.name ?? '');
        // Keep the connection busy until the pause, so only the pause can make it idle.
      }
    })();
    const admin = await adminClient(t);
    await admin.create(CM, ns, configMap('before-pause'));
    await waitFor(() => events.includes('before-pause'));
    proxy.pause();
    t.after(() => proxy.resume());
    await admin.create(CM, ns, configMap('during-pause'));
    await assert.rejects(watching, (e: unknown) => {
      assert.ok(e instanceof WatchIdleTimeoutError, String(e));
      assert.equal(e.idleMs, 1500);
      return true;
    });
    assert.ok(!events.includes('during-pause'));
  });

  it('surfaces a broken connection as KubeTransportError and a refused one too', async (t) => {
    const cluster = await testCluster();
    const url = new URL(cluster.apiserverUrl);
    const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    t.after(() => proxy.close());
    const client = await KubeClient.create(writeKubeconfig(t, cluster, proxy.url, cluster.token));
    t.after(() => client.close());
    const ns = await testNamespace(t, 'cut');
    const { resourceVersion } = await client.list({ gvr: CM, namespace: ns }, {});
    const seen: string[] = [];
    const watching = (async () => {
      for await (const e of client.watch(
        { gvr: CM, namespace: ns },
        { resourceVersion, idleTimeoutMs: 60_000 },
      )) {
        if (isObjectEvent(e)) seen.push(e.object.metadata.name ?? '');
      }
    })();
    // Only once an event came through is the watch surely on the wire (the iterator is lazy).
    const admin = await adminClient(t);
    await admin.create(CM, ns, configMap('first'));
    await waitFor(() => seen.includes('first'));
    proxy.cutAll();
    await assert.rejects(watching, KubeTransportError);

    const refused = await KubeClient.create(
      writeKubeconfig(t, cluster, `https://127.0.0.1:${await freePort()}`, cluster.token),
    );
    t.after(() => refused.close());
    await assert.rejects(refused.get(CM, 'default', 'x'), (e: unknown) => {
      assert.ok(e instanceof KubeTransportError, String(e));
      assert.equal(e.code, 'ECONNREFUSED');
      return true;
    });
  });

  it('an aborted watch ends quietly and an aborted list rejects with the abort', async (t) => {
    const client = await adminClient(t);
    const ns = await testNamespace(t, 'abort');
    const ac = new AbortController();
    const { resourceVersion } = await client.list({ gvr: CM, namespace: ns }, {});
    const watching = collect(
      client.watch({ gvr: CM, namespace: ns }, { resourceVersion, signal: ac.signal }),
      () => false,
    );
    setImmediate(() => ac.abort());
    assert.deepEqual(await watching, []);
    const aborted = AbortSignal.abort();
    await assert.rejects(client.list({ gvr: CM, namespace: ns }, { signal: aborted }), (e: unknown) => {
      assert.ok(!(e instanceof KubeTransportError), 'an abort is not a transport failure');
      return true;
    });
  });
});
