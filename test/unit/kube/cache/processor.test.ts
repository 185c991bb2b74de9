import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Fifo } from '../../../../src/kube/cache/handler-queue.ts';
import { Processor } from '../../../../src/kube/cache/processor.ts';
import type { Delta } from '../../../../src/kube/cache/store.ts';
import type { KubeObject, ResourceEventHandler } from '../../../../src/kube/core/types.ts';
import { waitFor } from '../../../support/wait.ts';

function obj(name: string, rv = '1'): KubeObject {
  return { metadata: { namespace: 'ns', name, resourceVersion: rv } };
}

function add(name: string, rv = '1'): Delta<KubeObject> {
  return { type: 'add', obj: obj(name, rv), isInInitialList: false };
}

/** A promise the test resolves by hand, to hold a handler mid-call. */
function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Records what a handler saw as readable strings. */
function recorder(): { seen: string[]; handler: ResourceEventHandler<KubeObject> } {
  const seen: string[] = [];
  return {
    seen,
    handler: {
      onAdd: (o, initial) =>
        void seen.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}${initial ? ' initial' : ''}`),
      onUpdate: (a, b) =>
        void seen.push(
          `update ${b.metadata.name}@${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`,
        ),
      onDelete: (o, info) =>
        void seen.push(`delete ${o.metadata.name}${info.finalStateUnknown ? ' unknown' : ''}`),
    },
  };
}

describe('Fifo', () => {
  test('keeps order across many pushes and shifts (including compaction)', () => {
    const q = new Fifo<number>();
    let next = 0;
    let expect = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 100; i++) q.push(next++);
      for (let i = 0; i < 70; i++) assert.equal(q.shift(), expect++);
    }
    assert.equal(q.length, next - expect);
    while (q.length > 0) assert.equal(q.shift(), expect++);
    assert.equal(q.shift(), undefined);
    assert.equal(expect, next);
  });
});

describe('Processor delivery', () => {
  test('delivers every delta kind in order', async () => {
    const p = new Processor<KubeObject>();
    const r = recorder();
    p.add(r.handler);
    p.distribute({ type: 'add', obj: obj('a'), isInInitialList: true });
    p.distribute({ type: 'update', oldObj: obj('a', '1'), newObj: obj('a', '2') });
    p.distribute({ type: 'delete', obj: obj('a', '2'), finalStateUnknown: true });
    p.distribute({ type: 'delete', obj: obj('b', '2'), finalStateUnknown: false });
    await waitFor(() => r.seen.length === 4, { timeoutMs: 5000 });
    assert.deepEqual(r.seen, ['add a@1 initial', 'update a@1->2', 'delete a unknown', 'delete b']);
    p.removeAll();
  });

  test('never runs handler code on the caller stack', () => {
    const p = new Processor<KubeObject>();
    let calls = 0;
    p.add({ onAdd: () => void calls++ });
    p.distribute(add('a'));
    assert.equal(calls, 0);
    p.removeAll();
  });

  test('an async handler is awaited before its next event', async () => {
    const p = new Processor<KubeObject>();
    let inFlight = 0;
    let maxInFlight = 0;
    const order: string[] = [];
    p.add({
      onAdd: async (o) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 2));
        order.push(o.metadata.name ?? '');
        inFlight--;
      },
    });
    for (let i = 0; i < 10; i++) p.distribute(add(`o${i}`));
    await waitFor(() => order.length === 10, { timeoutMs: 5000 });
    assert.equal(maxInFlight, 1);
    assert.deepEqual(
      order,
      Array.from({ length: 10 }, (_, i) => `o${i}`),
    );
    p.removeAll();
  });

  test('a long run of synchronous deliveries yields to the event loop', async () => {
    const p = new Processor<KubeObject>();
    let delivered = 0;
    p.add({ onAdd: () => void delivered++ });
    for (let i = 0; i < 2000; i++) p.distribute(add(`o${i}`));
    const atFirstCheck = await new Promise<number>((resolve) => setImmediate(() => resolve(delivered)));
    assert.ok(
      atFirstCheck < 2000,
      `I/O phase reached after ${atFirstCheck} deliveries, before the queue drained`,
    );
    await waitFor(() => delivered === 2000, { timeoutMs: 5000 });
    p.removeAll();
  });
});

describe('Processor isolation', () => {
  test('a slow handler and a throwing handler do not hold back a third', async () => {
    const N = 20;
    const handlerErrors: string[] = [];
    const p = new Processor<KubeObject>({ hooks: { onHandlerError: (name) => handlerErrors.push(name) } });

    let slowDone = 0;
    const slow = p.add(
      {
        onAdd: async () => {
          await new Promise((r) => setTimeout(r, 2000));
          slowDone++;
        },
      },
      { name: 'slow' },
    );
    let throwerCalls = 0;
    const thrower = p.add(
      {
        onAdd: (o) => {
          throwerCalls++;
          // Alternate sync throws and async rejections: both must be contained.
          if (Number(o.metadata.resourceVersion) % 2 === 0) throw new Error('sync boom');
          return Promise.reject(new Error('async boom'));
        },
      },
      { name: 'thrower' },
    );
    const fast = recorder();
    p.add(fast.handler, { name: 'fast' });

    for (let i = 0; i < N; i++) p.distribute(add(`o${i}`, String(i)));

    await waitFor(() => fast.seen.length === N && throwerCalls === N, { timeoutMs: 10_000 });
    assert.ok(slowDone < N, `slow handler finished ${slowDone} < ${N} while the fast one got all`);
    assert.deepEqual(
      fast.seen,
      Array.from({ length: N }, (_, i) => `add o${i}@${i}`),
    );
    assert.equal(thrower.errors, N, 'every failure counted');
    assert.equal(handlerErrors.length, N);
    assert.ok(handlerErrors.every((n) => n === 'thrower'));
    assert.ok(slow.queueDepth > 0, 'slow handler still has a backlog');

    // The thrower keeps receiving later events after all those failures.
    p.distribute(add('late', '99'));
    await waitFor(() => throwerCalls === N + 1 && fast.seen.length === N + 1, { timeoutMs: 5000 });
    p.removeAll();
    assert.equal(slow.queueDepth, 0);
  });
});

describe('Processor bookkeeping', () => {
  test('queue depth and high-water mark', async () => {
    const p = new Processor<KubeObject>();
    const g = gate();
    let delivered = 0;
    const l = p.add({
      onAdd: async () => {
        await g.promise;
        delivered++;
      },
    });
    for (let i = 0; i < 5; i++) p.distribute(add(`o${i}`));
    assert.equal(l.queueDepth, 5);
    assert.equal(l.highWater, 5);
    await waitFor(() => l.queueDepth === 4, { timeoutMs: 5000, message: 'first event in flight' });
    assert.equal(p.queueDepth(), 4);
    g.open();
    await waitFor(() => delivered === 5, { timeoutMs: 5000 });
    assert.equal(l.queueDepth, 0);
    assert.equal(l.highWater, 5, 'high-water mark persists');
    l.remove();
    assert.equal(p.highWater(), 5, 'processor remembers removed registrations too');
  });

  test('remove() drops the queue, stops the loop and is idempotent', async () => {
    const removed: string[] = [];
    const p = new Processor<KubeObject>({ hooks: { onRemoved: (n) => removed.push(n) } });
    const g = gate();
    const seen: string[] = [];
    const l = p.add(
      {
        onAdd: async (o) => {
          seen.push(o.metadata.name ?? '');
          await g.promise;
        },
      },
      { name: 'victim' },
    );
    p.distribute(add('a'));
    p.distribute(add('b'));
    p.distribute(add('c'));
    await waitFor(() => seen.length === 1, { timeoutMs: 5000 });
    l.remove();
    l.remove();
    assert.equal(l.queueDepth, 0);
    assert.equal(p.size, 0);
    assert.deepEqual(removed, ['victim']);
    g.open();
    await l.done;
    p.distribute(add('d'));
    l.enqueue(add('e'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, ['a'], 'nothing delivered after removal');
  });

  test('hasSynced waits for delivery of the initial state, not just enqueueing', async () => {
    const p = new Processor<KubeObject>();
    const g = gate();
    let delivered = 0;
    const l = p.add({
      onAdd: async () => {
        await g.promise;
        delivered++;
      },
    });
    assert.equal(l.hasSynced(), false, 'no sync point yet');
    for (let i = 0; i < 3; i++) p.distribute({ type: 'add', obj: obj(`o${i}`), isInInitialList: true });
    l.markSyncPoint();
    p.distribute(add('after-sync'));
    assert.equal(l.hasSynced(), false, 'enqueued but not delivered');
    g.open();
    await waitFor(() => l.hasSynced(), { timeoutMs: 5000 });
    assert.ok(delivered >= 3);
    l.markSyncPoint();
    p.removeAll();
  });

  test('an empty initial state syncs immediately', () => {
    const p = new Processor<KubeObject>();
    const l = p.add({});
    l.markSyncPoint();
    assert.equal(l.hasSynced(), true);
    p.removeAll();
  });

  test('bad registrations are typed errors', () => {
    const p = new Processor<KubeObject>();
    assert.throws(() => p.add(null as unknown as ResourceEventHandler<KubeObject>), TypeError);
    assert.throws(() => p.add({}, { resyncPeriodMs: -1 }), RangeError);
    assert.throws(() => p.add({}, { resyncPeriodMs: Number.NaN }), RangeError);
    assert.equal(p.size, 0);
  });

  test('handlers without the callback for an event simply skip it (not queued, not counted)', async () => {
    const p = new Processor<KubeObject>();
    const seen: string[] = [];
    const l = p.add({ onDelete: (o) => void seen.push(o.metadata.name ?? '') });
    p.distribute(add('a'));
    p.distribute({ type: 'delete', obj: obj('b'), finalStateUnknown: false });
    assert.equal(l.queueDepth, 1, 'the add is not queued for a handler without onAdd');
    await waitFor(() => l.delivered === 1, { timeoutMs: 5000 });
    assert.deepEqual(seen, ['b']);
    p.removeAll();
  });
});
