/**
 * Prometheus metrics of scaling, on a registry the caller owns.
 *
 * - `elasti_operator_scale_counter{service_name, namespace, target, error}`: upstream's name and
 *   labels — scale-ups requested by the resolver, `target` = `<kind as written in the spec>-<name>`,
 *   `error` = `success` or the error's class name (upstream puts the whole message there).
 * - Added here: `elasti_operator_scale_writes_total{direction}` (writes of `/scale` actually
 *   sent), `elasti_operator_scaling_decisions_total{action, reason}`,
 *   `elasti_operator_prometheus_queries_total{outcome}` (queries sent; identical queries of one
 *   cycle count once) and `elasti_operator_scaling_cycle_seconds` (one polling cycle).
 *
 * @module
 */
import { Counter, Histogram, type Registry } from 'prom-client';

/** Label value of a successful outcome (upstream's `values.Success`). */
export const SUCCESS = 'success';

/** The `error` label for an outcome: `success`, or the error's class name. */
export function errorLabel(error: unknown): string {
  if (error === undefined) return SUCCESS;
  if (error instanceof Error) return error.name || 'Error';
  return 'Unknown';
}

/** See the module documentation. Registering twice on one registry throws (duplicate names). */
export class ScalingMetrics {
  readonly scaleCounter: Counter<'service_name' | 'namespace' | 'target' | 'error'>;
  readonly scaleWrites: Counter<'direction'>;
  readonly decisions: Counter<'action' | 'reason'>;
  readonly queries: Counter<'outcome'>;
  readonly cycle: Histogram;

  constructor(registry: Registry) {
    const registers = [registry];
    this.scaleCounter = new Counter({
      name: 'elasti_operator_scale_counter',
      help: 'Scale-ups requested by the resolver, by service, namespace, target and outcome',
      labelNames: ['service_name', 'namespace', 'target', 'error'],
      registers,
    });
    this.scaleWrites = new Counter({
      name: 'elasti_operator_scale_writes_total',
      help: 'Writes of a scale target /scale subresource sent, by direction (up, down)',
      labelNames: ['direction'],
      registers,
    });
    this.decisions = new Counter({
      name: 'elasti_operator_scaling_decisions_total',
      help: 'Scale decisions of the polling loop, by action and reason',
      labelNames: ['action', 'reason'],
      registers,
    });
    this.queries = new Counter({
      name: 'elasti_operator_prometheus_queries_total',
      help: 'Prometheus queries sent by the polling loop, by outcome (sample, empty, multiple, not-a-number, or the error type)',
      labelNames: ['outcome'],
      registers,
    });
    this.cycle = new Histogram({
      name: 'elasti_operator_scaling_cycle_seconds',
      help: 'Duration of one polling cycle over every ElastiService',
      buckets: [0.1, 0.5, 1, 5, 10, 30, 60],
      registers,
    });
  }
}
