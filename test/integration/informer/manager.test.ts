/**
 * The informer Manager on a real kube-apiserver, through our own KubeClient and engine:
 * every method, one shared watch for 1,000 RequestWatches, slow lists, hung watches,
 * deleted namespaces and the resolver informer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InformerNotFoundError, TargetNotFoundError } from '../../../src/informer/errors.ts';
import type { ResourceEventHandler } from '../../../src/kube/core/types.ts';
import { startTcpProxy } from '../../../tools/controlplane/tcp-proxy.ts';
import { rawApi, testCluster, testNamespace } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';
import {
  adminClient,
  apiserverWatches,
  CONFIGMAPS,
  createDeployments,
  DEPLOYMENTS,
  forEachLimit,
  hungWatchSetup,
  managerFor,
  watchOf,
} from './support.ts';

interface Recorder {
  events: string[];
  handlers: ResourceEventHandler;
}

function recorder(): Recorder {
  const events: string[] = [];
  return {
    events,
    handlers: {
      onAdd: (o, initial) => void events.push(`add:${o.metadata.name}${initial ? ':initial' : ''}`),
      onUpdate: (_old, o) => void events.push(`update:${o.metadata.name}:${o.metadata.annotations?.v ?? ''}`),
      onDelete: (o, info) =>
        void events.push(`delete:${o.metadata.name}${info.finalStateUnknown ? ':unknown' : ''}`),
    },
  };
}

function annotate(v: string) {
  return { metadata: { annotations: { v } } };
}

describe('informer Manager on a real apiserver', () => {
  it('add / idempotent add / TargetNotFoundError / events / list / stopInformer / stopForCRD / stop', async (t) => {
    const ns = await testNamespace(t, 'mgr');
    const { manager, counting, client } = await managerFor(t, { sharing: { mode: 'per-name' } });
    await createDeployments(client, ns, ['web', 'api']);
    const es1 = recorder();
    const es2 = recorder();
    const key = await manager.add(watchOf('es-1', ns, 'web', es1.handlers));
    assert.equal(key, `es-1/${ns}/deployments.apps/web`);
    assert.equal(await manager.add(watchOf('es-1', ns, 'web', es2.handlers)), key, 'idempotent');
    await manager.add(watchOf('es-2', ns, 'web', es2.handlers));
    await manager.add(watchOf('es-1', ns, 'api', es1.handlers));
    await assert.rejects(
      manager.add(watchOf('es-1', ns, 'missing', {})),
      (e: unknown) => e instanceof TargetNotFoundError && e.status === 404 && e.namespace === ns,
    );
    assert.deepEqual(
      manager
        .list()
        .map((r) => `${r.key}:${r.state}`)
        .sort(),
      [
        `es-1/${ns}/deployments.apps/api:Active`,
        `es-1/${ns}/deployments.apps/web:Active`,
        `es-2/${ns}/deployments.apps/web:Active`,
      ],
    );
    assert.equal(manager.upstreams().length, 2, 'web and api: one per-name watch each, web shared');
    await waitFor(() => counting.open === 2, { message: 'two watch streams open' });

    await client.patch(DEPLOYMENTS, ns, 'web', annotate('1'), 'merge');
    await waitFor(() => es1.events.includes('update:web:1') && es2.events.includes('update:web:1'));

    const stopped = await manager.stopForCRD('es-1', ns);
    assert.equal(stopped.length, 2);
    await waitFor(() => counting.open === 1, { message: 'api watch closed, web watch kept for es-2' });
    await client.patch(DEPLOYMENTS, ns, 'web', annotate('2'), 'merge');
    await waitFor(() => es2.events.includes('update:web:2'));
    assert.equal(es1.events.includes('update:web:2'), false);

    await client.delete(DEPLOYMENTS, ns, 'web');
    await waitFor(() => es2.events.includes('delete:web'));
    await manager.stopInformer(`es-2/${ns}/deployments.apps/web`);
    await assert.rejects(manager.stopInformer(`es-2/${ns}/deployments.apps/web`), InformerNotFoundError);
    await waitFor(() => counting.open === 0, { message: 'no watch left' });
    await manager.stop();
    assert.deepEqual(manager.upstreams(), []);
  });

  it('1,000 RequestWatches on 1,000 Deployments share ONE upstream watch; an update to #537 reaches only its handlers', async (t) => {
    const ns = await testNamespace(t, 'mgr1k');
    const api = await rawApi(t);
    const { manager, counting, client } = await managerFor(t, {
      sharing: { mode: 'auto', autoThreshold: 25 },
    });
    const names = Array.from({ length: 1000 }, (_, i) => `app-${i}`);
    await createDeployments(client, ns, names);
    const baseline = await apiserverWatches(api, 'deployments');
    const recs = names.map(() => recorder());
    await forEachLimit(names, 16, (name, i) =>
      manager.add(watchOf(`es-${i}`, ns, name, recs[i]?.handlers ?? {})),
    );
    await waitFor(() => counting.open === 1 && manager.upstreams().length === 1, {
      message: 'per-name watches handed over to one namespace-wide watch',
      timeoutMs: 60_000,
    });
    assert.equal(manager.upstreams()[0]?.scope, 'namespace');
    assert.equal(manager.list().length, 1000);
    await waitFor(async () => (await apiserverWatches(api, 'deployments')) === baseline + 1, {
      message: 'the apiserver sees one watch on deployments',
      timeoutMs: 30_000,
    });
    for (const [i, rec] of recs.entries()) {
      assert.deepEqual(rec.events, [`add:app-${i}:initial`], `registration ${i}: exactly one initial add`);
    }
    await client.patch(DEPLOYMENTS, ns, 'app-537', annotate('x'), 'merge');
    await client.patch(DEPLOYMENTS, ns, 'app-538', annotate('y'), 'merge');
    await waitFor(() => recs[538]?.events.includes('update:app-538:y'));
    for (const [i, rec] of recs.entries()) {
      const updates = rec.events.filter((e) => e.startsWith('update:'));
      if (i === 537) assert.deepEqual(updates, ['update:app-537:x']);
      else if (i === 538) assert.deepEqual(updates, ['update:app-538:y']);
      else assert.deepEqual(updates, [], `registration ${i} got another object's event`);
    }
  });

  it('a slow initial list through a throttled proxy is not restarted by the monitor', async (t) => {
    const cluster = await testCluster();
    const ns = await testNamespace(t, 'slow');
    const admin = await adminClient(t);
    // ~1.2 MB of ConfigMaps, listed at 200 kB/s: a list of several seconds in one page.
    const blob = 'x'.repeat(40_000);
    await forEachLimit(
      Array.from({ length: 30 }, (_, i) => `cm-${i}`),
      8,
      (name) =>
        admin.create(CONFIGMAPS, ns, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name },
          data: { blob },
        }),
    );
    const url = new URL(cluster.apiserverUrl);
    const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    t.after(() => proxy.close());
    const { manager, registry, counting } = await managerFor(t, {
      server: proxy.url,
      sharing: { mode: 'namespace' },
      monitorPeriodMs: 200,
      // The watch idle bound is far shorter than the list: only a monitor that tells a slow list
      // from a stalled watch leaves it alone (upstream restarted every unsynced informer: PR #303).
      health: { idleBoundMs: 1_000, listDeadlineMs: 60_000 },
    });
    manager.start();
    proxy.setThrottle(200_000);
    const started = Date.now();
    await manager.add(watchOf('es-1', ns, 'cm-7', {}, CONFIGMAPS));
    proxy.setThrottle(undefined);
    const listMs = Date.now() - started;
    t.diagnostic(`initial list through the throttled proxy took ${listMs} ms`);
    assert.ok(
      listMs > 2_000,
      'the list really was slow (longer than the idle bound and many monitor periods)',
    );
    assert.equal(counting.lists, 1, 'listed once: never restarted');
    const metric = await registry.getSingleMetric('elasti_operator_informer_monitor_restarts_total')?.get();
    assert.equal(metric?.values.reduce((s, v) => s + v.value, 0) ?? 0, 0);
    assert.equal(manager.upstreams()[0]?.status.relists, 0);
  });

  it('a silently hung watch (paused proxy) is detected and restarted within the idle bound; nothing is lost', async (t) => {
    const { ns, admin, proxy, startTicker } = await hungWatchSetup(t, 'hung');
    const idleBoundMs = 3_000;
    const { manager, counting } = await managerFor(t, {
      server: proxy.url,
      sharing: { mode: 'namespace' },
      monitorPeriodMs: 250,
      health: { idleBoundMs },
      restartBackoff: { initialMs: 2_000 },
    });
    const rec = recorder();
    await manager.add(watchOf('es-1', ns, 'web', rec.handlers));
    manager.start();
    // Keep the healthy watch busy, so only the pause can make it idle.
    startTicker();
    await waitFor(() => (manager.upstreams()[0]?.status.lastEventAt ?? 0) > Date.now() - 1_000);
    assert.equal(manager.upstreams()[0]?.monitorRestarts, 0, 'a busy healthy watch is left alone');
    const watchesBefore = counting.started;
    proxy.pause();
    const pausedAt = Date.now();
    await admin.patch(DEPLOYMENTS, ns, 'web', annotate('during-pause'), 'merge');
    await waitFor(() => (manager.upstreams()[0]?.monitorRestarts ?? 0) >= 1, {
      message: 'monitor restart',
      timeoutMs: idleBoundMs + 10_000,
    });
    const detectedMs = Date.now() - pausedAt;
    t.diagnostic(`hung watch restarted ${detectedMs} ms after the pause (idle bound ${idleBoundMs} ms)`);
    assert.ok(detectedMs >= idleBoundMs - 500, 'not before the idle bound');
    proxy.resume();
    await waitFor(() => rec.events.includes('update:web:during-pause'), {
      message: 'the write made during the pause arrives after recovery',
      timeoutMs: 60_000,
    });
    assert.ok(counting.started > watchesBefore, 'a new watch was opened');
    assert.equal(rec.events.filter((e) => e === 'update:web:during-pause').length, 1);
  });

  it('deleting the watched namespace: the delete is delivered once, the watch is released, no restart loop', async (t) => {
    const ns = await testNamespace(t, 'doomed');
    const api = await rawApi(t);
    const { manager, registry, counting, client } = await managerFor(t, {
      sharing: { mode: 'per-name' },
      health: { targetCheckIntervalMs: 1 },
    });
    await createDeployments(client, ns, ['web']);
    const rec = recorder();
    await manager.add(watchOf('es-1', ns, 'web', rec.handlers));
    await api.ok('DELETE', `/api/v1/namespaces/${ns}`);
    // No controller-manager runs here: do what the namespace controller would (delete the
    // contents, then drop the finalizer).
    await client.delete(DEPLOYMENTS, ns, 'web');
    await waitFor(() => rec.events.includes('delete:web'));
    await api.ok('PUT', `/api/v1/namespaces/${ns}/finalize`, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns },
      spec: { finalizers: [] },
    });
    await waitFor(async () => (await api.call('GET', `/api/v1/namespaces/${ns}`)).status === 404);
    for (let i = 0; i < 5; i++) await manager.runHealthCheck();
    assert.deepEqual(rec.events, ['add:web:initial', 'delete:web']);
    assert.equal(manager.list()[0]?.state, 'TargetGone');
    assert.deepEqual(manager.upstreams(), [], 'watch released');
    await waitFor(() => counting.open === 0);
    const watchesOpened = counting.started;
    for (let i = 0; i < 5; i++) await manager.runHealthCheck();
    assert.equal(counting.started, watchesOpened, 'no watch reopened');
    const restarts = await registry.getSingleMetric('elasti_operator_informer_monitor_restarts_total')?.get();
    assert.equal(restarts?.values.reduce((s, v) => s + v.value, 0) ?? 0, 0);
  });

  it('the resolver informer delivers update and delete of the resolver Deployment', async (t) => {
    const ns = await testNamespace(t, 'resolver');
    const { manager, client } = await managerFor(t, { resolver: { namespace: ns } });
    await createDeployments(client, ns, ['elasti-resolver', 'other']);
    const rec = recorder();
    await manager.initializeResolverInformer(rec.handlers);
    await waitFor(() => rec.events.includes('add:elasti-resolver:initial'));
    await client.patch(DEPLOYMENTS, ns, 'other', annotate('o'), 'merge');
    await client.patch(DEPLOYMENTS, ns, 'elasti-resolver', annotate('r'), 'merge');
    await waitFor(() => rec.events.includes('update:elasti-resolver:r'));
    await client.delete(DEPLOYMENTS, ns, 'elasti-resolver');
    await waitFor(() => rec.events.includes('delete:elasti-resolver'));
    assert.deepEqual(rec.events, [
      'add:elasti-resolver:initial',
      'update:elasti-resolver:r',
      'delete:elasti-resolver',
    ]);
    assert.equal(manager.upstreams()[0]?.scope, 'resolver');
  });
});
