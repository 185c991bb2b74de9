/** The operator process on the real apiserver: endpoints, readiness, and leader election. */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { request } from 'undici';
import { ELASTI_API_VERSION, ELASTI_GVR } from '../../../src/api/v1alpha1/constants.ts';
import { installElastiServiceCrd } from '../../../src/api/v1alpha1/install.ts';
import type { ElastiService, ElastiServiceSpec } from '../../../src/api/v1alpha1/types.ts';
import { KubeClient } from '../../../src/kube/client/client.ts';
import type { Lease } from '../../../src/kube/index.ts';
import { runOperator } from '../../../src/operator/operator.ts';
import { LEASE_GVR } from '../../../src/runtime/leader-election.ts';
import { testCluster, testNamespace } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';

async function get(port: number, path: string): Promise<{ status: number; text: string }> {
  const res = await request(`http://127.0.0.1:${port}${path}`);
  return { status: res.statusCode, text: await res.body.text() };
}

/**
 * The CRD installed, a namespace, and an operator watching it with every endpoint on one
 * ephemeral port; the operator stops after the test.
 */
async function operatorOnHttp(t: TestContext, prefix: string) {
  const cluster = await testCluster();
  const client = await KubeClient.create(cluster.kubeconfigPath);
  t.after(() => client.close());
  await installElastiServiceCrd(client);
  const ns = await testNamespace(t, prefix);
  const operator = await runOperator({
    kubeconfig: cluster.kubeconfigPath,
    httpBindAddress: '127.0.0.1:0',
    config: { watchNamespace: ns },
  });
  t.after(() => operator.stop());
  return { client, ns, operator, port: operator.httpPort! };
}

test('serves /healthz, /readyz once synced, and /metrics with the Manager and engine metrics', async (t) => {
  const { operator, port } = await operatorOnHttp(t, 'op');
  assert.equal((await get(port, '/healthz')).status, 200);
  await waitFor(async () => (await get(port, '/readyz')).status === 200, { message: '/readyz 200' });
  const metrics = await get(port, '/metrics');
  assert.equal(metrics.status, 200);
  assert.match(metrics.text, /^# TYPE elasti_operator_informer_count gauge/m);
  assert.match(metrics.text, /^elasti_kube_lists_total\{/m, 'engine metrics of the controller informers');
  assert.match(metrics.text, /^process_resident_memory_bytes /m);
  assert.equal((await get(port, '/nope')).status, 404);

  await operator.stop();
  const outcome = await operator.done;
  assert.equal(outcome, 'stopped');
  await assert.rejects(get(port, '/healthz'), 'the endpoint server is closed after stop');
});

/** The value of the sample `name{labels}` in a scrape, or undefined when absent. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test("/metrics has controller-runtime's controller_runtime_* series of the elastiservice controller, moving with reconciles, beside upstream's", async (t) => {
  const { client, ns, port } = await operatorOnHttp(t, 'op-crm');
  await waitFor(async () => (await get(port, '/readyz')).status === 200, { message: '/readyz 200' });
  const before = (await get(port, '/metrics')).text;
  const success = 'controller="elastiservice",result="success"';
  const reconciled = sample(before, 'controller_runtime_reconcile_total', success) ?? 0;
  assert.match(before, /^# TYPE controller_runtime_reconcile_total counter/m);
  assert.equal(sample(before, 'controller_runtime_active_workers', 'controller="elastiservice"'), 0);
  assert.equal(sample(before, 'workqueue_depth', 'name="elastiservice"'), 0);

  // A spec the CRD schema lets through but the operator refuses: one successful reconcile
  // (SpecValid=False), no retries, so the count settles.
  await client.create<ElastiService>(ELASTI_GVR, ns, {
    apiVersion: ELASTI_API_VERSION,
    kind: 'ElastiService',
    metadata: { name: 'web-es' },
    spec: {
      service: 'web',
      minTargetReplicas: 1,
      cooldownPeriod: 300,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Rollout', name: 'web' },
    } as ElastiServiceSpec,
  });
  const after = await waitFor(
    async () => {
      const text = (await get(port, '/metrics')).text;
      return (sample(text, 'controller_runtime_reconcile_total', success) ?? 0) > reconciled
        ? text
        : undefined;
    },
    { message: 'controller_runtime_reconcile_total{controller="elastiservice",result="success"} moved' },
  );
  assert.ok(
    (sample(after, 'controller_runtime_reconcile_time_seconds_count', 'controller="elastiservice"') ?? 0) > 0,
    'the reconcile time histogram observed it',
  );
  assert.ok(
    (sample(after, 'elasti_operator_reconcile_count', `crd_name="${ns}/web-es",error="success"`) ?? 0) > 0,
    "upstream's elasti_operator_reconcile histogram, labelled namespace/name, as before",
  );
});

test('with leader election only one of two operators runs the controller; the other takes over on stop', async (t) => {
  const cluster = await testCluster();
  const client = await KubeClient.create(cluster.kubeconfigPath);
  t.after(() => client.close());
  await installElastiServiceCrd(client);
  const ns = await testNamespace(t, 'op-le');
  const start = (identity: string) =>
    runOperator({
      kubeconfig: cluster.kubeconfigPath,
      leaderElection: { namespace: ns, name: 'elasti-operator-lock', identity, leaseDurationMs: 3_000 },
      config: { watchNamespace: ns },
    });
  const a = await start('a');
  t.after(() => a.stop());
  await waitFor(() => a.controller()?.ready, { message: 'a leads and its controller is ready' });
  const b = await start('b');
  t.after(() => b.stop());
  // b campaigns for several retry periods without getting the lease.
  await waitFor(async () => {
    const lease = await client.get<Lease>(LEASE_GVR, ns, 'elasti-operator-lock');
    return Date.parse(lease.spec?.renewTime ?? '') > Date.now() - 1_000;
  });
  assert.equal(b.controller(), undefined, 'the standby runs no controller');

  await a.stop();
  assert.equal(await a.done, 'stopped');
  await waitFor(() => b.controller()?.ready, { timeoutMs: 15_000, message: 'b takes over' });
});
