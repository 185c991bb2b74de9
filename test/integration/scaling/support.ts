/**
 * Helpers of the scaling tests, on the full cluster (controllers, kwok Nodes, a real Prometheus):
 * a traffic metric this test process exposes and Prometheus scrapes, the operator with scaling
 * tuned for tests (short polling interval, resolver API on a free port), and small readers.
 */
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { Gauge, Registry } from 'prom-client';
import type { ElastiService, ElastiServiceSpec } from '../../../src/api/v1alpha1/types.ts';
import type { KubeObject } from '../../../src/kube/core/types.ts';
import { resources } from '../../../src/kube/index.ts';
import { type RunningOperator, runOperator } from '../../../src/operator/operator.ts';
import type { ScalingOptions } from '../../../src/scaling/scaling.ts';
import { PROMETHEUS_TEST_JOB, type PrometheusServer } from '../../../tools/controlplane/harness.ts';
import { fullCluster } from '../../support/cluster.ts';
import { serveMetrics } from '../../support/metrics-endpoint.ts';
import { waitFor } from '../../support/wait.ts';
import {
  createElastiService,
  createService,
  deploymentManifest,
  ELASTI_GVR,
  type Env,
  setUpCluster,
  waitForReadyPods,
} from '../controller/support.ts';

/** Polling interval of the operator in these tests. */
export const POLL_MS = 1000;

/** What a scaling test works with. */
export interface ScalingEnv {
  readonly env: Env;
  readonly prometheus: PrometheusServer;
  /** Label value of this test's scrape target (its series carry `run="<run>"`). */
  readonly run: string;
  /** `elasti_test_rps{run, service}`: the traffic metric of each test Service. */
  readonly rps: Gauge<'service'>;
  /** The uptime filter that says "Prometheus scraped this test's target". */
  readonly uptimeFilter: string;
}

/** The full cluster, a resolver Deployment, and a traffic metric Prometheus scrapes. */
export async function setUpScaling(t: TestContext): Promise<ScalingEnv> {
  const env = await setUpCluster(t);
  const { prometheus } = await fullCluster();
  const run = randomBytes(4).toString('hex');
  const registry = new Registry();
  const rps = new Gauge({
    name: 'elasti_test_rps',
    help: 'Requests per second of a test Service (set by the test)',
    labelNames: ['service'],
    registers: [registry],
  });
  const endpoint = await serveMetrics(t, registry);
  const removeTarget = prometheus.addTarget({
    name: `scaling-${run}`,
    address: endpoint.address,
    labels: { run },
  });
  env.teardown.push(async () => removeTarget());
  return { env, prometheus, run, rps, uptimeFilter: `job="${PROMETHEUS_TEST_JOB}",run="${run}"` };
}

/** A prometheus trigger on this test's metric for `service`, below `threshold` meaning idle. */
export function rpsTrigger(
  s: ScalingEnv,
  service: string,
  threshold = '1',
  extra: Record<string, unknown> = {},
) {
  return {
    type: 'prometheus' as const,
    metadata: {
      query: `max(elasti_test_rps{run="${s.run}",service="${service}"})`,
      threshold,
      uptimeFilter: s.uptimeFilter,
      ...extra,
    },
  };
}

/** Runs the operator in-process (no leader election) with scaling tuned for tests. */
export async function startScalingOperator(
  s: ScalingEnv,
  scaling: ScalingOptions = {},
): Promise<RunningOperator> {
  const operator = await runOperator({
    kubeconfig: s.env.cluster.kubeconfigPath,
    config: s.env.config,
    scaling: {
      pollingIntervalMs: POLL_MS,
      spread: 0.5,
      resolverApiPort: 0,
      resolverApiHost: '127.0.0.1',
      prometheusServerAddress: s.prometheus.url,
      ...scaling,
    },
  });
  s.env.teardown.push(() => operator.stop());
  await waitFor(() => operator.controller()?.ready, { message: 'controller ready', timeoutMs: 30_000 });
  return operator;
}

/** A Deployment `name` of `replicas` (kwok makes its Pods Ready), its Service, and an ElastiService `<name>-es`. */
export async function workload(
  s: ScalingEnv,
  name: string,
  replicas: number,
  spec: Partial<ElastiServiceSpec> = {},
): Promise<ElastiService> {
  await s.env.client.create(resources.deployments.gvr, s.env.ns, deploymentManifest(name, replicas));
  await createService(s.env, name, name);
  if (replicas > 0) await waitForReadyPods(s.env, name, replicas);
  return createElastiService(s.env, `${name}-es`, {
    service: name,
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
    cooldownPeriod: 5,
    minTargetReplicas: 1,
    triggers: [rpsTrigger(s, name)],
    ...spec,
  });
}

/** `spec.replicas` and `metadata.generation` of Deployment `name`. */
export async function deploymentOf(
  s: ScalingEnv,
  name: string,
): Promise<{ replicas: number; generation: number }> {
  const d = await s.env.client.get<KubeObject & { spec: { replicas?: number } }>(
    resources.deployments.gvr,
    s.env.ns,
    name,
  );
  return { replicas: d.spec.replicas ?? 0, generation: d.metadata.generation ?? 0 };
}

/** The ElastiService `name`. */
export function getEs(s: ScalingEnv, name: string): Promise<ElastiService> {
  return s.env.client.get<ElastiService>(ELASTI_GVR, s.env.ns, name);
}

/** Waits until the loop has made `cycles` more cycles (each over every ElastiService). */
export async function waitCycles(operator: RunningOperator, cycles: number): Promise<void> {
  const poller = operator.scaling.poller;
  if (!poller) throw new Error('not leading: no poller');
  let seen = poller.lastCycle;
  let count = 0;
  await waitFor(
    () => {
      const last = poller.lastCycle;
      if (last !== seen) {
        seen = last;
        count++;
      }
      return count >= cycles;
    },
    { timeoutMs: 60_000, intervalMs: 50, message: `${cycles} polling cycles` },
  );
}

/** The last decision of the loop for ElastiService `name`. */
export function decisionOf(s: ScalingEnv, operator: RunningOperator, name: string) {
  return operator.scaling.poller?.lastCycle?.decisions.get(`${s.env.ns}/${name}`);
}

/** POSTs to the resolver API like upstream's resolver; returns status and body text. */
export async function postIncoming(
  operator: RunningOperator,
  body: string,
): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${operator.scaling.resolverApiPort}/informer/incoming-request`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return { status: res.status, text: await res.text() };
}
