import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { WatchGroup } from '../../../src/informer/group.ts';
import { ManagerMetrics } from '../../../src/informer/metrics.ts';
import { type GroupMember, sameState } from '../../../src/informer/name-entry.ts';
import type { Upstream } from '../../../src/informer/upstream.ts';
import { silentLogger } from '../../../src/kube/core/types.ts';
import type { Delta } from '../../../src/kube/index.ts';
import { DEPLOYMENTS, FakeCluster } from './fakes.ts';
import { waitFor } from './helpers.ts';

function member(key: string, name: string): GroupMember & { seen: string[] } {
  const seen: string[] = [];
  return {
    key,
    name,
    seen,
    deliver(change: Delta) {
      const obj = change.type === 'update' ? change.newObj : change.obj;
      seen.push(`${change.type}:${obj.metadata.resourceVersion}`);
    },
  };
}

function group(cluster: FakeCluster, released: Upstream[] = []): WatchGroup {
  return new WatchGroup(DEPLOYMENTS, 'team-a', {
    createInformer: cluster.factory,
    release: (u) => {
      released.push(u);
      void u.stop();
    },
    policy: {
      mode: 'per-name',
      autoThreshold: 25,
      autoDowngradeBelow: 12,
      forbiddenRetryMs: 300_000,
      forbiddenRetryCapMs: 3_600_000,
    },
    handoverTimeoutMs: 1_000,
    now: Date.now,
    logger: silentLogger,
    metrics: new ManagerMetrics(new Registry(), () => []),
    upstreamError: () => {},
  });
}

describe('WatchGroup', () => {
  it('after a synthesised delete, the next state from the informer is delivered as an add, its own delete is dropped', async () => {
    const cluster = new FakeCluster();
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    const g = group(cluster);
    const m = member('k', 'web');
    const entry = g.attach(m);
    await waitFor(() => entry.source?.synced);
    const first = m.seen.length;
    g.markGone(entry, 'object', entry.changes);
    assert.equal(m.seen.length, first + 1);
    assert.match(m.seen.at(-1) ?? '', /^delete:/);
    const back = cluster.put(DEPLOYMENTS, 'team-a', 'web');
    assert.equal(m.seen.at(-1), `add:${back.metadata.resourceVersion}`);
    assert.equal(entry.gone, undefined);
    g.dispose();
  });

  it('the delete the informer sends after a synthesised one is not delivered twice', async () => {
    const cluster = new FakeCluster();
    cluster.put(DEPLOYMENTS, 'team-a', 'web');
    const g = group(cluster);
    const m = member('k', 'web');
    const entry = g.attach(m);
    await waitFor(() => entry.source?.synced);
    g.markGone(entry, 'object', entry.changes);
    cluster.remove(DEPLOYMENTS, 'team-a', 'web');
    assert.equal(m.seen.filter((e) => e.startsWith('delete:')).length, 1);
    g.dispose();
  });

  it('detaching the last member releases the upstream; dispose releases everything', async () => {
    const cluster = new FakeCluster();
    for (const n of ['a', 'b']) cluster.put(DEPLOYMENTS, 'team-a', n);
    const released: Upstream[] = [];
    const g = group(cluster, released);
    const a1 = member('a1', 'a');
    const a2 = member('a2', 'a');
    g.attach(a1);
    g.attach(a2);
    g.attach(member('b1', 'b'));
    assert.equal(g.upstreams().length, 2);
    g.detach(a1, false);
    assert.equal(released.length, 0);
    g.detach(a2, false);
    assert.deepEqual(
      released.map((u) => u.objectName),
      ['a'],
    );
    g.dispose();
    assert.deepEqual(
      released.map((u) => u.objectName),
      ['a', 'b'],
    );
    assert.equal(g.isEmpty, true);
  });

  it('sameState compares resourceVersions for equality only', () => {
    const o = (rv?: string) => ({ metadata: { name: 'x', ...(rv ? { resourceVersion: rv } : {}) } });
    assert.equal(sameState(undefined, undefined), true);
    assert.equal(sameState(o('1'), undefined), false);
    assert.equal(sameState(o('9'), o('9')), true);
    assert.equal(sameState(o('9'), o('10')), false);
    assert.equal(sameState(o(), o()), false);
    const same = o();
    assert.equal(sameState(same, same), true);
  });
});
