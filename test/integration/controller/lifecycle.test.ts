/**
 * What the cluster does to the operator's objects on its own, on the full cluster: the namespace
 * controller deleting a namespace with ElastiServices inside (their finalizer holds it until the
 * operator releases them), and the garbage collector removing what the operator created once its
 * owner ElastiService is gone (owner references), with no operator running.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ElastiService } from '../../../src/api/v1alpha1/types.ts';
import { resources } from '../../../src/kube/index.ts';
import { waitFor } from '../../support/wait.ts';
import {
  createElastiService,
  createService,
  deploy,
  ELASTI_GVR,
  getOrUndefined,
  privateSvc,
  setUpCluster,
  slice,
  startOperator,
  TARGET,
  waitForMode,
  waitForReadyPods,
} from './support.ts';

describe('the cluster acting on ElastiServices and what the operator created', () => {
  it('a deleted namespace with ElastiServices inside really finalizes: the operator releases them, the namespace goes', async (t) => {
    const env = await setUpCluster(t);
    await deploy(env, 'idle', 0);
    await deploy(env, 'busy', 1);
    await waitForReadyPods(env, 'busy', 1);
    await createService(env, 'idle', 'idle');
    await createService(env, 'busy', 'busy');
    const op = await startOperator(env);
    await createElastiService(env, 'idle-es', {
      service: 'idle',
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'idle' },
    });
    await createElastiService(env, 'busy-es', {
      service: 'busy',
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'busy' },
    });
    await waitForMode(env, 'idle-es', 'proxy');
    await waitForMode(env, 'busy-es', 'serve');

    await env.client.delete(resources.namespaces.gvr, undefined, env.ns);
    // The namespace controller deletes the ElastiServices; their finalizer holds the namespace
    // until the operator has cleaned up and released them.
    await waitFor(
      async () => (await getOrUndefined(env, resources.namespaces.gvr, env.ns, '')) === undefined,
      {
        timeoutMs: 90_000,
        intervalMs: 250,
        message: `namespace ${env.ns} gone`,
      },
    );
    await waitFor(() => op.manager.list().length === 0 && op.directory.list().length === 0, {
      message: 'no watches or directory entries left for the deleted namespace',
    });
  });

  it('owner references: with the operator gone, the garbage collector removes what it created once the ElastiService goes', async (t) => {
    const env = await setUpCluster(t);
    await deploy(env, 'web', 0);
    await createService(env, 'web', 'web');
    const op = await startOperator(env);
    await createElastiService(env, 'web-es', { service: 'web', scaleTargetRef: TARGET });
    await waitForMode(env, 'web-es', 'proxy');
    assert.ok((await privateSvc(env, 'web')) && (await slice(env, 'web')));

    await op.stop();
    await env.client.delete(ELASTI_GVR, env.ns, 'web-es');
    const held = await env.client.get<ElastiService>(ELASTI_GVR, env.ns, 'web-es');
    assert.ok(held.metadata.deletionTimestamp, 'held by the finalizer while no operator runs');
    // What an administrator does for an operator that is gone for good.
    await env.client.patch(ELASTI_GVR, env.ns, 'web-es', { metadata: { finalizers: null } }, 'merge');
    await waitFor(async () => (await getOrUndefined(env, ELASTI_GVR, 'web-es')) === undefined, {
      message: 'ElastiService gone',
    });
    await waitFor(
      async () => (await privateSvc(env, 'web')) === undefined && (await slice(env, 'web')) === undefined,
      {
        timeoutMs: 60_000,
        intervalMs: 250,
        message: 'private Service and EndpointSlice garbage-collected',
      },
    );
    assert.ok(
      await getOrUndefined(env, resources.services.gvr, 'web'),
      'the public Service (not owned) stays',
    );
  });
});
