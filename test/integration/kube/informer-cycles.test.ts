/**
 * 1,000 create/start/sync/stop cycles of an informer on the real apiserver must not leak
 * sockets, handles, timers, metric series or memory.
 *
 * Each cycle: new informer (with metrics, a handler with a resync period), start, wait for sync
 * and for the handler's initial adds, make a write and wait for it to arrive through the watch
 * (so every cycle really had a live watch socket), stop.
 *
 * Bounds, and why (measured on the 2-core dev machine: ~8 ms/cycle, handles back to the
 * baseline plus at most one pooled keep-alive socket, heap growth between -5 and +1.5 MB, 0 of
 * 100 sampled informers alive):
 * - handles and sockets: after settling, at most the warm-up baseline plus 2 (an idle keep-alive
 *   socket of the shared connection may or may not be pooled when we look). A leak of one
 *   socket or timer per cycle would show as ~1,000.
 * - informer objects: at most 2 of the 100 sampled (every 10th) may still be reachable after a
 *   full GC. Any global path to a stopped informer (metrics records, connection or signal
 *   listeners, a live timer or delivery loop) keeps all 100.
 * - heap: growth from the post-warm-up baseline to the end, both after a full GC, under 8 MB.
 *   Measured noise is a few MB either way (V8 and TLS caches); each cycle caches 20 objects of
 *   ~1 KB, so retaining even one cache per cycle (~20 MB over 1,000 cycles) breaks the bound.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Registry } from 'prom-client';
import { SharedInformer } from '../../../src/kube/cache/informer.ts';
import { KubeClient } from '../../../src/kube/client/client.ts';
import type { GroupVersionResource, KubeObject } from '../../../src/kube/core/types.ts';
import { EngineMetrics } from '../../../src/kube/metrics/metrics.ts';
import { testCluster, testNamespace } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';

const CONFIGMAPS: GroupVersionResource = { group: '', version: 'v1', resource: 'configmaps' };

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function fullGc(): void {
  for (let i = 0; i < 3; i++) gc();
}

/** Active handles by type, e.g. `{ TLSWrap: 1, Timeout: 2 }`. */
function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

function total(counts: Record<string, number>, kinds?: string[]): number {
  return Object.entries(counts)
    .filter(([k]) => !kinds || kinds.includes(k))
    .reduce((sum, [, n]) => sum + n, 0);
}

/**
 * Rejects if `promise` does not settle within `ms`, and always clears its timer (a pending
 * timer would keep this cycle's closures, and through them the informer, alive for `ms`).
 */
async function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const SOCKETS = ['TLSWrap', 'TCPSocketWrap', 'TCPWrap', 'PipeWrap'];

test('1,000 informer create/stop cycles leave no sockets, handles, metric series or memory behind', async (t) => {
  const cluster = await testCluster();
  const ns = await testNamespace(t, 'cyc');
  const client = await KubeClient.create(cluster.kubeconfigPath);
  t.after(() => client.close());
  for (let i = 0; i < 20; i++) {
    await client.create(CONFIGMAPS, ns, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `cm-${i}` },
      data: { payload: 'x'.repeat(512) },
    });
  }
  const registry = new Registry();
  const metrics = new EngineMetrics(registry);
  const samples: WeakRef<SharedInformer>[] = [];

  const cycle = async (i: number): Promise<void> => {
    let watching!: () => void;
    const watchStarted = new Promise<void>((resolve) => {
      watching = resolve;
    });
    const informer = new SharedInformer<KubeObject>({
      lw: client,
      target: { gvr: CONFIGMAPS, namespace: ns },
      name: 'cycling',
      metrics,
      reflector: { observer: { onWatchStart: () => watching() } },
    });
    let adds = 0;
    let sawWrite = false;
    const marker = `cycle-${i}-${Math.random()}`;
    const reg = informer.addEventHandler(
      {
        onAdd: () => void adds++,
        onUpdate: (_old, o) => {
          if ((o as { data?: Record<string, string> }).data?.marker === marker) sawWrite = true;
        },
      },
      { resyncPeriodMs: 60_000 },
    );
    informer.start();
    await informer.waitForSync(AbortSignal.timeout(30_000));
    await withDeadline(watchStarted, 30_000, `cycle ${i}: no watch`);
    await waitFor(() => reg.hasSynced(), { timeoutMs: 30_000, intervalMs: 1 });
    assert.equal(adds, 20);
    // Prove the watch is live on a real socket: a write made now must arrive through it.
    await client.patch(CONFIGMAPS, ns, 'cm-0', { data: { marker } }, 'merge');
    await waitFor(() => sawWrite, {
      timeoutMs: 30_000,
      intervalMs: 1,
      message: `cycle ${i}: event via watch`,
    });
    await informer.stop();
    if (i % 10 === 0) samples.push(new WeakRef(informer));
  };

  const WARMUP = 50;
  const CYCLES = 1000;
  for (let i = 0; i < WARMUP; i++) await cycle(i);
  samples.length = 0;
  // Let the last warm-up sockets close, then take the baseline.
  await new Promise((r) => setTimeout(r, 200));
  fullGc();
  const baseHandles = handles();
  const baseHeap = process.memoryUsage().heapUsed;

  const started = Date.now();
  for (let i = 0; i < CYCLES; i++) await cycle(i);
  const elapsed = Date.now() - started;

  const settled = await waitFor(
    () => {
      const now = handles();
      return total(now) <= total(baseHandles) + 2 ? now : undefined;
    },
    { timeoutMs: 30_000, message: `handles back near the baseline ${JSON.stringify(baseHandles)}` },
  );
  await new Promise((r) => setTimeout(r, 50));
  fullGc();
  const heapGrowth = process.memoryUsage().heapUsed - baseHeap;
  const alive = samples.filter((w) => w.deref() !== undefined).length;

  t.diagnostic(`cycles=${CYCLES} elapsed=${elapsed}ms (${(elapsed / CYCLES).toFixed(1)} ms/cycle)`);
  t.diagnostic(`handles baseline=${JSON.stringify(baseHandles)} after=${JSON.stringify(settled)}`);
  t.diagnostic(
    `heap growth=${(heapGrowth / 1024 / 1024).toFixed(2)} MB; sampled informers alive=${alive}/${samples.length}`,
  );

  assert.ok(total(settled, SOCKETS) <= total(baseHandles, SOCKETS) + 2, 'no socket growth');
  assert.ok((settled.Timeout ?? 0) <= (baseHandles.Timeout ?? 0) + 1, 'no timer growth');
  assert.equal(samples.length, CYCLES / 10);
  assert.ok(alive <= 2, `${alive} of ${samples.length} sampled informers still alive after GC`);
  assert.ok(heapGrowth < 8 * 1024 * 1024, `heap grew ${heapGrowth} bytes`);
  assert.deepEqual(metrics.informerNames(), [], 'metric records released');
  assert.doesNotMatch(await registry.metrics(), /informer="cycling"/, 'no metric series left');
});
