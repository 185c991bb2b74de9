/**
 * Prometheus metrics of the controller, on a registry the caller owns.
 *
 * Upstream KubeElasti's names and labels where it has them:
 * - `elasti_operator_reconcile{crd_name, error}`: histogram of reconcile durations (seconds).
 * - `elasti_operator_CRD_finalizer_counter{crd_name, error}`: finalizations.
 * - `elasti_operator_CRD_update_counter{crd_name, mode, error}`: status updates after a mode decision.
 * - `elasti_operator_mode{crd_name}`: 1 in proxy mode, 0 in serve mode.
 *
 * `crd_name` is `namespace/name`; `error` is `success` or the error's class name (upstream puts
 * the whole message there, an unbounded label set). The series of an ElastiService are removed
 * when it is finalized. Added here, for the work queue: `elasti_operator_workqueue_depth`,
 * `elasti_operator_workqueue_in_flight` (read at scrape time) and
 * `elasti_operator_workqueue_retries_total`.
 *
 * @module
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ElastiMode } from '../api/v1alpha1/index.ts';

/** Label value of a successful outcome (upstream's `values.Success`). */
export const SUCCESS = 'success';

/** The `error` label for an outcome. */
export function errorLabel(error: unknown): string {
  if (error === undefined) return SUCCESS;
  if (error instanceof Error) return error.name || 'Error';
  return 'Unknown';
}

/** Where the queue gauges read their values at scrape time. */
export interface QueueGaugeSource {
  readonly length: number;
  readonly processingCount: number;
}

/** The controller's metrics. Registering twice on one registry throws (duplicate names). */
export class ControllerMetrics {
  readonly reconcile: Histogram<'crd_name' | 'error'>;
  readonly finalizer: Counter<'crd_name' | 'error'>;
  readonly statusUpdate: Counter<'crd_name' | 'mode' | 'error'>;
  readonly mode: Gauge<'crd_name'>;
  readonly retries: Counter;

  constructor(registry: Registry, queue?: QueueGaugeSource) {
    const registers = [registry];
    this.reconcile = new Histogram({
      name: 'elasti_operator_reconcile',
      help: 'Duration of ElastiService reconciles in seconds, by ElastiService and outcome',
      labelNames: ['crd_name', 'error'],
      buckets: [0.1, 0.5, 1, 2, 5, 10],
      registers,
    });
    this.finalizer = new Counter({
      name: 'elasti_operator_CRD_finalizer_counter',
      help: 'Finalizations of ElastiServices, by ElastiService and outcome',
      labelNames: ['crd_name', 'error'],
      registers,
    });
    this.statusUpdate = new Counter({
      name: 'elasti_operator_CRD_update_counter',
      help: 'Status updates of ElastiServices after a mode decision, by ElastiService, mode and outcome',
      labelNames: ['crd_name', 'mode', 'error'],
      registers,
    });
    this.mode = new Gauge({
      name: 'elasti_operator_mode',
      help: 'Mode of each ElastiService: 1 proxy, 0 serve',
      labelNames: ['crd_name'],
      registers,
    });
    this.retries = new Counter({
      name: 'elasti_operator_workqueue_retries_total',
      help: 'Reconciles scheduled again with backoff after a failure',
      registers,
    });
    if (queue) {
      new Gauge({
        name: 'elasti_operator_workqueue_depth',
        help: 'ElastiService keys waiting to be reconciled',
        registers,
        collect() {
          this.set(queue.length);
        },
      });
      new Gauge({
        name: 'elasti_operator_workqueue_in_flight',
        help: 'ElastiService reconciles running now',
        registers,
        collect() {
          this.set(queue.processingCount);
        },
      });
    }
  }

  /** Records the mode of an ElastiService. */
  setMode(crdName: string, mode: ElastiMode): void {
    this.mode.set({ crd_name: crdName }, mode === 'proxy' ? 1 : 0);
  }

  /** Drops the per-ElastiService series that describe current state (it is gone). */
  forget(crdName: string): void {
    this.mode.remove({ crd_name: crdName });
  }
}
