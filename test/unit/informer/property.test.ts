import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InformerNotFoundError, TargetNotFoundError } from '../../../src/informer/errors.ts';
import type { Manager } from '../../../src/informer/manager.ts';
import { DEPLOYMENTS, type FakeCluster, prng } from './fakes.ts';
import { metricSum, seriesCount, setup, watchOf } from './helpers.ts';

const COUNT = 'elasti_operator_informer_count';
const NAMESPACES = ['ns-a', 'ns-b'];
const REQUESTERS = ['es-0', 'es-1', 'es-2', 'es-3', 'es-4', 'es-5'];
const TARGETS = Array.from({ length: 10 }, (_, i) => `app-${i}`);

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function populate(cluster: FakeCluster): void {
  // app-8 and app-9 do not exist: adds of them must fail and leave nothing.
  for (const ns of NAMESPACES) for (const name of TARGETS.slice(0, 8)) cluster.put(DEPLOYMENTS, ns, name);
}

function keyOf(es: string, ns: string, name: string): string {
  return `${es}/${ns}/deployments.apps/${name}`;
}

/** What must hold after every operation, whatever happened before. */
async function assertInvariants(
  manager: Manager,
  cluster: FakeCluster,
  registry: Parameters<typeof metricSum>[0],
  expected?: Set<string>,
): Promise<void> {
  const listed = manager.list();
  const active = listed.filter((r) => r.state === 'Active').map((r) => r.key);
  assert.equal(await metricSum(registry, COUNT), active.length, 'gauge sum = active registrations');
  assert.equal(
    await seriesCount(registry, COUNT),
    active.length,
    'one series per active registration, no leftovers',
  );
  if (expected) assert.deepEqual(new Set(active), expected, 'registrations = model');
  const upstreams = manager.upstreams();
  assert.equal(cluster.live().length, upstreams.length, 'every live informer is accounted for (no leak)');
  for (const u of upstreams) assert.ok(u.names > 0, `upstream ${u.id} serves someone`);
}

async function runSequential(
  t: Parameters<typeof setup>[0],
  seed: number,
  asyncDelivery: boolean,
): Promise<void> {
  const { cluster, registry, manager } = setup(t, {
    sharing: { mode: 'auto', autoThreshold: 3, autoDowngradeBelow: 2 },
    cluster: { asyncDelivery },
  });
  populate(cluster);
  const random = prng(seed);
  const model = new Set<string>();
  const counts = { add: 0, notFound: 0, stop: 0, unknown: 0, forCrd: 0 };
  for (let op = 0; op < 500; op++) {
    const roll = random();
    const ns = pick(random, NAMESPACES);
    const es = pick(random, REQUESTERS);
    const name = pick(random, TARGETS);
    if (roll < 0.55) {
      const key = keyOf(es, ns, name);
      try {
        assert.equal(await manager.add(watchOf(es, name, {}, { namespace: ns })), key);
        model.add(key);
        counts.add++;
      } catch (error) {
        assert.ok(error instanceof TargetNotFoundError, `op ${op}: ${String(error)}`);
        assert.ok(name === 'app-8' || name === 'app-9');
        counts.notFound++;
      }
    } else if (roll < 0.9) {
      const known = [...model];
      const key = known.length > 0 && random() < 0.8 ? pick(random, known) : keyOf(es, ns, name);
      try {
        await manager.stopInformer(key);
        assert.ok(model.delete(key), `op ${op}: stopped a key the model did not have`);
        counts.stop++;
      } catch (error) {
        assert.ok(error instanceof InformerNotFoundError, `op ${op}: ${String(error)}`);
        assert.equal(model.has(key), false);
        counts.unknown++;
      }
    } else {
      const stopped = await manager.stopForCRD(es, ns);
      const expected = [...model].filter((k) => k.startsWith(`${es}/${ns}/`));
      assert.deepEqual(stopped.sort(), expected.sort(), `op ${op}: stopForCRD(${es}, ${ns})`);
      for (const k of expected) model.delete(k);
      counts.forCrd++;
    }
    await assertInvariants(manager, cluster, registry, model);
  }
  // The sequence really exercised every path.
  for (const [what, n] of Object.entries(counts)) assert.ok(n > 10, `${what} happened ${n} times`);
  assert.ok(
    cluster.informers.some((i) => i.target.fieldSelector === undefined),
    'namespace-wide watches were used',
  );
  await manager.stop();
  assert.equal(cluster.live().length, 0);
  assert.equal(await seriesCount(registry, COUNT), 0);
}

describe('property: gauge and informers stay exact over random operation sequences', () => {
  it('500 sequential add/stopInformer/stopForCRD ops (seed 42, synchronous delivery)', (t) =>
    runSequential(t, 42, false));

  it('500 sequential ops (seed 7, asynchronous delivery)', (t) => runSequential(t, 7, true));

  it('500 ops issued in concurrent batches of 10 (seed 1234)', async (t) => {
    const { cluster, registry, manager } = setup(t, {
      sharing: { mode: 'auto', autoThreshold: 3, autoDowngradeBelow: 2 },
      cluster: { asyncDelivery: true },
    });
    populate(cluster);
    const random = prng(1234);
    let outcomes = 0;
    for (let batch = 0; batch < 50; batch++) {
      const ops: Promise<unknown>[] = [];
      for (let i = 0; i < 10; i++) {
        const roll = random();
        const ns = pick(random, NAMESPACES);
        const es = pick(random, REQUESTERS);
        const name = pick(random, TARGETS);
        if (roll < 0.6) ops.push(manager.add(watchOf(es, name, {}, { namespace: ns })));
        else if (roll < 0.9) ops.push(manager.stopInformer(keyOf(es, ns, name)));
        else ops.push(manager.stopForCRD(es, ns));
      }
      const results = await Promise.allSettled(ops);
      for (const r of results) {
        if (r.status === 'rejected') {
          const name = (r.reason as Error).name;
          assert.ok(
            ['TargetNotFoundError', 'InformerNotFoundError', 'AddCancelledError'].includes(name),
            `unexpected ${String(r.reason)}`,
          );
        }
        outcomes++;
      }
      await assertInvariants(manager, cluster, registry);
      for (const r of manager.list()) assert.equal(r.state, 'Active', 'no registration left half-added');
    }
    assert.equal(outcomes, 500);
    await manager.stop();
    assert.equal(cluster.live().length, 0);
    assert.equal(await seriesCount(registry, COUNT), 0);
  });
});
