/**
 * The foundation: the control plane built by tools/controlplane really is a Kubernetes API
 * server with the list/watch behaviour the engine relies on. Raw HTTP only, so these facts
 * are checked independently of our own engine.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { versions } from '../../../tools/controlplane/harness.ts';
import { privateControlPlane, RawApi, rawApi, testNamespace } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';

interface ListBody {
  metadata: { resourceVersion: string; continue?: string };
  items: { metadata: { name: string; resourceVersion: string } }[];
}
interface WatchLine {
  type: string;
  object: { metadata?: { name?: string; resourceVersion?: string }; code?: number; reason?: string };
}

/** Reads a watch stream line by line into `events` until the server ends it or `signal` aborts. */
async function collectWatch(
  api: RawApi,
  path: string,
  events: WatchLine[],
  signal: AbortSignal,
): Promise<{ status: number; body?: string }> {
  const res = await api.stream(path, signal);
  if (res.statusCode !== 200) return { status: res.statusCode, body: await res.body.text() };
  let buffered = '';
  try {
    for await (const chunk of res.body) {
      buffered += chunk.toString();
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) events.push(JSON.parse(line) as WatchLine);
        newline = buffered.indexOf('\n');
      }
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
  return { status: 200 };
}

test('GET /version reports the pinned Kubernetes version', async (t) => {
  const api = await rawApi(t);
  const version = await api.ok<{ gitVersion: string; major: string; minor: string }>('GET', '/version');
  assert.equal(version.gitVersion, versions.kube);
  assert.equal(`v${version.major}.${version.minor}`, versions.kube.split('.').slice(0, 2).join('.'));
});

test('a CustomResourceDefinition becomes Established and serves custom objects', async (t) => {
  const api = await rawApi(t);
  const ns = await testNamespace(t, 'crd');
  const group = `g${ns.replace(/[^a-z0-9]/g, '')}.example.com`;
  await api.ok('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `widgets.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: { spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } } },
            },
          },
        },
      ],
    },
  });
  await waitFor(
    async () => {
      const crd = await api.ok<{ status?: { conditions?: { type: string; status: string }[] } }>(
        'GET',
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.${group}`,
      );
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    },
    { message: 'CRD Established' },
  );
  const path = `/apis/${group}/v1/namespaces/${ns}/widgets`;
  const created = await waitFor(
    async () => {
      const res = await api.call('POST', path, {
        apiVersion: `${group}/v1`,
        kind: 'Widget',
        metadata: { name: 'w1' },
        spec: { size: 3 },
      });
      return res.status === 201 ? (res.body as { spec: { size: number } }) : undefined;
    },
    { message: 'custom object created' },
  );
  assert.equal(created.spec.size, 3);
  const invalid = await api.call('POST', path, {
    apiVersion: `${group}/v1`,
    kind: 'Widget',
    metadata: { name: 'w2' },
    spec: { size: 0 },
  });
  assert.equal(invalid.status, 422, 'the schema minimum is enforced by the apiserver');
  await api.ok('DELETE', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.${group}`);
});

test('LIST pages with limit/continue over 1,200 ConfigMaps', async (t) => {
  const api = await rawApi(t);
  const ns = await testNamespace(t, 'page');
  const total = 1200;
  // Create in parallel batches: sequential creates would take long on 2 cores.
  for (let start = 0; start < total; start += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, total - start) }, (_, i) =>
        api.ok('POST', `/api/v1/namespaces/${ns}/configmaps`, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `cm-${String(start + i).padStart(5, '0')}` },
          data: { index: String(start + i) },
        }),
      ),
    );
  }
  const names = new Set<string>();
  let pages = 0;
  let token: string | undefined;
  do {
    const query = `limit=250${token ? `&continue=${encodeURIComponent(token)}` : ''}`;
    const page = await api.ok<ListBody>('GET', `/api/v1/namespaces/${ns}/configmaps?${query}`);
    pages++;
    assert.ok(page.items.length <= 250, 'a page never exceeds the limit');
    for (const item of page.items) names.add(item.metadata.name);
    token = page.metadata.continue || undefined;
  } while (token);
  // kube-root-ca.crt is created by a controller we do not run, so exactly our objects are listed.
  assert.equal(names.size, total);
  assert.equal(pages, Math.ceil(total / 250));
});

test('WATCH with allowWatchBookmarks delivers ADDED, MODIFIED, DELETED and a BOOKMARK', async (t) => {
  const api = await rawApi(t);
  const ns = await testNamespace(t, 'watch');
  const list = await api.ok<ListBody>('GET', `/api/v1/namespaces/${ns}/configmaps`);
  const events: WatchLine[] = [];
  const abort = new AbortController();
  t.after(() => abort.abort());
  // A short server timeout: the watch cache sends a bookmark shortly before it ends the watch.
  const done = collectWatch(
    api,
    `/api/v1/namespaces/${ns}/configmaps?watch=1&allowWatchBookmarks=true&timeoutSeconds=8&resourceVersion=${list.metadata.resourceVersion}`,
    events,
    abort.signal,
  );
  const base = `/api/v1/namespaces/${ns}/configmaps`;
  await api.ok('POST', base, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'a' },
    data: { v: '1' },
  });
  await api.ok('PATCH', `${base}/a`, { data: { v: '2' } });
  await api.ok('DELETE', `${base}/a`);
  const result = await done;
  assert.equal(result.status, 200);
  const types = events.filter((e) => e.object.metadata?.name === 'a').map((e) => e.type);
  assert.deepEqual(types, ['ADDED', 'MODIFIED', 'DELETED']);
  const bookmark = events.find((e) => e.type === 'BOOKMARK');
  assert.ok(bookmark, `a BOOKMARK arrives (got ${events.map((e) => e.type).join(',')})`);
  assert.ok(bookmark.object.metadata?.resourceVersion, 'a bookmark carries a resourceVersion');
});

test('after an etcd compaction, a watch from an old resourceVersion gets 410 Gone', async (t) => {
  // A private control plane: compaction would disturb other tests' watches on the shared one.
  // Without the watch cache, watches are served by etcd itself, so compaction turns an old
  // resourceVersion into 410 at once; with it, the cache keeps serving its own window.
  const plane = await privateControlPlane(t, ['--watch-cache=false']);
  const api = new RawApi(plane.apiserverUrl, plane.tokens.admin, plane.caPem);
  t.after(() => api.close());
  const base = '/api/v1/namespaces/default/configmaps';
  const first = await api.ok<{ metadata: { resourceVersion: string } }>('POST', base, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'old' },
  });
  for (let i = 0; i < 20; i++) {
    await api.ok('POST', base, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `n-${i}` } });
  }
  await plane.compactEtcd();
  const oldRv = first.metadata.resourceVersion;
  const outcome = await waitFor(
    async () => {
      const events: WatchLine[] = [];
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 3000);
      const res = await collectWatch(api, `${base}?watch=1&resourceVersion=${oldRv}`, events, abort.signal);
      clearTimeout(timer);
      if (res.status === 410) return { via: 'http', code: 410 };
      const error = events.find((e) => e.type === 'ERROR');
      return error?.object.code === 410 ? { via: 'stream', code: 410 } : undefined;
    },
    { timeoutMs: 60_000, message: '410 Gone for a compacted resourceVersion' },
  );
  assert.equal(outcome.code, 410);
});
