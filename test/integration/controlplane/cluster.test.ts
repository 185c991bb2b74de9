/**
 * The full control plane behaves like a cluster on its own: the real deployment and replicaset
 * controllers make Pods, kube-scheduler binds them to kwok's Nodes, kwok gives them IPs and turns
 * them Ready, the real EndpointSlice controller lists them behind their Service, scaling to 0
 * removes them and empties the slice, a deleted namespace finalizes, and the garbage collector
 * removes a deleted owner's dependents. Raw HTTP only, independent of our engine.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KWOK_POD_CIDR } from '../../../tools/controlplane/harness.ts';
import { fullCluster, type RawApi, rawApi, testNamespace } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';

interface Pod {
  metadata: { name: string; deletionTimestamp?: string; ownerReferences?: { kind: string; name: string }[] };
  spec: { nodeName?: string };
  status?: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] };
}
interface EndpointSlice {
  metadata: { name: string; labels?: Record<string, string> };
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean }; nodeName?: string }[] | null;
}
interface List<T> {
  items: T[];
}

const isReady = (pod: Pod): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** 10.244.x.y for the harness's kwok CIDR 10.244.0.0/16. */
const inPodCidr = (ip: string | undefined): boolean =>
  ip?.startsWith(`${KWOK_POD_CIDR.split('.').slice(0, 2).join('.')}.`) ?? false;

function deployment(name: string, replicas: number): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] },
      },
    },
  };
}

async function pods(api: RawApi, ns: string, app: string): Promise<Pod[]> {
  return (await api.ok<List<Pod>>('GET', `/api/v1/namespaces/${ns}/pods?labelSelector=app%3D${app}`)).items;
}

/** The EndpointSlices the real EndpointSlice controller manages for `service`. */
async function controllerSlices(api: RawApi, ns: string, service: string): Promise<EndpointSlice[]> {
  const selector = encodeURIComponent(
    `kubernetes.io/service-name=${service},endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io`,
  );
  return (
    await api.ok<List<EndpointSlice>>(
      'GET',
      `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=${selector}`,
    )
  ).items;
}

const readyAddresses = (slices: EndpointSlice[]): string[] =>
  slices
    .flatMap((s) => s.endpoints ?? [])
    .filter((e) => e.conditions?.ready === true)
    .flatMap((e) => e.addresses)
    .sort();

describe('the full control plane behaves like a cluster', () => {
  it('a Deployment of 3: Pods scheduled to kwok Nodes, Ready with IPs, listed by the real EndpointSlice controller; scaled to 0 they go and the slice empties', async (t) => {
    const cluster = await fullCluster();
    const api = await rawApi(t, cluster);
    const ns = await testNamespace(t, 'cluster', cluster);
    await api.ok('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, deployment('web', 3));
    await api.ok('POST', `/api/v1/namespaces/${ns}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });

    const running = await waitFor(
      async () => {
        const list = await pods(api, ns, 'web');
        return list.length === 3 && list.every(isReady) ? list : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, message: '3 Ready Pods' },
    );
    for (const pod of running) {
      assert.ok(
        pod.spec.nodeName && cluster.nodeNames.includes(pod.spec.nodeName),
        `${pod.metadata.name} on a kwok Node`,
      );
      assert.equal(pod.status?.phase, 'Running');
      assert.ok(inPodCidr(pod.status?.podIP), `${pod.metadata.name} has a Pod IP (${pod.status?.podIP})`);
      assert.equal(
        pod.metadata.ownerReferences?.[0]?.kind,
        'ReplicaSet',
        'made by the replicaset controller',
      );
    }
    const ips = running.map((p) => p.status?.podIP ?? '').sort();
    assert.equal(new Set(ips).size, 3, 'three distinct IPs');

    const slices = await waitFor(
      async () => {
        const found = await controllerSlices(api, ns, 'web');
        return readyAddresses(found).join() === ips.join() ? found : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, message: 'the EndpointSlice to list the 3 Pod IPs' },
    );
    assert.equal(slices.length, 1);

    await api.ok('PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/web`, { spec: { replicas: 0 } });
    await waitFor(async () => (await pods(api, ns, 'web')).length === 0, {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: 'every Pod removed',
    });
    // Pods that are going are first listed as terminating (not ready), then dropped.
    const emptied = await waitFor(
      async () => {
        const found = await controllerSlices(api, ns, 'web');
        return found.length === 1 && (found[0]?.endpoints ?? []).length === 0 ? found[0] : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, message: 'the EndpointSlice emptied' },
    );
    assert.equal(emptied.metadata.name, slices[0]?.metadata.name, 'the same slice, now with no endpoints');
  });

  it('deleting a namespace completes: its contents are removed and then the namespace', async (t) => {
    const cluster = await fullCluster();
    const api = await rawApi(t, cluster);
    const ns = await testNamespace(t, 'nsdel', cluster);
    await api.ok('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, deployment('web', 2));
    await api.ok('POST', `/api/v1/namespaces/${ns}/configmaps`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings' },
    });
    await waitFor(async () => (await pods(api, ns, 'web')).filter(isReady).length === 2, {
      timeoutMs: 60_000,
      message: '2 Ready Pods',
    });

    await api.ok('DELETE', `/api/v1/namespaces/${ns}`);
    const terminating = await api.call('GET', `/api/v1/namespaces/${ns}`);
    // Deleted at once only if the controller was already done; usually we see it Terminating first.
    if (terminating.status === 200) {
      assert.equal((terminating.body as { status: { phase: string } }).status.phase, 'Terminating');
    }
    await waitFor(async () => (await api.call('GET', `/api/v1/namespaces/${ns}`)).status === 404, {
      timeoutMs: 90_000,
      intervalMs: 250,
      message: `namespace ${ns} gone`,
    });
  });

  it("the garbage collector removes a deleted owner's dependents (Deployment → ReplicaSet → Pods; a ConfigMap's dependent)", async (t) => {
    const cluster = await fullCluster();
    const api = await rawApi(t, cluster);
    const ns = await testNamespace(t, 'gc', cluster);
    await api.ok('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, deployment('web', 2));
    await waitFor(async () => (await pods(api, ns, 'web')).length === 2, {
      timeoutMs: 60_000,
      message: '2 Pods',
    });
    const owner = await api.ok<{ metadata: { uid: string } }>('POST', `/api/v1/namespaces/${ns}/configmaps`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'owner' },
    });
    await api.ok('POST', `/api/v1/namespaces/${ns}/configmaps`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'dependent',
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid }],
      },
    });

    // Background propagation (the default for a DELETE without options): the owner goes at once,
    // the garbage collector deletes the dependents after.
    await api.ok('DELETE', `/apis/apps/v1/namespaces/${ns}/deployments/web`);
    await api.ok('DELETE', `/api/v1/namespaces/${ns}/configmaps/owner`);
    await waitFor(
      async () =>
        (await api.ok<List<unknown>>('GET', `/apis/apps/v1/namespaces/${ns}/replicasets`)).items.length ===
          0 && (await pods(api, ns, 'web')).length === 0,
      { timeoutMs: 60_000, intervalMs: 250, message: 'ReplicaSet and Pods garbage-collected' },
    );
    await waitFor(
      async () => (await api.call('GET', `/api/v1/namespaces/${ns}/configmaps/dependent`)).status === 404,
      { timeoutMs: 60_000, intervalMs: 250, message: 'dependent ConfigMap garbage-collected' },
    );
  });
});
