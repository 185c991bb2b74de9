import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import {
  type InformerReflectorOptions,
  InformerStartedError,
  InformerStoppedError,
  type ReflectorLike,
  SharedInformer,
  type SharedInformerOptions,
} from '../../../../src/kube/cache/informer.ts';
import type {
  KubeObject,
  ListWatchTarget,
  ReflectorStatus,
  ResourceEventHandler,
} from '../../../../src/kube/core/types.ts';
import { EngineMetrics } from '../../../../src/kube/metrics/metrics.ts';
import { FakeApiServer } from '../../../support/fake-api-server.ts';
import { waitFor } from '../../../support/wait.ts';

const target: ListWatchTarget = { gvr: { group: '', version: 'v1', resource: 'configmaps' } };

function cm(name: string, rv: string, data: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { namespace: 'ns', name, resourceVersion: rv },
    data,
  };
}

/** Stands in for the reflector: the test drives the sink directly. */
class FakeReflector implements ReflectorLike {
  readonly options: InformerReflectorOptions;
  started = 0;
  stopped = 0;
  restarts: string[] = [];
  phase: ReflectorStatus['phase'] = 'Idle';
  constructor(options: InformerReflectorOptions) {
    this.options = options;
  }
  start(): void {
    this.started++;
    this.phase = 'Listing';
  }
  async stop(): Promise<void> {
    this.stopped++;
    this.phase = 'Stopped';
  }
  restart(reason: string): void {
    this.restarts.push(reason);
  }
  status(): ReflectorStatus {
    return {
      phase: this.phase,
      phaseSince: 0,
      synced: false,
      lastSyncResourceVersion: undefined,
      lastEventAt: 1234,
      lastError: undefined,
      consecutiveFailures: 0,
      lists: 0,
      relists: 0,
      watchRestarts: 0,
    };
  }
  get sink() {
    return this.options.sink;
  }
}

function makeInformer(extra: Partial<SharedInformerOptions<KubeObject>> = {}) {
  const lw = new FakeApiServer();
  const reflectors: FakeReflector[] = [];
  const informer = new SharedInformer<KubeObject>({
    lw,
    target,
    reflectorFactory: (o) => {
      const r = new FakeReflector(o);
      reflectors.push(r);
      return r;
    },
    ...extra,
  });
  const reflector = () => {
    const r = reflectors[0];
    if (!r) throw new Error('reflector not built yet');
    return r;
  };
  return { informer, lw, reflectors, reflector };
}

function recorder(): { seen: string[]; handler: ResourceEventHandler<KubeObject> } {
  const seen: string[] = [];
  return {
    seen,
    handler: {
      onAdd: (o, initial) =>
        void seen.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}${initial ? ' initial' : ''}`),
      onUpdate: (a, b) =>
        void seen.push(
          a === b
            ? `resync ${b.metadata.name}@${b.metadata.resourceVersion}`
            : `update ${b.metadata.name}@${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`,
        ),
      onDelete: (o, info) =>
        void seen.push(`delete ${o.metadata.name}${info.finalStateUnknown ? ' unknown' : ''}`),
    },
  };
}

function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('SharedInformer lifecycle', () => {
  test('start builds one reflector wired to the informer and starts it; start is idempotent', () => {
    const { informer, reflectors, reflector, lw } = makeInformer({ reflector: { pageSize: 7 } });
    assert.equal(informer.name, 'configmaps.v1');
    assert.equal(informer.status().phase, 'Idle');
    informer.start();
    informer.start();
    assert.equal(reflectors.length, 1);
    const r = reflector();
    assert.equal(r.started, 1);
    assert.equal(r.options.lw, lw);
    assert.equal(r.options.target, target);
    assert.equal(r.options.name, 'configmaps.v1');
    assert.equal(r.options.pageSize, 7, 'reflector options pass through');
    assert.equal(informer.status().phase, 'Listing', 'status comes from the reflector');
    void informer.stop();
  });

  test('default name includes the namespace', () => {
    const i = new SharedInformer({
      lw: new FakeApiServer(),
      target: { ...target, namespace: 'team' },
    });
    assert.equal(i.name, 'configmaps.v1@team');
  });

  test('stop stops the reflector, is idempotent, and forbids restart and new handlers', async () => {
    const { informer, reflector } = makeInformer();
    informer.start();
    await Promise.all([informer.stop(), informer.stop()]);
    assert.equal(reflector().stopped, 1);
    assert.throws(() => informer.start(), InformerStoppedError);
    assert.throws(() => informer.addEventHandler({}), InformerStoppedError);
    assert.equal(informer.status().phase, 'Stopped');
  });

  test('stopping an informer that never started is fine', async () => {
    const { informer, reflectors } = makeInformer();
    await informer.stop();
    assert.equal(reflectors.length, 0);
    assert.equal(informer.status().phase, 'Stopped');
  });

  test('restart is forwarded to the reflector only while running', async () => {
    const { informer, reflector, reflectors } = makeInformer();
    informer.restart('too early');
    assert.equal(reflectors.length, 0);
    informer.start();
    informer.restart('stale');
    assert.deepEqual(reflector().restarts, ['stale']);
    await informer.stop();
    informer.restart('too late');
    assert.deepEqual(reflector().restarts, ['stale']);
  });

  test('addIndexers only before start', async () => {
    const { informer } = makeInformer();
    informer.addIndexers({ byName: (o) => [o.metadata.name ?? ''] });
    informer.start();
    assert.throws(() => informer.addIndexers({ other: () => [] }), InformerStartedError);
    informer.store.byIndex('byName', 'x');
    await informer.stop();
  });

  test('bad options are typed errors', () => {
    assert.throws(
      () => new SharedInformer(undefined as unknown as SharedInformerOptions<KubeObject>),
      TypeError,
    );
    assert.throws(
      () => new SharedInformer({ target } as unknown as SharedInformerOptions<KubeObject>),
      TypeError,
    );
    assert.throws(
      () =>
        new SharedInformer({
          lw: new FakeApiServer(),
        } as unknown as SharedInformerOptions<KubeObject>),
      TypeError,
    );
  });

  test('stop leaves no timers behind (resync timer included)', async () => {
    const before = timers();
    const { informer, reflector } = makeInformer();
    informer.addEventHandler({}, { resyncPeriodMs: 60_000 });
    informer.start();
    reflector().sink.replace([cm('a', '1')], '1');
    assert.equal(timers(), before + 1, 'one resync timer while running');
    await informer.stop();
    assert.equal(timers(), before);
    assert.equal(informer.handlerCount(), 0, 'handlers dropped');
  });
});

describe('SharedInformer events', () => {
  test('list then watch events reach handlers in order; cache follows', async () => {
    const { informer, reflector } = makeInformer();
    const r = recorder();
    const reg = informer.addEventHandler(r.handler);
    informer.start();
    const { sink } = reflector();
    assert.equal(informer.hasSynced(), false);
    sink.replace([cm('a', '1'), cm('b', '2')], '2');
    assert.equal(informer.hasSynced(), true);
    sink.apply('MODIFIED', cm('a', '3'));
    sink.apply('ADDED', cm('c', '4'));
    sink.apply('DELETED', cm('b', '5'));
    await waitFor(() => r.seen.length === 5, { timeoutMs: 5000 });
    assert.deepEqual(r.seen, ['add a@1 initial', 'add b@2 initial', 'update a@1->3', 'add c@4', 'delete b']);
    assert.deepEqual(informer.store.keys().sort(), ['ns/a', 'ns/c']);
    assert.equal(reg.hasSynced(), true);
    await informer.stop();
  });

  test('a relist after a gap yields RV-only updates and final-state-unknown deletes', async () => {
    const { informer, reflector } = makeInformer();
    const r = recorder();
    informer.addEventHandler(r.handler);
    informer.start();
    const { sink } = reflector();
    sink.replace([cm('a', '1'), cm('b', '2'), cm('c', '3')], '3');
    sink.replace([cm('a', '1'), cm('b', '9'), cm('d', '10')], '10');
    await waitFor(() => r.seen.length === 6, { timeoutMs: 5000 });
    assert.deepEqual(r.seen.slice(3).sort(), ['add d@10 initial', 'delete c unknown', 'update b@2->9']);
    await informer.stop();
  });

  test('a handler added after sync gets synthetic initial adds, then live events, and syncs on delivery', async () => {
    const { informer, reflector } = makeInformer();
    informer.start();
    const { sink } = reflector();
    sink.replace([cm('a', '1'), cm('b', '2')], '2');
    const g = gate();
    const seen: string[] = [];
    const reg = informer.addEventHandler({
      onAdd: async (o, initial) => {
        await g.promise;
        seen.push(`add ${o.metadata.name}${initial ? ' initial' : ''}`);
      },
      onUpdate: (_a, b) => void seen.push(`update ${b.metadata.name}@${b.metadata.resourceVersion}`),
    });
    sink.apply('MODIFIED', cm('a', '3'));
    assert.equal(reg.hasSynced(), false, 'replay enqueued, not delivered');
    assert.equal(reg.queueDepth, 3);
    g.open();
    await waitFor(() => seen.length === 3, { timeoutMs: 5000 });
    assert.deepEqual(seen.slice(0, 2).sort(), ['add a initial', 'add b initial']);
    assert.equal(seen[2], 'update a@3');
    assert.equal(reg.hasSynced(), true);
    await informer.stop();
  });

  test('a handler registered before sync is synced only after the first list is delivered to it', async () => {
    const { informer, reflector } = makeInformer();
    const g = gate();
    const reg = informer.addEventHandler({ onAdd: () => g.promise });
    informer.start();
    assert.equal(reg.hasSynced(), false);
    reflector().sink.replace([cm('a', '1')], '1');
    assert.equal(informer.hasSynced(), true);
    assert.equal(reg.hasSynced(), false);
    g.open();
    await waitFor(() => reg.hasSynced(), { timeoutMs: 5000 });
    await informer.stop();
  });

  test('a throwing handler is counted in metrics and does not disturb others', async () => {
    const registry = new Registry();
    const metrics = new EngineMetrics(registry);
    const { informer, reflector } = makeInformer({ metrics, name: 'cms' });
    informer.addEventHandler({
      onAdd: () => {
        throw new Error('handler bug');
      },
    });
    const r = recorder();
    informer.addEventHandler(r.handler);
    informer.start();
    reflector().sink.replace([cm('a', '1'), cm('b', '1')], '1');
    await waitFor(() => r.seen.length === 2, { timeoutMs: 5000 });
    const text = await waitFor(
      async () => {
        const t = await registry.metrics();
        return t.includes('elasti_kube_handler_errors_total{informer="cms"} 2') ? t : undefined;
      },
      { timeoutMs: 5000 },
    );
    assert.match(text, /elasti_kube_store_objects\{informer="cms"\} 2/);
    await informer.stop();
    assert.doesNotMatch(await registry.metrics(), /informer="cms"/, 'series removed on stop');
  });

  test('events after stop are ignored', async () => {
    const { informer, reflector } = makeInformer();
    const r = recorder();
    informer.addEventHandler(r.handler);
    informer.start();
    const { sink } = reflector();
    sink.replace([cm('a', '1')], '1');
    await waitFor(() => r.seen.length === 1, { timeoutMs: 5000 });
    await informer.stop();
    sink.apply('ADDED', cm('z', '2'));
    assert.equal(informer.store.get('ns/z'), undefined);
  });

  test('remove() stops delivery to one handler only', async () => {
    const { informer, reflector } = makeInformer();
    const a = recorder();
    const b = recorder();
    const regA = informer.addEventHandler(a.handler);
    informer.addEventHandler(b.handler);
    assert.equal(informer.handlerCount(), 2);
    informer.start();
    const { sink } = reflector();
    sink.replace([cm('x', '1')], '1');
    await waitFor(() => a.seen.length === 1 && b.seen.length === 1, { timeoutMs: 5000 });
    regA.remove();
    regA.remove();
    assert.equal(informer.handlerCount(), 1);
    sink.apply('MODIFIED', cm('x', '2'));
    await waitFor(() => b.seen.length === 2, { timeoutMs: 5000 });
    assert.equal(a.seen.length, 1);
    await informer.stop();
  });

  test('transform and indexers options reach the cache', async () => {
    const { informer, reflector } = makeInformer({
      transform: (o) => ({ ...o, metadata: { ...o.metadata, labels: { seen: 'yes' } } }),
      indexers: { byData: (o) => Object.keys((o.data as Record<string, string>) ?? {}) },
    });
    informer.start();
    reflector().sink.replace([cm('a', '1', { k: 'v' })], '1');
    assert.equal(informer.store.get('ns/a')?.metadata.labels?.seen, 'yes');
    assert.deepEqual(informer.store.indexKeys('byData', 'k'), ['ns/a']);
    await informer.stop();
  });
});

describe('SharedInformer waitForSync', () => {
  test('resolves on first sync, and immediately afterwards', async () => {
    const { informer, reflector } = makeInformer();
    informer.start();
    const pending = informer.waitForSync();
    reflector().sink.replace([], '1');
    await pending;
    await informer.waitForSync();
    await informer.stop();
  });

  test('rejects with the abort reason', async () => {
    const { informer } = makeInformer();
    informer.start();
    const ac = new AbortController();
    const pending = informer.waitForSync(ac.signal);
    ac.abort(new Error('gave up'));
    await assert.rejects(pending, /gave up/);
    await assert.rejects(informer.waitForSync(AbortSignal.abort(new Error('already'))), /already/);
    await informer.stop();
  });

  test('rejects when the informer stops, and after it stopped', async () => {
    const { informer } = makeInformer();
    informer.start();
    const pending = informer.waitForSync();
    await informer.stop();
    await assert.rejects(pending, InformerStoppedError);
    await assert.rejects(informer.waitForSync(), InformerStoppedError);
  });
});

describe('SharedInformer resync', () => {
  test('replays the cache only to the handler whose period is due, without touching the ListerWatcher', async () => {
    const { informer, reflector, lw } = makeInformer();
    const due = recorder();
    const later = recorder();
    const never = recorder();
    informer.addEventHandler(due.handler, { resyncPeriodMs: 25 });
    informer.addEventHandler(later.handler, { resyncPeriodMs: 3_600_000 });
    informer.addEventHandler(never.handler);
    informer.start();
    reflector().sink.replace([cm('a', '1'), cm('b', '2')], '2');

    await waitFor(() => due.seen.filter((s) => s.startsWith('resync')).length >= 4, { timeoutMs: 5000 });
    const resyncs = due.seen.filter((s) => s.startsWith('resync'));
    assert.ok(resyncs.includes('resync a@1') && resyncs.includes('resync b@2'));
    assert.deepEqual(later.seen, ['add a@1 initial', 'add b@2 initial']);
    assert.deepEqual(never.seen, ['add a@1 initial', 'add b@2 initial']);
    assert.equal(lw.listCalls.length, 0);
    assert.equal(lw.watchCalls.length, 0);
    assert.deepEqual(reflector().restarts, [], 'resync is not a relist');
    await informer.stop();
  });

  test('resync replays the current cache state', async () => {
    const { informer, reflector } = makeInformer();
    const due = recorder();
    informer.addEventHandler(due.handler, { resyncPeriodMs: 20 });
    informer.start();
    const { sink } = reflector();
    sink.replace([cm('a', '1')], '1');
    sink.apply('MODIFIED', cm('a', '2'));
    await waitFor(() => due.seen.includes('resync a@2'), { timeoutMs: 5000 });
    assert.equal(due.seen.includes('resync a@1'), false);
    await informer.stop();
  });

  test('the timer is cleared when no handler needs it any more', async () => {
    const before = timers();
    const { informer, reflector } = makeInformer();
    informer.start();
    reflector().sink.replace([cm('a', '1')], '1');
    assert.equal(timers(), before, 'no resync handler: no timer');
    const reg = informer.addEventHandler({}, { resyncPeriodMs: 60_000 });
    assert.equal(timers(), before + 1);
    reg.remove();
    assert.equal(timers(), before);
    await informer.stop();
  });
});

/** Writes ConfigMap `ns/name` on the fake API server (a DELETED write removes it). */
function write(
  api: FakeApiServer,
  type: 'ADDED' | 'MODIFIED' | 'DELETED',
  name: string,
  data: Record<string, string> = {},
): void {
  if (type === 'DELETED') api.erase(target.gvr, 'ns', name);
  else
    api.upsert(target.gvr, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { namespace: 'ns', name },
      data,
    });
}

describe('SharedInformer with the real Reflector over an in-memory ListerWatcher', () => {
  test('list and watch events flow to handlers in order and the cache follows', async () => {
    const lw = new FakeApiServer({ initialRevision: 1 });
    write(lw, 'ADDED', 'a');
    write(lw, 'ADDED', 'b');
    const informer = new SharedInformer({ lw, target });
    const r = recorder();
    informer.addEventHandler(r.handler);
    informer.start();
    await informer.waitForSync(AbortSignal.timeout(5000));
    write(lw, 'MODIFIED', 'a', { v: '2' });
    write(lw, 'DELETED', 'b');
    write(lw, 'ADDED', 'c');
    await waitFor(() => r.seen.length === 5, { timeoutMs: 5000 });
    assert.deepEqual(r.seen, ['add a@2 initial', 'add b@3 initial', 'update a@2->4', 'delete b', 'add c@6']);
    assert.deepEqual(informer.store.keys().sort(), ['ns/a', 'ns/c']);
    await waitFor(() => informer.status().phase === 'Watching', { timeoutMs: 5000 });
    await informer.stop();
    assert.equal(informer.status().phase, 'Stopped');
  });

  test('resync makes no ListerWatcher call: one list, one watch, however many rounds', async () => {
    const lw = new FakeApiServer({ initialRevision: 1 });
    write(lw, 'ADDED', 'a');
    const informer = new SharedInformer({ lw, target });
    const due = recorder();
    informer.addEventHandler(due.handler, { resyncPeriodMs: 20 });
    informer.start();
    await informer.waitForSync(AbortSignal.timeout(5000));
    await waitFor(() => due.seen.filter((s) => s === 'resync a@2').length >= 5, { timeoutMs: 5000 });
    assert.equal(lw.listCalls.length, 1);
    assert.equal(lw.watchCalls.length, 1);
    await informer.stop();
  });

  test('stop leaves no active handles or timers', async () => {
    const before = process.getActiveResourcesInfo().sort();
    const lw = new FakeApiServer({ initialRevision: 1 });
    write(lw, 'ADDED', 'a');
    const informer = new SharedInformer({ lw, target });
    informer.addEventHandler({}, { resyncPeriodMs: 50 });
    informer.start();
    await informer.waitForSync(AbortSignal.timeout(5000));
    await waitFor(() => informer.status().phase === 'Watching', { timeoutMs: 5000 });
    await informer.stop();
    // A queued setImmediate from a delivery loop may still be pending for one turn.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(process.getActiveResourcesInfo().sort(), before);
  });
});
