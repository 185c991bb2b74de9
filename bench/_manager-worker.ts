/**
 * One contender of the Manager benchmark, in its own process (forked by bench/manager.ts, which
 * documents the method): adds one RequestWatch per Deployment, reports time and steady-state
 * memory, records update arrivals, stops. The benchmark runs this file either as `.ts` or as the
 * JavaScript `tsconfig.bench.json` compiles, so the compiled contenders load no TypeScript at all.
 */
import type { SharingPolicy } from '../src/informer/types.ts';
import type { ListerWatcher, ListOptions, WatchOptions } from '../src/kube/core/contracts.ts';
import type { KubeObjectLike, ListWatchTarget } from '../src/kube/core/types.ts';
import { now, pool } from './_util.ts';

const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' } as const;

export type ToWorker =
  | {
      type: 'start';
      policy: SharingPolicy;
      kubeconfig: string;
      targets: { ns: string; name: string }[];
      http2: boolean;
    }
  | { type: 'collect'; expected: number; timeoutMs: number }
  | { type: 'stop' };

export type FromWorker =
  | {
      type: 'ready';
      addSeconds: number;
      rssMb: number;
      rssGrowthMb: number;
      heapMb: number;
      heapTotalMb: number;
      externalMb: number;
      upstreamInformers: number;
      watchStreamsOpen: number;
      initialAdds: number;
    }
  | { type: 'received'; arrivals: [name: string, seq: number, at: number][]; misrouted: number }
  | { type: 'stopped'; stopSeconds: number; watchStreamsOpen: number }
  | { type: 'error'; message: string };

/** A ListerWatcher wrapper counting open watch streams. */
class CountingLw implements ListerWatcher {
  readonly inner: ListerWatcher;
  open = 0;
  constructor(inner: ListerWatcher) {
    this.inner = inner;
  }
  list<T extends KubeObjectLike>(target: ListWatchTarget, options: ListOptions) {
    return this.inner.list<T>(target, options);
  }
  async *watch<T extends KubeObjectLike>(target: ListWatchTarget, options: WatchOptions) {
    this.open++;
    try {
      yield* this.inner.watch<T>(target, options);
    } finally {
      this.open--;
    }
  }
}

async function worker(): Promise<void> {
  const send = (m: FromWorker): void => void process.send?.(m);
  const baseline = process.memoryUsage().rss;
  const { KubeClient } = await import('../src/kube/client/client.ts');
  const { Manager } = await import('../src/informer/manager.ts');
  let manager: InstanceType<typeof Manager> | undefined;
  let counting: CountingLw | undefined;
  const arrivals: [string, number, number][] = [];
  let misrouted = 0;
  let initialAdds = 0;
  process.on('message', async (raw) => {
    const m = raw as ToWorker;
    try {
      if (m.type === 'start') {
        const client = await KubeClient.create(m.kubeconfig, { http2: m.http2 });
        const lw = new CountingLw(client);
        counting = lw;
        manager = new Manager({
          client: {
            get: client.get.bind(client),
            list: lw.list.bind(lw),
            watch: lw.watch.bind(lw),
          },
          sharing: m.policy,
          syncTimeoutMs: 300_000,
        });
        const requests = m.targets;
        const started = now();
        const mgr = manager;
        await pool(requests, 64, ({ ns, name }) =>
          mgr.add({
            req: { name: `es-${name}`, namespace: ns },
            resourceName: name,
            resourceNamespace: ns,
            groupVersionResource: DEPLOYMENTS,
            handlers: {
              onAdd: () => {
                initialAdds++;
              },
              onUpdate: (_old, obj) => {
                if (obj.metadata.name !== name) misrouted++;
                const seq = Number(obj.metadata.annotations?.seq ?? 0);
                if (seq > 0) arrivals.push([name, seq, now()]);
              },
            },
          }),
        );
        const addSeconds = (now() - started) / 1000;
        // Let per-name informers being handed over finish (shared design), then measure.
        const settleDeadline = now() + 120_000;
        while (manager.list().some((r) => r.migrating) && now() < settleDeadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        // Steady state, not the transient peak of the bulk add: V8 gives pages back to the OS only
        // after a few full collections spread over time (its memory reducer), so let it.
        for (let i = 0; i < 5; i++) {
          global.gc?.();
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        const mem = process.memoryUsage();
        send({
          type: 'ready',
          addSeconds,
          rssMb: mem.rss / 2 ** 20,
          rssGrowthMb: (mem.rss - baseline) / 2 ** 20,
          heapMb: mem.heapUsed / 2 ** 20,
          heapTotalMb: mem.heapTotal / 2 ** 20,
          externalMb: mem.external / 2 ** 20,
          upstreamInformers: manager.upstreams().length,
          watchStreamsOpen: lw.open,
          initialAdds,
        });
      } else if (m.type === 'collect') {
        const deadline = now() + m.timeoutMs;
        while (arrivals.length < m.expected && now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 50));
        send({ type: 'received', arrivals, misrouted });
      } else if (m.type === 'stop') {
        const started = now();
        await manager?.stop();
        send({
          type: 'stopped',
          stopSeconds: (now() - started) / 1000,
          watchStreamsOpen: counting?.open ?? -1,
        });
      }
    } catch (error) {
      send({
        type: 'error',
        message: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
  });
}

await worker();
