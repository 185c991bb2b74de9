import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandlerQueue } from '../../../../src/kube/cache/handler-queue.ts';
import type { Delta } from '../../../../src/kube/cache/store.ts';
import type { KubeObject } from '../../../../src/kube/core/types.ts';

const obj = (rv: string): KubeObject => ({ metadata: { name: 'x', resourceVersion: rv } });

describe('HandlerQueue', () => {
  it('calls sync handlers immediately and in order, reporting each outcome', () => {
    const calls: string[] = [];
    const reports: [string, unknown][] = [];
    const d = new HandlerQueue(
      {
        onAdd: (o) => void calls.push(`add:${o.metadata.resourceVersion}`),
        onUpdate: (_o, n) => {
          if (n.metadata.resourceVersion === '3') throw new Error('bad');
          calls.push(`update:${n.metadata.resourceVersion}`);
        },
      },
      { start: 'now', report: (c: Delta, e: unknown) => void reports.push([c.type, e]) },
    );
    d.push({ type: 'add', obj: obj('1'), isInInitialList: true });
    d.push({ type: 'update', oldObj: obj('1'), newObj: obj('2') });
    d.push({ type: 'update', oldObj: obj('2'), newObj: obj('3') });
    d.push({ type: 'update', oldObj: obj('3'), newObj: obj('4') });
    d.push({ type: 'delete', obj: obj('4'), finalStateUnknown: false }); // no onDelete: skipped, not reported
    assert.deepEqual(calls, ['add:1', 'update:2', 'update:4']);
    assert.equal(reports.length, 4);
    assert.ok(reports[2]?.[1] instanceof Error);
    assert.equal(d.depth, 0);
  });

  it('awaits an async handler before the next event; close drops the rest', async () => {
    const calls: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const d = new HandlerQueue(
      {
        onUpdate: async (_o, n) => {
          calls.push(`start:${n.metadata.resourceVersion}`);
          if (n.metadata.resourceVersion === '1') await gate;
          calls.push(`end:${n.metadata.resourceVersion}`);
        },
      },
      { start: 'now' },
    );
    d.push({ type: 'update', oldObj: obj('0'), newObj: obj('1') });
    d.push({ type: 'update', oldObj: obj('1'), newObj: obj('2') });
    assert.deepEqual(calls, ['start:1']);
    assert.equal(d.depth, 1);
    release();
    await d.idle();
    assert.deepEqual(calls, ['start:1', 'end:1', 'start:2', 'end:2']);
    d.close();
    d.push({ type: 'update', oldObj: obj('2'), newObj: obj('3') });
    await d.idle();
    assert.equal(calls.length, 4);
  });

  it("starts on a microtask when asked, never on the pusher's stack", async () => {
    const calls: string[] = [];
    const q = new HandlerQueue({ onAdd: (o) => void calls.push(o.metadata.resourceVersion ?? '') });
    q.push({ type: 'add', obj: obj('1'), isInInitialList: false });
    q.push({ type: 'add', obj: obj('2'), isInInitialList: false });
    assert.deepEqual(calls, [], 'nothing ran inside push');
    await q.idle();
    assert.deepEqual(calls, ['1', '2']);
  });

  it('counts deliveries against the sync point, and settles done after close', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const q = new HandlerQueue({ onAdd: async () => gate });
    q.push({ type: 'add', obj: obj('1'), isInInitialList: true });
    q.push({ type: 'add', obj: obj('2'), isInInitialList: true });
    q.markSyncPoint();
    q.push({ type: 'add', obj: obj('3'), isInInitialList: false });
    q.markSyncPoint(); // does not move the point
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(q.hasSynced(), false);
    assert.equal(q.highWater, 3);
    let done = false;
    void q.done.then(() => {
      done = true;
    });
    release();
    await q.idle();
    assert.equal(q.delivered, 3);
    assert.equal(q.hasSynced(), true);
    assert.equal(done, false, 'open queues are not done');
    q.close();
    await q.done;
    assert.equal(q.closed, true);
  });

  it('yields to the event loop during a long run of sync handler calls', async () => {
    let timerRan = false;
    let callsBeforeTimer = -1;
    let calls = 0;
    // Queued before the drain starts (microtask start), so the 2,000 calls are one run.
    const q = new HandlerQueue({
      onAdd: () => {
        calls++;
      },
    });
    setImmediate(() => {
      timerRan = true;
      callsBeforeTimer = calls;
    });
    for (let i = 0; i < 2_000; i++) q.push({ type: 'add', obj: obj(String(i)), isInInitialList: false });
    await q.idle();
    assert.equal(calls, 2_000);
    assert.ok(timerRan && callsBeforeTimer < 2_000, `the immediate ran after ${callsBeforeTimer} calls`);
  });
});
