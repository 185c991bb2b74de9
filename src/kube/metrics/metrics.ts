/**
 * Prometheus metrics of the engine, on a prom-client `Registry` the caller owns.
 *
 * Every series is labelled by informer name. Label growth is bounded: when the last informer
 * using a name is released, every series carrying that name is removed; the other labels
 * (`type`, `status`, `reason`) take values from small fixed or server-defined sets.
 *
 * Gauges that describe current state (objects in store, queue depth, seconds since the last
 * event, active watches) are computed on scrape from the live informers, so they can never
 * go stale after an informer is gone.
 *
 * @module
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ReflectorObserver, ReflectorPhase } from '../core/index.ts';

/** Options of {@link EngineMetrics}. */
export interface EngineMetricsOptions {
  /** Prepended to every metric name. Default `elasti_kube_`. */
  prefix?: string;
  /** Clock for "seconds since last event" (ms since epoch). Default `Date.now`. */
  now?: () => number;
}

/** Live numbers an informer exposes to the scrape-time gauges. */
export interface InformerMetricsSource {
  storeSize(): number;
  queueDepth(): number;
  queueHighWater(): number;
  /** Last protocol progress (ms since epoch), as the reflector saw it. */
  lastEventAt(): number | undefined;
}

/** What an informer holds while it reports metrics. */
export interface InformerMetricsHandle {
  /** Hooks for the informer's reflector. */
  readonly observer: ReflectorObserver;
  /** Counts one failed handler call. */
  handlerError(): void;
  /** Counts one incoming object the store rejected. */
  inputError(): void;
  /** Stops reporting. The last handle for a name removes all its series. Idempotent. */
  release(): void;
}

interface ObserverState {
  phase: ReflectorPhase;
  lastEventAt: number | undefined;
}

interface InformerRecord {
  refs: number;
  readonly observers: Set<ObserverState>;
  readonly sources: Set<InformerMetricsSource>;
  /** Every labelled child created for this name, so all can be removed at the end. */
  readonly series: Map<string, { metric: Counter<string>; labels: Record<string, string> }>;
}

/** The engine's metrics. One instance per registry (names would collide otherwise). */
export class EngineMetrics {
  /** Reflectors currently in the `Watching` phase, across all informers. */
  readonly activeWatches: Gauge<string>;

  readonly #now: () => number;
  readonly #records = new Map<string, InformerRecord>();
  readonly #counterIds = new Map<Counter<string>, string>();
  readonly #lists: Counter<'informer'>;
  readonly #relists: Counter<'informer'>;
  readonly #watchRestarts: Counter<'informer'>;
  readonly #watchEnds: Counter<'informer' | 'reason'>;
  readonly #errors: Counter<'informer' | 'status'>;
  readonly #events: Counter<'informer' | 'type'>;
  readonly #bookmarks: Counter<'informer'>;
  readonly #handlerErrors: Counter<'informer'>;
  readonly #inputErrors: Counter<'informer'>;

  /** Registers the metrics on `registry`. Throws if they are already registered there. */
  constructor(registry: Registry, options: EngineMetricsOptions = {}) {
    const p = options.prefix ?? 'elasti_kube_';
    this.#now = options.now ?? Date.now;
    const registers = [registry];
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> => {
      const c = new Counter<L>({ name: `${p}${name}`, help, labelNames, registers });
      this.#counterIds.set(c as unknown as Counter<string>, name);
      return c;
    };

    this.#lists = counter('lists_total', 'LIST operations started (first lists and relists).', ['informer']);
    this.#relists = counter('relists_total', 'LIST operations started after a previous list (relists).', [
      'informer',
    ]);
    this.#watchRestarts = counter(
      'watch_restarts_total',
      'Watch streams that ended for any reason other than a stop (each is followed by a new watch or a relist).',
      ['informer'],
    );
    this.#watchEnds = counter('watch_ends_total', 'Watch streams that ended, by reason.', [
      'informer',
      'reason',
    ]);
    this.#errors = counter(
      'errors_total',
      'List/watch errors by HTTP status ("transport" when there was no HTTP answer).',
      ['informer', 'status'],
    );
    this.#events = counter('events_total', 'Watch events applied to the cache, by type.', [
      'informer',
      'type',
    ]);
    this.#bookmarks = counter('bookmarks_total', 'Watch bookmarks received.', ['informer']);
    this.#handlerErrors = counter('handler_errors_total', 'Event handler calls that threw or rejected.', [
      'informer',
    ]);
    this.#inputErrors = counter(
      'store_input_errors_total',
      'Incoming objects the cache rejected (malformed, or transform/index function failed).',
      ['informer'],
    );

    const records = this.#records;
    const perInformer = (name: string, help: string, value: (r: InformerRecord) => number | undefined) => {
      const gauge: Gauge<'informer'> = new Gauge<'informer'>({
        name: `${p}${name}`,
        help,
        labelNames: ['informer'],
        registers,
        collect() {
          gauge.reset();
          for (const [informer, record] of records) {
            const v = value(record);
            if (v !== undefined) gauge.set({ informer }, v);
          }
        },
      });
      return gauge;
    };
    perInformer('store_objects', 'Objects in the informer cache.', (r) =>
      sum(r.sources, (s) => s.storeSize()),
    );
    perInformer('handler_queue_depth', 'Events queued for handlers and not yet delivered.', (r) =>
      sum(r.sources, (s) => s.queueDepth()),
    );
    perInformer(
      'handler_queue_depth_high_water',
      'Deepest any handler queue of the informer has been.',
      (r) => max(r.sources, (s) => s.queueHighWater()) ?? 0,
    );
    perInformer('seconds_since_last_event', 'Seconds since the last list page, event or bookmark.', (r) => {
      const latest = max(
        [max(r.sources, (s) => s.lastEventAt()), max(r.observers, (o) => o.lastEventAt)],
        (v) => v,
      );
      return latest === undefined ? undefined : Math.max(0, (this.#now() - latest) / 1000);
    });

    const activeWatches: Gauge<string> = new Gauge({
      name: `${p}active_watches`,
      help: 'Reflectors currently in the Watching phase.',
      registers,
      collect() {
        let n = 0;
        for (const record of records.values()) {
          for (const o of record.observers) if (o.phase === 'Watching') n++;
        }
        activeWatches.set(n);
      },
    });
    this.activeWatches = activeWatches;
  }

  /**
   * Starts reporting for informer `name`. Several live informers may share a name; their
   * numbers add up and the series live until the last of them is released.
   */
  register(name: string, source?: InformerMetricsSource): InformerMetricsHandle {
    const record = this.#record(name);
    record.refs++;
    if (source) record.sources.add(source);
    const state: ObserverState = { phase: 'Idle', lastEventAt: undefined };
    record.observers.add(state);
    let released = false;
    return {
      observer: this.#observer(name, record, state),
      handlerError: () => {
        if (!released) this.#inc(record, this.#handlerErrors, { informer: name });
      },
      inputError: () => {
        if (!released) this.#inc(record, this.#inputErrors, { informer: name });
      },
      release: () => {
        if (released) return;
        released = true;
        record.observers.delete(state);
        if (source) record.sources.delete(source);
        // Only if this record is still the live one: removeInformer may have replaced it.
        if (--record.refs <= 0 && this.#records.get(name) === record) this.removeInformer(name);
      },
    };
  }

  /**
   * An observer for a reflector used on its own. Its series live until
   * {@link EngineMetrics.removeInformer} is called for `name`.
   */
  observerFor(name: string): ReflectorObserver {
    return this.register(name).observer;
  }

  /** Removes every series labelled with `name`, whoever still holds handles for it. */
  removeInformer(name: string): void {
    const record = this.#records.get(name);
    if (!record) return;
    for (const { metric, labels } of record.series.values()) metric.remove(labels);
    this.#records.delete(name);
  }

  /** Informer names currently reported (for tests and debugging). */
  informerNames(): string[] {
    return [...this.#records.keys()];
  }

  #record(name: string): InformerRecord {
    let record = this.#records.get(name);
    if (!record) {
      record = { refs: 0, observers: new Set(), sources: new Set(), series: new Map() };
      this.#records.set(name, record);
    }
    return record;
  }

  #inc<L extends string>(record: InformerRecord, metric: Counter<L>, labels: Record<L, string>): void {
    // A record removed by removeInformer must not resurrect series through a stale observer.
    if (this.#records.get(labels['informer' as L]) !== record) return;
    const id = `${this.#counterIds.get(metric as unknown as Counter<string>) ?? ''}\u0000${JSON.stringify(labels)}`;
    if (!record.series.has(id)) {
      record.series.set(id, { metric: metric as unknown as Counter<string>, labels });
    }
    metric.inc(labels);
  }

  #observer(name: string, record: InformerRecord, state: ObserverState): ReflectorObserver {
    const informer = name;
    const touch = () => {
      state.lastEventAt = this.#now();
    };
    return {
      onListStart: (relist) => {
        this.#inc(record, this.#lists, { informer });
        if (relist) this.#inc(record, this.#relists, { informer });
      },
      onListPage: touch,
      onListDone: touch,
      onWatchEnd: (reason) => {
        this.#inc(record, this.#watchEnds, { informer, reason });
        if (reason !== 'stopped') this.#inc(record, this.#watchRestarts, { informer });
      },
      onEvent: (type) => {
        touch();
        this.#inc(record, this.#events, { informer, type });
      },
      onBookmark: () => {
        touch();
        this.#inc(record, this.#bookmarks, { informer });
      },
      onError: (_error, status) => {
        this.#inc(record, this.#errors, {
          informer,
          status: status === undefined ? 'transport' : String(status),
        });
      },
      onPhase: (status) => {
        state.phase = status.phase;
      },
    };
  }
}

function sum<V>(items: Iterable<V>, f: (v: V) => number): number {
  let total = 0;
  for (const item of items) total += f(item);
  return total;
}

function max<V>(items: Iterable<V>, f: (v: V) => number | undefined): number | undefined {
  let best: number | undefined;
  for (const item of items) {
    const v = f(item);
    if (v !== undefined && (best === undefined || v > best)) best = v;
  }
  return best;
}
