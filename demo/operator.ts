/**
 * `npm run demo`: the operator on a control plane that behaves like a cluster, end to end —
 * scale to zero on a real Prometheus metric and back on a request to the resolver API.
 *
 * Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok with two fake Nodes
 * and Prometheus (tools/controlplane); serves a traffic metric from this process that Prometheus
 * scrapes; installs the ElastiService CRD; creates a resolver and a target workload as plain
 * Deployments and Services; runs the operator in this process (polling every second, cooldown
 * 5 s) and walks an ElastiService through: traffic above threshold → the target stays; traffic
 * drops → after the cooldown the operator scales it to zero → proxy mode, EndpointSlice to the
 * resolver → a POST to the resolver API → scaled back up → Pods Ready → serve → deleted → its
 * namespace deleted. Nothing here sets a status or scales the target: the operator and the real
 * controllers do. Each step is checked against the apiserver, timed and printed; a step that
 * fails ends the demo with exit code 1 and one line naming it.
 */
import { performance } from 'node:perf_hooks';
import { Gauge, Registry } from 'prom-client';
import {
  ELASTI_GVR,
  endpointSliceToResolverName,
  installElastiServiceCrd,
  privateServiceName,
} from '../src/api/v1alpha1/index.ts';
import { isNotFound, KubeClient, type KubeObject, resources } from '../src/kube/index.ts';
import { runOperator } from '../src/operator/operator.ts';
import { startMetricsEndpoint } from '../test/support/metrics-endpoint.ts';
import { PROMETHEUS_TEST_JOB, startControlPlane } from '../tools/controlplane/harness.ts';
import { DemoStepError, ms, say, step, until } from './_steps.ts';

const NS = resources.namespaces.gvr;
const DEPLOY = resources.deployments.gvr;
const SVC = resources.services.gvr;
const POD = resources.pods.gvr;
const SLICE = resources.endpointSlices.gvr;
const EVENT = resources.events.gvr;

/** Seconds without traffic before the operator scales to zero (upstream's default is 900). */
const COOLDOWN_S = 5;
/** Below this many requests per second the target counts as idle. */
const THRESHOLD = '1';
const POLL_MS = 1000;

interface Pod extends KubeObject {
  spec: { nodeName?: string };
  status?: { podIP?: string; conditions?: { type: string; status: string }[] };
}
interface Slice extends KubeObject {
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] | null;
  ports?: { port: number }[];
}
interface Es extends KubeObject {
  status?: { mode?: string; lastScaledUpTime?: string };
}
interface Event extends KubeObject {
  reason?: string;
  message?: string;
  involvedObject: { kind?: string; name?: string };
}

const gone = (get: () => Promise<unknown>) => (): Promise<true | undefined> =>
  get().then(
    () => undefined,
    (error: unknown) => (isNotFound(error) ? true : undefined),
  );

say(
  'Starting the control plane with controllers, scheduler, 2 kwok Nodes and Prometheus (first run builds them: minutes)...',
);
const plane = await startControlPlane({ controllers: true, nodes: 2, prometheus: true }).catch(
  (error: unknown): never => {
    process.stderr.write(
      `demo failed: the control plane did not start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
const client = await KubeClient.create(plane.kubeconfigPath);
const registry = new Registry();
const rps = new Gauge({
  name: 'demo_http_requests_per_second',
  help: 'Requests per second reaching a demo Service (set by the demo)',
  labelNames: ['service'],
  registers: [registry],
});
const endpoint = await startMetricsEndpoint(registry);
let operator: Awaited<ReturnType<typeof runOperator>> | undefined;
try {
  const prometheus = plane.prometheus;
  if (!prometheus) throw new Error('the control plane started without Prometheus');
  say(`Running: ${plane.components.join(', ')}`);
  say(`Control plane up at ${plane.apiserverUrl}; export KUBECONFIG=${plane.kubeconfigPath}`);
  prometheus.addTarget({ name: 'demo', address: endpoint.address, labels: { demo: 'elasti' } });
  say(`Prometheus at ${prometheus.url} scrapes demo_http_requests_per_second from ${endpoint.address}`);
  await installElastiServiceCrd(client);
  say('ElastiService CRD installed and Established.');

  for (const name of ['elasti', 'demo']) {
    await client.create(NS, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  const deployment = (namespace: string, name: string, app: string, replicas: number): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app } },
      template: {
        metadata: { labels: { app } },
        spec: { containers: [{ name: app, image: `${app}:demo` }] },
      },
    },
  });
  const replicasOf = async (namespace: string, name: string): Promise<number> =>
    (await client.get<KubeObject & { spec: { replicas?: number } }>(DEPLOY, namespace, name)).spec.replicas ??
    0;
  /** Ready Pods of `app` once there are exactly `count` Pods and all are Ready. */
  const readyPods = (namespace: string, app: string, count: number): Promise<Pod[]> =>
    until(`${count} Ready Pods of ${app}`, async () => {
      const pods = (await client.list<Pod>({ gvr: POD, namespace, labelSelector: `app=${app}` })).items;
      const ready = pods.filter((p) =>
        p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      return pods.length === count && ready.length === count ? ready : undefined;
    });
  const describePods = (pods: Pod[]): string =>
    pods.map((p) => `${p.metadata.name} ${p.status?.podIP} on ${p.spec.nodeName}`).join('; ');
  /** Ready addresses the EndpointSlice controller lists for the resolver Service. */
  const resolverIps = async (): Promise<string[]> =>
    (
      await client.list<Slice>({
        gvr: SLICE,
        namespace: 'elasti',
        labelSelector: 'kubernetes.io/service-name=elasti-resolver-service',
      })
    ).items
      .flatMap((s) => s.endpoints ?? [])
      .filter((e) => e.conditions?.ready === true)
      .flatMap((e) => e.addresses)
      .sort();
  const sliceIps = async (): Promise<string[]> =>
    ((await client.get<Slice>(SLICE, 'demo', endpointSliceToResolverName('web'))).endpoints ?? [])
      .flatMap((e) => e.addresses)
      .sort();
  const es = (): Promise<Es> => client.get<Es>(ELASTI_GVR, 'demo', 'web');
  const mode = async (wanted: string): Promise<true | undefined> =>
    (await es()).status?.mode === wanted ? true : undefined;

  let t = performance.now();
  await client.create(DEPLOY, 'elasti', deployment('elasti', 'elasti-resolver', 'resolver', 1));
  await client.create(SVC, 'elasti', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'elasti-resolver-service', namespace: 'elasti' },
    spec: { selector: { app: 'resolver' }, ports: [{ name: 'http', port: 8012, targetPort: 8012 }] },
  });
  const resolverPods = await readyPods('elasti', 'resolver', 1);
  await until('the resolver EndpointSlice', async () =>
    (await resolverIps()).length === 1 ? true : undefined,
  );
  say(
    `Resolver Deployment in namespace elasti: ${describePods(resolverPods)}; its EndpointSlice lists it (${ms(t)}).`,
  );

  t = performance.now();
  await client.create(DEPLOY, 'demo', deployment('demo', 'web', 'web', 1));
  await client.create(SVC, 'demo', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'demo' },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  });
  say(
    `Target Deployment web in namespace demo: ${describePods(await readyPods('demo', 'web', 1))} (${ms(t)}).`,
  );

  const op = await runOperator({
    kubeconfig: plane.kubeconfigPath,
    httpBindAddress: '127.0.0.1:0',
    scaling: {
      pollingIntervalMs: POLL_MS,
      prometheusServerAddress: prometheus.url,
      resolverApiPort: 0,
      resolverApiHost: '127.0.0.1',
    },
  });
  operator = op;
  const resolverApi = `http://127.0.0.1:${op.scaling.resolverApiPort}`;
  say(
    `Operator running in this process: polling every ${POLL_MS} ms, resolver API at ${resolverApi}, metrics at http://127.0.0.1:${op.httpPort}/metrics`,
  );
  /** The loop's decision for demo/web in its last completed cycle. */
  const decision = () => op.scaling.poller?.lastCycle?.decisions.get('demo/web');
  /** Resolves after `n` more completed cycles of the loop. */
  const cycles = async (n: number): Promise<void> => {
    let seen = op.scaling.poller?.lastCycle;
    let count = 0;
    await until(`${n} polling cycles`, () => {
      const last = op.scaling.poller?.lastCycle;
      if (last !== seen) {
        seen = last;
        count++;
      }
      return count >= n ? true : undefined;
    });
  };

  say('');
  rps.set({ service: 'web' }, 5);
  let createdAt = 0;
  await step('ElastiService demo/web created', async () => {
    createdAt = Date.now();
    await client.create(ELASTI_GVR, 'demo', {
      apiVersion: 'elasti.truefoundry.com/v1alpha1',
      kind: 'ElastiService',
      metadata: { name: 'web', namespace: 'demo' },
      spec: {
        service: 'web',
        minTargetReplicas: 1,
        cooldownPeriod: COOLDOWN_S,
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        // No serverAddress: the operator's Prometheus (PROMETHEUS_TRIGGER_SERVER_ADDRESS) is used.
        triggers: [
          {
            type: 'prometheus',
            metadata: {
              query: 'max(demo_http_requests_per_second{service="web"})',
              threshold: THRESHOLD,
              uptimeFilter: `job="${PROMETHEUS_TEST_JOB}",demo="elasti"`,
            },
          },
        ],
      },
    });
    await until('serve mode', () => mode('serve'));
    return `status.mode = serve (cooldown ${COOLDOWN_S} s, threshold ${THRESHOLD} rps)`;
  });

  await step('traffic at 5 rps, above the threshold', async () => {
    const traffic = await until(
      'the loop to see the traffic',
      () => {
        const d = decision();
        return d?.action === 'scale-up' && d.reason === 'traffic' ? d : undefined;
      },
      60_000,
    );
    // Past the creation cooldown, cycle after cycle: the traffic keeps the target up.
    const pastCooldown = createdAt + (COOLDOWN_S + 2) * 1000;
    await until('the cooldown to pass', () => (Date.now() > pastCooldown ? true : undefined), 60_000);
    await cycles(3);
    const d = decision();
    if (d?.action !== 'scale-up') throw new Error(`the loop decided ${d?.action}: ${d?.detail}`);
    const replicas = await replicasOf('demo', 'web');
    if (replicas !== 1) throw new Error(`web has ${replicas} replicas, want 1`);
    return `the loop sees it (${traffic.detail}) → web stays at 1 replica past the ${COOLDOWN_S} s cooldown`;
  });

  const quiet = performance.now();
  await step('traffic drops to 0 rps → the operator scales web to zero', async () => {
    rps.set({ service: 'web' }, 0);
    await until(
      'web scaled to 0 by the operator',
      async () => ((await replicasOf('demo', 'web')) === 0 ? true : undefined),
      90_000,
    );
    const events = (
      await client.list<Event>({ gvr: EVENT, namespace: 'demo', fieldSelector: 'involvedObject.name=web' })
    ).items.filter((e) => e.involvedObject.kind === 'ElastiService' && e.reason === 'SuccessToScale');
    const event = events.at(-1);
    if (!event) throw new Error('no SuccessToScale Event on the ElastiService');
    return `${ms(quiet)} after the metric dropped (Prometheus scrape, then ${COOLDOWN_S} s of cooldown); Event SuccessToScale "${event.message}"`;
  });

  const privateName = privateServiceName('web');
  const sliceName = endpointSliceToResolverName('web');
  await step('Pod removed → proxy mode, traffic for web goes to the resolver', async () => {
    await readyPods('demo', 'web', 0);
    await until('proxy mode', () => mode('proxy'));
    const privateSvc = await client.get<KubeObject & { spec: { selector: unknown } }>(
      SVC,
      'demo',
      privateName,
    );
    const slice = await until('the EndpointSlice to the resolver', () =>
      client.get<Slice>(SLICE, 'demo', sliceName),
    );
    const ips = (slice.endpoints ?? []).flatMap((e) => e.addresses).join(', ');
    const ports = (slice.ports ?? []).map((p) => p.port).join(',');
    return `status.mode = proxy; private Service ${privateName} (selector ${JSON.stringify(privateSvc.spec.selector)}); EndpointSlice ${sliceName} → ${ips} port ${ports}`;
  });

  await step('resolver scaled to 2 → the slice to the resolver follows', async () => {
    await client.patch(DEPLOY, 'elasti', 'elasti-resolver', { spec: { replicas: 2 } }, 'merge');
    const two = await until('two resolver endpoints', async () => {
      const ips = await resolverIps();
      return ips.length === 2 ? ips : undefined;
    });
    await until('the EndpointSlice to the resolver to follow', async () =>
      (await sliceIps()).join() === two.join() ? true : undefined,
    );
    return `the EndpointSlice controller lists ${two.join(', ')}; so does ${sliceName}`;
  });

  await step('a request reaches the resolver → POST /informer/incoming-request', async () => {
    rps.set({ service: 'web' }, 5);
    const sent = performance.now();
    const res = await fetch(`${resolverApi}/informer/incoming-request`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 1, svc: 'web', namespace: 'demo' }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`resolver API answered ${res.status}: ${text}`);
    const answered = ms(sent);
    const replicas = await replicasOf('demo', 'web');
    if (replicas !== 1) throw new Error(`web has ${replicas} replicas after the answer, want 1`);
    const stamped = await until('status.lastScaledUpTime', async () => (await es()).status?.lastScaledUpTime);
    return `200 ${text} in ${answered}; web scaled to 1 (minTargetReplicas), status.lastScaledUpTime ${stamped}`;
  });

  await step('kwok Pod Ready → serve mode', async () => {
    const pods = await readyPods('demo', 'web', 1);
    await until('serve mode again', () => mode('serve'));
    await until(
      'EndpointSlice removed',
      gone(() => client.get(SLICE, 'demo', sliceName)),
    );
    return `${describePods(pods)} → status.mode = serve, slice to the resolver deleted`;
  });

  await step('ElastiService deleted', async () => {
    await client.delete(ELASTI_GVR, 'demo', 'web');
    await until(
      'ElastiService gone',
      gone(() => client.get(ELASTI_GVR, 'demo', 'web')),
    );
    await until(
      'private Service removed',
      gone(() => client.get(SVC, 'demo', privateName)),
    );
    const left = op.manager.list().filter((r) => r.requester?.name === 'web').length;
    return `finalizer ran, private Service removed, watches stopped; the Manager lists ${left} registrations for it`;
  });

  await step('namespace demo deleted', async () => {
    await client.delete(NS, undefined, 'demo');
    await until(
      'namespace demo gone',
      gone(() => client.get(NS, undefined, 'demo')),
      120_000,
    );
    return 'the namespace controller removed its contents, then the namespace';
  });

  const metrics = await op.registry.metrics();
  const interesting = metrics
    .split('\n')
    .filter((line) => /^elasti_operator_(scale_writes_total|scale_counter|informer_count)/.test(line))
    .slice(0, 8);
  say(`\nSome metrics:\n  ${interesting.join('\n  ')}`);
  say('\nDemo finished: every step above was checked against the apiserver.');
} catch (error) {
  // A failed step is the demo's answer, not a crash: one line, exit code 1.
  process.stderr.write(
    `demo failed: ${error instanceof DemoStepError ? error.message : error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
} finally {
  await operator?.stop();
  await client.close();
  await endpoint.close();
  await plane.stop();
}
