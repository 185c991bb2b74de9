import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AddCancelledError,
  AmbiguousKeyError,
  InformerAbortedError,
  InformerNotFoundError,
  InformerSyncTimeoutError,
  InvalidOptionError,
  InvalidRequestWatchError,
  KeyConflictError,
  ManagerStoppedError,
  ResolverNotConfiguredError,
  TargetCheckError,
  TargetNotFoundError,
} from '../../../src/informer/errors.ts';
import { Manager } from '../../../src/informer/manager.ts';
import { KubeApiError } from '../../../src/kube/core/errors.ts';
import type { KubeObject } from '../../../src/kube/core/types.ts';
import { DEPLOYMENTS, recorder, SERVICES } from './fakes.ts';
import { metricSum, seriesCount, settle, setup, waitFor, watchOf } from './helpers.ts';

const COUNT = 'elasti_operator_informer_count';
const COUNTER = 'elasti_operator_informer_counter';
const HANDLER_COUNTER = 'elasti_operator_informer_handler_counter';

describe('Manager.add', () => {
  it('verifies the target, resolves once synced, delivers the initial add, counts it', async (t) => {
    const { cluster, registry, manager } = setup(t);
    const obj = cluster.put(DEPLOYMENTS, 'team-a', 'web');
    const rec = recorder();
    const key = await manager.add(watchOf('es1', 'web', rec.handlers));
    assert.equal(key, 'es1/team-a/deployments.apps/web');
    assert.deepEqual(cluster.gets, ['apps/v1/deployments team-a/web']);
    assert.deepEqual(rec.events, [`add:web:${obj.metadata.resourceVersion}:initial`]);
    const [info] = manager.list();
    assert.equal(info?.state, 'Active');
    assert.deepEqual(info?.requester, { name: 'es1', namespace: 'team-a' });
    assert.equal(await metricSum(registry, COUNT, { informer_name: key }), 1);
    assert.equal(await metricSum(registry, COUNTER, { crd_name: 'es1', action: 'add', error: 'success' }), 1);
  });

  it('is idempotent per key: a second add changes nothing and its handlers are not used', async (t) => {
    const { cluster, registry, manager } = setup(t);
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    const first = recorder();
    const second = recorder();
    const k1 = await manager.add(watchOf('es1', 'web', first.handlers));
    const k2 = await manager.add(watchOf('es1', 'web', second.handlers));
    assert.equal(k1, k2);
    assert.equal(cluster.informers.length, 1);
    assert.equal(manager.list().length, 1);
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    assert.equal(first.events.length, 2);
    assert.deepEqual(second.events, []);
    assert.equal(await metricSum(registry, COUNT), 1);
    assert.equal(await metricSum(registry, COUNTER, { action: 'add', error: 'success' }), 2);
  });

  it('concurrent adds of one key share one attempt: one GET, one informer, one registration', async (t) => {
    const { cluster, manager } = setup(t, { cluster: { asyncDelivery: true } });
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    const keys = await Promise.all(Array.from({ length: 20 }, () => manager.add(watchOf('es1', 'web'))));
    assert.equal(new Set(keys).size, 1);
    assert.equal(cluster.gets.length, 1);
    assert.equal(cluster.informers.length, 1);
    assert.equal(manager.list().length, 1);
  });

  it('a missing target rejects with TargetNotFoundError and leaves nothing behind', async (t) => {
    const { cluster, registry, manager } = setup(t);
    const error = await manager.add(watchOf('es1', 'nope')).then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof TargetNotFoundError);
    assert.equal(error.status, 404);
    assert.equal(error.key, 'es1/team-a/deployments.apps/nope');
    assert.deepEqual(error.gvr, DEPLOYMENTS);
    assert.equal(error.namespace, 'team-a');
    assert.equal(error.objectName, 'nope');
    assert.match(error.message, /deployments\.v1\.apps team-a\/nope/);
    assert.deepEqual(manager.list(), []);
    assert.deepEqual(manager.upstreams(), []);
    assert.equal(cluster.informers.length, 0);
    assert.equal(await seriesCount(registry, COUNT), 0);
    assert.equal(await metricSum(registry, COUNTER, { action: 'add', error: 'TargetNotFoundError' }), 1);
    await assert.rejects(manager.stopInformer('es1/team-a/deployments.apps/nope'), InformerNotFoundError);
  });

  it('allowMissing registers a watch for a target that does not exist yet; its creation is an onAdd', async (t) => {
    const { cluster, registry, manager } = setup(t);
    const rec = recorder();
    const key = await manager.add(watchOf('es1', 'later', rec.handlers), { allowMissing: true });
    assert.equal(key, 'es1/team-a/deployments.apps/later');
    assert.deepEqual(rec.events, []);
    const [info] = manager.list();
    assert.equal(info?.state, 'Active');
    assert.equal(cluster.informers.length, 1);
    assert.equal(await metricSum(registry, COUNTER, { action: 'add', error: 'success' }), 1);
    const obj = cluster.put(DEPLOYMENTS, 'team-a', 'later');
    await waitFor(() => rec.events.length === 1);
    assert.deepEqual(rec.events, [`add:later:${obj.metadata.resourceVersion}`]);
  });

  it('allowMissing still rejects other GET failures, and must be a boolean', async (t) => {
    const { cluster, manager } = setup(t);
    cluster.getError = new KubeApiError({ status: 403, verb: 'get', url: '/x', reason: 'Forbidden' });
    await assert.rejects(manager.add(watchOf('es1', 'web'), { allowMissing: true }), TargetCheckError);
    await assert.rejects(
      manager.add(watchOf('es1', 'web'), { allowMissing: 'yes' as unknown as boolean }),
      InvalidOptionError,
    );
    assert.deepEqual(manager.list(), []);
  });

  it('other GET failures reject with TargetCheckError carrying the HTTP status', async (t) => {
    const { cluster, manager } = setup(t);
    cluster.getError = new KubeApiError({ status: 403, verb: 'get', url: '/x', reason: 'Forbidden' });
    await assert.rejects(
      manager.add(watchOf('es1', 'web')),
      (e: unknown) =>
        e instanceof TargetCheckError && e.status === 403 && e.key === 'es1/team-a/deployments.apps/web',
    );
    assert.deepEqual(manager.list(), []);
    assert.equal(cluster.informers.length, 0);
  });

  it('a sync timeout rejects with InformerSyncTimeoutError (with the last HTTP status) and stops the informer', async (t) => {
    const { cluster, registry, manager } = setup(t, { cluster: { autoList: false } });
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    const pending = manager.add(watchOf('es1', 'web'), { timeoutMs: 100 });
    await waitFor(() => cluster.informers.length === 1);
    const informer = cluster.informers[0];
    assert.ok(informer);
    informer.statusOverride = {
      phase: 'Backoff',
      lastError: new KubeApiError({ status: 403, verb: 'list', url: '/x' }),
      consecutiveFailures: 2,
    };
    await assert.rejects(
      pending,
      (e: unknown) => e instanceof InformerSyncTimeoutError && e.status === 403 && e.timeoutMs === 100,
    );
    assert.equal(informer.stopped, true);
    assert.deepEqual(manager.list(), []);
    assert.deepEqual(manager.upstreams(), []);
    assert.equal(await seriesCount(registry, COUNT), 0);
  });

  it("the caller's signal aborts the add with InformerAbortedError and nothing is left", async (t) => {
    const { cluster, manager } = setup(t, { cluster: { autoList: false } });
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    const controller = new AbortController();
    const pending = manager.add(watchOf('es1', 'web'), { signal: controller.signal });
    await waitFor(() => cluster.informers.length === 1);
    controller.abort(new Error('reconcile cancelled'));
    await assert.rejects(pending, InformerAbortedError);
    assert.equal(cluster.informers[0]?.stopped, true);
    assert.deepEqual(manager.list(), []);
    // A fresh attempt works.
    cluster.informers.length = 0;
    const again = manager.add(watchOf('es1', 'web'));
    await waitFor(() => cluster.informers.length === 1);
    cluster.informers[0]?.list();
    assert.equal(await again, 'es1/team-a/deployments.apps/web');
  });

  it("one joiner's signal releases only that joiner", async (t) => {
    const { cluster, manager } = setup(t, { cluster: { autoList: false } });
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    const first = manager.add(watchOf('es1', 'web'));
    const controller = new AbortController();
    const joiner = manager.add(watchOf('es1', 'web'), { signal: controller.signal });
    controller.abort();
    await assert.rejects(joiner, InformerAbortedError);
    await waitFor(() => cluster.informers.length === 1);
    cluster.informers[0]?.list();
    assert.equal(await first, 'es1/team-a/deployments.apps/web');
    assert.equal(manager.list()[0]?.state, 'Active');
  });

  it('rejects malformed requests and options with typed errors', async (t) => {
    const { manager } = setup(t);
    await assert.rejects(
      manager.add({ ...watchOf('es1', 'web'), resourceName: 'a/b' }),
      InvalidRequestWatchError,
    );
    await assert.rejects(manager.add(watchOf('es1', 'web'), { timeoutMs: -1 }), InvalidOptionError);
    assert.throws(() => new Manager({ client: {} as never }), InvalidOptionError);
    assert.throws(
      () =>
        new Manager({
          client: { get: async () => ({}) as never },
          informerFactory: () => ({}) as never,
          sharing: { mode: 'auto', autoThreshold: 0 },
        }),
      InvalidOptionError,
    );
  });

  it('refuses a second requester whose key would collide (same name, other namespace)', async (t) => {
    const { cluster, manager } = setup(t);
    cluster.put(DEPLOYMENTS, 'shared', 'web');
    await manager.add(watchOf('es', 'web', {}, { namespace: 'shared', esNamespace: 'team-a' }));
    await assert.rejects(
      manager.add(watchOf('es', 'web', {}, { namespace: 'shared', esNamespace: 'team-b' })),
      (e: unknown) => e instanceof KeyConflictError && e.holder === 'team-a/es',
    );
  });
});

describe('Manager.stopInformer / stopForCRD', () => {
  it('stopInformer removes exactly that registration; the last one out stops the informer', async (t) => {
    const { cluster, registry, manager } = setup(t);
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    const a = recorder();
    const b = recorder();
    const ka = await manager.add(watchOf('es-a', 'web', a.handlers));
    const kb = await manager.add(watchOf('es-b', 'web', b.handlers));
    assert.equal(cluster.live().length, 1, 'both requesters share one informer');
    await manager.stopInformer(ka);
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    assert.equal(a.events.length, 1);
    assert.equal(b.events.length, 2);
    assert.equal(cluster.live().length, 1);
    assert.equal(await metricSum(registry, COUNT), 1);
    await manager.stopInformer(kb);
    assert.equal(cluster.live().length, 0);
    assert.deepEqual(manager.upstreams(), []);
    assert.equal(await seriesCount(registry, COUNT), 0);
    assert.equal(await metricSum(registry, COUNTER, { action: 'stop', error: 'success' }), 2);
  });

  it('stopInformer of an unknown key rejects with InformerNotFoundError and counts the failure', async (t) => {
    const { registry, manager } = setup(t);
    await assert.rejects(
      manager.stopInformer('es1/team-a/deployments.apps/web'),
      (e: unknown) => e instanceof InformerNotFoundError && e.key === 'es1/team-a/deployments.apps/web',
    );
    assert.equal(
      await metricSum(registry, COUNTER, { crd_name: 'es1', action: 'stop', error: 'InformerNotFoundError' }),
      1,
    );
  });

  it('stopInformer accepts the upstream key spelling when it is unambiguous', async (t) => {
    const { cluster, manager } = setup(t);
    const crdDeployments = { group: 'example.com', version: 'v1', resource: 'deployments' };
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    cluster.put(crdDeployments, 'team-a', 'web');
    cluster.put(SERVICES, 'team-a', 'web');
    await manager.add(watchOf('es1', 'web'));
    await manager.add(watchOf('es1', 'web', {}, { gvr: crdDeployments }));
    await manager.add(watchOf('es1', 'web', {}, { gvr: SERVICES }));
    assert.equal(manager.list().length, 3, 'same plural in two groups: two distinct keys');
    await assert.rejects(manager.stopInformer('es1/team-a/deployments/web'), AmbiguousKeyError);
    await manager.stopInformer('es1/team-a/deployments.example.com/web');
    await manager.stopInformer('ES1/team-a/deployments/web');
    await manager.stopInformer('es1/team-a/services/web');
    assert.deepEqual(manager.list(), []);
  });

  it("stopForCRD removes one requester's registrations; another CRD watching the same objects keeps its events", async (t) => {
    const { cluster, manager } = setup(t);
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    cluster.put(SERVICES, 'team-a', 'web-svc');
    const gone = recorder();
    const kept = recorder();
    await manager.add(watchOf('es-1', 'web', gone.handlers));
    await manager.add(watchOf('es-1', 'web-svc', gone.handlers, { gvr: SERVICES }));
    await manager.add(watchOf('es-2', 'web', kept.handlers));
    // Same name in another namespace: not this requester.
    cluster.put(DEPLOYMENTS, 'team-b', 'web');
    await manager.add(watchOf('es-1', 'web', {}, { namespace: 'team-b' }));
    const stopped = await manager.stopForCRD('ES-1', 'team-a');
    assert.deepEqual(stopped.sort(), ['es-1/team-a/deployments.apps/web', 'es-1/team-a/services/web-svc']);
    const before = gone.events.length;
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    cluster.put(SERVICES, 'team-a', 'web-svc');
    assert.equal(gone.events.length, before);
    assert.equal(kept.events.at(-1)?.startsWith('update:web:'), true);
    assert.deepEqual(
      manager
        .list()
        .map((r) => r.key)
        .sort(),
      ['es-1/team-b/deployments.apps/web', 'es-2/team-a/deployments.apps/web'],
    );
    assert.deepEqual(await manager.stopForCRD('nobody', 'team-a'), []);
  });

  it('stopInformer during an add in progress cancels it (AddCancelledError) and leaves nothing', async (t) => {
    const { cluster, manager } = setup(t);
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    let open: () => void = () => {};
    cluster.getGate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const pending = manager.add(watchOf('es1', 'web'));
    await waitFor(() => cluster.gets.length === 1);
    await manager.stopInformer('es1/team-a/deployments.apps/web');
    open();
    await assert.rejects(pending, AddCancelledError);
    assert.deepEqual(manager.list(), []);
    assert.equal(cluster.live().length, 0);
  });
});

describe('dispatch by name', () => {
  it('1,000 RequestWatches on 1,000 Deployments: one upstream informer; an update to #537 reaches only its handlers', async (t) => {
    const { cluster, manager } = setup(t, { sharing: { mode: 'auto', autoThreshold: 25 } });
    const recorders = Array.from({ length: 1000 }, (_, i) => {
      cluster.put(DEPLOYMENTS, 'team-a', `app-${i}`);
      return recorder();
    });
    for (let i = 0; i < 1000; i++) await manager.add(watchOf(`es-${i}`, `app-${i}`, recorders[i]?.handlers));
    await waitFor(() => cluster.live().length === 1, {
      message: 'per-name informers handed over and stopped',
    });
    const [upstream] = manager.upstreams();
    assert.equal(upstream?.scope, 'namespace');
    assert.equal(upstream?.names, 1000);
    assert.equal(cluster.live()[0]?.target.fieldSelector, undefined);
    const before = recorders.map((r) => r.events.length);
    const updated = cluster.put(DEPLOYMENTS, 'team-a', 'app-537', { spec: { replicas: 3 } });
    for (let i = 0; i < 1000; i++) {
      const r = recorders[i];
      assert.ok(r);
      if (i === 537) {
        assert.equal(r.events.length, (before[i] ?? 0) + 1);
        assert.match(
          r.events.at(-1) ?? '',
          new RegExp(`^update:app-537:\\d+>${updated.metadata.resourceVersion}$`),
        );
      } else {
        assert.equal(r.events.length, before[i], `registration ${i} got an event it should not`);
      }
    }
    // Every registration saw exactly one initial add: none lost, none repeated during the migration.
    for (let i = 0; i < 1000; i++) {
      assert.equal(recorders[i]?.events.filter((e) => e.startsWith('add:')).length, 1, `registration ${i}`);
    }
  });

  it('a failing handler affects neither other handlers nor later events; it is counted', async (t) => {
    const { cluster, registry, manager } = setup(t);
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    const ok = recorder();
    let calls = 0;
    await manager.add(
      watchOf('es-bad', 'web', {
        onUpdate: () => {
          calls++;
          throw new TypeError('boom');
        },
      }),
    );
    await manager.add(watchOf('es-ok', 'web', ok.handlers));
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    assert.equal(calls, 2);
    assert.equal(ok.events.length, 3);
    assert.equal(
      await metricSum(registry, HANDLER_COUNTER, { crd_name: 'team-a/es-bad', error: 'TypeError' }),
      2,
    );
    assert.equal(
      await metricSum(registry, HANDLER_COUNTER, { crd_name: 'team-a/es-ok', error: 'success' }),
      3,
    );
  });

  it('a slow async handler holds back only its own registration, which still sees its events in order', async (t) => {
    const { cluster, manager } = setup(t);
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slowSeen: string[] = [];
    const fast = recorder();
    await manager.add(
      watchOf('es-slow', 'web', {
        onUpdate: async (_o, n) => {
          await gate;
          slowSeen.push(n.metadata.resourceVersion ?? '');
        },
      }),
    );
    await manager.add(watchOf('es-fast', 'web', fast.handlers));
    const rvs = [1, 2, 3].map(() => cluster.put(DEPLOYMENTS, 'team-a', 'web').metadata.resourceVersion);
    assert.equal(fast.events.length, 4, 'the fast registration got all three updates at once');
    assert.deepEqual(slowSeen, []);
    release();
    await waitFor(() => slowSeen.length === 3);
    assert.deepEqual(slowSeen, rvs);
  });

  it('handlers get the live objects, not copies captured at registration', async (t) => {
    const { cluster, manager } = setup(t);
    cluster.put(DEPLOYMENTS, 'team-a', 'web', { spec: { replicas: 1 } });
    const seen: KubeObject[] = [];
    await manager.add(watchOf('es1', 'web', { onUpdate: (_o, n) => void seen.push(n) }));
    const latest = cluster.put(DEPLOYMENTS, 'team-a', 'web', { spec: { replicas: 5 } });
    assert.equal(seen[0], latest);
  });

  it('a late registration on a shared informer gets a consistent stream: one replayed add, then chained updates', async (t) => {
    const { cluster, manager } = setup(t, {
      cluster: { asyncDelivery: true },
      sharing: { mode: 'namespace' },
    });
    cluster.put(DEPLOYMENTS, 'team-a', 'a');
    const first = cluster.put(DEPLOYMENTS, 'team-a', 'b');
    await manager.add(watchOf('es-a', 'a'));
    const rec = recorder();
    // Changes still queued in the engine when the late registration arrives must neither be
    // lost nor repeated: the replay is the dispatcher's view, not the (fresher) cache.
    cluster.put(DEPLOYMENTS, 'team-a', 'b');
    await manager.add(watchOf('es-b', 'b', rec.handlers));
    const last = cluster.put(DEPLOYMENTS, 'team-a', 'b');
    await waitFor(() => rec.events.at(-1)?.endsWith(`>${last.metadata.resourceVersion}`));
    const [replay, ...updates] = rec.events;
    assert.match(replay ?? '', /^add:b:\d+:initial$/);
    let rv = replay?.split(':')[2];
    assert.ok(Number(rv) >= Number(first.metadata.resourceVersion));
    for (const update of updates) {
      const [, , chain] = update.split(':');
      const [from, to] = (chain ?? '').split('>');
      assert.equal(from, rv, `update ${update} continues the previous state`);
      rv = to;
    }
    assert.equal(rv, last.metadata.resourceVersion);
    assert.equal(cluster.informers.length, 1);
  });
});

describe('Manager lifecycle', () => {
  it('stop() cancels adds in progress, stops every informer and the monitor, and refuses new work', async (t) => {
    const { cluster, registry, manager } = setup(t, { monitorPeriodMs: 10 });
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    cluster.put(DEPLOYMENTS, 'team-a', 'other');
    await manager.add(watchOf('es1', 'web'));
    manager.start();
    let open: () => void = () => {};
    cluster.getGate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const pending = manager.add(watchOf('es2', 'other'));
    await waitFor(() => cluster.gets.length === 2);
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    await manager.stop();
    open();
    await assert.rejects(pending, ManagerStoppedError);
    assert.equal(cluster.live().length, 0);
    assert.deepEqual(manager.list(), []);
    assert.deepEqual(manager.upstreams(), []);
    assert.equal(await seriesCount(registry, COUNT), 0);
    const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    assert.ok(timersAfter < timersBefore, 'the monitor interval and the add timeout are cleared');
    await assert.rejects(manager.add(watchOf('es3', 'web')), ManagerStoppedError);
    await assert.rejects(manager.stopInformer('x/y/z/w'), ManagerStoppedError);
    assert.throws(() => manager.start(), ManagerStoppedError);
    await manager.stop(); // idempotent
  });
});

describe('resolver informer', () => {
  it('watches the configured resolver Deployment by name and delivers add/update/delete', async (t) => {
    const { cluster, manager } = setup(t, { resolver: { namespace: 'elasti' } });
    cluster.put(DEPLOYMENTS, 'elasti', 'elasti-resolver');
    cluster.put(DEPLOYMENTS, 'elasti', 'unrelated');
    const rec = recorder();
    await manager.initializeResolverInformer(rec.handlers);
    const informer = cluster.informers[0];
    assert.equal(informer?.target.fieldSelector, 'metadata.name=elasti-resolver');
    assert.equal(informer?.target.namespace, 'elasti');
    cluster.put(DEPLOYMENTS, 'elasti', 'elasti-resolver');
    cluster.put(DEPLOYMENTS, 'elasti', 'unrelated');
    cluster.remove(DEPLOYMENTS, 'elasti', 'elasti-resolver');
    assert.deepEqual(
      rec.events.map((e) => e.split(':')[0]),
      ['add', 'update', 'delete'],
    );
    assert.equal(manager.upstreams().find((u) => u.scope === 'resolver')?.health, 'Healthy');
    // Re-initialising replaces the previous informer.
    await manager.initializeResolverInformer(recorder().handlers);
    assert.equal(informer?.stopped, true);
    assert.equal(manager.upstreams().filter((u) => u.scope === 'resolver').length, 1);
  });

  it('without config rejects with ResolverNotConfiguredError; a sync timeout leaves nothing running', async (t) => {
    const plain = setup(t);
    await assert.rejects(plain.manager.initializeResolverInformer({}), ResolverNotConfiguredError);
    const { cluster, manager } = setup(t, {
      resolver: { namespace: 'elasti', deploymentName: 'r' },
      cluster: { autoList: false },
    });
    await assert.rejects(manager.initializeResolverInformer({}, { timeoutMs: 50 }), InformerSyncTimeoutError);
    assert.equal(cluster.live().length, 0);
    assert.deepEqual(manager.upstreams(), []);
  });
});

describe('metrics', () => {
  it('the upstream watch gauge counts informers by scope and phase', async (t) => {
    const { cluster, registry, manager } = setup(t, { sharing: { mode: 'per-name' } });
    cluster.put(DEPLOYMENTS, 'team-a', 'a');
    cluster.put(DEPLOYMENTS, 'team-a', 'b');
    await manager.add(watchOf('es1', 'a'));
    await manager.add(watchOf('es2', 'a'));
    await manager.add(watchOf('es3', 'b'));
    await settle();
    assert.equal(
      await metricSum(registry, 'elasti_operator_informer_upstream_watches', {
        scope: 'name',
        phase: 'Watching',
      }),
      2,
    );
  });
});
