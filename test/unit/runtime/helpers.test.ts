import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../src/kube/index.ts';
import {
  condition,
  ensureFinalizer,
  hasFinalizer,
  isBeingDeleted,
  patchStatus,
  removeFinalizer,
  type WithConditions,
} from '../../../src/runtime/index.ts';
import { FakeCluster } from '../controller/fakes.ts';

const widgets = { group: 'example.com', version: 'v1', resource: 'widgets' };
const FINALIZER = 'example.com/cleanup';

function seeded(): { cluster: FakeCluster; widget: WithConditions } {
  const cluster = new FakeCluster();
  const widget = cluster.put<WithConditions>(widgets, {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w', namespace: 'ns', generation: 3, finalizers: ['other'] },
  });
  return { cluster, widget };
}

describe('finalizer helpers', () => {
  it('adds the finalizer once, keeping the others, and removes only it', async () => {
    const { cluster, widget } = seeded();
    const added = await ensureFinalizer(cluster, widgets, widget, FINALIZER);
    assert.deepEqual(added.metadata.finalizers, ['other', FINALIZER]);
    cluster.clearCalls();
    assert.equal(await ensureFinalizer(cluster, widgets, added, FINALIZER), added, 'present: no patch');
    assert.equal(cluster.writes().length, 0);
    await removeFinalizer(cluster, widgets, added, FINALIZER);
    const after = cluster.peek<KubeObject>(widgets, 'ns', 'w');
    assert.deepEqual(after?.metadata.finalizers, ['other']);
    assert.equal(hasFinalizer(after as KubeObject, FINALIZER), false);
  });

  it('a stale object fails with 409 (conditional patch); a gone object is no error on removal', async () => {
    const { cluster, widget } = seeded();
    await ensureFinalizer(cluster, widgets, widget, FINALIZER);
    // `widget` still carries the old resourceVersion: someone changed the object since.
    await assert.rejects(
      ensureFinalizer(cluster, widgets, widget, 'x/y'),
      (e: unknown) => (e as { status?: number }).status === 409,
    );
    const current = cluster.peek<KubeObject>(widgets, 'ns', 'w') as KubeObject;
    cluster.remove(widgets, 'ns', 'w');
    await removeFinalizer(cluster, widgets, current, FINALIZER);
    assert.equal(isBeingDeleted(current), false);
    assert.equal(isBeingDeleted({ metadata: { deletionTimestamp: '2026-12-01T00:00:00Z' } }), true);
  });
});

describe('patchStatus', () => {
  it('merges conditions (keeping lastTransitionTime while the status holds) and skips writes that change nothing', async () => {
    const { cluster, widget } = seeded();
    const t1 = new Date('2026-12-01T10:00:00Z');
    const t2 = new Date('2026-12-01T11:00:00Z');
    const ready = (status: 'True' | 'False', at: Date) => condition('Ready', status, 'Checked', '', at, 3);
    const first = await patchStatus(cluster, widgets, widget, {
      conditions: [ready('True', t1)],
      fields: { observedGeneration: 3 },
    });
    assert.equal(first.status?.conditions?.[0]?.lastTransitionTime, '2026-12-01T10:00:00Z');
    assert.equal(first.status?.observedGeneration, 3);
    cluster.clearCalls();
    const same = await patchStatus(cluster, widgets, first, {
      conditions: [ready('True', t2)],
      fields: { observedGeneration: 3 },
    });
    assert.equal(same, first, 'nothing changed: the object itself, no write');
    assert.equal(cluster.writes().length, 0);
    const flipped = await patchStatus(cluster, widgets, first, { conditions: [ready('False', t2)] });
    assert.equal(flipped.status?.conditions?.[0]?.status, 'False');
    assert.equal(flipped.status?.conditions?.[0]?.lastTransitionTime, '2026-12-01T11:00:00Z');
    assert.deepEqual(
      cluster.writes().map((c) => c.verb),
      ['patchStatus'],
    );
  });
});
