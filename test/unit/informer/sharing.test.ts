import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InformerSyncTimeoutError } from '../../../src/informer/errors.ts';
import { KubeApiError } from '../../../src/kube/core/errors.ts';
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

/** The field selectors of the live informers, sorted (`undefined` for a namespace-wide one). */
function liveSelectors(cluster: FakeCluster): (string | undefined)[] {
  return cluster
    .live()
    .map((i) => i.target.fieldSelector)
    .sort();
}

describe('sharing policy', () => {
  it('per-name: one field-selected informer per object name, shared by every requester of that name', async (t) => {
    const { cluster, manager } = setup(t, { sharing: { mode: 'per-name' } });
    for (const n of ['a', 'b', 'c']) cluster.put(DEPLOYMENTS, 'team-a', n);
    await manager.add(watchOf('es1', 'a'));
    await manager.add(watchOf('es2', 'a'));
    await manager.add(watchOf('es3', 'b'));
    await manager.add(watchOf('es4', 'c'));
    assert.deepEqual(liveSelectors(cluster), ['metadata.name=a', 'metadata.name=b', 'metadata.name=c']);
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

describe('refused namespace-wide watches', () => {
  const forbidden = new KubeApiError({
    status: 403,
    verb: 'list',
    url: '/apis/apps/v1/namespaces/team-a/deployments',
    reason: 'Forbidden',
    gvr: DEPLOYMENTS,
    namespace: 'team-a',
  });

  it('a 403 on the namespace-wide list sends the group back to per-name watches; it is tried again after the wait', async (t) => {
    let clock = 1_000_000;
    const { cluster, manager, registry } = setup(t, {
      sharing: { mode: 'auto', autoThreshold: 3, forbiddenRetryMs: 60_000 },
      now: () => clock,
    });
    let refuse = true;
    cluster.onCreate = (informer) => {
      if (informer.target.fieldSelector === undefined && refuse) {
        informer.autoList = false;
        informer.statusOverride = { phase: 'Backoff', lastError: forbidden, consecutiveFailures: 1 };
      }
    };
    for (const n of ['a', 'b', 'c', 'd']) cluster.put(DEPLOYMENTS, 'team-a', n);
    const rec = Object.fromEntries(['a', 'b', 'c', 'd'].map((n) => [n, recorder()]));
    await manager.add(watchOf('es-a', 'a', rec.a?.handlers));
    await manager.add(watchOf('es-b', 'b', rec.b?.handlers));
    // The third name switches the group to one namespace-wide watch, which the server refuses.
    let cDone = false;
    const c = manager.add(watchOf('es-c', 'c', rec.c?.handlers)).then(() => {
      cDone = true;
    });
    await settle();
    assert.equal(wide(cluster).length, 1, 'the namespace-wide informer was started');
    assert.equal(cDone, false, 'c waits on the refused informer');

    await manager.runHealthCheck();
    await c;
    assert.deepEqual(
      liveSelectors(cluster),
      ['metadata.name=a', 'metadata.name=b', 'metadata.name=c'],
      'every name is served by its own watch; the refused one is stopped',
    );
    assert.equal(await metricSum(registry, 'elasti_operator_informer_wide_refused_total'), 1);

    // A fourth name before the wait is over stays per-name; its updates arrive.
    await manager.add(watchOf('es-d', 'd', rec.d?.handlers));
    assert.equal(wide(cluster).length, 0);
    cluster.put(DEPLOYMENTS, 'team-a', 'd', { v: 2 });
    await settle();
    assert.match(rec.d?.events.at(-1) ?? '', /^update:d:/);

    // Access granted; after the wait the next pass widens again, and every name moves over.
    refuse = false;
    clock += 59_000;
    await manager.runHealthCheck();
    assert.equal(wide(cluster).length, 0, 'not before the wait is over');
    clock += 1_001;
    await manager.runHealthCheck();
    await waitFor(() => cluster.live().length === 1 && wide(cluster).length === 1, {
      message: 'one namespace-wide watch',
    });
    cluster.put(DEPLOYMENTS, 'team-a', 'a', { v: 2 });
    await settle();
    for (const n of ['a', 'b', 'c']) {
      const events = rec[n]?.events ?? [];
      assert.equal(events.filter((e) => e.startsWith('add:')).length, 1, `${n}: one add: ${events.join()}`);
      assert.ok(events[0]?.endsWith(':initial') || n === 'c', `${n}: ${events.join()}`);
    }
    assert.match(rec.a?.events.at(-1) ?? '', /^update:a:/, 'updates flow through the namespace-wide watch');
  });

  it('a refused namespace-wide watch is tried again after a wait that doubles per refusal', async (t) => {
    let clock = 1_000_000;
    const { cluster, manager, registry } = setup(t, {
      sharing: { mode: 'namespace', forbiddenRetryMs: 10_000 },
      now: () => clock,
    });
    cluster.onCreate = (informer) => {
      if (informer.target.fieldSelector === undefined) {
        informer.autoList = false;
        informer.statusOverride = { phase: 'Listing', lastError: forbidden, consecutiveFailures: 2 };
      }
    };
    cluster.put(DEPLOYMENTS, 'team-a', 'a');
    const added = manager.add(watchOf('es-a', 'a'));
    await settle();
    await manager.runHealthCheck();
    await added;
    const widened = (): number =>
      cluster.informers.filter((i) => i.target.fieldSelector === undefined).length;
    assert.equal(widened(), 1);
    // 10 s later: tried again (refused again) → next wait 20 s.
    clock += 10_000;
    await manager.runHealthCheck();
    assert.equal(widened(), 2);
    await manager.runHealthCheck();
    assert.equal(await metricSum(registry, 'elasti_operator_informer_wide_refused_total'), 2);
    clock += 19_999;
    await manager.runHealthCheck();
    assert.equal(widened(), 2, 'the second wait is 20 s');
    clock += 1;
    await manager.runHealthCheck();
    assert.equal(widened(), 3);
    assert.ok(
      cluster.live().some((i) => i.target.fieldSelector === 'metadata.name=a'),
      'the name keeps its own watch throughout',
    );
  });
});
