/**
 * `npm run demo`: the operator on a real control plane, end to end.
 *
 * Starts kube-apiserver + etcd (tools/controlplane), installs the ElastiService CRD, creates a
 * resolver (Deployment, Service, EndpointSlice) and a target workload (Deployment, Service, a
 * ready Pod), runs the operator in this process, and walks an ElastiService through
 * serve → proxy → serve → deleted, printing what the operator did and how long each step took.
 * There is no kubelet or controller-manager here, so the demo plays their part: it sets Pod
 * readiness and Deployment status itself, as they would.
 */
import { performance } from 'node:perf_hooks';
import { ELASTI_GVR, endpointSliceToResolverName, privateServiceName } from '../src/api/v1alpha1/index.ts';
import { installElastiServiceCrd } from '../src/api/v1alpha1/install.ts';
import { KubeClient } from '../src/kube/client.ts';
import { isNotFound } from '../src/kube/errors.ts';
import { resources } from '../src/kube/resources.ts';
import type { KubeObject } from '../src/kube/types.ts';
import { runOperator } from '../src/operator/operator.ts';
import { startControlPlane, versions } from '../tools/controlplane/harness.ts';

const NS = resources.namespaces.gvr;
const DEPLOY = resources.deployments.gvr;
const SVC = resources.services.gvr;
const POD = resources.pods.gvr;
const SLICE = resources.endpointSlices.gvr;

const say = (text: string): void => void process.stdout.write(`${text}\n`);
const ms = (since: number): string => `${Math.round(performance.now() - since)} ms`;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

say(`Starting kube-apiserver ${versions.kube} + etcd ${versions.etcd} (first run builds them: minutes)...`);
const plane = await startControlPlane();
const client = await KubeClient.create(plane.kubeconfigPath);
let operator: Awaited<ReturnType<typeof runOperator>> | undefined;
try {
  say(`Control plane up at ${plane.apiserverUrl}; export KUBECONFIG=${plane.kubeconfigPath}`);
  await installElastiServiceCrd(client);
  say('ElastiService CRD installed and Established.');

  for (const name of ['elasti', 'demo']) {
    await client.create(NS, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  const deployment = (namespace: string, name: string, app: string): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app } },
      template: {
        metadata: { labels: { app } },
        spec: { containers: [{ name: app, image: `${app}:demo` }] },
      },
    },
  });
  await client.create(DEPLOY, 'elasti', deployment('elasti', 'elasti-resolver', 'resolver'));
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
      name: 'elasti-resolver-service-abc12',
      namespace: 'elasti',
      labels: { 'kubernetes.io/service-name': 'elasti-resolver-service' },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.244.0.10'], conditions: { ready: true } }],
    ports: [{ name: 'http', port: 8012, protocol: 'TCP' }],
  });
  say('Resolver created in namespace elasti (one endpoint: 10.244.0.10:8012).');

  await client.create(DEPLOY, 'demo', deployment('demo', 'web', 'web'));
  await client.create(SVC, 'demo', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'demo' },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  });
  await client.create(POD, 'demo', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'demo', labels: { app: 'web' } },
    spec: { containers: [{ name: 'web', image: 'web:demo' }] },
  });
  const setReady = async (ready: boolean): Promise<void> => {
    const status = ready ? 'True' : 'False';
    await client.patchStatus(
      POD,
      'demo',
      'web-1',
      {
        status: {
          phase: 'Running',
          podIP: '10.244.1.7',
          conditions: [{ type: 'Ready', status, lastTransitionTime: new Date().toISOString() }],
        },
      },
      'merge',
    );
    await client.patchStatus(
      DEPLOY,
      'demo',
      'web',
      { status: { replicas: 1, readyReplicas: ready ? 1 : 0, availableReplicas: ready ? 1 : 0 } },
      'merge',
    );
  };
  await setReady(true);
  say('Target created in namespace demo: Deployment web (1 ready Pod), Service web.');

  operator = await runOperator({ kubeconfig: plane.kubeconfigPath, httpBindAddress: '127.0.0.1:0' });
  say(`Operator running in this process; metrics at http://127.0.0.1:${operator.httpPort}/metrics`);

  const mode = async (): Promise<string | undefined> => {
    const es = await client.get<KubeObject & { status?: { mode?: string } }>(ELASTI_GVR, 'demo', 'web');
    return es.status?.mode;
  };
  let t = performance.now();
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
  await setReady(false);
  await until('proxy mode', async () => ((await mode()) === 'proxy' ? true : undefined));
  const privateName = privateServiceName('web');
  const sliceName = endpointSliceToResolverName('web');
  const privateSvc = await client.get<KubeObject & { spec: { selector: unknown; ports: unknown } }>(
    SVC,
    'demo',
    privateName,
  );
  const slice = await until('resolver EndpointSlice', () =>
    client.get<KubeObject & { endpoints: { addresses: string[] }[]; ports: { port: number }[] }>(
      SLICE,
      'demo',
      sliceName,
    ),
  );
  say(`2. Target lost its last ready Pod → status.mode = proxy (${ms(t)})`);
  say(`   private Service ${privateName}: selector ${JSON.stringify(privateSvc.spec.selector)}`);
  say(
    `   EndpointSlice ${sliceName}: ${slice.endpoints.flatMap((e) => e.addresses).join(', ')} port ${slice.ports.map((p) => p.port).join(',')} → traffic for web goes to the resolver`,
  );

  t = performance.now();
  await client.patch(
    SLICE,
    'elasti',
    'elasti-resolver-service-abc12',
    {
      endpoints: [
        { addresses: ['10.244.0.10'], conditions: { ready: true } },
        { addresses: ['10.244.0.11'], conditions: { ready: true } },
      ],
    },
    'merge',
  );
  await until('two resolver endpoints', async () => {
    const s = await client.get<KubeObject & { endpoints?: { addresses: string[] }[] }>(
      SLICE,
      'demo',
      sliceName,
    );
    return (s.endpoints?.length ?? 0) === 2 ? true : undefined;
  });
  say(`3. Resolver scaled to 2 endpoints → the EndpointSlice to the resolver follows (${ms(t)})`);

  t = performance.now();
  await setReady(true);
  await until('serve mode again', async () => ((await mode()) === 'serve' ? true : undefined));
  await until('EndpointSlice removed', async () =>
    client.get(SLICE, 'demo', sliceName).then(
      () => undefined,
      (error: unknown) => (isNotFound(error) ? true : undefined),
    ),
  );
  say(`4. Target ready again → status.mode = serve, EndpointSlice to the resolver deleted (${ms(t)})`);

  t = performance.now();
  await client.delete(ELASTI_GVR, 'demo', 'web');
  await until('ElastiService gone', async () =>
    client.get(ELASTI_GVR, 'demo', 'web').then(
      () => undefined,
      (error: unknown) => (isNotFound(error) ? true : undefined),
    ),
  );
  await until('private Service removed', async () =>
    client.get(SVC, 'demo', privateName).then(
      () => undefined,
      (error: unknown) => (isNotFound(error) ? true : undefined),
    ),
  );
  say(
    `5. ElastiService deleted → finalizer ran, private Service removed, watches stopped (${ms(t)}); Manager lists ${operator.manager.list().filter((r) => r.requester?.name === 'web').length} registrations for it`,
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
