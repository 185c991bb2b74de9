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
 * Contenders (`BENCH_CONTENDERS=a,b` runs some): the `shared` design (sharing policy auto,
 * threshold 25: one namespace-wide watch per namespace) and the `upstream-per-name` design (policy
 * per-name: the upstream design, one informer per target), each as the operator ships — compiled
 * JavaScript from `npm run build` with the operator's V8 flags (`src/operator/runtime.ts`) — and
 * the shared design twice more to show what those two choices are worth: compiled with V8's
 * default flags, and the `.ts` sources run directly (development) with default flags.
 * `BENCH_HTTP2=1` runs them over HTTP/2 instead of the engine's default HTTP/1.1.
 *
 * Numbers are reported, never asserted.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SharingPolicy } from '../src/informer/types.ts';
import type { KubeObject } from '../src/kube/core/types.ts';
import { OPERATOR_NODE_FLAGS } from '../src/operator/runtime.ts';
import { apiserverMetricsText } from './_apiserver-requests.ts';
import type { FromWorker, ToWorker } from './_manager-worker.ts';
import { now, percentile, pool } from './_util.ts';

const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' } as const;
type Design = 'shared' | 'upstream-per-name';

const policies: Record<Design, SharingPolicy> = {
  shared: { mode: 'auto', autoThreshold: 25 },
  'upstream-per-name': { mode: 'per-name' },
};

/** One measured process: a design, the code it runs (compiled `dist/` or `.ts` sources) and its V8 flags. */
interface Contender {
  readonly id: string;
  readonly design: Design;
  readonly runtime: 'js' | 'ts';
  readonly nodeFlags: readonly string[];
}

const allContenders: readonly Contender[] = [
  { id: 'shared', design: 'shared', runtime: 'js', nodeFlags: OPERATOR_NODE_FLAGS },
  { id: 'shared-v8-defaults', design: 'shared', runtime: 'js', nodeFlags: [] },
  // Not run by default: the smaller young generation the engine benchmark suggests for informers.
  { id: 'shared-semi-space-2', design: 'shared', runtime: 'js', nodeFlags: ['--max-semi-space-size=2'] },
  { id: 'shared-ts-sources', design: 'shared', runtime: 'ts', nodeFlags: [] },
  { id: 'upstream-per-name', design: 'upstream-per-name', runtime: 'js', nodeFlags: OPERATOR_NODE_FLAGS },
];
const byDefault = allContenders.filter((c) => c.id !== 'shared-semi-space-2');
const contenders = allContenders.filter((c) =>
  (process.env.BENCH_CONTENDERS ?? byDefault.map((x) => x.id).join(',')).split(',').includes(c.id),
);

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

// ---------------------------------------------------------------- parent

async function apiserverWatches(url: string, token: string, ca: string): Promise<number> {
  let total = 0;
  for (const line of (await apiserverMetricsText(url, token, ca)).split('\n')) {
    if (
      line.startsWith('apiserver_longrunning_requests{') &&
      line.includes('resource="deployments"') &&
      line.includes('verb="WATCH"')
    ) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
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
  const { KubeClient } = await import('../src/kube/client/client.ts');
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
    const root = fileURLToPath(new URL('..', import.meta.url));
    if (contenders.some((c) => c.runtime === 'js')) {
      // The compiled contenders run what tsc emits, worker included (no TypeScript loaded).
      execFileSync(
        process.execPath,
        [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.bench.json'],
        {
          cwd: root,
          stdio: 'inherit',
        },
      );
    }
    const results: Record<string, unknown>[] = [];
    let round = 0;
    for (const { id, design, runtime, nodeFlags } of contenders) {
      round++;
      process.stderr.write(`[bench] manager: ${id} (${all.length} RequestWatches)\n`);
      const before = await apiserverWatches(plane.apiserverUrl, plane.tokens.admin, plane.caPem);
      const workerFile =
        runtime === 'js'
          ? `${root}tmp/bench-dist/bench/_manager-worker.js`
          : `${root}bench/_manager-worker.ts`;
      const child = fork(workerFile, [], { execArgv: [...nodeFlags, '--expose-gc'] });
      try {
        const ready = await exchange(
          child,
          {
            type: 'start',
            policy: policies[design],
            kubeconfig: plane.kubeconfigPath,
            targets: all,
            http2,
          },
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
          contender: id,
          design,
          code: runtime === 'js' ? 'compiled (dist/)' : '.ts sources',
          nodeFlags: nodeFlags.join(' ') || '(V8 defaults)',
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

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(await run(), null, 2)}\n`);
}
