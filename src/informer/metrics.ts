/**
 * Prometheus metrics of the informer Manager, on a registry the caller owns.
 *
 * Names and label names follow the KubeElasti operator where it has them:
 * - `elasti_operator_informer_count{informer_name}`: gauge, 1 per registration (the label is the
 *   registration key). Upstream decrements to 0 and keeps the series forever; here the series is
 *   removed when the registration goes, so `sum()` is the exact number of registrations and
 *   stopped keys do not accumulate.
 * - `elasti_operator_informer_counter{crd_name, action, error}`: add/stop outcomes. `crd_name` is
 *   the requester's name (upstream passes the whole key in that label); `error` is `success`
 *   or the error's class name (upstream puts the full message there, which has unbounded values).
 * - `elasti_operator_informer_handler_counter{crd_name, key, error}`: handler calls. Upstream
 *   counts these inside its controller's handlers; here the Manager counts every call it makes.
 *   `crd_name` is `namespace/name` of the requester (upstream: `req.String()`).
 * Added here:
 * - `elasti_operator_informer_upstream_watches{scope, phase}`: upstream informers by scope
 *   (`name`, `namespace`, `resolver`) and reflector phase; `phase="Watching"` counts open watch
 *   connections. Computed at scrape time from the live informers.
 * - `elasti_operator_informer_monitor_restarts_total{scope, reason}`,
 *   `elasti_operator_informer_target_gone_total{scope}`,
 *   `elasti_operator_informer_migrations_total{to, forced}` (names handed between informers),
 *   `elasti_operator_informer_wide_refused_total` (namespace-wide watches refused with 403, the
 *   group fell back to per-name watches).
 * - `elasti_operator_informer_registration_queue_depth` and `..._queue_depth_max`: changes queued
 *   for registrations' handlers and not yet handed to them, summed over registrations and the
 *   deepest one. The engine's `elasti_kube_handler_queue_depth` cannot show this backlog: the
 *   Manager's dispatcher is the engine's only handler and never waits, so the events wait here,
 *   in each registration's own queue (see `delivery.ts`). Per-registration depth is in
 *   `Manager.list()` (`queueDepth`), not in a label, to keep one series per Manager.
 *
 * @module
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ReflectorPhase } from '../kube/index.ts';
import type { UpstreamScope } from './types.ts';

/** The upstream informers the scrape-time gauge reads. */
export type UpstreamPhaseSource = () => Iterable<{ scope: UpstreamScope; phase: ReflectorPhase }>;

/** The queue depth of every registration, read at scrape time. */
export type QueueDepthSource = () => Iterable<number>;

/** Label value for a successful outcome (upstream's `values.Success`). */
export const SUCCESS = 'success';

/** The Manager's metrics. Registering two Managers on one registry throws (duplicate names). */
export class ManagerMetrics {
  readonly informerCount: Gauge<'informer_name'>;
  readonly informerCounter: Counter<'crd_name' | 'action' | 'error'>;
  readonly handlerCounter: Counter<'crd_name' | 'key' | 'error'>;
  readonly upstreamWatches: Gauge<'scope' | 'phase'>;
  readonly monitorRestarts: Counter<'scope' | 'reason'>;
  readonly targetGone: Counter<'scope'>;
  readonly migrations: Counter<'to' | 'forced'>;
  readonly wideRefused: Counter;
  readonly queueDepth: Gauge;
  readonly queueDepthMax: Gauge;

  constructor(registry: Registry, upstreams: UpstreamPhaseSource, queueDepths: QueueDepthSource = () => []) {
    const registers = [registry];
    this.informerCount = new Gauge({
      name: 'elasti_operator_informer_count',
      help: 'Gauge for informer count: 1 per active informer registration (RequestWatch), labelled by key',
      labelNames: ['informer_name'],
      registers,
    });
    this.informerCounter = new Counter({
      name: 'elasti_operator_informer_counter',
      help: 'Counter for informer add/stop operations by requester, action and outcome',
      labelNames: ['crd_name', 'action', 'error'],
      registers,
    });
    this.handlerCounter = new Counter({
      name: 'elasti_operator_informer_handler_counter',
      help: 'Counter for informer handler calls by requester, key and outcome',
      labelNames: ['crd_name', 'key', 'error'],
      registers,
    });
    this.upstreamWatches = new Gauge({
      name: 'elasti_operator_informer_upstream_watches',
      help: 'Upstream informers (one list/watch each) by scope and reflector phase; phase=Watching are open watches',
      labelNames: ['scope', 'phase'],
      registers,
      collect() {
        this.reset();
        for (const { scope, phase } of upstreams()) this.inc({ scope, phase });
      },
    });
    this.monitorRestarts = new Counter({
      name: 'elasti_operator_informer_monitor_restarts_total',
      help: 'Restarts of upstream informers ordered by the health monitor',
      labelNames: ['scope', 'reason'],
      registers,
    });
    this.targetGone = new Counter({
      name: 'elasti_operator_informer_target_gone_total',
      help: 'Watched objects confirmed gone (object or namespace deleted) by the health monitor',
      labelNames: ['scope'],
      registers,
    });
    this.migrations = new Counter({
      name: 'elasti_operator_informer_migrations_total',
      help: 'Watched names handed over from one upstream informer to another (sharing policy auto)',
      labelNames: ['to', 'forced'],
      registers,
    });
    this.wideRefused = new Counter({
      name: 'elasti_operator_informer_wide_refused_total',
      help: 'Namespace-wide watches refused with 403; the group fell back to per-name watches',
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'elasti_operator_informer_registration_queue_depth',
      help: "Changes queued for registrations' handlers and not yet delivered, summed over registrations",
      registers,
      collect() {
        let total = 0;
        for (const depth of queueDepths()) total += depth;
        this.set(total);
      },
    });
    this.queueDepthMax = new Gauge({
      name: 'elasti_operator_informer_registration_queue_depth_max',
      help: 'Changes queued for the handlers of the registration with the deepest queue',
      registers,
      collect() {
        let deepest = 0;
        for (const depth of queueDepths()) deepest = Math.max(deepest, depth);
        this.set(deepest);
      },
    });
  }
}

/** The `error` label value of an outcome. */
export function errorLabel(error: unknown): string {
  if (error === undefined) return SUCCESS;
  if (error instanceof Error) return error.name || 'Error';
  return 'unknown';
}
