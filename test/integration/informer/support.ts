/** Helpers of the informer Manager's integration tests. */
import type { TestContext } from 'node:test';
import { Registry } from 'prom-client';
import { Manager } from '../../../src/informer/manager.ts';
import type { ManagerOptions } from '../../../src/informer/options.ts';
import type { RequestWatch } from '../../../src/informer/types.ts';
import { KubeClient } from '../../../src/kube/client/client.ts';
import type { ListerWatcher, ListOptions, WatchOptions } from '../../../src/kube/core/contracts.ts';
import type {
  GroupVersionResource,
  KubeObject,
  KubeObjectLike,
  ListWatchTarget,
  ResourceEventHandler,
  WatchEvent,
} from '../../../src/kube/core/types.ts';
import { startTcpProxy, type TcpProxy } from '../../../tools/controlplane/tcp-proxy.ts';
import {
  deferrer,
  type RawApi,
  type TestCluster,
  testCluster,
  testNamespace,
  kubeconfigFor as writeKubeconfig,
} from '../../support/cluster.ts';

export const DEPLOYMENTS: GroupVersionResource = { group: 'apps', version: 'v1', resource: 'deployments' };
export const CONFIGMAPS: GroupVersionResource = { group: '', version: 'v1', resource: 'configmaps' };

/** A minimal valid Deployment (no controller-manager runs, so it never gets pods). */
export function deployment(name: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      },
    },
  };
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function forEachLimit<T>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Creates `count` Deployments `<prefix>-<i>` in `namespace`. */
export async function createDeployments(
  client: KubeClient,
  namespace: string,
  names: string[],
): Promise<void> {
  await forEachLimit(names, 16, (name) => client.create(DEPLOYMENTS, namespace, deployment(name)));
}

/** A ListerWatcher that counts the watch streams it has open (our own side of "how many watches"). */
export class CountingListerWatcher implements ListerWatcher {
  readonly inner: ListerWatcher;
  open = 0;
  started = 0;
  lists = 0;

  constructor(inner: ListerWatcher) {
    this.inner = inner;
  }

  list<T extends KubeObjectLike>(target: ListWatchTarget, options: ListOptions) {
    this.lists++;
    return this.inner.list<T>(target, options);
  }

  async *watch<T extends KubeObjectLike>(
    target: ListWatchTarget,
    options: WatchOptions,
  ): AsyncIterable<WatchEvent<T>> {
    this.open++;
    this.started++;
    try {
      yield* this.inner.watch<T>(target, options);
    } finally {
      this.open--;
    }
  }
}

/** A kubeconfig for `server` (e.g. a TCP proxy) with the test cluster's CA and admin token. */
export function kubeconfigFor(t: TestContext, cluster: TestCluster, server: string): string {
  return writeKubeconfig(deferrer(t), server, cluster.caPem, cluster.token);
}

/** An admin KubeClient on the test cluster for writes (it opens no watches), closed after the test. */
export async function adminClient(t: TestContext): Promise<KubeClient> {
  const cluster = await testCluster();
  const client = await KubeClient.create(cluster.kubeconfigPath);
  t.after(() => client.close());
  return client;
}

/**
 * A Manager over its own KubeClient (on the test cluster as admin, as another identity through
 * `kubeconfigPath`, or through `server`, e.g. a TCP proxy),
 * its watches counted. After the test the Manager is stopped BEFORE the client is closed: the
 * client's close is graceful and would otherwise wait for the open watches to end server-side
 * (minutes), since node:test runs `after` hooks in registration order.
 */
export async function managerFor(
  t: TestContext,
  options: Partial<ManagerOptions> & { server?: string; kubeconfigPath?: string; http2?: boolean } = {},
): Promise<{ manager: Manager; registry: Registry; counting: CountingListerWatcher; client: KubeClient }> {
  const cluster = await testCluster();
  const { server, kubeconfigPath, http2, ...managerOptions } = options;
  const client = await KubeClient.create(
    kubeconfigPath ?? (server ? kubeconfigFor(t, cluster, server) : cluster.kubeconfigPath),
    { http2: http2 ?? false },
  );
  const registry = new Registry();
  const counting = new CountingListerWatcher(client);
  const manager = new Manager({
    client: {
      get: (gvr, ns, name, signal) => client.get(gvr, ns, name, signal),
      list: counting.list.bind(counting),
      watch: counting.watch.bind(counting),
    },
    registry,
    syncTimeoutMs: 60_000,
    ...managerOptions,
  });
  t.after(async () => {
    await manager.stop();
    await client.close();
  });
  return { manager, registry, counting, client };
}

/** The apiserver's own count of open WATCH requests on a resource (`apiserver_longrunning_requests`). */
export async function apiserverWatches(api: RawApi, resource: string): Promise<number> {
  const { body } = await api.call('GET', '/metrics');
  const text = String(body);
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_longrunning_requests{')) continue;
    if (!line.includes(`resource="${resource}"`) || !line.includes('verb="WATCH"')) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** A RequestWatch of requester `es` (in `namespace`) on the object `name` there (a Deployment by default). */
export function watchOf(
  es: string,
  namespace: string,
  name: string,
  handlers: ResourceEventHandler,
  gvr = DEPLOYMENTS,
): RequestWatch {
  return {
    req: { name: es, namespace },
    resourceName: name,
    resourceNamespace: namespace,
    groupVersionResource: gvr,
    handlers,
  };
}

/** What {@link hungWatchSetup} gives a hung-watch test. */
export interface HungWatchSetup {
  readonly ns: string;
  /** Writes directly to the apiserver (not through the proxy). */
  readonly admin: KubeClient;
  /** To the apiserver; `pause()` hangs every watch through it without closing it. */
  readonly proxy: TcpProxy;
  /**
   * Patches `ticker` every 300 ms until the test ends, so a healthy watch is never idle and only
   * the pause can make it so.
   */
  startTicker(): void;
}

/**
 * A namespace with the Deployments `web` and `ticker`, an admin client and a TCP proxy to the
 * apiserver, for tests of a silently hung watch. The ticker's after-hook is registered first so
 * it runs first (node:test runs them in order): it stops before the admin client it writes with
 * is closed, whether the test passes or fails.
 */
export async function hungWatchSetup(t: TestContext, prefix: string): Promise<HungWatchSetup> {
  let ticking = true;
  let ticker: Promise<void> = Promise.resolve();
  t.after(async () => {
    ticking = false;
    await ticker;
  });
  const cluster = await testCluster();
  const ns = await testNamespace(t, prefix);
  const admin = await adminClient(t);
  await createDeployments(admin, ns, ['web', 'ticker']);
  const url = new URL(cluster.apiserverUrl);
  const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
  t.after(() => proxy.close());
  const startTicker = (): void => {
    ticker = (async () => {
      for (let i = 0; ticking; i++) {
        await admin.patch(
          DEPLOYMENTS,
          ns,
          'ticker',
          { metadata: { annotations: { v: String(i) } } },
          'merge',
        );
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    })();
  };
  return { ns, admin, proxy, startTicker };
}
