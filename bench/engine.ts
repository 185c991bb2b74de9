/**
 * `npm run bench -- engine`: the informer engine against its peer, side by side, in one run on
 * one local control plane.
 *
 * 1. Seeds N ConfigMaps of ~1 KiB (default 10,000; `BENCH_OBJECTS`).
 * 2. For each contender, in a fresh process (so RSS is its own): time from start to synced,
 *    RSS and heap after sync.
 * 3. Then, with that contender synced, a writer here updates ConfigMaps at a paced rate
 *    (default 300/s, then 1,000/s, 10 s each; `BENCH_RATES`, `BENCH_SECONDS`) and the contender's handler
 *    records when each update arrives: latency = handler time − the writer's acknowledgement
 *    time of that write (same machine, `performance.timeOrigin + performance.now()` on both
 *    sides), plus events/s delivered.
 *
 * Contenders: ours with a paged list, ours with the streaming list,
 * @kubernetes/client-node's informer (the TypeScript peer), and a floor: one raw WATCH whose
 * events are only parsed (no cache, queue or resume), to show how much of the latency is the
 * apiserver and the machine rather than any informer.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KubeClient } from '../src/kube/client.ts';
import { startControlPlane } from '../tools/controlplane/harness.ts';
import { now, percentile, pool } from './_util.ts';

const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' } as const;
export const contenders = ['ours-paged', 'ours-streaming', 'client-node', 'raw-watch-floor'] as const;
export type Contender = (typeof contenders)[number];

/** Messages between this process and a contender's worker. */
export type WorkerMessage =
  | { type: 'synced'; syncMs: number; rssMb: number; rssDeltaMb: number; heapMb: number; objects: number }
  | { type: 'received'; arrivals: [name: string, seq: number, at: number][]; cpuMs: number }
  | { type: 'error'; message: string };
export type ParentMessage = { type: 'collect'; expected: number; timeoutMs: number };

/** One paced write phase against a synced contender; returns the latency numbers. */
async function writePhase(
  contender: Contender,
  next: () => Promise<WorkerMessage>,
  send: (m: ParentMessage) => void,
  client: KubeClient,
  namespace: string,
  objects: number,
  rate: number,
  seconds: number,
  seqBase: number,
): Promise<Record<string, unknown>> {
  // Paced writes: one update every 1000/rate ms, at most 64 in flight.
  const total = rate * seconds;
  const acks = new Map<string, number>();
  const sends = new Map<string, number>();
  const started = now();
  await pool(
    Array.from({ length: total }, (_, i) => i),
    64,
    async (i) => {
      const due = started + (i * 1000) / rate;
      const wait = due - now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const name = `cm-${String(i % objects).padStart(6, '0')}`;
      const seq = seqBase + i;
      sends.set(`${name}/${seq}`, now());
      await client.patch(CONFIGMAPS, namespace, name, { data: { seq: String(seq) } }, 'merge');
      acks.set(`${name}/${seq}`, now());
    },
  );
  const writeSeconds = (now() - started) / 1000;
  const collected = next();
  send({ type: 'collect', expected: total, timeoutMs: 60_000 });
  const received = await collected;
  if (received.type !== 'received') throw new Error(`${contender}: ${JSON.stringify(received)}`);
  const latencies: number[] = [];
  const fromSend: number[] = [];
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const [name, seq, at] of received.arrivals) {
    const ack = acks.get(`${name}/${seq}`);
    if (ack === undefined) continue;
    latencies.push(at - ack);
    fromSend.push(at - (sends.get(`${name}/${seq}`) ?? ack));
    first = Math.min(first, at);
    last = Math.max(last, at);
  }
  latencies.sort((x, y) => x - y);
  fromSend.sort((x, y) => x - y);
  return {
    rate,
    writesPerSecondAchieved: Math.round(total / writeSeconds),
    updatesWritten: total,
    updatesDelivered: latencies.length,
    eventsPerSecondDelivered: Math.round(latencies.length / Math.max(0.001, (last - first) / 1000)),
    // CPU the contender's process used to receive and deliver the updates, per 1,000 events.
    cpuMsPer1kEvents: Number(((received.cpuMs / Math.max(1, latencies.length)) * 1000).toFixed(1)),
    // From the writer's acknowledgement (the event may beat the HTTP response: ~0 is normal).
    latencyMsP50: Number(percentile(latencies, 50).toFixed(1)),
    latencyMsP99: Number(percentile(latencies, 99).toFixed(1)),
    latencyMsMax: Number((latencies.at(-1) ?? Number.NaN).toFixed(1)),
    // From the moment the write was sent (includes the apiserver's write path).
    latencyFromSendMsP50: Number(percentile(fromSend, 50).toFixed(1)),
    latencyFromSendMsP99: Number(percentile(fromSend, 99).toFixed(1)),
  };
}

/** Runs one contender end to end (sync, then one write phase per rate); returns its numbers. */
async function measure(
  contender: Contender,
  kubeconfig: string,
  namespace: string,
  objects: number,
  client: KubeClient,
  rates: number[],
  seconds: number,
  round: number,
): Promise<Record<string, unknown>> {
  const worker = fork(fileURLToPath(new URL('./_engine-worker.ts', import.meta.url)), [
    contender,
    kubeconfig,
    namespace,
    String(objects),
  ]);
  const next = (): Promise<WorkerMessage> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null): void =>
        reject(new Error(`${contender} worker exited with ${code}`));
      worker.once('exit', onExit);
      worker.once('message', (m) => {
        worker.off('exit', onExit);
        resolve(m as WorkerMessage);
      });
    });
  const send = (m: ParentMessage): void => void worker.send(m);
  try {
    const synced = await next();
    if (synced.type !== 'synced') throw new Error(`${contender}: ${JSON.stringify(synced)}`);
    const phases: Record<string, unknown>[] = [];
    for (const [i, rate] of rates.entries()) {
      const seqBase = round * 10_000_000 + (i + 1) * 1_000_000;
      phases.push(
        await writePhase(contender, next, send, client, namespace, objects, rate, seconds, seqBase),
      );
    }
    return {
      contender,
      syncMs: Math.round(synced.syncMs),
      rssMbAfterSync: Math.round(synced.rssMb),
      rssMbGrowthDuringSync: Math.round(synced.rssDeltaMb),
      heapMbAfterSync: Math.round(synced.heapMb),
      phases,
    };
  } finally {
    worker.kill();
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const objects = Number(process.env.BENCH_OBJECTS ?? 10_000);
  const rates = (process.env.BENCH_RATES ?? '300,1000').split(',').map(Number);
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const plane = await startControlPlane();
  const client = await KubeClient.create(plane.kubeconfigPath);
  try {
    const namespace = 'bench-engine';
    await client.create({ group: '', version: 'v1', resource: 'namespaces' }, undefined, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace },
    });
    const payload = 'x'.repeat(1000);
    const seedStart = now();
    await pool(
      Array.from({ length: objects }, (_, i) => i),
      32,
      async (i) => {
        await client.create(CONFIGMAPS, namespace, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `cm-${String(i).padStart(6, '0')}` },
          data: { payload, seq: '0' },
        });
      },
    );
    const seedSeconds = (now() - seedStart) / 1000;
    const results: Record<string, unknown>[] = [];
    let round = 1;
    for (const contender of contenders) {
      process.stderr.write(`[bench] engine: ${contender}\n`);
      results.push(
        await measure(contender, plane.kubeconfigPath, namespace, objects, client, rates, seconds, round++),
      );
    }
    return {
      objects,
      objectBytes: 1024,
      rates,
      seconds,
      seedObjectsPerSecond: Math.round(objects / seedSeconds),
      results,
    };
  } finally {
    await client.close();
    await plane.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(await run(), null, 2)}\n`);
}
