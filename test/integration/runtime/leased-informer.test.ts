/**
 * The informer Manager over the runtime's shared cache (`leasingInformerFactory`) on a real
 * apiserver: a Manager RequestWatch and a cache lease of the same GVR × namespace are ONE
 * apiserver watch (counted by the apiserver itself), it outlives whichever user lets go first
 * and ends with the last; and the health monitor's restart of a hung shared watch brings every
 * user — not only the Manager — the write it missed, once.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { Manager, type ManagerOptions } from '../../../src/informer/index.ts';
import { KubeClient, type KubeObject, type ResourceEventHandler } from '../../../src/kube/index.ts';
import { InformerCache, leasingInformerFactory } from '../../../src/runtime/index.ts';
import { rawApi, testCluster, testNamespace } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';
import {
  adminClient,
  apiserverWatches,
  CountingListerWatcher,
  createDeployments,
  DEPLOYMENTS,
  hungWatchSetup,
  kubeconfigFor,
  watchOf,
} from '../informer/support.ts';

/** Events as `kind:name:annotation v`, for comparing what each user saw. */
function recorder(): { events: string[]; handlers: ResourceEventHandler<KubeObject> } {
  const events: string[] = [];
  return {
    events,
    handlers: {
      onAdd: (o) => void events.push(`add:${o.metadata.name}`),
      onUpdate: (_old, o) => void events.push(`update:${o.metadata.name}:${o.metadata.annotations?.v ?? ''}`),
      onDelete: (o) => void events.push(`delete:${o.metadata.name}`),
    },
  };
}

const annotate = (v: string) => ({ metadata: { annotations: { v } } });

/**
 * One client (through `server` when given), its watches counted, a cache over it and a
 * Manager whose informers are leases on that cache. Stopped Manager first, then the cache, then
 * the client (a graceful close would wait for open watches).
 */
async function sharedSetup(
  t: TestContext,
  options: Partial<ManagerOptions> & { server?: string } = {},
): Promise<{ manager: Manager; cache: InformerCache; counting: CountingListerWatcher }> {
  const cluster = await testCluster();
  const { server, ...managerOptions } = options;
  const client = await KubeClient.create(server ? kubeconfigFor(t, cluster, server) : cluster.kubeconfigPath);
  const counting = new CountingListerWatcher(client);
  const cache = new InformerCache({ lw: counting });
  const manager = new Manager({
    client,
    informerFactory: leasingInformerFactory(cache),
    sharing: { mode: 'namespace' },
    syncTimeoutMs: 60_000,
    ...managerOptions,
  });
  t.after(async () => {
    await manager.stop();
    await cache.stop();
    await client.close();
  });
  return { manager, cache, counting };
}

describe('the Manager over the shared informer cache', { concurrency: false }, () => {
  it('a Manager RequestWatch and a cache lease of the same GVR × namespace share ONE apiserver watch; it ends with the last user', async (t) => {
    const api = await rawApi(t);
    const ns = await testNamespace(t, 'lease-share');
    const admin = await adminClient(t);
    await createDeployments(admin, ns, ['web', 'api']);
    const { manager, cache, counting } = await sharedSetup(t);
    const before = await apiserverWatches(api, 'deployments');

    const viaManager = recorder();
    const key = await manager.add(watchOf('es-1', ns, 'web', viaManager.handlers));
    const lease = cache.acquire<KubeObject>({ gvr: DEPLOYMENTS, namespace: ns });
    const viaLease = recorder();
    lease.addEventHandler(viaLease.handlers);
    cache.start();
    await cache.waitForCacheSync(AbortSignal.timeout(60_000), [lease]);
    assert.deepEqual(cache.keys(), [lease.key], 'one informer in the cache, the Manager one');
    await waitFor(async () => (await apiserverWatches(api, 'deployments')) === before + 1, {
      message: 'one more WATCH on deployments at the apiserver',
    });
    assert.equal(counting.started, 1, 'one watch opened by us');
    assert.equal(counting.lists, 1, 'and one list');

    await admin.patch(DEPLOYMENTS, ns, 'web', annotate('1'), 'merge');
    await waitFor(
      () => viaManager.events.includes('update:web:1') && viaLease.events.includes('update:web:1'),
      {
        message: 'both users see the change',
      },
    );

    // The Manager lets go first: the watch stays for the lease, which keeps getting events.
    await manager.stopInformer(key);
    assert.deepEqual(manager.upstreams(), [], "the Manager's upstream is gone");
    assert.equal(cache.size, 1, 'the shared informer is not');
    await admin.patch(DEPLOYMENTS, ns, 'web', annotate('2'), 'merge');
    await waitFor(() => viaLease.events.includes('update:web:2'), { message: 'the lease still gets events' });
    assert.equal(await apiserverWatches(api, 'deployments'), before + 1, 'still one watch');
    assert.equal(counting.started, 1, 'never reopened');
    assert.ok(!viaManager.events.includes('update:web:2'), 'no event after the Manager stopped its watch');

    await lease.release();
    assert.equal(cache.size, 0);
    await waitFor(async () => (await apiserverWatches(api, 'deployments')) === before, {
      message: 'the watch ended at the apiserver',
    });
    assert.equal(counting.open, 0);
  });

  it('a hung shared watch: the monitor restarts it, and the Manager and the other user each get the missed write once', async (t) => {
    const { ns, admin, proxy, startTicker } = await hungWatchSetup(t, 'lease-hung');
    const idleBoundMs = 3_000;
    const { manager, cache, counting } = await sharedSetup(t, {
      server: proxy.url,
      monitorPeriodMs: 250,
      health: { idleBoundMs },
      restartBackoff: { initialMs: 2_000 },
    });
    const lease = cache.acquire<KubeObject>({ gvr: DEPLOYMENTS, namespace: ns });
    t.after(() => lease.release());
    const viaLease = recorder();
    lease.addEventHandler(viaLease.handlers);
    const viaManager = recorder();
    await manager.add(watchOf('es-1', ns, 'web', viaManager.handlers));
    manager.start();
    cache.start();
    await cache.waitForCacheSync(AbortSignal.timeout(60_000), [lease]);
    assert.equal(counting.started, 1, 'one shared watch');
    startTicker();
    await waitFor(() => (manager.upstreams()[0]?.status.lastEventAt ?? 0) > Date.now() - 1_000);
    const watchesBefore = counting.started;

    proxy.pause();
    await admin.patch(DEPLOYMENTS, ns, 'web', annotate('during-pause'), 'merge');
    await waitFor(() => (manager.upstreams()[0]?.monitorRestarts ?? 0) >= 1, {
      message: 'monitor restart',
      timeoutMs: idleBoundMs + 10_000,
    });
    proxy.resume();
    await waitFor(
      () =>
        viaManager.events.includes('update:web:during-pause') &&
        viaLease.events.includes('update:web:during-pause'),
      { message: 'the write made during the pause reaches both users after recovery', timeoutMs: 60_000 },
    );
    assert.ok(counting.started > watchesBefore, 'a new watch was opened');
    await waitFor(() => counting.open === 1, { message: 'still one shared watch, not one per user' });
    assert.equal(cache.size, 1);
    for (const [who, rec] of [
      ['Manager', viaManager],
      ['lease', viaLease],
    ] as const) {
      assert.equal(rec.events.filter((e) => e === 'update:web:during-pause').length, 1, `${who}: once`);
      assert.ok(!rec.events.includes('delete:web'), `${who}: no spurious delete from the relist`);
    }
  });
});
