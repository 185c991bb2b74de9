/**
 * The Manager under RBAC that allows named objects only (`resourceNames`): per-name watches are
 * allowed, a namespace-wide one is not, so `auto` must not depend on it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resources } from '../../../src/kube/core/resources.ts';
import type { KubeObject } from '../../../src/kube/core/types.ts';
import { testCluster, testNamespace } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';
import { metricSum } from '../../unit/informer/helpers.ts';
import { adminClient, createDeployments, DEPLOYMENTS, managerFor, watchOf } from './support.ts';

const RBAC = 'rbac.authorization.k8s.io';

describe('informer Manager with RBAC on named objects only', () => {
  it('a refused namespace-wide watch falls back to per-name watches; once allowed, the group widens again', async (t) => {
    const cluster = await testCluster();
    const admin = await adminClient(t);
    const ns = await testNamespace(t, 'mgr-rbac');
    const names = ['d-0', 'd-1', 'd-2', 'd-3'];
    await createDeployments(admin, ns, names);
    await admin.create(resources.roles.gvr, ns, {
      apiVersion: `${RBAC}/v1`,
      kind: 'Role',
      metadata: { name: 'named-deployments' },
      rules: [
        {
          apiGroups: ['apps'],
          resources: ['deployments'],
          resourceNames: names,
          verbs: ['get', 'list', 'watch'],
        },
      ],
    });
    const bind = (role: string) =>
      admin.create(resources.roleBindings.gvr, ns, {
        apiVersion: `${RBAC}/v1`,
        kind: 'RoleBinding',
        metadata: { name: role },
        roleRef: { apiGroup: RBAC, kind: 'Role', name: role },
        subjects: [{ apiGroup: RBAC, kind: 'User', name: 'restricted' }],
      });
    await bind('named-deployments');

    const { manager, registry } = await managerFor(t, {
      kubeconfigPath: cluster.restrictedKubeconfigPath,
      sharing: { mode: 'auto', autoThreshold: 3, forbiddenRetryMs: 1_000 },
      monitorPeriodMs: 200,
    });
    manager.start();
    const seen = new Map<string, string[]>(names.map((n) => [n, []]));
    const record = (kind: string) => (obj: KubeObject) => {
      seen.get(obj.metadata.name ?? '')?.push(`${kind}:${obj.metadata.annotations?.step ?? '-'}`);
    };
    // The third name switches the group to a namespace-wide watch, which RBAC refuses.
    await Promise.all(
      names.map((name) =>
        manager.add(
          watchOf(`es-${name}`, ns, name, {
            onAdd: record('add'),
            onUpdate: (_old, obj) => record('update')(obj),
            onDelete: record('delete'),
          }),
        ),
      ),
    );
    assert.ok((await metricSum(registry, 'elasti_operator_informer_wide_refused_total')) >= 1);
    await waitFor(() => manager.upstreams().every((u) => u.scope === 'name' && u.synced), {
      message: 'every name on its own watch',
    });
    assert.equal(manager.upstreams().length, 4);
    await admin.patch(DEPLOYMENTS, ns, 'd-3', { metadata: { annotations: { step: '1' } } }, 'merge');
    await waitFor(() => seen.get('d-3')?.includes('update:1'), {
      message: 'd-3 update under per-name watches',
    });

    // Allowed to list the namespace: after the retry wait the group goes namespace-wide.
    await admin.create(resources.roles.gvr, ns, {
      apiVersion: `${RBAC}/v1`,
      kind: 'Role',
      metadata: { name: 'all-deployments' },
      rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['list', 'watch'] }],
    });
    await bind('all-deployments');
    await waitFor(
      () => {
        const ups = manager.upstreams();
        return ups.length === 1 && ups[0]?.scope === 'namespace' && ups[0].synced;
      },
      { message: 'one namespace-wide watch after the grant', timeoutMs: 60_000 },
    );
    await admin.patch(DEPLOYMENTS, ns, 'd-0', { metadata: { annotations: { step: '2' } } }, 'merge');
    await waitFor(() => seen.get('d-0')?.includes('update:2'), {
      message: 'd-0 update under the namespace watch',
    });
    for (const [name, events] of seen) {
      assert.equal(
        events.filter((e) => e.startsWith('add')).length,
        1,
        `${name}: one add (${events.join()})`,
      );
      assert.ok(!events.some((e) => e.startsWith('delete')), `${name}: no delete (${events.join()})`);
    }
  });
});
