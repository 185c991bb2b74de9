/**
 * The operator of the scaling benchmark, in its own process (forked by bench/scaling.ts, which
 * documents the method), so `process.cpuUsage()` here is the operator's CPU alone. It runs the
 * operator as the tests do (in-process `runOperator`, no leader election), scaling with a polling
 * interval long enough that only the cycles the benchmark asks for run, and answers messages.
 */
import type { RunningOperator } from '../src/operator/operator.ts';

export type ToScalingWorker =
  | {
      type: 'start';
      kubeconfig: string;
      prometheusUrl: string;
      namespace: string;
      workers: number | undefined;
      http2: boolean;
    }
  | { type: 'cpu' }
  | { type: 'cycle' }
  | { type: 'stop' };

/** CPU of the operator process so far (µs, `process.cpuUsage()`). */
export interface Cpu {
  readonly user: number;
  readonly system: number;
}

/** The operator's `elasti_operator_reconcile` histogram so far: reconciles and their total seconds. */
export interface Reconciles {
  readonly count: number;
  readonly seconds: number;
}

export type FromScalingWorker =
  | { type: 'ready'; resolverApiPort: number; workers: number; cpu: Cpu }
  | { type: 'cpu'; cpu: Cpu; reconciles: Reconciles }
  | {
      type: 'cycle';
      evaluated: number;
      queriesSent: number;
      durationMs: number;
      /** `action/reason` → count. */
      decisions: Record<string, number>;
      cpu: Cpu;
    }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

async function worker(): Promise<void> {
  const send = (m: FromScalingWorker): void => void process.send?.(m);
  const { runOperator } = await import('../src/operator/operator.ts');
  let operator: RunningOperator | undefined;
  process.on('message', async (raw) => {
    const m = raw as ToScalingWorker;
    try {
      if (m.type === 'start') {
        operator = await runOperator({
          kubeconfig: m.kubeconfig,
          http2: m.http2,
          config: { watchNamespace: m.namespace, ...(m.workers === undefined ? {} : { workers: m.workers }) },
          scaling: {
            // Only the cycles asked for below run (the loop's own first one sees an empty cache).
            pollingIntervalMs: 3_600_000,
            // One cycle evaluates everything at once (bounded by the default concurrency), so its
            // wall time is the work, not the spread over the interval.
            spread: 0,
            resolverApiPort: 0,
            resolverApiHost: '127.0.0.1',
            prometheusServerAddress: m.prometheusUrl,
          },
        });
        const controller = operator.controller();
        send({
          type: 'ready',
          resolverApiPort: operator.scaling.resolverApiPort ?? 0,
          workers: controller?.config.workers ?? 0,
          cpu: process.cpuUsage(),
        });
      } else if (m.type === 'cpu') {
        send({ type: 'cpu', cpu: process.cpuUsage(), reconciles: await reconciles(operator) });
      } else if (m.type === 'cycle') {
        const poller = operator?.scaling.poller;
        if (!poller) throw new Error('the operator is not leading: no poller');
        const report = await poller.runCycle();
        const cpu = process.cpuUsage();
        const decisions: Record<string, number> = {};
        for (const d of report.decisions.values()) {
          const key = `${d.action}/${d.action === 'scale-down' ? 'idle' : d.reason}`;
          decisions[key] = (decisions[key] ?? 0) + 1;
        }
        send({
          type: 'cycle',
          evaluated: report.evaluated,
          queriesSent: report.queriesSent,
          durationMs: report.durationMs,
          decisions,
          cpu,
        });
      } else if (m.type === 'stop') {
        await operator?.stop();
        send({ type: 'stopped' });
        // Exits normally, so `--cpu-prof` writes its profile.
        process.disconnect();
        setTimeout(() => process.exit(0), 2000).unref();
      }
    } catch (error) {
      send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  });
}

async function reconciles(operator: RunningOperator | undefined): Promise<Reconciles> {
  const metric = operator?.registry.getSingleMetric('elasti_operator_reconcile');
  let count = 0;
  let seconds = 0;
  for (const v of (metric ? (await metric.get()).values : []) as { metricName?: string; value: number }[]) {
    if (v.metricName === 'elasti_operator_reconcile_count') count += v.value;
    if (v.metricName === 'elasti_operator_reconcile_sum') seconds += v.value;
  }
  return { count, seconds };
}

if (process.send) void worker();
