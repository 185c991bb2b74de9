/**
 * `npm run bench -- engine`: the informer engine against its peers, side by side, in one run on
 * one local control plane: ours, @kubernetes/client-node's informer, and client-go's own
 * informers (built from the Go module proxy at the control plane's version,
 * `bench/peers/client-go/`).
 *
 * 1. Seeds N ConfigMaps of ~1 KiB (default 10,000; `BENCH_OBJECTS`).
 * 2. Rounds (default 3; `BENCH_ROUNDS`), interleaved: each round runs every contender once, each
 *    in a fresh process (so RSS is its own), in an order rotated by one per round. For each:
 *    time from start to synced (the handler has been handed every object), RSS right after the
 *    sync, the live heap after full GCs.
 * 3. Then, with that contender synced, a writer here updates ConfigMaps at a paced rate
 *    (default 1,000/s for 10 s; `BENCH_RATES=300,1000`, `BENCH_SECONDS`) and the contender's
 *    handler records when each update arrives: latency = handler time − the writer's
 *    acknowledgement time of that write (same machine clock on both sides), the contender's
 *    CPU per 1,000 events delivered, and its RSS after the phase.
 * 4. Every column is summarized over the rounds as median (range) and as the ratio to client-go's
 *    dynamic informer with its defaults, taken within each round (`bench/_summary.ts`); the
 *    markdown table is printed to stderr and returned as `table`.
 *
 * Contenders (`bench/_contenders.ts`; `BENCH_CONTENDERS=a,b` runs some): ours with a paged or a
 * streaming list (compiled, the operator's V8 flags), client-node's `makeInformer`, a floor (one
 * raw WATCH whose events are only parsed, no cache/queue/resume: what the apiserver and the
 * machine cost), and client-go: the dynamic informer with its defaults (WatchListClient on), the
 * same with WatchListClient off (paged list), and the typed ConfigMap informer over protobuf.
 * Every contender speaks the line protocol of `bench/_protocol.ts` on its stdin and stdout.
 *
 * Numbers are reported, never asserted.
 */
import { fileURLToPath } from 'node:url';
import { KubeClient } from '../src/kube/client/client.ts';
import { startControlPlane } from '../tools/controlplane/harness.ts';
import {
  allContenders,
  type Contender,
  oursVariants,
  prepare,
  referenceId,
  selectContenders,
  startContender,
} from './_contenders.ts';
import type { WorkerChannel } from './_protocol.ts';
import { type Column, markdownTable, type RoundRow, summarize } from './_summary.ts';
import { now, percentile, pool } from './_util.ts';

const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' } as const;

/** Seeds `objects` ConfigMaps of ~1 KiB named cm-000000… in `namespace` (created here). */
export async function seedConfigMaps(
  client: KubeClient,
  namespace: string,
  objects: number,
): Promise<number> {
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
  return Math.round(objects / ((now() - seedStart) / 1000));
}

/** One paced write phase against a synced contender; returns the latency numbers. */
async function writePhase(
  contender: string,
  worker: WorkerChannel,
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
  const collected = worker.next();
  worker.send({ type: 'collect', expected: total, timeoutMs: 60_000 });
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
    rssMbAfterEvents: received.rssMb === undefined ? undefined : Math.round(received.rssMb),
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
  built: { clientGo?: string },
  kubeconfig: string,
  namespace: string,
  objects: number,
  client: KubeClient,
  rates: number[],
  seconds: number,
  round: number,
  sequence: number,
): Promise<Record<string, unknown>> {
  const worker = startContender(contender, { kubeconfig, namespace, expected: objects }, built);
  try {
    const synced = await worker.next();
    if (synced.type !== 'synced') throw new Error(`${contender.id}: ${JSON.stringify(synced)}`);
    const phases: Record<string, unknown>[] = [];
    for (const [i, rate] of rates.entries()) {
      // Unique per measurement: a patch that writes the value an earlier contender left is a
      // no-op on the server and would produce no event at all.
      const seqBase = sequence * 10_000_000 + (i + 1) * 1_000_000;
      phases.push(await writePhase(contender.id, worker, client, namespace, objects, rate, seconds, seqBase));
    }
    return {
      contender: contender.id,
      round,
      syncMs: Math.round(synced.syncMs),
      rssMbAfterSync: Math.round(synced.rssMb),
      rssMbGrowthDuringSync: Math.round(synced.rssDeltaMb),
      liveHeapMbAfterSync: Number(synced.heapMb.toFixed(1)),
      memory: synced.detail,
      phases,
    };
  } finally {
    await worker.close();
  }
}

/** The columns of the summary table, from one contender's round. */
function values(result: Record<string, unknown>, rates: number[]): Record<string, number | undefined> {
  const phases = result.phases as Record<string, number>[];
  const at = (rate: number, key: string): number | undefined => phases[rates.indexOf(rate)]?.[key];
  const top = rates.includes(1000) ? 1000 : (rates.at(-1) as number);
  return {
    syncMs: result.syncMs as number,
    rssMb: result.rssMbAfterSync as number,
    liveHeapMb: result.liveHeapMbAfterSync as number,
    cpuMsPer1k: at(top, 'cpuMsPer1kEvents'),
    p99: at(top, 'latencyMsP99'),
    rssAfterEventsMb: at(top, 'rssMbAfterEvents'),
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const objects = Number(process.env.BENCH_OBJECTS ?? 10_000);
  const rates = (process.env.BENCH_RATES ?? '1000').split(',').map(Number);
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const contenders = selectContenders(allContenders, oursVariants);
  const built = prepare(contenders);
  const plane = await startControlPlane();
  const client = await KubeClient.create(plane.kubeconfigPath);
  try {
    const namespace = 'bench-engine';
    const seedObjectsPerSecond = await seedConfigMaps(client, namespace, objects);
    const results: Record<string, unknown>[] = [];
    for (let round = 1; round <= rounds; round++) {
      // Rotated by one per round, so no contender always runs first (or right after the seeding).
      const order = contenders.map((_, i) => contenders[(i + round - 1) % contenders.length] as Contender);
      for (const contender of order) {
        process.stderr.write(`[bench] engine: round ${round}/${rounds}: ${contender.id}\n`);
        results.push(
          await measure(
            contender,
            built,
            plane.kubeconfigPath,
            namespace,
            objects,
            client,
            rates,
            seconds,
            round,
            results.length + 1,
          ),
        );
      }
    }
    const top = rates.includes(1000) ? 1000 : (rates.at(-1) as number);
    const columns: Column[] = [
      { key: 'syncMs', heading: `sync ${objects.toLocaleString('en-US')}`, unit: 'ms' },
      { key: 'rssMb', heading: 'RSS after sync', unit: 'MB' },
      { key: 'liveHeapMb', heading: 'live heap after GC', unit: 'MB', digits: 1 },
      { key: 'cpuMsPer1k', heading: `CPU / 1k events at ${top}/s`, unit: 'ms' },
      { key: 'p99', heading: `ack→handler p99 at ${top}/s`, unit: 'ms', digits: 1 },
      { key: 'rssAfterEventsMb', heading: 'RSS after events', unit: 'MB' },
    ];
    const rows: RoundRow[] = results.map((r) => ({
      round: r.round as number,
      contender: r.contender as string,
      values: values(r, rates),
    }));
    const summary = summarize(rows, columns, referenceId);
    const table = markdownTable(summary, columns, contenders);
    process.stderr.write(`${table}\n`);
    return {
      objects,
      objectBytes: 1024,
      rates,
      seconds,
      rounds,
      seedObjectsPerSecond,
      summary,
      table,
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
