/**
 * `npm run bench -- manager` (or `node bench/manager.ts`): the informer Manager with shared
 * watches against the upstream KubeElasti design (one field-selected informer per target), both
 * on our own engine, in one run on one local control plane.
 *
 * 1. Seeds N Deployments (default 10,000; `BENCH_TARGETS`) across 10 namespaces
 *    (`BENCH_NAMESPACES`).
 * 2. For each design, in a fresh process (so RSS is its own): adds one RequestWatch per
 *    Deployment (each from its own requester), 64 adds in flight; reports time, adds/s, RSS and
 *    heap, upstream informers, watch streams open on our side and WATCH requests the apiserver
 *    itself counts (`apiserver_longrunning_requests`).
 * 3. Then a writer here patches random Deployments at a paced rate (default 200/s for 10 s;
 *    `BENCH_RATE`, `BENCH_SECONDS`); each registration's handler records when its object's update
 *    arrives: fan-out latency = arrival − the writer's acknowledgement of that write (same
 *    machine clock; the event can beat the write's HTTP response, so small values are normal),
 *    and arrival − the moment the write was sent. Misrouted events (a handler receiving another
 *    object) are counted; must be 0.
 *
 * Designs: `shared` (sharing policy auto, threshold 25: one namespace-wide watch per namespace)
 * and `upstream-per-name` (policy per-name: the upstream design, one informer per target).
 * `BENCH_HTTP2=1` runs both over HTTP/2 instead of the engine's default HTTP/1.1.
 *
 * Numbers are reported, never asserted.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import type { SharingPolicy } from '../src/informer/types.ts';
import type { KubeObject } from '../src/kube/types.ts';
import { now, percentile, pool } from './_util.ts';

const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' } as const;
const allDesigns = ['shared', 'upstream-per-name'] as const;
// `BENCH_DESIGNS=shared` runs one design only.
const designs = allDesigns.filter((d) =>
  (process.env.BENCH_DESIGNS ?? allDesigns.join(',')).split(',').includes(d),
);
type Design = (typeof allDesigns)[number];

const policies: Record<Design, SharingPolicy> = {
  shared: { mode: 'auto', autoThreshold: 25 },
  'upstream-per-name': { mode: 'per-name' },
};

type ToWorker =
  | {
      type: 'start';
      design: Design;
      kubeconfig: string;
      namespaces: string[];
      perNamespace: number;
      http2: boolean;
    }
  | { type: 'collect'; expected: number; timeoutMs: number }
  | { type: 'stop' };

type FromWorker =
  | {
      type: 'ready';
      addSeconds: number;
      rssMb: number;
      rssGrowthMb: number;
      heapMb: number;
      heapTotalMb: number;
      externalMb: number;
      upstreamInformers: number;
      watchStreamsOpen: number;
      initialAdds: number;
    }
  | { type: 'received'; arrivals: [name: string, seq: number, at: number][]; misrouted: number }
  | { type: 'stopped'; stopSeconds: number; watchStreamsOpen: number }
  | { type: 'error'; message: string };

function deployment(name: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      },
    },
  };
}

const targetName = (i: number): string => `app-${String(i).padStart(5, '0')}`;

// ---------------------------------------------------------------- worker (one design per process)

async function worker(): Promise<void> {
  const send = (m: FromWorker): void => void process.send?.(m);
  const baseline = process.memoryUsage().rss;
  const { KubeClient } = await import('../src/kube/client.ts');
  const { Manager } = await import('../src/informer/manager.ts');
  const { CountingLw } = await countingModule();
  let manager: InstanceType<typeof Manager> | undefined;
  let counting: InstanceType<typeof CountingLw> | undefined;
  const arrivals: [string, number, number][] = [];
  let misrouted = 0;
  let initialAdds = 0;
  process.on('message', async (raw) => {
    const m = raw as ToWorker;
    try {
      if (m.type === 'start') {
        const client = await KubeClient.create(m.kubeconfig, { http2: m.http2 });
        counting = new CountingLw(client);
        manager = new Manager({
          client: {
            get: client.get.bind(client),
            list: counting.list.bind(counting),
            watch: counting.watch.bind(counting),
          },
          sharing: policies[m.design],
          syncTimeoutMs: 300_000,
        });
        const requests = m.namespaces.flatMap((ns, n) =>
          Array.from({ length: m.perNamespace }, (_, i) => ({
            ns,
            name: targetName(n * m.perNamespace + i),
          })),
        );
        const started = now();
        const mgr = manager;
        await pool(requests, 64, ({ ns, name }) =>
          mgr.add({
            req: { name: `es-${name}`, namespace: ns },
            resourceName: name,
            resourceNamespace: ns,
            groupVersionResource: DEPLOYMENTS,
            handlers: {
              onAdd: () => {
                initialAdds++;
              },
              onUpdate: (_old, obj) => {
                if (obj.metadata.name !== name) misrouted++;
                const seq = Number(obj.metadata.annotations?.seq ?? 0);
                if (seq > 0) arrivals.push([name, seq, now()]);
              },
            },
          }),
        );
        const addSeconds = (now() - started) / 1000;
        // Let per-name informers being handed over finish (shared design), then measure.
        const settleDeadline = now() + 120_000;
        while (manager.list().some((r) => r.migrating) && now() < settleDeadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        // Steady state, not the transient peak of the bulk add: V8 gives pages back to the OS only
        // after a few full collections spread over time (its memory reducer), so let it.
        for (let i = 0; i < 5; i++) {
          global.gc?.();
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        const mem = process.memoryUsage();
        send({
          type: 'ready',
          addSeconds,
          rssMb: mem.rss / 2 ** 20,
          rssGrowthMb: (mem.rss - baseline) / 2 ** 20,
          heapMb: mem.heapUsed / 2 ** 20,
          heapTotalMb: mem.heapTotal / 2 ** 20,
          externalMb: mem.external / 2 ** 20,
          upstreamInformers: manager.upstreams().length,
          watchStreamsOpen: counting.open,
          initialAdds,
        });
      } else if (m.type === 'collect') {
        const deadline = now() + m.timeoutMs;
        while (arrivals.length < m.expected && now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 50));
        send({ type: 'received', arrivals, misrouted });
      } else if (m.type === 'stop') {
        const started = now();
        await manager?.stop();
        send({
          type: 'stopped',
          stopSeconds: (now() - started) / 1000,
          watchStreamsOpen: counting?.open ?? -1,
        });
      }
    } catch (error) {
      send({
        type: 'error',
        message: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
  });
}

/** A ListerWatcher wrapper counting open watch streams (kept here so the worker imports only what it measures). */
async function countingModule() {
  type LW = import('../src/kube/contracts.ts').ListerWatcher;
  type Target = import('../src/kube/types.ts').ListWatchTarget;
  type ListOptions = import('../src/kube/contracts.ts').ListOptions;
  type WatchOptions = import('../src/kube/contracts.ts').WatchOptions;
  class CountingLw implements LW {
    readonly inner: LW;
    open = 0;
    constructor(inner: LW) {
      this.inner = inner;
    }
    list<T extends KubeObject>(target: Target, options: ListOptions) {
      return this.inner.list<T>(target, options);
    }
    async *watch<T extends KubeObject>(target: Target, options: WatchOptions) {
      this.open++;
      try {
        yield* this.inner.watch<T>(target, options);
      } finally {
        this.open--;
      }
    }
  }
  return { CountingLw };
}

// ---------------------------------------------------------------- parent

async function apiserverWatches(url: string, token: string, ca: string): Promise<number> {
  const dispatcher = new Agent({ connect: { ca } });
  try {
    const res = await request(`${url}/metrics`, {
      dispatcher,
      headers: { authorization: `Bearer ${token}` },
    });
    const text = await res.body.text();
    let total = 0;
    for (const line of text.split('\n')) {
      if (
        line.startsWith('apiserver_longrunning_requests{') &&
        line.includes('resource="deployments"') &&
        line.includes('verb="WATCH"')
      ) {
        total += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
    }
    return total;
  } finally {
    await dispatcher.close();
  }
}

function exchange(child: ChildProcess, message: ToWorker, timeoutMs: number): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`worker did not answer ${message.type} in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}`));
    };
    child.once('exit', onExit);
    child.once('message', (m) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      const reply = m as FromWorker;
      if (reply.type === 'error') reject(new Error(reply.message));
      else resolve(reply);
    });
    child.send(message);
  });
}

export async function run(): Promise<Record<string, unknown>> {
  const { KubeClient } = await import('../src/kube/client.ts');
  const { startControlPlane } = await import('../tools/controlplane/harness.ts');
  const targets = Number(process.env.BENCH_TARGETS ?? 10_000);
  const namespaceCount = Number(process.env.BENCH_NAMESPACES ?? 10);
  const rate = Number(process.env.BENCH_RATE ?? 200);
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const http2 = process.env.BENCH_HTTP2 === '1';
  const perNamespace = Math.ceil(targets / namespaceCount);
  const plane = await startControlPlane();
  const client = await KubeClient.create(plane.kubeconfigPath);
  try {
    const namespaces = Array.from({ length: namespaceCount }, (_, n) => `bench-mgr-${n}`);
    for (const ns of namespaces) {
      await client.create({ group: '', version: 'v1', resource: 'namespaces' }, undefined, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: ns },
      });
    }
    const all = namespaces.flatMap((ns, n) =>
      Array.from({ length: perNamespace }, (_, i) => ({ ns, name: targetName(n * perNamespace + i) })),
    );
    const seedStart = now();
    await pool(all, 32, ({ ns, name }) => client.create(DEPLOYMENTS, ns, deployment(name)));
    const seedSeconds = (now() - seedStart) / 1000;
    const results: Record<string, unknown>[] = [];
    let round = 0;
    for (const design of designs) {
      round++;
      process.stderr.write(`[bench] manager: ${design} (${all.length} RequestWatches)\n`);
      const before = await apiserverWatches(plane.apiserverUrl, plane.tokens.admin, plane.caPem);
      const child = fork(fileURLToPath(import.meta.url), [], {
        env: { ...process.env, BENCH_MANAGER_WORKER: '1' },
        execArgv: [...process.execArgv, '--expose-gc'],
      });
      try {
        const ready = await exchange(
          child,
          { type: 'start', design, kubeconfig: plane.kubeconfigPath, namespaces, perNamespace, http2 },
          900_000,
        );
        if (ready.type !== 'ready') throw new Error(`unexpected ${ready.type}`);
        const during = await apiserverWatches(plane.apiserverUrl, plane.tokens.admin, plane.caPem);
        // Paced writes to random targets; each must reach exactly its own registration.
        const total = rate * seconds;
        const acks = new Map<string, number>();
        const sends = new Map<string, number>();
        const started = now();
        let x = 12345 + round;
        const writes = Array.from({ length: total }, (_, i) => {
          x = (x * 1103515245 + 12345) % 2 ** 31;
          return { ...all[x % all.length], seq: round * 1_000_000 + i + 1 } as {
            ns: string;
            name: string;
            seq: number;
          };
        });
        await pool(writes, 32, async (w, i) => {
          const wait = started + (i * 1000) / rate - now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          sends.set(`${w.name}/${w.seq}`, now());
          await client.patch(
            DEPLOYMENTS,
            w.ns,
            w.name,
            { metadata: { annotations: { seq: String(w.seq) } } },
            'merge',
          );
          acks.set(`${w.name}/${w.seq}`, now());
        });
        const writeSeconds = (now() - started) / 1000;
        const received = await exchange(
          child,
          { type: 'collect', expected: total, timeoutMs: 60_000 },
          120_000,
        );
        if (received.type !== 'received') throw new Error(`unexpected ${received.type}`);
        const latencies: number[] = [];
        const fromSend: number[] = [];
        for (const [name, seq, at] of received.arrivals) {
          const ack = acks.get(`${name}/${seq}`);
          if (ack !== undefined) latencies.push(at - ack);
          const sent = sends.get(`${name}/${seq}`);
          if (sent !== undefined) fromSend.push(at - sent);
        }
        latencies.sort((a, b) => a - b);
        fromSend.sort((a, b) => a - b);
        const stopped = await exchange(child, { type: 'stop' }, 600_000);
        if (stopped.type !== 'stopped') throw new Error(`unexpected ${stopped.type}`);
        results.push({
          design,
          requestWatches: all.length,
          addSeconds: Number(ready.addSeconds.toFixed(2)),
          addsPerSecond: Math.round(all.length / ready.addSeconds),
          initialAddsDelivered: ready.initialAdds,
          rssMb: Math.round(ready.rssMb),
          rssGrowthMb: Math.round(ready.rssGrowthMb),
          heapMb: Math.round(ready.heapMb),
          heapTotalMb: Math.round(ready.heapTotalMb),
          externalMb: Math.round(ready.externalMb),
          upstreamInformers: ready.upstreamInformers,
          watchStreamsOpenOurSide: ready.watchStreamsOpen,
          apiserverWatchRequests: during - before,
          writesPerSecondAchieved: Math.round(total / writeSeconds),
          updatesWritten: total,
          updatesDelivered: latencies.length,
          misroutedEvents: received.misrouted,
          fanOutLatencyMsP50: Number(percentile(latencies, 50).toFixed(1)),
          fanOutLatencyMsP99: Number(percentile(latencies, 99).toFixed(1)),
          fanOutLatencyMsMax: Number((latencies.at(-1) ?? Number.NaN).toFixed(1)),
          // From the moment the write was sent (includes the apiserver's write path).
          fromSendLatencyMsP50: Number(percentile(fromSend, 50).toFixed(1)),
          fromSendLatencyMsP99: Number(percentile(fromSend, 99).toFixed(1)),
          stopSeconds: Number(stopped.stopSeconds.toFixed(2)),
          watchStreamsOpenAfterStop: stopped.watchStreamsOpen,
        });
      } finally {
        child.kill();
      }
    }
    return {
      targets: all.length,
      namespaces: namespaceCount,
      transport: http2 ? 'http2' : 'http1.1',
      seedDeploymentsPerSecond: Math.round(all.length / seedSeconds),
      rate,
      seconds,
      results,
    };
  } finally {
    await client.close();
    await plane.stop();
  }
}

if (process.env.BENCH_MANAGER_WORKER === '1') {
  await worker();
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(await run(), null, 2)}\n`);
}
