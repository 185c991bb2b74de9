/**
 * Prometheus metrics of runtime controllers, controller-runtime's names, on a registry the caller
 * owns. Several controllers on one registry share the series (label `controller`).
 *
 * - `controller_runtime_reconcile_total{controller, result}`: `success`, `error`, `terminal_error`,
 *   `requeue`, `requeue_after`.
 * - `controller_runtime_reconcile_errors_total{controller}`, `controller_runtime_terminal_reconcile_errors_total{controller}`.
 * - `controller_runtime_reconcile_time_seconds{controller}` (histogram).
 * - `controller_runtime_active_workers{controller}`, `workqueue_depth{name}` (read at scrape time).
 *
 * @module
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Outcomes counted in `controller_runtime_reconcile_total`. */
export type ReconcileOutcome = 'success' | 'error' | 'terminal_error' | 'requeue' | 'requeue_after';

/** What one controller reports; the gauges read `source` at scrape time. */
export interface ControllerMetricsSource {
  readonly queueDepth: () => number;
  readonly activeWorkers: () => number;
}

interface Series {
  readonly total: Counter<'controller' | 'result'>;
  readonly errors: Counter<'controller'>;
  readonly terminal: Counter<'controller'>;
  readonly time: Histogram<'controller'>;
  readonly sources: Map<string, ControllerMetricsSource>;
}

const perRegistry = new WeakMap<Registry, Series>();

function seriesOf(registry: Registry): Series {
  const existing = perRegistry.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const sources = new Map<string, ControllerMetricsSource>();
  const series: Series = {
    total: new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'],
      registers,
    }),
    errors: new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    }),
    terminal: new Counter({
      name: 'controller_runtime_terminal_reconcile_errors_total',
      help: 'Total number of terminal reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    }),
    time: new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    sources,
  };
  new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Number of currently used workers per controller',
    labelNames: ['controller'],
    registers,
    collect() {
      this.reset();
      for (const [name, source] of sources) this.set({ controller: name }, source.activeWorkers());
    },
  });
  new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of the work queue',
    labelNames: ['name'],
    registers,
    collect() {
      this.reset();
      for (const [name, source] of sources) this.set({ name }, source.queueDepth());
    },
  });
  perRegistry.set(registry, series);
  return series;
}

/** One controller's handle on the shared series. */
export class ControllerRuntimeMetrics {
  readonly #series: Series;
  readonly #name: string;

  constructor(registry: Registry, controller: string, source: ControllerMetricsSource) {
    this.#series = seriesOf(registry);
    this.#name = controller;
    this.#series.sources.set(controller, source);
  }

  /** Counts one reconcile and its duration. */
  observe(outcome: ReconcileOutcome, seconds: number): void {
    const controller = this.#name;
    this.#series.total.inc({ controller, result: outcome });
    this.#series.time.observe({ controller }, seconds);
    if (outcome === 'error') this.#series.errors.inc({ controller });
    if (outcome === 'terminal_error') this.#series.terminal.inc({ controller });
  }

  /** Stops reporting this controller's gauges. */
  release(): void {
    this.#series.sources.delete(this.#name);
  }
}
