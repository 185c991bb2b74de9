/** Shared setup of the Manager unit tests. */
import { Registry } from 'prom-client';
import { Manager } from '../../../src/informer/manager.ts';
import type { ManagerOptions } from '../../../src/informer/options.ts';
import type { RequestWatch } from '../../../src/informer/types.ts';
import type { GroupVersionResource, ResourceEventHandler } from '../../../src/kube/core/types.ts';
import { DEPLOYMENTS, FakeCluster, type FakeClusterOptions } from './fakes.ts';

export { waitFor } from '../../support/wait.ts';

/** Health bounds that never restart an informer and check a vanished target on every monitor pass. */
export const CHECK_TARGETS_EVERY_PASS = {
  idleBoundMs: 60_000,
  listDeadlineMs: 60_000,
  backoffBoundMs: 60_000,
  goneAfterFailures: 3,
  targetCheckIntervalMs: 1,
};

export interface Setup {
  cluster: FakeCluster;
  registry: Registry;
  manager: Manager;
}

/** A Manager over a fake cluster, stopped after the test. */
export function setup(
  t: { after(fn: () => unknown): void },
  options: Partial<ManagerOptions> & { cluster?: FakeClusterOptions } = {},
): Setup {
  const cluster = new FakeCluster(options.cluster);
  const registry = new Registry();
  const manager = new Manager({
    client: cluster,
    informerFactory: cluster.factory,
    registry,
    syncTimeoutMs: 5_000,
    ...options,
  });
  t.after(() => manager.stop());
  return { cluster, registry, manager };
}

/** A RequestWatch of `es` (in `esNamespace`, default = target namespace) on a Deployment. */
export function watchOf(
  es: string,
  target: string,
  handlers: ResourceEventHandler = {},
  opts: { namespace?: string; esNamespace?: string; gvr?: GroupVersionResource } = {},
): RequestWatch {
  const namespace = opts.namespace ?? 'team-a';
  return {
    req: { name: es, namespace: opts.esNamespace ?? namespace },
    resourceName: target,
    resourceNamespace: namespace,
    groupVersionResource: opts.gvr ?? DEPLOYMENTS,
    handlers,
  };
}

/** Sum of a metric's values matching `labels` (all series when omitted). */
export async function metricSum(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** Number of series of a metric. */
export async function seriesCount(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  return (await metric.get()).values.length;
}

/** Lets pending immediates and microtasks run (the fakes list and deliver on setImmediate). */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}
