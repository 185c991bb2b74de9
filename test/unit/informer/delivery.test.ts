import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Change, Delivery } from '../../../src/informer/delivery.ts';
import type { KubeObject } from '../../../src/kube/core/types.ts';

const obj = (rv: string): KubeObject => ({ metadata: { name: 'x', resourceVersion: rv } });

describe('Delivery', () => {
  it('calls sync handlers immediately and in order, reporting each outcome', () => {
    const calls: string[] = [];
    const reports: [string, unknown][] = [];
    const d = new Delivery(
      {
        onAdd: (o) => void calls.push(`add:${o.metadata.resourceVersion}`),
        onUpdate: (_o, n) => {
          if (n.metadata.resourceVersion === '3') throw new Error('bad');
          calls.push(`update:${n.metadata.resourceVersion}`);
        },
      },
      (c: Change, e: unknown) => void reports.push([c.type, e]),
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
    const d = new Delivery(
      {
        onUpdate: async (_o, n) => {
          calls.push(`start:${n.metadata.resourceVersion}`);
          if (n.metadata.resourceVersion === '1') await gate;
          calls.push(`end:${n.metadata.resourceVersion}`);
        },
      },
      () => {},
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
});
