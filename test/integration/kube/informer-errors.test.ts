/**
 * What `waitForSync` tells a user whose informer cannot list, on the real apiserver: no RBAC
 * (the `restricted` identity: 403), a bad token (401), a closed port (ECONNREFUSED) and a wrong
 * CA (TLS verification). Each must reject within its deadline with the cause in the message.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rootCertificates } from 'node:tls';
import { InformerSyncError, SharedInformer } from '../../../src/kube/cache/index.ts';
import { KubeClient } from '../../../src/kube/client/client.ts';
import { resources } from '../../../src/kube/core/resources.ts';
import { freePort } from '../../../tools/controlplane/harness.ts';
import { deferrer, kubeconfigFor, testCluster, testNamespace } from '../../support/cluster.ts';

const deadlineMs = 4_000;

async function syncFailure(
  t: Parameters<typeof deferrer>[0],
  kubeconfig: string,
  namespace: string,
): Promise<{ error: InformerSyncError; elapsedMs: number }> {
  const defer = deferrer(t);
  const client = await KubeClient.create(kubeconfig);
  defer(() => client.close());
  const informer = new SharedInformer({ lw: client, target: { gvr: resources.configMaps.gvr, namespace } });
  defer(() => informer.stop());
  informer.start();
  const started = Date.now();
  const error = await informer.waitForSync(AbortSignal.timeout(deadlineMs)).then(
    () => assert.fail('synced without access'),
    (e: unknown) => e,
  );
  const elapsedMs = Date.now() - started;
  assert.ok(error instanceof InformerSyncError, `rejected with ${String(error)}`);
  // The deadline is the caller's; a busy machine may add a little to it, never much.
  assert.ok(elapsedMs < deadlineMs + 2_000, `rejected after ${elapsedMs} ms`);
  return { error, elapsedMs };
}

test('restricted identity (no RBAC): waitForSync rejects within its deadline naming the 403 reason', async (t) => {
  const cluster = await testCluster();
  const ns = await testNamespace(t, 'sync-403');
  const { error } = await syncFailure(t, cluster.restrictedKubeconfigPath, ns);
  assert.equal(error.status, 403);
  assert.equal(error.timedOut, true);
  assert.match(error.message, /configmaps\.v1@sync-403-/);
  assert.match(
    error.message,
    /403 Forbidden: configmaps is forbidden: User "restricted" cannot list resource "configmaps"/,
  );
});

test('a bad token: 401 Unauthorized in the rejection', async (t) => {
  const cluster = await testCluster();
  const ns = await testNamespace(t, 'sync-401');
  const kubeconfig = kubeconfigFor(deferrer(t), cluster.apiserverUrl, cluster.caPem, 'not-a-token');
  const { error } = await syncFailure(t, kubeconfig, ns);
  assert.equal(error.status, 401);
  assert.match(error.message, /401 Unauthorized/);
});

test('a closed port: ECONNREFUSED in the rejection', async (t) => {
  const cluster = await testCluster();
  const server = `https://127.0.0.1:${await freePort()}`;
  const kubeconfig = kubeconfigFor(deferrer(t), server, cluster.caPem, cluster.token);
  const { error } = await syncFailure(t, kubeconfig, 'default');
  assert.equal(error.status, undefined);
  assert.match(error.message, /ECONNREFUSED/);
});

test('a wrong CA: the TLS verification failure in the rejection', async (t) => {
  const cluster = await testCluster();
  const otherCa = rootCertificates[0];
  assert.ok(otherCa, 'Node ships root certificates');
  const kubeconfig = kubeconfigFor(deferrer(t), cluster.apiserverUrl, otherCa, cluster.token);
  const { error } = await syncFailure(t, kubeconfig, 'default');
  assert.equal(error.status, undefined);
  assert.match(error.message, /certificate|CERT/i);
});
