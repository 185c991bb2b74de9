/**
 * Helpers of the controller's integration tests: the CRD, the resolver's Service, a controller +
 * Manager pair per test, and two kinds of set-up:
 *
 * - {@link setUpCluster}, on the full cluster (real controllers, scheduler, kwok Nodes): the
 *   resolver is a real Deployment whose EndpointSlice the EndpointSlice controller writes, and
 *   targets are real Deployments (`workloads.ts`) whose Pods come and go by themselves.
 * - {@link setUp}, on the bare apiserver, for tests that need exact control of status and timing:
 *   nothing runs there, so {@link createTarget}/{@link setReady} make Pods and set Pod and
 *   Deployment status by hand, and {@link setResolverIps} writes the resolver's slice.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { ELASTI_API_VERSION, ELASTI_CRD_NAME, ELASTI_GVR } from '../../../src/api/v1alpha1/constants.ts';
import { CRD_YAML_PATH } from '../../../src/api/v1alpha1/crd-yaml.ts';
import type { ServedCrd } from '../../../src/api/v1alpha1/install.ts';
import { endpointSliceToResolverName, privateServiceName } from '../../../src/api/v1alpha1/names.ts';
import type { ElastiService, ElastiServiceSpec } from '../../../src/api/v1alpha1/types.ts';
import {
  type ElastiServiceController,
  managerResolverConfig,
  type OperatorConfig,
  resolveOperatorConfig,
  startController,
} from '../../../src/controller/index.ts';
import { CRDDirectory } from '../../../src/crddirectory/directory.ts';
import { Manager } from '../../../src/informer/manager.ts';
import { KubeClient } from '../../../src/kube/client/client.ts';
import type { GroupVersionResource, KubeObject, KubeObjectLike } from '../../../src/kube/core/types.ts';
import type { EndpointSlice, Pod, Service } from '../../../src/kube/index.ts';
import { resources } from '../../../src/kube/index.ts';
import { fullCluster, type TestCluster, testCluster, testNamespace } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CRDS_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

export { ELASTI_GVR };

const crdInstalled = new Map<string, Promise<void>>();

/**
 * Installs the CRD from the committed manifest (server-side apply) and waits for Established.
 * Once per process and cluster.
 */
export function installCrd(client: KubeClient, cluster: TestCluster): Promise<void> {
  let installed = crdInstalled.get(cluster.apiserverUrl);
  installed ??= (async () => {
    const yaml = readFileSync(join(root, CRD_YAML_PATH), 'utf8');
    await client.request('PATCH', `${CRDS_PATH}/${ELASTI_CRD_NAME}`, yaml, {
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: 'elasti-controller-test', force: true },
    });
    await waitFor(
      async () => {
        const crd = await client.request<ServedCrd>('GET', `${CRDS_PATH}/${ELASTI_CRD_NAME}`);
        return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      },
      { timeoutMs: 30_000, message: 'CRD Established' },
    );
    // Established can precede the discovery/storage of the new resource by a moment.
    await waitFor(async () => (await client.list({ gvr: ELASTI_GVR }, { limit: 1 })).items !== undefined, {
      timeoutMs: 30_000,
      message: 'elastiservices served',
    });
  })();
  crdInstalled.set(cluster.apiserverUrl, installed);
  return installed;
}

/** Everything one test needs. */
export interface Env {
  readonly t: TestContext;
  /** The cluster the test runs on (the shared bare or full one). */
  readonly cluster: TestCluster;
  readonly client: KubeClient;
  /** Namespace of the ElastiServices, targets and Services (the controller watches only it). */
  readonly ns: string;
  /** Namespace of the resolver. */
  readonly resolverNs: string;
  readonly config: OperatorConfig;
  /** Run at the end of the test before the client closes (node:test runs `after` hooks in registration order). */
  readonly teardown: (() => Promise<void>)[];
}

/** The app label of the resolver's Pods, which its Service selects. */
export const RESOLVER_APP = 'elasti-resolver';

async function prepare(t: TestContext, cluster: TestCluster): Promise<Env> {
  const client = await KubeClient.create(cluster.kubeconfigPath);
  const teardown: (() => Promise<void>)[] = [];
  // One hook, in a fixed order: a client closed under a running controller would wait forever
  // for its watch streams to end.
  t.after(async () => {
    for (const step of teardown.reverse()) await step();
    await client.close();
  });
  await installCrd(client, cluster);
  const ns = await testNamespace(t, 'ctl', cluster);
  const resolverNs = await testNamespace(t, 'res', cluster);
  const config = resolveOperatorConfig({
    watchNamespace: ns,
    resolver: { namespace: resolverNs },
    drainTimeoutMs: 5_000,
  });
  await client.create(resources.services.gvr, resolverNs, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: config.resolver.serviceName },
    spec: {
      selector: { app: RESOLVER_APP },
      ports: [
        { name: 'http-resolver', port: 8013 },
        { name: 'http-reverse-proxy', port: 8012 },
      ],
    },
  });
  return { t, cluster, client, ns, resolverNs, config, teardown };
}

/**
 * On the bare apiserver (exact control): namespaces, client, CRD and a resolver Service whose
 * hand-written EndpointSlice has `resolverIps`.
 */
export async function setUp(t: TestContext, resolverIps: string[] = ['10.244.0.5']): Promise<Env> {
  const env = await prepare(t, await testCluster());
  await setResolverIps(env, resolverIps);
  return env;
}

/**
 * On the full cluster: namespaces, client, CRD and the resolver as a Deployment of
 * `resolverReplicas` behind its Service; resolves once the EndpointSlice controller lists that
 * many ready resolver IPs.
 */
export async function setUpCluster(t: TestContext, resolverReplicas = 1): Promise<Env> {
  const env = await prepare(t, await fullCluster());
  await env.client.create(
    resources.deployments.gvr,
    env.resolverNs,
    deploymentManifest(RESOLVER_APP, resolverReplicas),
  );
  await waitFor(async () => (await resolverIps(env)).length === resolverReplicas, {
    timeoutMs: 60_000,
    message: `${resolverReplicas} ready resolver endpoints`,
  });
  return env;
}

/** The ready IPs in the resolver Service's EndpointSlices, sorted. */
export async function resolverIps(env: Env): Promise<string[]> {
  const slices = await env.client.list<EndpointSlice>({
    gvr: resources.endpointSlices.gvr,
    namespace: env.resolverNs,
    labelSelector: `kubernetes.io/service-name=${env.config.resolver.serviceName}`,
  });
  return slices.items
    .flatMap((s) => s.endpoints ?? [])
    .filter((e) => e.conditions?.ready === true)
    .flatMap((e) => e.addresses)
    .sort();
}

/**
 * A Deployment of `replicas` Pods labelled `app: <name>`. `podReadyDelay` (e.g. `"1h"`) holds
 * its Pods back from turning Ready on kwok Nodes that long (kwok's per-Pod delay annotation).
 */
export function deploymentManifest(name: string, replicas: number, podReadyDelay?: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: {
          labels: { app: name },
          ...(podReadyDelay ? { annotations: { 'pod-ready.stage.kwok.x-k8s.io/delay': podReadyDelay } } : {}),
        },
        spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] },
      },
    },
  };
}

/** Bare apiserver only: creates or replaces the resolver Service's EndpointSlice with these ready IPs. */
export async function setResolverIps(env: Env, ips: string[]): Promise<void> {
  const name = `${env.config.resolver.serviceName}-abcde`;
  const body = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      labels: {
        'kubernetes.io/service-name': env.config.resolver.serviceName,
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      },
    },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    ports: [{ name: 'http-reverse-proxy', port: 8012, protocol: 'TCP' }],
  };
  try {
    const existing = await env.client.get(resources.endpointSlices.gvr, env.resolverNs, name);
    await env.client.replace(resources.endpointSlices.gvr, env.resolverNs, name, {
      ...body,
      metadata: { ...body.metadata, resourceVersion: existing.metadata.resourceVersion },
    });
  } catch (error) {
    if ((error as { status?: number }).status !== 404) throw error;
    await env.client.create(resources.endpointSlices.gvr, env.resolverNs, body);
  }
}

/** A running controller with its own Manager and directory (as one operator process has). */
export interface Running {
  readonly controller: ElastiServiceController;
  readonly manager: Manager;
  readonly directory: CRDDirectory;
  /** Stops controller and Manager (also done after the test). */
  stop(): Promise<void>;
}

/** Starts Manager + controller for `env`; both stop after the test. */
export async function startOperator(env: Env): Promise<Running> {
  const manager = new Manager({
    client: env.client,
    resolver: managerResolverConfig(env.config),
    registry: new Registry(),
    syncTimeoutMs: 30_000,
  });
  manager.start();
  const directory = new CRDDirectory();
  const controller = await startController({
    client: env.client,
    manager,
    directory,
    config: env.config,
    registry: new Registry(),
  });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await controller.stop();
      await manager.stop();
    })();
    return stopped;
  };
  env.teardown.push(stop);
  return { controller, manager, directory, stop };
}

/**
 * Bare apiserver only: a Deployment `name` with `replicas` and hand-made Pods `name-0..` of which
 * the first `ready` are ready.
 */
export async function createTarget(env: Env, name: string, replicas: number, ready: number): Promise<void> {
  await env.client.create(resources.deployments.gvr, env.ns, deploymentManifest(name, replicas));
  for (let i = 0; i < replicas; i++) {
    await env.client.create(resources.pods.gvr, env.ns, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `${name}-${i}`, labels: { app: name } },
      spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] },
    });
  }
  await setReady(env, name, replicas, ready);
}

/**
 * Bare apiserver only: sets Pod readiness (first `ready` of `replicas` Pods) and then the
 * Deployment's status, in that order, as a kubelet and the deployment controller would.
 */
export async function setReady(env: Env, name: string, replicas: number, ready: number): Promise<void> {
  for (let i = 0; i < replicas; i++) {
    await env.client.patchStatus(
      resources.pods.gvr,
      env.ns,
      `${name}-${i}`,
      {
        status: {
          phase: 'Running',
          podIP: `10.0.${replicas}.${10 + i}`,
          conditions: [{ type: 'Ready', status: i < ready ? 'True' : 'False' }],
        },
      },
      'merge',
    );
  }
  await env.client.patchStatus(
    resources.deployments.gvr,
    env.ns,
    name,
    { status: { replicas, readyReplicas: ready, availableReplicas: ready, updatedReplicas: replicas } },
    'merge',
  );
}

/** Full cluster: sets the Deployment's `spec.replicas`; its controllers and kwok do the rest. */
export async function scale(env: Env, name: string, replicas: number, namespace = env.ns): Promise<void> {
  await env.client.patch(resources.deployments.gvr, namespace, name, { spec: { replicas } }, 'merge');
}

/** Full cluster: waits until exactly `count` Pods of `app` exist and all are Ready; returns their IPs, sorted. */
export async function waitForReadyPods(
  env: Env,
  app: string,
  count: number,
  namespace = env.ns,
): Promise<string[]> {
  return waitFor(
    async () => {
      const pods = await env.client.list<Pod>({
        gvr: resources.pods.gvr,
        namespace,
        labelSelector: `app=${app}`,
      });
      const ready = pods.items.filter(
        (p) =>
          !p.metadata.deletionTimestamp &&
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      return pods.items.length === count && ready.length === count
        ? ready.map((p) => String(p.status?.podIP ?? '')).sort()
        : undefined;
    },
    { timeoutMs: 60_000, message: `${count} Ready Pods of ${app} in ${namespace}` },
  );
}

/** A ClusterIP Service `name` selecting `app=<app>` on port 80 → 8080. */
export async function createService(env: Env, name: string, app: string): Promise<void> {
  await env.client.create(resources.services.gvr, env.ns, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels: { team: 'shop' } },
    spec: { selector: { app }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  });
}

/** Creates an ElastiService. */
export async function createElastiService(
  env: Env,
  name: string,
  spec: Partial<ElastiServiceSpec> & Pick<ElastiServiceSpec, 'service' | 'scaleTargetRef'>,
): Promise<ElastiService> {
  return env.client.create<ElastiService>(ELASTI_GVR, env.ns, {
    apiVersion: ELASTI_API_VERSION,
    kind: 'ElastiService',
    metadata: { name },
    spec: { minTargetReplicas: 1, cooldownPeriod: 300, ...spec } as ElastiServiceSpec,
  });
}

/** GET, or `undefined` on 404. */
export async function getOrUndefined<T extends KubeObjectLike>(
  env: Env,
  gvr: GroupVersionResource,
  name: string,
  namespace = env.ns,
): Promise<T | undefined> {
  try {
    return await env.client.get<T>(gvr, namespace, name);
  } catch (error) {
    if ((error as { status?: number }).status === 404) return undefined;
    throw error;
  }
}

/** Waits until the ElastiService reports `mode`; returns it. */
export async function waitForMode(env: Env, name: string, mode: 'proxy' | 'serve'): Promise<ElastiService> {
  return waitFor(
    async () => {
      const es = await env.client.get<ElastiService>(ELASTI_GVR, env.ns, name);
      return es.status?.mode === mode ? es : undefined;
    },
    { timeoutMs: 30_000, message: `${name} in ${mode} mode` },
  );
}

/** A core/v1 Event as listed. */
export interface ListedEvent extends KubeObject {
  reason: string;
  message: string;
  type: string;
  count?: number;
  involvedObject: { name?: string; kind?: string; uid?: string };
}

/** Events about the ElastiService `name`. */
export async function eventsFor(env: Env, name: string): Promise<ListedEvent[]> {
  const page = await env.client.list<ListedEvent>({
    gvr: resources.events.gvr,
    namespace: env.ns,
    fieldSelector: `involvedObject.name=${name}`,
  });
  return page.items.filter((e) => e.involvedObject.kind === 'ElastiService');
}

/** The scale target most tests use: Deployment `web`. */
export const TARGET = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' } as const;

/** Every address in `slice`, in its order. */
export function sliceAddresses(slice: EndpointSlice | undefined): string[] | undefined {
  return slice?.endpoints?.flatMap((e) => e.addresses);
}

/** The operator's EndpointSlice to the resolver for `service`, if it exists. */
export async function slice(env: Env, service: string): Promise<EndpointSlice | undefined> {
  return getOrUndefined<EndpointSlice>(
    env,
    resources.endpointSlices.gvr,
    endpointSliceToResolverName(service),
  );
}

/** The operator's private Service for `service`, if it exists. */
export async function privateSvc(env: Env, service: string): Promise<Service | undefined> {
  return getOrUndefined<Service>(env, resources.services.gvr, privateServiceName(service));
}

/** Full cluster: a target Deployment of `replicas` (its Pods turn Ready on their own). */
export async function deploy(env: Env, name: string, replicas: number): Promise<void> {
  await env.client.create(resources.deployments.gvr, env.ns, deploymentManifest(name, replicas));
}

/** Full cluster: scales `name` and waits for the cluster to get there (Pods Ready, or gone for 0). */
export async function scaleAndWait(env: Env, name: string, replicas: number): Promise<void> {
  await scale(env, name, replicas);
  await waitForReadyPods(env, name, replicas);
}
