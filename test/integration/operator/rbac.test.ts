/**
 * The RBAC the project ships (`config/rbac/`) is enough, and what it names is what the operator
 * uses: the operator runs end to end — leader election, proxy mode with its private Service and
 * EndpointSlice, an Event, serve mode, deletion through the finalizer — as a ServiceAccount bound
 * to exactly those rules (the admin token impersonates it, so the shared control plane's other
 * identities are untouched).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadAll } from 'js-yaml';
import { endpointSliceToResolverName, privateServiceName } from '../../../src/api/v1alpha1/names.ts';
import type { ElastiService } from '../../../src/api/v1alpha1/types.ts';
import { resources } from '../../../src/kube/resources.ts';
import type { KubeObject } from '../../../src/kube/types.ts';
import { runOperator } from '../../../src/operator/operator.ts';
import { deferrer, kubeconfigFor, testCluster } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';
import {
  createElastiService,
  createService,
  createTarget,
  ELASTI_GVR,
  ENDPOINTSLICE_GVR,
  eventsFor,
  getOrUndefined,
  SERVICE_GVR,
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
  const operator = await runOperator({
    kubeconfig,
    leaderElection: { namespace: env.ns, name: 'elasti-operator-lock', identity: 'rbac-test' },
    config: env.config,
  });
  env.teardown.push(() => operator.stop());
  await waitFor(() => operator.controller()?.ready, {
    message: 'leading, controller ready',
    timeoutMs: 30_000,
  });

  await createTarget(env, 'web', 1, 0);
  await createService(env, 'web', 'web');
  await createElastiService(env, 'web-es', { service: 'web', scaleTargetRef: TARGET });
  await waitForMode(env, 'web-es', 'proxy');
  assert.ok(await getOrUndefined(env, SERVICE_GVR, privateServiceName('web')), 'private Service created');
  assert.ok(
    await getOrUndefined(env, ENDPOINTSLICE_GVR, endpointSliceToResolverName('web')),
    'EndpointSlice to the resolver created',
  );
  await waitFor(async () => (await eventsFor(env, 'web-es')).length > 0, { message: 'an Event recorded' });

  await setReady(env, 'web', 1, 1);
  await waitForMode(env, 'web-es', 'serve');
  await env.client.delete(ELASTI_GVR, env.ns, 'web-es');
  await waitFor(async () => !(await getOrUndefined<ElastiService>(env, ELASTI_GVR, 'web-es')), {
    message: 'the finalizer ran and the ElastiService is gone',
    timeoutMs: 30_000,
  });
  assert.equal(await getOrUndefined(env, SERVICE_GVR, privateServiceName('web')), undefined);

  await operator.stop();
  assert.equal(await operator.done, 'stopped');
});
