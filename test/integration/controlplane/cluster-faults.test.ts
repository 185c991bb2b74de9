/**
 * The full control plane's fault hooks: `restartControllerManager()` really replaces the process
 * and the controllers carry on; `pauseKwok()` stops Pods from turning Ready (as a node whose
 * kubelet hangs) until `resumeKwok()`. On a private plane, since they break it on purpose.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { binaryNames, ensureBinaries } from '../../../tools/controlplane/harness.ts';
import { privateControlPlane, RawApi } from '../../support/cluster.ts';
import { controlPlaneProcesses } from '../../support/processes.ts';
import { waitFor } from '../../support/wait.ts';

interface Pod {
  metadata: { name: string };
  spec: { nodeName?: string };
  status?: { podIP?: string; conditions?: { type: string; status: string }[] };
}

const isReady = (pod: Pod): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

test('restartControllerManager and pauseKwok/resumeKwok', async (t) => {
  const podReadyDelayMs = 300;
  const plane = await privateControlPlane(t, { controllers: true, nodes: 1, podReadyDelayMs });
  const api = new RawApi(plane.apiserverUrl, plane.tokens.admin, plane.caPem);
  t.after(() => api.close());
  const ns = 'faults';
  await api.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const list = async (): Promise<Pod[]> =>
    (await api.ok<{ items: Pod[] }>('GET', `/api/v1/namespaces/${ns}/pods`)).items;
  const scale = (replicas: number) =>
    api.ok('PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/web`, { spec: { replicas } });
  await api.ok('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] },
      },
    },
  });
  await waitFor(async () => (await list()).filter(isReady).length === 1, {
    timeoutMs: 60_000,
    message: '1 Ready Pod',
  });

  // The controller-manager is a new process afterwards, and it reconciles a change made after.
  const kcmPid = (): number | undefined =>
    controlPlaneProcesses(ensureBinaries(), plane.dir).find((p) =>
      p.exe.endsWith(`/${binaryNames.controllerManager}`),
    )?.pid;
  const before = kcmPid();
  assert.ok(before, 'kube-controller-manager runs');
  await plane.restartControllerManager();
  const after = kcmPid();
  assert.ok(after && after !== before, `a new kube-controller-manager process (${before} → ${after})`);
  await scale(2);
  await waitFor(async () => (await list()).filter(isReady).length === 2, {
    timeoutMs: 60_000,
    message: '2 Ready Pods after the restart',
  });

  // Paused: a new Pod is created and scheduled (controller-manager and scheduler run) but gets
  // no IP and does not turn Ready.
  await plane.pauseKwok();
  await scale(3);
  const pending = await waitFor(async () => (await list()).find((p) => p.spec.nodeName && !isReady(p)), {
    timeoutMs: 60_000,
    message: 'a third Pod scheduled',
  });
  // Absence can only be observed over a while: ten times the Ready delay kwok would have used.
  const watchUntil = Date.now() + 10 * podReadyDelayMs;
  while (Date.now() < watchUntil) {
    const pod = (await list()).find((p) => p.metadata.name === pending.metadata.name);
    assert.ok(pod && !isReady(pod) && !pod.status?.podIP, 'no IP, not Ready while kwok is paused');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await plane.resumeKwok();
  await waitFor(async () => (await list()).filter(isReady).length === 3, {
    timeoutMs: 60_000,
    message: '3 Ready Pods once kwok resumed',
  });
});
