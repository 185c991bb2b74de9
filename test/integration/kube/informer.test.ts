/**
 * The informer on a real kube-apiserver through our own KubeClient and Reflector: event order,
 * bookmarks, and convergence across an apiserver restart.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SharedInformer } from '../../../src/kube/cache/informer.ts';
import { KubeClient } from '../../../src/kube/client/client.ts';
import { isNotFound } from '../../../src/kube/core/errors.ts';
import type { GroupVersionResource, KubeObject, ResourceEventHandler } from '../../../src/kube/core/types.ts';
import { privateControlPlane, testCluster, testNamespace } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';

const CONFIGMAPS: GroupVersionResource = { group: '', version: 'v1', resource: 'configmaps' };

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

function configMap(name: string, v: number): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: String(v) } };
}

/** Records, per object name, what the handler saw, as `add:<v>`, `update:<v>`, `delete:<v>`. */
function perObjectRecorder(): {
  byName: Map<string, string[]>;
  nameless: number;
  handler: ResourceEventHandler<ConfigMap>;
} {
  const byName = new Map<string, string[]>();
  const rec = {
    byName,
    nameless: 0,
    handler: {} as ResourceEventHandler<ConfigMap>,
  };
  const push = (o: ConfigMap, what: string) => {
    const name = o.metadata.name;
    if (!name || o.kind === undefined) {
      rec.nameless++;
      return;
    }
    const list = byName.get(name) ?? [];
    list.push(`${what}:${o.data?.v ?? '?'}`);
    byName.set(name, list);
  };
  rec.handler = {
    onAdd: (o) => push(o, 'add'),
    onUpdate: (_old, o) => push(o, 'update'),
    onDelete: (o) => push(o, 'delete'),
  };
  return rec;
}

for (const streaming of [false, true]) {
  test(`create/update/delete events arrive in order per object; bookmarks are not delivered (streaming list: ${streaming})`, async (t) => {
    const cluster = await testCluster();
    const ns = await testNamespace(t, 'inf');
    const client = await KubeClient.create(cluster.kubeconfigPath);
    t.after(() => client.close());

    let bookmarks = 0;
    let inputErrors = 0;
    const informer = new SharedInformer<ConfigMap>({
      lw: client,
      target: { gvr: CONFIGMAPS, namespace: ns },
      logger: {
        debug() {},
        info() {},
        warn(_obj: object, msg?: string) {
          if (msg === 'object rejected by the cache') inputErrors++;
        },
        error() {},
        child() {
          return this;
        },
      },
      reflector: {
        // Short server timeouts: the watch ends and resumes several times during the test, and
        // the apiserver sends a bookmark shortly before each deadline.
        watchTimeoutSeconds: { min: 3, max: 4 },
        streamingList: { enabled: streaming },
        observer: { onBookmark: () => void bookmarks++ },
      },
    });
    const rec = perObjectRecorder();
    informer.addEventHandler(rec.handler);
    informer.start();
    t.after(() => informer.stop());
    await informer.waitForSync(AbortSignal.timeout(30_000));

    const OBJECTS = 12;
    const UPDATES = 5;
    const deleted = new Set<string>();
    // Objects are written concurrently; each object's own writes are sequential.
    await Promise.all(
      Array.from({ length: OBJECTS }, async (_, i) => {
        const name = `cm-${i}`;
        let current = await client.create<ConfigMap>(CONFIGMAPS, ns, configMap(name, 0));
        for (let v = 1; v <= UPDATES; v++) {
          current = await client.replace<ConfigMap>(CONFIGMAPS, ns, name, {
            ...current,
            data: { v: String(v) },
          });
        }
        if (i % 3 === 0) {
          await client.delete(CONFIGMAPS, ns, name);
          deleted.add(name);
        }
      }),
    );

    const expected = (name: string): string[] => {
      const seq = ['add:0'];
      for (let v = 1; v <= UPDATES; v++) seq.push(`update:${v}`);
      if (deleted.has(name)) seq.push(`delete:${UPDATES}`);
      return seq;
    };
    await waitFor(
      () =>
        Array.from({ length: OBJECTS }, (_, i) => `cm-${i}`).every(
          (name) => (rec.byName.get(name)?.length ?? 0) >= expected(name).length,
        ),
      { timeoutMs: 30_000, message: 'every event delivered' },
    );
    for (let i = 0; i < OBJECTS; i++) {
      const name = `cm-${i}`;
      assert.deepEqual(rec.byName.get(name), expected(name), `events of ${name}`);
    }
    assert.deepEqual(
      informer.store.keys().sort(),
      Array.from({ length: OBJECTS }, (_, i) => `${ns}/cm-${i}`)
        .filter((k) => !deleted.has(k.split('/')[1] ?? ''))
        .sort(),
    );

    // Keep watching across at least one server-side timeout so that bookmarks arrive.
    await waitFor(() => bookmarks > 0 && informer.status().watchRestarts > 0, {
      timeoutMs: 30_000,
      message: 'a bookmark and a watch restart',
    });
    // Nothing more arrived, and no bookmark ever reached the cache or a handler.
    for (let i = 0; i < OBJECTS; i++) {
      const name = `cm-${i}`;
      assert.deepEqual(rec.byName.get(name), expected(name), `no extra events for ${name}`);
    }
    assert.equal(rec.nameless, 0, 'no bookmark-like object reached the handler');
    assert.equal(inputErrors, 0, 'no bookmark-like object reached the cache');
    assert.equal(rec.byName.size, OBJECTS);
  });
}

test('an apiserver restart during writes converges: cache equals the server, every final state delivered', async (t) => {
  const plane = await privateControlPlane(t);
  const client = await KubeClient.create(plane.kubeconfigPath);
  t.after(() => client.close());
  const ns = 'restart';
  await client.create({ group: '', version: 'v1', resource: 'namespaces' }, undefined, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: ns },
  });

  const informer = new SharedInformer<ConfigMap>({
    lw: client,
    target: { gvr: CONFIGMAPS, namespace: ns },
    reflector: { backoff: { initialMs: 100, capMs: 1000 }, watchTimeoutSeconds: { min: 30, max: 60 } },
  });
  /** Last thing the handler was told about each name. */
  const last = new Map<
    string,
    { type: 'add' | 'update' | 'delete'; rv: string | undefined; v: string | undefined }
  >();
  const note = (type: 'add' | 'update' | 'delete', o: ConfigMap): void =>
    void last.set(o.metadata.name ?? '', { type, rv: o.metadata.resourceVersion, v: o.data?.v });
  informer.addEventHandler({
    onAdd: (o) => note('add', o),
    onUpdate: (_old, o) => note('update', o),
    onDelete: (o) => note('delete', o),
  });
  informer.start();
  t.after(() => informer.stop());
  await informer.waitForSync(AbortSignal.timeout(30_000));

  /** Retries a write through the outage (connection refused, 5xx, 429) until it lands. */
  const retry = async <R>(write: () => Promise<R>): Promise<R> => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        return await write();
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };

  const NAMES = Array.from({ length: 20 }, (_, i) => `obj-${i}`);
  let stopWriting = false;
  let writes = 0;
  const writer = (async () => {
    let round = 0;
    while (!stopWriting || round < 6) {
      round++;
      for (const name of NAMES) {
        // Mix of creates, updates and deletes; idempotent so that a retried write is harmless.
        const step = (round + Number(name.split('-')[1])) % 4;
        if (step === 3) {
          await retry(() => client.deleteIfExists(CONFIGMAPS, ns, name));
        } else {
          await retry(async () => {
            const existing = await client.get<ConfigMap>(CONFIGMAPS, ns, name).catch((e: unknown) => {
              if (isNotFound(e)) return undefined;
              throw e;
            });
            if (existing) {
              return client.replace<ConfigMap>(CONFIGMAPS, ns, name, {
                ...existing,
                data: { v: String(round) },
              });
            }
            return client.create<ConfigMap>(CONFIGMAPS, ns, configMap(name, round));
          });
        }
        writes++;
      }
    }
  })();

  await waitFor(() => writes >= NAMES.length * 2, { timeoutMs: 60_000, message: 'writes under way' });
  await plane.restartApiserver();
  await waitFor(() => writes >= NAMES.length * 4, { timeoutMs: 120_000, message: 'writes resumed' });
  stopWriting = true;
  await writer;

  const serverList = await client.list<ConfigMap>({ gvr: CONFIGMAPS, namespace: ns }, {});
  const server = new Map(serverList.items.map((o) => [o.metadata.name ?? '', o]));
  await waitFor(
    () => {
      if (informer.store.size !== server.size) return false;
      for (const [name, o] of server) {
        if (informer.store.getByName(ns, name)?.metadata.resourceVersion !== o.metadata.resourceVersion)
          return false;
        if (last.get(name)?.rv !== o.metadata.resourceVersion) return false;
      }
      for (const name of NAMES) {
        if (!server.has(name) && last.has(name) && last.get(name)?.type !== 'delete') return false;
      }
      return true;
    },
    { timeoutMs: 60_000, message: 'cache and handler converge on the server state' },
  );
  for (const [name, o] of server) {
    assert.equal(informer.store.getByName(ns, name)?.data?.v, o.data?.v);
    assert.notEqual(last.get(name)?.type, 'delete');
  }
  const status = informer.status();
  assert.ok(status.watchRestarts + status.relists > 0, 'the restart was noticed');
  assert.equal(status.phase, 'Watching');
});
