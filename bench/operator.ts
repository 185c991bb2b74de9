/**
 * `npm run bench -- operator`: the compiled operator's own footprint, idle, with 0, 100 and 1,000
 * ElastiServices (`BENCH_SIZES=0,100,1000`), one local control plane.
 *
 * 1. `npm run build`'s output (`dist/`, built here first) is what runs: `node <V8 flags>
 *    dist/operator/main.js --watch-namespace=<ns> …`, the documented start command, with a clean
 *    environment. No benchmark code runs inside the measured process.
 * 2. Each size has its own namespace with that many ElastiServices, each with its scale target (a
 *    Deployment at 0 replicas) and its public Service, so every one converges to `proxy` mode —
 *    the operator then holds, per ElastiService, two RequestWatches, a private Service and an
 *    EndpointSlice to the resolver (whose Service and slice live in their own namespace). No
 *    triggers: the scaling poller sends no Prometheus queries.
 * 3. Converged = `/readyz` 200, every ElastiService of the namespace reconciled by this process
 *    (`elasti_operator_reconcile_count`) and in proxy mode (`elasti_operator_mode`), the work
 *    queue empty. Idle = then no reconcile for `BENCH_QUIET_MS` (default 10 s, polled every 2 s
 *    under a deadline). At that moment: RSS split into anonymous and file-backed pages from
 *    `/proc/<pid>/smaps_rollup`, threads, V8 heap used/total from the operator's own `/metrics`,
 *    the time and CPU the process took to converge.
 * 4. Rounds (default 3; `BENCH_ROUNDS`), interleaved: every launch runs each size once per round
 *    in a fresh process, the order rotating by one per round. By default "as shipped"
 *    (`OPERATOR_NODE_FLAGS`, `OPERATOR_ENV`, and the run-time V8 flags `main.ts` sets) and the
 *    previous launch; `BENCH_CONTENDERS=a,b` picks others, each as shipped with one setting
 *    changed (see {@link operatorContenders}). Ratios are to "as shipped" within each round.
 *
 * Numbers are reported, never asserted.
 */
import { fileURLToPath } from 'node:url';
import { ELASTI_API_VERSION, ELASTI_GVR, installElastiServiceCrd } from '../src/api/v1alpha1/index.ts';
import { HEAP_RELEASE_VARIABLE, KubeClient, resources } from '../src/kube/index.ts';
import {
  OPERATOR_ENV,
  OPERATOR_NODE_FLAGS,
  OPERATOR_RUNTIME_V8_FLAGS,
  OPTIMIZING_RUNTIME_V8_FLAGS,
  RUNTIME_V8_FLAGS_VARIABLE,
} from '../src/operator/runtime.ts';
import { waitFor } from '../test/support/wait.ts';
import { startControlPlane } from '../tools/controlplane/harness.ts';
import {
  buildOperator,
  metricSum,
  OPERATOR_ESM_MAIN,
  OPERATOR_MODULES_MAIN,
  type OperatorLaunch,
  processCpuMs,
  processMemory,
  startOperatorProcess,
} from './_operator-process.ts';
import { type Column, markdownTable, type RoundRow, summarize } from './_summary.ts';
import { now, pool } from './_util.ts';

/** A way of launching the operator: label, V8 flags, environment. */
export interface OperatorContender extends OperatorLaunch {
  readonly id: string;
  readonly label: string;
  /** Operator flags added to the benchmark's own. */
  readonly operatorArgs?: readonly string[];
}

const shipped = 'as-shipped';
/** `resources.limits.memory` of the operator in upstream KubeElasti's chart (80Mi). */
const UPSTREAM_CHART_MEMORY_LIMIT_MIB = 80;
/** What ships: the start command's flags and environment; main.ts adds the run-time V8 flags. */
const asShipped: OperatorContender = {
  id: shipped,
  label: `as shipped (\`${OPERATOR_NODE_FLAGS.join(' ')}\`, ${Object.entries(OPERATOR_ENV)
    .map(([k, v]) => `\`${k}=${v}\``)
    .join(', ')}, run-time \`${OPERATOR_RUNTIME_V8_FLAGS.join(' ')}\`)`,
  nodeFlags: OPERATOR_NODE_FLAGS,
  env: OPERATOR_ENV,
};
/** As shipped with one thing changed. */
const variant = (
  id: string,
  label: string,
  change: Partial<OperatorLaunch> & Pick<OperatorContender, 'operatorArgs'>,
): OperatorContender => ({
  ...asShipped,
  ...change,
  id,
  label,
});
const noRuntimeFlags = { [RUNTIME_V8_FLAGS_VARIABLE]: '' };
const withRuntimeFlags = (flags: readonly string[]) => ({
  ...OPERATOR_ENV,
  [RUNTIME_V8_FLAGS_VARIABLE]: flags.join(' '),
});
const http1 = ['--http2=false'];

/**
 * As shipped; the previous session's launch (HTTP/1.1, run-time `--optimize-for-size` only, the
 * compiled modules); the one before it (`--max-semi-space-size=16` only); V8's defaults; and as
 * shipped with one setting taken away or changed each.
 */
export const operatorContenders: readonly OperatorContender[] = [
  asShipped,
  {
    id: 'previous',
    label:
      'previous launch (HTTP/1.1, run-time `--optimize-for-size` only, the compiled modules; same node flags and env)',
    nodeFlags: OPERATOR_NODE_FLAGS,
    env: withRuntimeFlags(OPTIMIZING_RUNTIME_V8_FLAGS),
    main: OPERATOR_MODULES_MAIN,
    operatorArgs: http1,
  },
  {
    id: 'semi-space-16-h1',
    label: 'the launch before (`--max-semi-space-size=16` only, HTTP/1.1, the compiled modules)',
    nodeFlags: ['--max-semi-space-size=16'],
    env: noRuntimeFlags,
    main: OPERATOR_MODULES_MAIN,
    operatorArgs: http1,
  },
  {
    id: 'v8-defaults',
    label: 'V8 and glibc defaults, no run-time flags',
    nodeFlags: [],
    env: noRuntimeFlags,
  },
  variant('no-runtime-flags', 'as shipped without the run-time V8 flags', {
    env: { ...OPERATOR_ENV, ...noRuntimeFlags },
  }),
  variant('optimizing', 'as shipped, with the optimizing compilers (run-time `--optimize-for-size` only)', {
    env: withRuntimeFlags(OPTIMIZING_RUNTIME_V8_FLAGS),
  }),
  // One change from what ships: Maglev back (before the third session: `--optimize-for-size --no-opt`).
  variant('no-turbofan', 'as shipped, with Maglev kept (run-time `--no-opt --no-wasm-tier-up`)', {
    env: withRuntimeFlags(['--no-opt', '--no-wasm-tier-up']),
  }),
  variant('http1', "as shipped, over HTTP/1.1 (`--http2=false`: undici's llhttp WebAssembly)", {
    operatorArgs: http1,
  }),
  variant('http1-optimizing', 'as shipped, over HTTP/1.1 with the optimizing compilers', {
    operatorArgs: http1,
    env: withRuntimeFlags(OPTIMIZING_RUNTIME_V8_FLAGS),
  }),
  variant(
    'modules',
    'as shipped, from the compiled modules (`dist/operator/main.js`) instead of the bundle',
    {
      main: OPERATOR_MODULES_MAIN,
    },
  ),
  variant('no-arena-max', 'as shipped without `MALLOC_ARENA_MAX=1`', { env: {} }),
  variant(
    'optimize-for-size',
    'as shipped + run-time `--optimize-for-size` (the second session’s run-time flags)',
    {
      env: withRuntimeFlags(['--optimize-for-size', ...OPERATOR_RUNTIME_V8_FLAGS]),
    },
  ),
  variant('esm-bundle', 'as shipped, from the same bundle as an ES module (`dist/elasti-operator.mjs`)', {
    main: OPERATOR_ESM_MAIN,
  }),
  variant('no-heap-release', 'as shipped with `ELASTI_HEAP_RELEASE=off` (no collection after a burst)', {
    env: { ...OPERATOR_ENV, [HEAP_RELEASE_VARIABLE]: 'off' },
  }),
  variant('semi-space-16', 'as shipped with `--max-semi-space-size=16`', {
    nodeFlags: ['--max-semi-space-size=16'],
  }),
  variant('uv-pool-1', 'as shipped + `UV_THREADPOOL_SIZE=1`', {
    env: { ...OPERATOR_ENV, UV_THREADPOOL_SIZE: '1' },
  }),
  variant('v8-pool-1', 'as shipped + `--v8-pool-size=1`', {
    nodeFlags: [...OPERATOR_NODE_FLAGS, '--v8-pool-size=1'],
  }),
  variant('limit-80', "as shipped, in an 80 MiB memory cgroup (the upstream chart's limit)", {
    memoryLimitMib: UPSTREAM_CHART_MEMORY_LIMIT_MIB,
  }),
  variant('previous-limit-80', 'the previous launch in the same 80 MiB memory cgroup', {
    env: withRuntimeFlags(OPTIMIZING_RUNTIME_V8_FLAGS),
    main: OPERATOR_MODULES_MAIN,
    operatorArgs: http1,
    memoryLimitMib: UPSTREAM_CHART_MEMORY_LIMIT_MIB,
  }),
];

export const RESOLVER_NS = 'bench-op-resolver';
const RESOLVER_SERVICE = 'elasti-resolver-service';

/** The resolver's Service and a hand-written ready EndpointSlice (no Pods run on this plane). */
export async function seedResolver(client: KubeClient): Promise<void> {
  await client.create(resources.namespaces.gvr, undefined, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: RESOLVER_NS },
  });
  await client.create(resources.services.gvr, RESOLVER_NS, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: RESOLVER_SERVICE },
    spec: {
      selector: { app: 'elasti-resolver' },
      ports: [
        { name: 'http-resolver', port: 8013 },
        { name: 'http-reverse-proxy', port: 8012 },
      ],
    },
  });
  await client.create(resources.endpointSlices.gvr, RESOLVER_NS, {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${RESOLVER_SERVICE}-abcde`,
      labels: {
        'kubernetes.io/service-name': RESOLVER_SERVICE,
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready: true } }],
    ports: [{ name: 'http-reverse-proxy', port: 8012, protocol: 'TCP' }],
  });
}

/** `count` ElastiServices in `namespace`, each with a Deployment at 0 replicas and a Service. */
export async function seedElastiServices(
  client: KubeClient,
  namespace: string,
  count: number,
): Promise<void> {
  await client.create(resources.namespaces.gvr, undefined, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespace },
  });
  await pool(
    Array.from({ length: count }, (_, i) => `app-${String(i).padStart(4, '0')}`),
    16,
    async (name) => {
      await client.create(resources.deployments.gvr, namespace, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] },
          },
        },
      });
      await client.create(resources.services.gvr, namespace, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name },
        spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      });
      await client.create(ELASTI_GVR, namespace, {
        apiVersion: ELASTI_API_VERSION,
        kind: 'ElastiService',
        metadata: { name: `${name}-es` },
        spec: {
          service: name,
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
          minTargetReplicas: 1,
          cooldownPeriod: 300,
        },
      });
    },
  );
}

interface Sample {
  readonly contender: string;
  readonly round: number;
  readonly size: number;
  readonly values: Record<string, number | undefined>;
}

/** One fresh operator process on `namespace` until idle; its memory then. */
async function sample(
  contender: OperatorContender,
  kubeconfig: string,
  namespace: string,
  size: number,
  quietMs: number,
): Promise<Record<string, number | undefined>> {
  const operator = await startOperatorProcess(contender, [
    `--kubeconfig=${kubeconfig}`,
    `--watch-namespace=${namespace}`,
    `--resolver-namespace=${RESOLVER_NS}`,
    '--log-level=warn',
    ...(contender.operatorArgs ?? []),
  ]);
  try {
    const what = `${contender.id} × ${size}`;
    await Promise.race([
      operator.failed,
      waitFor(
        async () => {
          if (!(await operator.ready())) return false;
          const text = await operator.metrics();
          return (
            (metricSum(text, 'elasti_operator_reconcile_count') ?? 0) >= size &&
            (metricSum(text, 'elasti_operator_mode') ?? 0) === size &&
            metricSum(text, 'elasti_operator_workqueue_depth') === 0 &&
            metricSum(text, 'elasti_operator_workqueue_in_flight') === 0
          );
        },
        // A loaded 2-core box reconciles ~5 ElastiServices/s.
        { timeoutMs: 120_000 + 600 * size, intervalMs: 500, message: `${what}: converged` },
      ),
    ]);
    const convergeMs = now() - operator.startedAt;
    const convergeCpuMs = processCpuMs(operator.pid);
    // Idle: no reconcile and an empty queue for quietMs, judged from the operator's own metrics.
    let last = Number.NaN;
    let since = now();
    const text = await Promise.race([
      operator.failed,
      waitFor(
        async () => {
          const metrics = await operator.metrics();
          const reconciles = metricSum(metrics, 'elasti_operator_reconcile_count') ?? 0;
          const busy = metricSum(metrics, 'elasti_operator_workqueue_depth') !== 0;
          if (reconciles !== last || busy) {
            last = reconciles;
            since = now();
          }
          return now() - since >= quietMs ? metrics : undefined;
        },
        { timeoutMs: 120_000 + quietMs, intervalMs: 2_000, message: `${what}: idle for ${quietMs} ms` },
      ),
    ]);
    const memory = processMemory(operator.pid);
    const cgroup = operator.cgroupUsage();
    const mib = (bytes: number | undefined) => (bytes === undefined ? undefined : bytes / 2 ** 20);
    return {
      ...(cgroup && {
        cgroupUsageMib: cgroup.usageMib,
        cgroupPeakMib: cgroup.peakMib,
        cgroupFileMib: cgroup.fileMib,
        cgroupLimitHits: cgroup.limitHits,
        cgroupOomKills: cgroup.oomKills,
        cgroupMajorFaults: cgroup.majorFaults,
      }),
      rssMib: memory.rss,
      anonymousMib: memory.anonymous,
      fileBackedMib: memory.fileBacked,
      heapUsedMib: mib(metricSum(text, 'nodejs_heap_size_used_bytes')),
      heapTotalMib: mib(metricSum(text, 'nodejs_heap_size_total_bytes')),
      externalMib: mib(metricSum(text, 'nodejs_external_memory_bytes')),
      nativeMib: memory.anonymous - (mib(metricSum(text, 'nodejs_heap_size_total_bytes')) ?? Number.NaN),
      threads: memory.threads,
      convergeMs,
      convergeCpuMs,
    };
  } finally {
    await operator.stop();
  }
}

const columns: Column[] = [
  { key: 'rssMib', heading: 'RSS idle', unit: 'MiB', digits: 1 },
  { key: 'anonymousMib', heading: 'anonymous', unit: 'MiB' },
  { key: 'fileBackedMib', heading: 'file-backed', unit: 'MiB' },
  { key: 'heapTotalMib', heading: 'V8 heap total', unit: 'MiB' },
  { key: 'heapUsedMib', heading: 'V8 heap used', unit: 'MiB' },
  { key: 'nativeMib', heading: 'anonymous − V8 heap', unit: 'MiB' },
  { key: 'externalMib', heading: 'of it external (Buffers)', unit: 'MiB', digits: 1 },
  { key: 'threads', heading: 'threads', unit: '' },
  { key: 'convergeMs', heading: 'start → converged', unit: 'ms' },
  { key: 'convergeCpuMs', heading: 'CPU to converge', unit: 'ms' },
];

/** Only for launches in a memory cgroup (`limit-80`): what the kernel charged and did. */
const cgroupColumns: Column[] = [
  { key: 'rssMib', heading: 'RSS idle', unit: 'MiB', digits: 1 },
  { key: 'anonymousMib', heading: 'anonymous', unit: 'MiB' },
  { key: 'cgroupUsageMib', heading: 'charged idle', unit: 'MiB', digits: 1 },
  { key: 'cgroupFileMib', heading: 'of it page cache', unit: 'MiB', digits: 1 },
  { key: 'cgroupPeakMib', heading: 'charged peak', unit: 'MiB', digits: 1 },
  { key: 'cgroupMajorFaults', heading: 'major faults', unit: '' },
  { key: 'cgroupOomKills', heading: 'OOM kills', unit: '' },
  { key: 'convergeMs', heading: 'start → converged', unit: 'ms' },
  { key: 'convergeCpuMs', heading: 'CPU to converge', unit: 'ms' },
];

export async function run(): Promise<Record<string, unknown>> {
  const sizes = (process.env.BENCH_SIZES ?? '0,100,1000').split(',').map(Number);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const quietMs = Number(process.env.BENCH_QUIET_MS ?? 10_000);
  const wanted = process.env.BENCH_CONTENDERS?.split(',').map((id) => id.trim());
  const unknown = wanted?.filter((id) => !operatorContenders.some((c) => c.id === id)) ?? [];
  if (unknown.length > 0 || sizes.some((n) => !Number.isInteger(n) || n < 0)) {
    process.stderr.write(
      `unknown contender ${unknown.join(', ')} or bad BENCH_SIZES; available: ${operatorContenders.map((c) => c.id).join(', ')}\n`,
    );
    process.exit(2);
  }
  // By default the two launches the must-show compares; the one-change variants on request.
  const contenders = operatorContenders.filter((c) =>
    wanted ? wanted.includes(c.id) : c.id === shipped || c.id === 'previous',
  );
  buildOperator();
  // 1,000 proxy-mode ElastiServices need 2,000 Service cluster IPs beyond the harness's /24.
  const plane = await startControlPlane({ apiserverArgs: ['--service-cluster-ip-range=10.0.0.0/16'] });
  const client = await KubeClient.create(plane.kubeconfigPath);
  try {
    await installElastiServiceCrd(client);
    await seedResolver(client);
    for (const size of sizes) {
      process.stderr.write(`[bench] operator: seeding ${size} ElastiServices\n`);
      await seedElastiServices(client, `bench-op-${size}`, size);
    }
    const samples: Sample[] = [];
    const failures: { contender: string; round: number; size: number; message: string }[] = [];
    for (let round = 1; round <= rounds; round++) {
      const order = contenders.map(
        (_, i) => contenders[(i + round - 1) % contenders.length] as OperatorContender,
      );
      for (const contender of order) {
        for (const size of sizes) {
          process.stderr.write(`[bench] operator: round ${round}/${rounds}: ${contender.id} × ${size}\n`);
          try {
            const values = await sample(contender, plane.kubeconfigPath, `bench-op-${size}`, size, quietMs);
            process.stderr.write(`[bench]   ${JSON.stringify(values)}\n`);
            samples.push({ contender: contender.id, round, size, values });
          } catch (error) {
            // A launch variant the operator cannot run with is a result too (reported, not fatal).
            const message = error instanceof Error ? error.message : String(error);
            process.stderr.write(`[bench]   failed: ${message}\n`);
            failures.push({ contender: contender.id, round, size, message });
          }
        }
      }
    }
    const tables: Record<string, string> = {};
    for (const size of sizes) {
      const rows: RoundRow[] = samples
        .filter((s) => s.size === size)
        .map((s) => ({ round: s.round, contender: s.contender, values: s.values }));
      tables[String(size)] = markdownTable(summarize(rows, columns, shipped), columns, contenders);
      process.stderr.write(`\n${size} ElastiServices:\n${tables[String(size)]}\n`);
      const limited = contenders.filter((c) => c.memoryLimitMib !== undefined);
      if (limited.length > 0) {
        const key = `${size} in a memory cgroup`;
        tables[key] = markdownTable(
          summarize(rows, cgroupColumns, limited[0]?.id ?? shipped),
          cgroupColumns,
          limited,
        );
        process.stderr.write(`\n${key}:\n${tables[key]}\n`);
      }
    }
    return { sizes, rounds, quietMs, tables, samples, failures };
  } finally {
    await client.close();
    await plane.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(await run(), null, 2)}\n`);
}
