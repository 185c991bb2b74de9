/**
 * Drop-in with upstream KubeElasti v0.1.30's Helm chart: the operator command, started with the
 * chart's EXACT manager args and env (charts/elasti values.yaml `elastiController.manager.args`
 * and the Deployment's env block, `/work/briefs/upstream-facts.md` §4, with the release in this
 * test's namespace and `allowedNamespaces: [<it>]`), becomes ready on :8081 `/readyz`, serves the
 * resolver API and `/metrics` on 8013, takes upstream's Lease, and reconciles only the namespaces
 * of WATCH_NAMESPACES. The kubeconfig comes through KUBECONFIG so the args stay exactly the chart's.
 *
 * It binds the chart's fixed ports 8081 and 8013 on this machine; a port already taken fails the
 * test with the operator's one-line "cannot serve … on :8081" (exit 1).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { ELASTI_API_VERSION, ELASTI_GVR } from '../../../src/api/v1alpha1/constants.ts';
import type { Lease } from '../../../src/kube/index.ts';
import { KubeClient, type KubeObject, resources } from '../../../src/kube/index.ts';
import { LEASE_GVR } from '../../../src/runtime/leader-election.ts';
import { deferrer, testCluster, testNamespace } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';
import { deploymentManifest, installCrd } from '../controller/support.ts';

const main = fileURLToPath(new URL('../../../src/operator/main.ts', import.meta.url));

/** `elastiController.manager.args` of upstream's values.yaml, verbatim. */
const UPSTREAM_CHART_ARGS = [
  '--leader-elect',
  '--health-probe-bind-address=:8081',
  '--metrics-bind-address=0',
];

/** The env the chart renders for release `elasti` in `namespace` with `allowedNamespaces: [namespace]`. */
function upstreamChartEnv(namespace: string): Record<string, string> {
  return {
    POLLING_INTERVAL: '30s',
    WATCH_NAMESPACES: namespace, // allowedNamespaces + release namespace, de-duplicated
    KUBERNETES_CLUSTER_DOMAIN: 'cluster.local',
    ELASTI_OPERATOR_NAMESPACE: namespace,
    ELASTI_OPERATOR_DEPLOYMENT_NAME: 'elasti-operator-controller-manager',
    ELASTI_OPERATOR_SERVICE_NAME: 'elasti-operator-controller-service',
    ELASTI_OPERATOR_PORT: '8013',
    ELASTI_RESOLVER_NAMESPACE: namespace,
    ELASTI_RESOLVER_DEPLOYMENT_NAME: 'elasti-resolver',
    ELASTI_RESOLVER_SERVICE_NAME: 'elasti-resolver-service',
    ELASTI_RESOLVER_PORT: '8013',
    ELASTI_RESOLVER_PROXY_PORT: '8012',
  };
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await request(url);
  return { status: res.statusCode, body: await res.body.text() };
}

function elastiService(name: string, service: string): KubeObject {
  return {
    apiVersion: ELASTI_API_VERSION,
    kind: 'ElastiService',
    metadata: { name },
    spec: {
      service,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minTargetReplicas: 1,
      triggers: [{ type: 'prometheus', metadata: { query: 'vector(1)', threshold: '0.5' } }],
    },
  } as KubeObject;
}

test("the operator command starts with upstream's chart args and env: ready on :8081, resolver API and /metrics on 8013, upstream's Lease, WATCH_NAMESPACES honoured", async (t) => {
  const defer = deferrer(t);
  const cluster = await testCluster();
  const client = await KubeClient.create(cluster.kubeconfigPath);
  defer(() => client.close());
  await installCrd(client, cluster);
  const ns = await testNamespace(t, 'up');
  const other = await testNamespace(t, 'up-other');
  // A target (at 0) and its Service, so web-es gets through a reconcile into the directory.
  await client.create(resources.deployments.gvr, ns, deploymentManifest('web', 0));
  await client.create(resources.services.gvr, ns, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web' },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  });
  const probeResponse = [
    {
      path: { type: 'PathPrefix', value: '/healthz' },
      headers: [{ name: 'User-Agent', type: 'RegularExpression', value: 'ELB-.*' }],
      response: { status: 200, body: 'ok' },
    },
  ];
  const webEs = elastiService('web-es', 'web') as KubeObject & { spec: Record<string, unknown> };
  await client.create(ELASTI_GVR, ns, { ...webEs, spec: { ...webEs.spec, probeResponse } });
  await client.create(ELASTI_GVR, other, elastiService('elsewhere-es', 'elsewhere'));

  let stdout = '';
  let stderr = '';
  const child: ChildProcess = spawn(process.execPath, [main, ...UPSTREAM_CHART_ARGS], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: '/nonexistent',
      KUBECONFIG: cluster.kubeconfigPath,
      ...upstreamChartEnv(ns),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  defer(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });

  // A failure says what the operator logged.
  const logged = async <T>(step: Promise<T>): Promise<T> => {
    try {
      return await step;
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\noperator stdout:\n${stdout.slice(-4000)}\nstderr:\n${stderr}`,
      );
    }
  };
  const ready = await waitFor(
    async () => {
      if (child.exitCode !== null) assert.fail(`operator exited ${child.exitCode}: ${stderr}`);
      const res = await get('http://127.0.0.1:8081/readyz').catch(() => undefined);
      return res?.status === 200 ? res : undefined;
    },
    { timeoutMs: 60_000, message: ':8081/readyz 200' },
  );
  assert.equal(ready.body, 'ok\n');
  assert.equal((await get('http://127.0.0.1:8081/healthz')).status, 200);

  // The resolver API where upstream's resolver calls it, with only WATCH_NAMESPACES' ElastiServices.
  const cache = await logged(
    waitFor(
      async () => {
        const res = await get('http://127.0.0.1:8013/crd-cache');
        const body = JSON.parse(res.body) as {
          services: Record<string, { name: string; spec: { probeResponse?: unknown } }>;
        };
        return body.services[`${ns}/web`] ? body : undefined;
      },
      { timeoutMs: 30_000, message: `/crd-cache lists ${ns}/web` },
    ),
  );
  assert.deepEqual(Object.keys(cache.services), [`${ns}/web`], `nothing from ${other}`);
  assert.equal(cache.services[`${ns}/web`]?.name, 'web-es');
  // probeResponse (upstream PR #266) reaches the resolver: kept by the CRD schema, served as upstream.
  assert.deepEqual(cache.services[`${ns}/web`]?.spec.probeResponse, probeResponse);
  const wake = await request('http://127.0.0.1:8013/informer/incoming-request', {
    method: 'POST',
    body: '{"count":1,',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(wake.statusCode, 400, 'a bad body is refused');
  await wake.body.text();
  const metrics = await get('http://127.0.0.1:8013/metrics');
  assert.equal(metrics.status, 200);
  assert.match(metrics.body, /^# HELP /m);

  // upstream's Lease, in the operator's namespace (ELASTI_OPERATOR_NAMESPACE), held by us.
  const lease = await waitFor(
    async () => {
      const found = await client.get<Lease>(LEASE_GVR, ns, 'acf50383.truefoundry.io').catch(() => undefined);
      return found?.spec?.holderIdentity ? found : undefined;
    },
    { message: 'Lease acf50383.truefoundry.io held' },
  );
  assert.ok(lease.spec?.holderIdentity);

  // The start-up line says where everything is; controller-runtime metrics are off (=0).
  const running = stdout
    .split('\n')
    .filter((line) => line.includes('"operator running"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)[0];
  assert.ok(running, `an "operator running" line in:\n${stdout}`);
  assert.equal(running.metricsPort, null);
  assert.equal(running.healthProbePort, 8081);
  assert.equal(running.resolverApiPort, 8013);
  assert.equal(
    running.resolverCallsUsAt,
    `http://elasti-operator-controller-service.${ns}.svc.cluster.local:8013`,
  );
  assert.deepEqual(running.watchNamespaces, [ns]);
  assert.equal(running.lease, `${ns}/acf50383.truefoundry.io`);
  assert.equal(stderr, '', 'nothing on stderr');

  // The ElastiService outside WATCH_NAMESPACES was never reconciled (no finalizer, no status).
  const untouched = await client.get<KubeObject>(ELASTI_GVR, other, 'elsewhere-es');
  assert.equal(untouched.metadata.finalizers, undefined);
  const mine = await waitFor(
    async () => {
      const es = await client.get<KubeObject>(ELASTI_GVR, ns, 'web-es');
      return es.metadata.finalizers?.length ? es : undefined;
    },
    { message: 'web-es reconciled' },
  );
  assert.ok(mine);

  child.kill('SIGTERM');
  const [code] = await exited;
  assert.equal(code, 0, `clean exit on SIGTERM: ${stderr}`);
  // The Lease is released on shutdown, as controller-runtime's LeaderElectionReleaseOnCancel.
  const released = await client.get<Lease>(LEASE_GVR, ns, 'acf50383.truefoundry.io');
  assert.ok(!released.spec?.holderIdentity, `released: ${JSON.stringify(released.spec)}`);
});
