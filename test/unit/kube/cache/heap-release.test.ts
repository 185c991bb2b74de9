import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import v8 from 'node:v8';
import {
  HeapReleaser,
  HeapReleaseSettingError,
  heapReleaseEnabled,
  lastResortCollector,
} from '../../../../src/kube/cache/heap-release.ts';
import { SharedInformer } from '../../../../src/kube/cache/informer.ts';
import type { KubeObject, ReflectorSink } from '../../../../src/kube/core/index.ts';
import { FakeApiServer } from '../../../support/fake-api-server.ts';
import { reflectorStatus } from '../../../support/reflector-status.ts';
import { waitFor } from '../../../support/wait.ts';

/** A releaser over a counting collector and a hand-driven clock. */
function counting(minIntervalMs = 1000) {
  let clock = 0;
  const calls: number[] = [];
  const releaser = new HeapReleaser({
    collector: () => void calls.push(clock),
    minIntervalMs,
    now: () => clock,
  });
  return {
    releaser,
    calls,
    advance(ms: number) {
      clock += ms;
    },
  };
}

describe('HeapReleaser', () => {
  test('the first request collects at once; one within the interval is scheduled for its end', async () => {
    const { releaser, calls, advance } = counting(40);
    assert.equal(releaser.request(), 'released');
    assert.deepEqual(calls, [0]);
    advance(10);
    assert.equal(releaser.request(), 'scheduled');
    assert.equal(releaser.request(), 'coalesced', 'a burst folds into the scheduled collection');
    assert.equal(calls.length, 1, 'nothing more runs before the interval ends');
    advance(30);
    await waitFor(() => calls.length === 2, { timeoutMs: 5000, message: 'the scheduled collection' });
    assert.deepEqual(releaser.stats(), { releases: 2, coalesced: 2, pauseMs: 0 });
    advance(100);
    assert.equal(releaser.request(), 'released', 'after the interval a request collects at once again');
    assert.equal(calls.length, 3);
  });

  test('ELASTI_HEAP_RELEASE: on/off words, unset is on, anything else a typed error naming it', () => {
    assert.equal(heapReleaseEnabled({}), true);
    for (const on of ['on', 'TRUE', '1', ' '])
      assert.equal(heapReleaseEnabled({ ELASTI_HEAP_RELEASE: on }), true, on);
    for (const off of ['off', 'False', '0'])
      assert.equal(heapReleaseEnabled({ ELASTI_HEAP_RELEASE: off }), false, off);
    assert.throws(
      () => heapReleaseEnabled({ ELASTI_HEAP_RELEASE: 'sometimes' }),
      (e: unknown) =>
        e instanceof HeapReleaseSettingError &&
        /^ELASTI_HEAP_RELEASE: "sometimes" is neither/.test(e.message),
    );
  });

  test('without a collector every request is unavailable and nothing is scheduled', () => {
    const releaser = new HeapReleaser({ collector: undefined });
    assert.equal(releaser.available, false);
    assert.equal(releaser.request(), 'unavailable');
    assert.deepEqual(releaser.stats(), { releases: 0, coalesced: 0, pauseMs: 0 });
  });

  test('a collector that throws is counted and changes nothing else', () => {
    const releaser = new HeapReleaser({
      collector: () => {
        throw new Error('no');
      },
    });
    assert.equal(releaser.request(), 'released');
    assert.equal(releaser.stats().releases, 1);
  });

  test('a scheduled collection neither keeps the process alive nor survives cancel()', async () => {
    const { releaser, calls, advance } = counting(30);
    releaser.request();
    advance(1);
    const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timeouts();
    assert.equal(releaser.request(), 'scheduled');
    assert.equal(timeouts(), before, 'the scheduled collection is not among what keeps the process alive');
    releaser.cancel();
    advance(100);
    // A window for a cancelled collection to show (the interval is 30 ms): a negative check needs one.
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal(calls.length, 1, 'cancelled');
    assert.equal(releaser.request(), 'released', 'after cancel the next request runs at once');
  });

  test('the real collector exists without --expose-gc, frees garbage, and leaves no gc global behind', async () => {
    assert.equal(
      typeof (globalThis as { gc?: unknown }).gc,
      'undefined',
      'this test runs without --expose-gc',
    );
    const collect = lastResortCollector();
    assert.ok(collect, 'the gc extension is obtainable at run time');
    const vm = await import('node:vm');
    assert.equal(vm.runInNewContext('typeof gc'), 'undefined', 'later contexts get no gc global');
    // ~40 MB of strings, moved to the old generation by a first collection while still held.
    let held: string[] | undefined = Array.from({ length: 4000 }, () => randomBytes(5000).toString('hex'));
    const weak = new WeakRef(held);
    collect();
    held = undefined;
    // A WeakRef's target is kept until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    const before = v8.getHeapStatistics().used_heap_size;
    collect();
    const after = v8.getHeapStatistics().used_heap_size;
    assert.equal(weak.deref(), undefined, 'the unreachable array was collected');
    assert.ok(before - after > 20 * 2 ** 20, `used heap ${before} → ${after}: at least 20 MiB freed`);
  });
});

/** Just enough of a reflector for the informer to hand a list to its sink. */
function informerWithSink(options: { heapRelease?: false | { minItems: number }; releaser: HeapReleaser }) {
  let sink: ReflectorSink<KubeObject> | undefined;
  const status = reflectorStatus('Listing');
  const informer = new SharedInformer<KubeObject>({
    lw: new FakeApiServer(),
    target: { gvr: { group: '', version: 'v1', resource: 'configmaps' } },
    heapReleaser: options.releaser,
    ...(options.heapRelease !== undefined ? { heapRelease: options.heapRelease } : {}),
    reflectorFactory: (o) => {
      sink = o.sink;
      return { start() {}, async stop() {}, restart() {}, status: () => status };
    },
  });
  informer.start();
  const list = (n: number, rv: string) => {
    const items = Array.from({ length: n }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { namespace: 'ns', name: `cm-${i}`, resourceVersion: rv },
    }));
    sink?.replace(items, rv);
  };
  return { informer, list };
}

describe('SharedInformer asks for a collection after a large list', () => {
  test('a list of minItems or more is followed by one request, after the sink returned', async () => {
    const { releaser, calls } = counting();
    const { informer, list } = informerWithSink({ releaser, heapRelease: { minItems: 3 } });
    list(3, '10');
    assert.equal(calls.length, 0, 'not inside the reflector’s call into the sink');
    await waitFor(() => calls.length === 1, { timeoutMs: 5000, message: 'the collection after the list' });
    await informer.stop();
  });

  test('smaller lists, heapRelease: false, and a stopped informer ask for nothing', async () => {
    const small = counting();
    const a = informerWithSink({ releaser: small.releaser, heapRelease: { minItems: 3 } });
    a.list(2, '10');
    const off = counting();
    const b = informerWithSink({ releaser: off.releaser, heapRelease: false });
    b.list(5000, '10');
    const stopped = counting();
    const c = informerWithSink({ releaser: stopped.releaser });
    c.list(1000, '10');
    await c.informer.stop();
    // One more turn of the event loop than the informer's own deferral.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(small.calls.length, 0, 'below minItems');
    assert.equal(off.calls.length, 0, 'turned off');
    assert.equal(stopped.calls.length, 0, 'stopped before the deferral ran');
    const d = counting();
    const e = informerWithSink({ releaser: d.releaser });
    e.list(1000, '10');
    await waitFor(() => d.calls.length === 1, {
      timeoutMs: 5000,
      message: 'the default policy (1,000 objects)',
    });
    await Promise.all([a.informer.stop(), b.informer.stop(), e.informer.stop()]);
  });
});
