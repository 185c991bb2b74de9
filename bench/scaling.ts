/**
 * `npm run bench -- scaling`: the operator's scaling at 1,000 ElastiServices, on a local control
 * plane with a real Prometheus (no kube-controller-manager, no kwok: Pods are not what is
 * measured, and no controller touches the targets' replicas but the operator).
 *
 * Setup: the resolver's Service with a hand-written EndpointSlice (one ready address: the
 * operator's proxy mode needs one), and per round a fresh namespace with N Deployments at 0
 * replicas (default 1,000; `BENCH_ES`), their Services, and a metric `bench_rps{ns, service}`
 * this process serves and Prometheus scrapes (5 for every Service: traffic). The operator runs in
 * its own process (`bench/_scaling-worker.ts`, `.ts` sources with the operator's V8 flags)
 * watching only that round's namespace; `BENCH_WORKERS` sets its reconcile workers (default: the
 * operator's). Each round (`BENCH_ROUNDS`, default 3):
 *
 * 1. **Convergence**: N ElastiServices created at once (64 creates in flight) → time until every
 *    one reports `status.mode = proxy` (seen by a watch here); the apiserver's own request counts
 *    (`apiserver_request_total`, this process's N creates subtracted) per ElastiService; the
 *    operator's CPU.
 * 2. **Wake-ups**: `BENCH_WAKEUPS` (default N) POSTs to the operator's resolver API
 *    (`/informer/incoming-request`, as upstream's resolver sends them), one after another, each
 *    for another Service: latency from sending the POST to a watch here seeing the Deployment's
 *    new `spec.replicas` (the `/scale` write applied by the apiserver), and to the 200 answer.
 * 3. **Polling cycle**: once every ElastiService is past its 30 s cooldown and Prometheus has
 *    scraped for as long (the uptime gate), `BENCH_CYCLES` (default 2) cycles over all N, each
 *    evaluating everything at once (spread 0, the default concurrency 8): Prometheus queries
 *    sent (N distinct trigger queries + one shared uptime query), wall time, operator CPU, the
 *    apiserver requests it caused.
 *
 * `BENCH_HTTP2=1` runs the operator over HTTP/2. `BENCH_CPU_PROF=<dir>` runs the operator with `--cpu-prof` into that directory. Numbers are
 * reported, never asserted.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Gauge, Registry } from 'prom-client';
import { ELASTI_GVR, type ElastiService } from '../src/api/v1alpha1/index.ts';
import { type KubeClient, type KubeObject, resources, SharedInformer } from '../src/kube/index.ts';
import { OPERATOR_NODE_FLAGS } from '../src/operator/runtime.ts';
import { startMetricsEndpoint } from '../test/support/metrics-endpoint.ts';
import { apiserverRequests, requestDelta } from './_apiserver-requests.ts';
import { cpuDelta, planeCpuMs } from './_proc-cpu.ts';
import type { Cpu, FromScalingWorker, ToScalingWorker } from './_scaling-worker.ts';
import { now, percentile, pool } from './_util.ts';

const DEPLOY = resources.deployments.gvr;
const SVC = resources.services.gvr;
const NS = resources.namespaces.gvr;
const SLICE = resources.endpointSlices.gvr;
const COOLDOWN_S = 30;

const intEnv = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
};

interface Deployment extends KubeObject {
  spec: { replicas?: number };
}

/** Busy and total jiffies of the whole machine (`/proc/stat`), to tell a saturated box. */
function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

const cpuMs = (a: Cpu, b: Cpu): number => Math.round((b.user - a.user + b.system - a.system) / 1000);
const round1 = (x: number): number => Math.round(x * 10) / 10;
const quantiles = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: round1(percentile(sorted, 50)),
    p99: round1(percentile(sorted, 99)),
    max: round1(sorted.at(-1) ?? Number.NaN),
  };
};

/** Sends one message to the worker and waits for its answer. */
function exchange(
  child: ChildProcess,
  message: ToScalingWorker,
  timeoutMs: number,
): Promise<FromScalingWorker> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`operator worker did not answer ${message.type} in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`operator worker exited with ${code}`));
    };
    child.once('exit', onExit);
    child.once('message', (m) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      const reply = m as FromScalingWorker;
      if (reply.type === 'error') reject(new Error(`operator worker: ${reply.message}`));
      else resolve(reply);
    });
    child.send(message);
  });
}

async function expect<K extends FromScalingWorker['type']>(
  child: ChildProcess,
  message: ToScalingWorker,
  type: K,
  timeoutMs: number,
): Promise<Extract<FromScalingWorker, { type: K }>> {
  const reply = await exchange(child, message, timeoutMs);
  if (reply.type !== type) throw new Error(`operator worker answered ${reply.type}, expected ${type}`);
  return reply as Extract<FromScalingWorker, { type: K }>;
}

/** The resolver as the operator finds it: its Service and one ready endpoint, no Pods. */
async function createResolver(client: KubeClient): Promise<void> {
  await client.create(NS, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'elasti' } });
  await client.create(SVC, 'elasti', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'elasti-resolver-service', namespace: 'elasti' },
    spec: { selector: { app: 'resolver' }, ports: [{ name: 'http', port: 8012, targetPort: 8012 }] },
  });
  await client.create(SLICE, 'elasti', {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'elasti-resolver-service-bench',
      namespace: 'elasti',
      labels: { 'kubernetes.io/service-name': 'elasti-resolver-service' },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.244.0.10'], conditions: { ready: true } }],
    ports: [{ name: 'http', port: 8012, protocol: 'TCP' }],
  });
}

function deployment(name: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'web' }] } },
    },
  };
}

function elastiService(ns: string, name: string): KubeObject {
  return {
    apiVersion: 'elasti.truefoundry.com/v1alpha1',
    kind: 'ElastiService',
    metadata: { name },
    spec: {
      service: name,
      minTargetReplicas: 1,
      cooldownPeriod: COOLDOWN_S,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      triggers: [
        {
          type: 'prometheus',
          metadata: {
            query: `max(bench_rps{ns="${ns}",service="${name}"})`,
            threshold: '1',
            uptimeFilter: 'job="elasti-test",bench="scaling"',
          },
        },
      ],
    },
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const { KubeClient } = await import('../src/kube/index.ts');
  const { installElastiServiceCrd } = await import('../src/api/v1alpha1/index.ts');
  const { startControlPlane } = await import('../tools/controlplane/harness.ts');
  const count = intEnv('BENCH_ES', 1000);
  const wakeups = Math.min(intEnv('BENCH_WAKEUPS', count), count);
  const rounds = intEnv('BENCH_ROUNDS', 3);
  const cycles = intEnv('BENCH_CYCLES', 2);
  const workers = process.env.BENCH_WORKERS ? intEnv('BENCH_WORKERS', 2) : undefined;
  const profDir = process.env.BENCH_CPU_PROF;
  const http2 = process.env.BENCH_HTTP2 === '1';
  const workerFile = fileURLToPath(new URL('./_scaling-worker.ts', import.meta.url));

  // Two Services per ElastiService (public, private) and a fresh namespace per round: the
  // harness's /24 Service range would run out after ~250.
  const plane = await startControlPlane({
    prometheus: true,
    apiserverArgs: ['--service-cluster-ip-range=10.0.0.0/16'],
  });
  const client = await KubeClient.create(plane.kubeconfigPath);
  const registry = new Registry();
  const rps = new Gauge({
    name: 'bench_rps',
    help: 'traffic per Service',
    labelNames: ['ns', 'service'],
    registers: [registry],
  });
  const endpoint = await startMetricsEndpoint(registry);
  const requests = () => apiserverRequests(plane.apiserverUrl, plane.tokens.admin, plane.caPem);
  const prometheus = plane.prometheus;
  if (!prometheus) throw new Error('no Prometheus');
  prometheus.addTarget({ name: 'bench-scaling', address: endpoint.address, labels: { bench: 'scaling' } });
  const scrapedSince = Date.now();
  const results: Record<string, unknown>[] = [];
  try {
    await installElastiServiceCrd(client);
    await createResolver(client);
    for (let round = 1; round <= rounds; round++) {
      const ns = `bench-scaling-${round}`;
      const names = Array.from({ length: count }, (_, i) => `svc-${String(i).padStart(4, '0')}`);
      await client.create(NS, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      await pool(names, 32, async (name) => {
        await client.create(DEPLOY, ns, deployment(name));
        await client.create(SVC, ns, {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name },
          spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
        });
        rps.set({ ns, service: name }, 5);
      });
      process.stderr.write(`[bench] scaling round ${round}: ${count} targets in ${ns}\n`);

      const execArgv = [
        ...OPERATOR_NODE_FLAGS,
        ...(profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []),
      ];
      const child = fork(workerFile, [], { execArgv });
      const esInformer = new SharedInformer<ElastiService>({
        lw: client,
        target: { gvr: ELASTI_GVR, namespace: ns },
      });
      const deployInformer = new SharedInformer<Deployment>({
        lw: client,
        target: { gvr: DEPLOY, namespace: ns },
      });
      try {
        const ready = await expect(
          child,
          {
            type: 'start',
            kubeconfig: plane.kubeconfigPath,
            prometheusUrl: prometheus.url,
            namespace: ns,
            workers,
            http2,
          },
          'ready',
          180_000,
        );
        // 1. Convergence.
        const converged = new Map<string, number>();
        let allConverged: () => void = () => {};
        const done = new Promise<void>((resolve) => {
          allConverged = resolve;
        });
        const seen = (es: ElastiService): void => {
          const name = es.metadata.name ?? '';
          if (es.status?.mode === 'proxy' && !converged.has(name)) {
            converged.set(name, now());
            if (converged.size === count) allConverged();
          }
        };
        esInformer.addEventHandler({ onAdd: seen, onUpdate: (_old, es) => seen(es) });
        const wakeSeen = new Map<string, (at: number) => void>();
        deployInformer.addEventHandler({
          onUpdate: (_old, d) => {
            if ((d.spec.replicas ?? 0) >= 1) wakeSeen.get(d.metadata.name ?? '')?.(now());
          },
        });
        esInformer.start();
        deployInformer.start();
        await Promise.all([esInformer.waitForSync(), deployInformer.waitForSync()]);
        const before = await requests();
        const atStart = await expect(child, { type: 'cpu' }, 'cpu', 30_000);
        const machineBefore = machineCpu();
        const planeBefore = planeCpuMs(plane.dir);
        const benchBefore = process.cpuUsage();
        const started = now();
        await pool(names, 64, (name) => client.create(ELASTI_GVR, ns, elastiService(ns, name)));
        const createdMs = now() - started;
        const timeout = setTimeout(() => allConverged(), 600_000);
        await done;
        clearTimeout(timeout);
        const convergeMs = now() - started;
        const machineAfter = machineCpu();
        const planeAfter = planeCpuMs(plane.dir);
        const benchAfter = process.cpuUsage();
        const atConverged = await expect(child, { type: 'cpu' }, 'cpu', 30_000);
        const reconcileCount = atConverged.reconciles.count - atStart.reconciles.count;
        const reconcileSeconds = atConverged.reconciles.seconds - atStart.reconciles.seconds;
        const delta = requestDelta(before, await requests())
          .map(([key, n]) => [key, key === 'POST elastiservices' ? n - count : n] as [string, number])
          .filter(([, n]) => n > 0);
        const totalRequests = delta.reduce((sum, [, n]) => sum + n, 0);
        const times = [...converged.values()].map((t) => t - started).sort((a, b) => a - b);
        const convergence = {
          converged: converged.size,
          createAllMs: Math.round(createdMs),
          allConvergedMs: Math.round(convergeMs),
          medianConvergedMs: Math.round(percentile(times, 50)),
          perSecond: round1((converged.size * 1000) / convergeMs),
          operatorCpuMs: cpuMs(atStart.cpu, atConverged.cpu),
          // The whole 2-core box (apiserver, etcd, this process, the operator, other users).
          machineBusy: round1(
            (100 * (machineAfter.busy - machineBefore.busy)) / (machineAfter.total - machineBefore.total),
          ),
          planeCpuMs: cpuDelta(planeBefore, planeAfter),
          // This process: the creates, its two watches, the metric Prometheus scrapes.
          benchCpuMs: cpuMs(benchBefore, benchAfter),
          reconciles: reconcileCount,
          meanReconcileMs: round1((1000 * reconcileSeconds) / reconcileCount),
          requestsPerEs: round1(totalRequests / count),
          requestsByKind: Object.fromEntries(delta.map(([k, n]) => [k, round1(n / count)])),
        };
        process.stderr.write(`[bench] scaling round ${round}: convergence ${JSON.stringify(convergence)}\n`);

        // 2. Wake-ups, one after another.
        const toScale: number[] = [];
        const toAnswer: number[] = [];
        const url = `http://127.0.0.1:${ready.resolverApiPort}/informer/incoming-request`;
        for (const name of names.slice(0, wakeups)) {
          const scaled = new Promise<number>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`${ns}/${name} not scaled within 30 s`)), 30_000);
            wakeSeen.set(name, (at) => {
              clearTimeout(timer);
              resolve(at);
            });
          });
          const sent = now();
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ count: 1, svc: name, namespace: ns }),
          });
          const body = await res.text();
          const answered = now();
          if (res.status !== 200) throw new Error(`wake-up of ${name}: ${res.status} ${body}`);
          toScale.push((await scaled) - sent);
          toAnswer.push(answered - sent);
          wakeSeen.delete(name);
        }
        const wake = { wakeups, postToScaleSeenMs: quantiles(toScale), postToAnswerMs: quantiles(toAnswer) };
        process.stderr.write(`[bench] scaling round ${round}: wake-ups ${JSON.stringify(wake)}\n`);

        // 3. Polling cycles, once the cooldown and the uptime window have passed.
        const readyAt = Math.max(started + (COOLDOWN_S + 2) * 1000, scrapedSince + (COOLDOWN_S + 10) * 1000);
        if (readyAt > now()) await new Promise((resolve) => setTimeout(resolve, readyAt - now()));
        const cycleResults: Record<string, unknown>[] = [];
        for (let c = 0; c < cycles; c++) {
          const reqBefore = await requests();
          const cpu0 = (await expect(child, { type: 'cpu' }, 'cpu', 30_000)).cpu;
          const cycle = await expect(child, { type: 'cycle' }, 'cycle', 600_000);
          const cycleRequests = requestDelta(reqBefore, await requests());
          cycleResults.push({
            evaluated: cycle.evaluated,
            queriesSent: cycle.queriesSent,
            wallMs: Math.round(cycle.durationMs),
            operatorCpuMs: cpuMs(cpu0, cycle.cpu),
            decisions: cycle.decisions,
            apiserverRequests: Object.fromEntries(cycleRequests),
          });
        }
        process.stderr.write(`[bench] scaling round ${round}: cycles ${JSON.stringify(cycleResults)}\n`);
        results.push({ round, workers: ready.workers, convergence, wake, cycles: cycleResults });
      } finally {
        await Promise.allSettled([esInformer.stop(), deployInformer.stop()]);
        await exchange(child, { type: 'stop' }, 60_000).catch(() => child.kill());
        await new Promise((resolve) =>
          child.exitCode === null ? child.once('exit', resolve) : resolve(undefined),
        );
      }
    }
  } finally {
    await client.close();
    await endpoint.close();
    await plane.stop();
  }
  return { elastiServices: count, http2, rounds: results };
}
