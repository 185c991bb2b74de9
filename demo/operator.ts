/**
 * `npm run demo`: the operator on a control plane that behaves like a cluster, end to end.
 *
 * Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok with two fake
 * Nodes (tools/controlplane), installs the ElastiService CRD, creates a resolver and a target
 * workload as plain Deployments and Services, runs the operator in this process, and walks an
 * ElastiService through serve → proxy → serve → deleted, and then its namespace, printing what the
 * operator did and how long each step took. Nothing here sets a status: the real controllers make
 * and remove Pods, kwok turns them Ready with IPs, the EndpointSlice controller lists them.
 */
import { performance } from 'node:perf_hooks';
import { ELASTI_GVR, endpointSliceToResolverName, privateServiceName } from '../src/api/v1alpha1/index.ts';
import { installElastiServiceCrd } from '../src/api/v1alpha1/install.ts';
import { KubeClient } from '../src/kube/client/client.ts';
import { isNotFound } from '../src/kube/core/errors.ts';
import { resources } from '../src/kube/core/resources.ts';
import type { KubeObject } from '../src/kube/core/types.ts';
import { runOperator } from '../src/operator/operator.ts';
import { startControlPlane } from '../tools/controlplane/harness.ts';

const NS = resources.namespaces.gvr;
const DEPLOY = resources.deployments.gvr;
const SVC = resources.services.gvr;
const POD = resources.pods.gvr;
const SLICE = resources.endpointSlices.gvr;

interface Pod extends KubeObject {
  spec: { nodeName?: string };
  status?: { podIP?: string; conditions?: { type: string; status: string }[] };
}
interface Slice extends KubeObject {
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] | null;
  ports?: { port: number }[];
}

const say = (text: string): void => void process.stdout.write(`${text}\n`);
const ms = (since: number): string => `${Math.round(performance.now() - since)} ms`;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const gone = (get: () => Promise<unknown>) => (): Promise<true | undefined> =>
  get().then(
    () => undefined,
    (error: unknown) => (isNotFound(error) ? true : undefined),
  );

say(
  'Starting the control plane with controllers, scheduler and 2 kwok Nodes (first run builds them: minutes)...',
);
const plane = await startControlPlane({ controllers: true, nodes: 2 });
const client = await KubeClient.create(plane.kubeconfigPath);
let operator: Awaited<ReturnType<typeof runOperator>> | undefined;
try {
  say(`Running: ${plane.components.join(', ')}`);
  say(`Control plane up at ${plane.apiserverUrl}; export KUBECONFIG=${plane.kubeconfigPath}`);
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
  const scale = (namespace: string, name: string, replicas: number): Promise<KubeObject> =>
    client.patch(DEPLOY, namespace, name, { spec: { replicas } }, 'merge');
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

  operator = await runOperator({ kubeconfig: plane.kubeconfigPath, httpBindAddress: '127.0.0.1:0' });
  say(`Operator running in this process; metrics at http://127.0.0.1:${operator.httpPort}/metrics`);

  const mode = async (): Promise<string | undefined> => {
    const es = await client.get<KubeObject & { status?: { mode?: string } }>(ELASTI_GVR, 'demo', 'web');
    return es.status?.mode;
  };
  t = performance.now();
  await client.create(ELASTI_GVR, 'demo', {
    apiVersion: 'elasti.truefoundry.com/v1alpha1',
    kind: 'ElastiService',
    metadata: { name: 'web', namespace: 'demo' },
    spec: {
      service: 'web',
      minTargetReplicas: 1,
      cooldownPeriod: 300,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      triggers: [
        {
          type: 'prometheus',
          metadata: {
            query: 'sum(rate(http_requests_total[1m]))',
            serverAddress: 'http://prometheus:9090',
            threshold: '0.5',
          },
        },
      ],
    },
  });
  await until('serve mode', async () => ((await mode()) === 'serve' ? true : undefined));
  say(`\n1. ElastiService demo/web created → status.mode = serve (${ms(t)})`);

  t = performance.now();
  await scale('demo', 'web', 0);
  await until('proxy mode', async () => ((await mode()) === 'proxy' ? true : undefined));
  const proxyAfter = ms(t);
  await readyPods('demo', 'web', 0);
  const privateName = privateServiceName('web');
  const sliceName = endpointSliceToResolverName('web');
  const privateSvc = await client.get<KubeObject & { spec: { selector: unknown } }>(SVC, 'demo', privateName);
  const slice = await until('resolver EndpointSlice', () => client.get<Slice>(SLICE, 'demo', sliceName));
  say(`2. web scaled to 0, the ReplicaSet controller removed its Pod → status.mode = proxy (${proxyAfter})`);
  say(`   private Service ${privateName}: selector ${JSON.stringify(privateSvc.spec.selector)}`);
  say(
    `   EndpointSlice ${sliceName}: ${(slice.endpoints ?? []).flatMap((e) => e.addresses).join(', ')} port ${(slice.ports ?? []).map((p) => p.port).join(',')} → traffic for web goes to the resolver`,
  );

  t = performance.now();
  await scale('elasti', 'elasti-resolver', 2);
  const two = await until('two resolver endpoints', async () => {
    const ips = await resolverIps();
    return ips.length === 2 ? ips : undefined;
  });
  await until('the EndpointSlice to the resolver to follow', async () => {
    const s = await client.get<Slice>(SLICE, 'demo', sliceName);
    const ips = (s.endpoints ?? []).flatMap((e) => e.addresses).sort();
    return ips.join() === two.join() ? true : undefined;
  });
  say(
    `3. Resolver scaled to 2; the EndpointSlice controller lists ${two.join(', ')} → the slice to the resolver follows (${ms(t)})`,
  );

  t = performance.now();
  await scale('demo', 'web', 1);
  await until('serve mode again', async () => ((await mode()) === 'serve' ? true : undefined));
  await until(
    'EndpointSlice removed',
    gone(() => client.get(SLICE, 'demo', sliceName)),
  );
  say(
    `4. web scaled to 1: ${describePods(await readyPods('demo', 'web', 1))} → status.mode = serve, slice to the resolver deleted (${ms(t)})`,
  );

  t = performance.now();
  await client.delete(ELASTI_GVR, 'demo', 'web');
  await until(
    'ElastiService gone',
    gone(() => client.get(ELASTI_GVR, 'demo', 'web')),
  );
  await until(
    'private Service removed',
    gone(() => client.get(SVC, 'demo', privateName)),
  );
  say(
    `5. ElastiService deleted → finalizer ran, private Service removed, watches stopped (${ms(t)}); Manager lists ${operator.manager.list().filter((r) => r.requester?.name === 'web').length} registrations for it`,
  );

  t = performance.now();
  await client.delete(NS, undefined, 'demo');
  await until(
    'namespace demo gone',
    gone(() => client.get(NS, undefined, 'demo')),
    120_000,
  );
  say(
    `6. Namespace demo deleted → the namespace controller removed its contents, then the namespace (${ms(t)})`,
  );

  const metrics = await operator.registry.metrics();
  const interesting = metrics
    .split('\n')
    .filter((line) => /^elasti_operator_informer_(count|counter)/.test(line))
    .slice(0, 8);
  say(`\nSome metrics:\n  ${interesting.join('\n  ')}`);
  say('\nDemo finished: every step above was checked against the apiserver.');
} finally {
  await operator?.stop();
  await client.close();
  await plane.stop();
}
