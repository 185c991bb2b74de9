import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InformerSyncTimeoutError } from '../../../src/informer/errors.ts';
import { DEPLOYMENTS, type FakeCluster, type FakeInformer, recorder, SERVICES } from './fakes.ts';
import { metricSum, settle, setup, waitFor, watchOf } from './helpers.ts';

/**
 * Asserts that `events` (one registration's) is exactly: one initial add of some state of the
 * object, then one update per later write, in write order — nothing lost, nothing repeated.
 */
function assertExactStream(events: string[], written: string[], label: string): void {
  const [first, ...rest] = events;
  const m = /^add:[^:]+:(\d+):initial$/.exec(first ?? '');
  assert.ok(m, `${label}: first event is the initial add, got ${first}`);
  const start = written.indexOf(m[1] as string);
  assert.ok(start >= 0, `${label}: initial state ${m[1]} was written`);
  const expected = written.slice(start + 1);
  const seen: string[] = [];
  let rv = m[1];
  for (const e of rest) {
    const u = /^update:[^:]+:(\d+)>(\d+)$/.exec(e);
    assert.ok(u, `${label}: only updates follow, got ${e}`);
    assert.equal(u[1], rv, `${label}: ${e} continues from ${rv} (no loss, no repeat)`);
    rv = u[2];
    seen.push(u[2] as string);
  }
  assert.deepEqual(seen, expected, `${label}: every write seen once, in order`);
}

function perName(cluster: FakeCluster): FakeInformer[] {
  return cluster.live().filter((i) => i.target.fieldSelector !== undefined);
}

function wide(cluster: FakeCluster): FakeInformer[] {
  return cluster.live().filter((i) => i.target.fieldSelector === undefined);
}

describe('sharing policy', () => {
  it('per-name: one field-selected informer per object name, shared by every requester of that name', async (t) => {
    const { cluster, manager } = setup(t, { sharing: { mode: 'per-name' } });
    for (const n of ['a', 'b', 'c']) cluster.put(DEPLOYMENTS, 'team-a', n);
    await manager.add(watchOf('es1', 'a'));
    await manager.add(watchOf('es2', 'a'));
    await manager.add(watchOf('es3', 'b'));
    await manager.add(watchOf('es4', 'c'));
    assert.deepEqual(
      cluster
        .live()
        .map((i) => i.target.fieldSelector)
        .sort(),
      ['metadata.name=a', 'metadata.name=b', 'metadata.name=c'],
    );
    await manager.stopInformer('es1/team-a/deployments.apps/a');
    assert.equal(cluster.live().length, 3, 'es2 still needs a');
    await manager.stopInformer('es2/team-a/deployments.apps/a');
    assert.equal(cluster.live().length, 2);
  });

  it('namespace: one informer per GVR × namespace, whatever the number of names', async (t) => {
    const { cluster, manager } = setup(t, { sharing: { mode: 'namespace' } });
    for (const n of ['a', 'b', 'c']) cluster.put(DEPLOYMENTS, 'team-a', n);
    cluster.put(DEPLOYMENTS, 'team-b', 'a');
    cluster.put(SERVICES, 'team-a', 'a');
    for (const n of ['a', 'b', 'c']) await manager.add(watchOf(`es-${n}`, n));
    await manager.add(watchOf('es-x', 'a', {}, { namespace: 'team-b' }));
    await manager.add(watchOf('es-y', 'a', {}, { gvr: SERVICES }));
    const targets = cluster
      .live()
      .map((i) => `${i.target.gvr.resource}/${i.target.namespace}/${i.target.fieldSelector ?? '*'}`);
    assert.deepEqual(targets.sort(), ['deployments/team-a/*', 'deployments/team-b/*', 'services/team-a/*']);
  });

  it('auto: per-name below the threshold, one namespace-wide watch at it, back below the downgrade mark', async (t) => {
    const { cluster, manager } = setup(t, {
      sharing: { mode: 'auto', autoThreshold: 4, autoDowngradeBelow: 2 },
    });
    const names = ['a', 'b', 'c', 'd'];
    for (const n of names) cluster.put(DEPLOYMENTS, 'team-a', n);
    for (const n of names.slice(0, 3)) await manager.add(watchOf(`es-${n}`, n));
    assert.equal(perName(cluster).length, 3);
    assert.equal(wide(cluster).length, 0);
    await manager.add(watchOf('es-d', 'd'));
    await waitFor(() => perName(cluster).length === 0, { message: 'per-name informers retired' });
    assert.equal(wide(cluster).length, 1);
    // Hysteresis: 3 and 2 names stay namespace-wide (2 is not below 2).
    await manager.stopInformer('es-d/team-a/deployments.apps/d');
    await manager.stopInformer('es-c/team-a/deployments.apps/c');
    assert.equal(wide(cluster).length, 1);
    assert.equal(perName(cluster).length, 0);
    // 1 < 2: back to a per-name watch for the remaining name.
    await manager.stopInformer('es-b/team-a/deployments.apps/b');
    await waitFor(() => wide(cluster).length === 0, { message: 'namespace-wide informer retired' });
    assert.deepEqual(
      perName(cluster).map((i) => i.target.fieldSelector),
      ['metadata.name=a'],
    );
    assert.equal(manager.list()[0]?.upstreamId, 'deployments.v1.apps/team-a/a');
  });

  it('auto: migration under a steady stream of writes loses and repeats nothing (async delivery)', async (t) => {
    const { cluster, registry, manager } = setup(t, {
      sharing: { mode: 'auto', autoThreshold: 6, autoDowngradeBelow: 3 },
      cluster: { asyncDelivery: true },
    });
    const names = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'];
    const written = new Map<string, string[]>(names.map((n) => [n, []]));
    const write = (n: string) =>
      written.get(n)?.push(cluster.put(DEPLOYMENTS, 'team-a', n).metadata.resourceVersion ?? '');
    for (const n of names) write(n);
    const recs = new Map(names.map((n) => [n, recorder()]));
    let writing = true;
    const writer = (async () => {
      let i = 0;
      while (writing) {
        write(names[i++ % names.length] as string);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    for (const n of names.slice(0, 5)) await manager.add(watchOf(`es-${n}`, n, recs.get(n)?.handlers));
    assert.equal(perName(cluster).length, 5);
    await manager.add(watchOf('es-n5', 'n5', recs.get('n5')?.handlers));
    await waitFor(() => perName(cluster).length === 0 && manager.list().every((r) => !r.migrating), {
      message: 'handover complete',
    });
    // Back down: remove 4 names while writes go on.
    for (const n of names.slice(2)) await manager.stopInformer(`es-${n}/team-a/deployments.apps/${n}`);
    await waitFor(() => wide(cluster).length === 0 && perName(cluster).length === 2, {
      message: 'downgrade complete',
    });
    writing = false;
    await writer;
    for (const n of names.slice(0, 2)) {
      const last = written.get(n)?.at(-1);
      await waitFor(() => recs.get(n)?.events.at(-1)?.endsWith(`>${last}`), { message: `${n} caught up` });
      assertExactStream(recs.get(n)?.events ?? [], written.get(n) ?? [], n);
    }
    assert.ok(
      (await metricSum(registry, 'elasti_operator_informer_migrations_total', { forced: 'false' })) >= 6,
    );
    assert.equal(
      await metricSum(registry, 'elasti_operator_informer_migrations_total', { forced: 'true' }),
      0,
    );
  });

  it('auto: when the new namespace-wide watch lags, the old one keeps delivering until they agree', async (t) => {
    const { cluster, manager } = setup(t, { sharing: { mode: 'auto', autoThreshold: 2 } });
    const written: string[] = [];
    written.push(cluster.put(DEPLOYMENTS, 'team-a', 'a').metadata.resourceVersion ?? '');
    cluster.put(DEPLOYMENTS, 'team-a', 'b');
    const rec = recorder();
    await manager.add(watchOf('es-a', 'a', rec.handlers));
    let wideInformer: FakeInformer | undefined;
    cluster.onCreate = (i) => {
      if (!i.target.fieldSelector) {
        wideInformer = i;
        i.autoList = false;
      }
    };
    const adding = manager.add(watchOf('es-b', 'b'));
    await waitFor(() => wideInformer?.started);
    // The namespace-wide list is served from a stale cache: it misses three writes that the
    // per-name watch delivers; the wide watch receives them later.
    const stale = cluster.select(wideInformer?.target ?? { gvr: DEPLOYMENTS });
    const later = [1, 2, 3].map(() => cluster.put(DEPLOYMENTS, 'team-a', 'a'));
    for (const obj of later) written.push(obj.metadata.resourceVersion ?? '');
    assert.equal(rec.events.length, 4, 'the per-name source delivered all three writes');
    wideInformer?.hold();
    wideInformer?.list(stale);
    for (const obj of later) wideInformer?.receive('MODIFIED', obj);
    await adding;
    assert.equal(manager.list().find((r) => r.name === 'a')?.migrating, true, 'views differ: no cutover yet');
    assert.equal(perName(cluster).length, 1);
    wideInformer?.release();
    assert.equal(manager.list().find((r) => r.name === 'a')?.migrating, false);
    assert.equal(perName(cluster).length, 0);
    assert.equal(rec.events.length, 4, 'the catching-up events of the new watch were not delivered again');
    for (let i = 0; i < 2; i++)
      written.push(cluster.put(DEPLOYMENTS, 'team-a', 'a').metadata.resourceVersion ?? '');
    assertExactStream(rec.events, written, 'a');
  });

  it('auto: when the old per-name watch lags, it is drained before the new one takes over', async (t) => {
    const { cluster, manager } = setup(t, { sharing: { mode: 'auto', autoThreshold: 2 } });
    const written: string[] = [];
    written.push(cluster.put(DEPLOYMENTS, 'team-a', 'a').metadata.resourceVersion ?? '');
    cluster.put(DEPLOYMENTS, 'team-a', 'b');
    const rec = recorder();
    await manager.add(watchOf('es-a', 'a', rec.handlers));
    const old = perName(cluster)[0];
    old?.hold();
    for (let i = 0; i < 3; i++)
      written.push(cluster.put(DEPLOYMENTS, 'team-a', 'a').metadata.resourceVersion ?? '');
    await manager.add(watchOf('es-b', 'b'));
    assert.equal(
      rec.events.length,
      1,
      'nothing more delivered: the source lags and the new watch must not jump ahead',
    );
    assert.equal(manager.list().find((r) => r.name === 'a')?.migrating, true);
    written.push(cluster.put(DEPLOYMENTS, 'team-a', 'a').metadata.resourceVersion ?? '');
    old?.release();
    assert.equal(perName(cluster).length, 0, 'cut over once the old source caught up');
    written.push(cluster.put(DEPLOYMENTS, 'team-a', 'a').metadata.resourceVersion ?? '');
    assertExactStream(rec.events, written, 'a');
  });

  it('auto: a handover that never converges is forced after handoverTimeoutMs with one reconciling event', async (t) => {
    const { cluster, registry, manager } = setup(t, {
      sharing: { mode: 'auto', autoThreshold: 2 },
      handoverTimeoutMs: 50,
    });
    cluster.put(DEPLOYMENTS, 'team-a', 'a');
    cluster.put(DEPLOYMENTS, 'team-a', 'b');
    const rec = recorder();
    await manager.add(watchOf('es-a', 'a', rec.handlers));
    const before = rec.events[0]?.split(':')[2];
    perName(cluster)[0]?.hold(); // disconnected for good
    cluster.put(DEPLOYMENTS, 'team-a', 'a');
    const latest = cluster.put(DEPLOYMENTS, 'team-a', 'a').metadata.resourceVersion;
    await manager.add(watchOf('es-b', 'b'));
    assert.equal(manager.list().find((r) => r.name === 'a')?.migrating, true);
    await waitFor(() => perName(cluster).length === 0, { message: 'forced cutover' });
    assert.deepEqual(rec.events.slice(1), [`update:a:${before}>${latest}`]);
    assert.equal(
      await metricSum(registry, 'elasti_operator_informer_migrations_total', { forced: 'true' }),
      1,
    );
    const next = cluster.put(DEPLOYMENTS, 'team-a', 'a').metadata.resourceVersion;
    assert.equal(rec.events.at(-1), `update:a:${latest}>${next}`);
  });

  it('auto: a failed add that triggered the switch to namespace-wide is rolled back completely', async (t) => {
    const { cluster, manager } = setup(t, { sharing: { mode: 'auto', autoThreshold: 3 } });
    for (const n of ['a', 'b', 'c']) cluster.put(DEPLOYMENTS, 'team-a', n);
    const rec = recorder();
    await manager.add(watchOf('es-a', 'a', rec.handlers));
    await manager.add(watchOf('es-b', 'b'));
    cluster.onCreate = (i) => {
      if (!i.target.fieldSelector) i.autoList = false; // the namespace-wide list never completes
    };
    await assert.rejects(manager.add(watchOf('es-c', 'c'), { timeoutMs: 100 }), InformerSyncTimeoutError);
    assert.equal(wide(cluster).length, 0, 'no namespace-wide watch left behind');
    assert.deepEqual(
      perName(cluster)
        .map((i) => i.target.fieldSelector)
        .sort(),
      ['metadata.name=a', 'metadata.name=b'],
    );
    assert.deepEqual(
      manager.list().map((r) => [r.name, r.migrating]),
      [
        ['a', false],
        ['b', false],
      ],
    );
    const rv = cluster.put(DEPLOYMENTS, 'team-a', 'a').metadata.resourceVersion;
    assert.equal(rec.events.at(-1)?.endsWith(`>${rv}`), true);
    await settle();
  });
});
