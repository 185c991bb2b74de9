/**
 * The RBAC the project ships (`config/rbac/`) is enough, and what it names is what the operator
 * uses: the operator runs end to end — leader election, proxy mode with its private Service and
 * EndpointSlice, an Event, a wake-up through the resolver API (status stamp, KEDA unpause,
 * `/scale` GET and PUT), serve mode, deletion through the finalizer (KEDA unpaused again) — as a
 * ServiceAccount bound to exactly those rules (the admin token impersonates it, so the shared
 * control plane's other identities are untouched).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadAll } from 'js-yaml';
import { endpointSliceToResolverName, privateServiceName } from '../../../src/api/v1alpha1/names.ts';
import type { ElastiService } from '../../../src/api/v1alpha1/types.ts';
import type { KubeObject } from '../../../src/kube/core/types.ts';
import { resources } from '../../../src/kube/index.ts';
import { runOperator } from '../../../src/operator/operator.ts';
import {
  KEDA_PAUSED_ANNOTATION,
  KEDA_PAUSED_REPLICAS_ANNOTATION,
  SCALEDOBJECT_GVR,
} from '../../../src/scaling/keda.ts';
import { deferrer, kubeconfigFor, testCluster } from '../../support/cluster.ts';
import { createScaledObject, installScaledObjectCrd } from '../../support/keda.ts';
import { waitFor } from '../../support/wait.ts';
import {
  createElastiService,
  createService,
  createTarget,
  ELASTI_GVR,
  eventsFor,
  getOrUndefined,
  setReady,
  setUp,
  waitForMode,
} from '../controller/support.ts';

const RBAC_DIR = new URL('../../../config/rbac/', import.meta.url);
const TARGET = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' } as const;

function manifest(file: string): KubeObject[] {
  return loadAll(readFileSync(new URL(file, RBAC_DIR), 'utf8')) as KubeObject[];
}

test('the operator works end to end with only the RBAC in config/rbac', async (t) => {
  const defer = deferrer(t);
  const cluster = await testCluster();
  const env = await setUp(t);
  const sa = { namespace: env.ns, name: 'elasti-operator' };
  const suffix = env.ns;
  // The shipped rules, bound to a ServiceAccount of this test (cluster-scoped names made unique).
  const [clusterRole] = manifest('role.yaml');
  const [leaderRole] = manifest('leader_election_role.yaml');
  assert.ok(clusterRole && leaderRole);
  const roleName = `elasti-operator-${suffix}`;
  await env.client.create(resources.clusterRoles.gvr, undefined, {
    ...clusterRole,
    metadata: { name: roleName },
  });
  defer(() => env.client.delete(resources.clusterRoles.gvr, undefined, roleName));
  const subjects = [{ kind: 'ServiceAccount', name: sa.name, namespace: sa.namespace }];
  await env.client.create(resources.clusterRoleBindings.gvr, undefined, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: roleName },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
    subjects,
  });
  defer(() => env.client.delete(resources.clusterRoleBindings.gvr, undefined, roleName));
  await env.client.create(resources.roles.gvr, env.ns, {
    ...leaderRole,
    metadata: { name: 'leader-election' },
  });
  await env.client.create(resources.roleBindings.gvr, env.ns, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'leader-election' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'leader-election' },
    subjects,
  });

  const kubeconfig = kubeconfigFor(
    defer,
    cluster.apiserverUrl,
    cluster.caPem,
    cluster.token,
    `system:serviceaccount:${sa.namespace}:${sa.name}`,
  );
  await installScaledObjectCrd(env.client);
  const operator = await runOperator({
    kubeconfig,
    leaderElection: { namespace: env.ns, name: 'elasti-operator-lock', identity: 'rbac-test' },
    config: env.config,
    scaling: { resolverApiPort: 0, resolverApiHost: '127.0.0.1' },
  });
  env.teardown.push(() => operator.stop());
  await waitFor(() => operator.controller()?.ready, {
    message: 'leading, controller ready',
    timeoutMs: 30_000,
  });

  await createTarget(env, 'web', 1, 0);
  await createService(env, 'web', 'web');
  const paused = { [KEDA_PAUSED_ANNOTATION]: 'true', [KEDA_PAUSED_REPLICAS_ANNOTATION]: '0' };
  await createScaledObject(env.client, env.ns, 'web-so', 'web', paused);
  await createElastiService(env, 'web-es', {
    service: 'web',
    scaleTargetRef: TARGET,
    minTargetReplicas: 2,
    autoscaler: { type: 'keda', name: 'web-so' },
  });
  await waitForMode(env, 'web-es', 'proxy');
  assert.ok(
    await getOrUndefined(env, resources.services.gvr, privateServiceName('web')),
    'private Service created',
  );
  assert.ok(
    await getOrUndefined(env, resources.endpointSlices.gvr, endpointSliceToResolverName('web')),
    'EndpointSlice to the resolver created',
  );
  await waitFor(async () => (await eventsFor(env, 'web-es')).length > 0, { message: 'an Event recorded' });

  // A wake-up through the resolver API: status, KEDA and /scale verbs.
  const res = await fetch(`http://127.0.0.1:${operator.scaling.resolverApiPort}/informer/incoming-request`, {
    method: 'POST',
    body: JSON.stringify({ count: 1, svc: 'web', namespace: env.ns }),
  });
  assert.equal(res.status, 200, await res.text());
  const deployment = await env.client.get<KubeObject & { spec: { replicas: number } }>(
    resources.deployments.gvr,
    env.ns,
    'web',
  );
  assert.equal(deployment.spec.replicas, 2, 'scaled to minTargetReplicas through /scale');
  const so = await env.client.get(SCALEDOBJECT_GVR, env.ns, 'web-so');
  assert.equal(so.metadata.annotations?.[KEDA_PAUSED_ANNOTATION], 'false');
  assert.equal(so.metadata.annotations?.[KEDA_PAUSED_REPLICAS_ANNOTATION], undefined);
  const stamped = await env.client.get<ElastiService>(ELASTI_GVR, env.ns, 'web-es');
  assert.ok(stamped.status?.lastScaledUpTime, 'status.lastScaledUpTime written');
  await waitFor(async () => (await eventsFor(env, 'web-es')).some((e) => e.reason === 'SuccessToScale'), {
    message: 'a SuccessToScale Event',
  });

  await setReady(env, 'web', 1, 1);
  await waitForMode(env, 'web-es', 'serve');
  await env.client.patch(SCALEDOBJECT_GVR, env.ns, 'web-so', { metadata: { annotations: paused } }, 'merge');
  await env.client.delete(ELASTI_GVR, env.ns, 'web-es');
  await waitFor(async () => !(await getOrUndefined<ElastiService>(env, ELASTI_GVR, 'web-es')), {
    message: 'the finalizer ran and the ElastiService is gone',
    timeoutMs: 30_000,
  });
  assert.equal(await getOrUndefined(env, resources.services.gvr, privateServiceName('web')), undefined);
  const released = await env.client.get(SCALEDOBJECT_GVR, env.ns, 'web-so');
  assert.equal(released.metadata.annotations?.[KEDA_PAUSED_ANNOTATION], 'false', 'unpaused by the finalizer');

  await operator.stop();
  assert.equal(await operator.done, 'stopped');
});
