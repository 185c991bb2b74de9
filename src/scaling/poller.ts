/**
 * The scale-down loop: every polling interval (default 30 s, upstream's `POLLING_INTERVAL`),
 * evaluate every ElastiService's triggers and scale its target down to zero or up to
 * `minTargetReplicas` (see `decision.ts` for the rules).
 *
 * Unlike upstream's loop, which LISTs every ElastiService each tick and evaluates them one after
 * another at the same instant:
 * - ElastiServices come from the controller's informer cache (no LIST per cycle);
 * - each one starts at its own offset within the first {@link ScalePollerOptions.spread} of the
 *   interval (a hash of its uid, so its period stays regular), with at most
 *   {@link ScalePollerOptions.concurrency} evaluations at once: no query burst at each tick;
 * - identical queries of one cycle are sent once (`evaluate.ts`);
 * - a scale-down also needs a ready resolver endpoint, and is re-checked at the moment of the
 *   write against wake-ups that happened meanwhile.
 *
 * The operator runs it on the leader only.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ElastiService } from '../api/v1alpha1/index.ts';
import { validateElastiService } from '../api/v1alpha1/index.ts';
import type { ResolverEndpoints } from '../controller/index.ts';
import type { Logger } from '../kube/index.ts';
import type { ScalingActions } from './actions.ts';
import { type Decision, scaleDownGate } from './decision.ts';
import { cycleQueryCache, evaluateTriggers, type PrometheusQuerier } from './evaluate.ts';
import type { ScalingMetrics } from './metrics.ts';
import { DEFAULT_POLLING_INTERVAL_MS } from './settings.ts';
import type { TriggerDefaults } from './triggers.ts';

/** Where the loop reads ElastiServices; the controller's informer cache. */
export interface ElastiServiceSource {
  list(): readonly ElastiService[];
}

/** Options of {@link ScalePoller}. */
export interface ScalePollerOptions {
  source: ElastiServiceSource;
  resolver: ResolverEndpoints;
  actions: ScalingActions;
  prometheus: PrometheusQuerier;
  defaults: TriggerDefaults;
  /** Default 30 000 ms. */
  intervalMs?: number;
  /** Evaluations at once. Default 8. */
  concurrency?: number;
  /** Fraction of the interval over which evaluations start (0: all at once). Default 0.8. */
  spread?: number;
  metrics?: ScalingMetrics;
  logger: Logger;
  now?: () => Date;
}

/** What one cycle did. */
export interface CycleReport {
  readonly evaluated: number;
  /** Prometheus requests sent (identical queries counted once). */
  readonly queriesSent: number;
  readonly durationMs: number;
  /** `namespace/name` → decision. */
  readonly decisions: ReadonlyMap<string, Decision>;
}

/** See the module documentation. */
export class ScalePoller {
  readonly intervalMs: number;
  readonly #o: ScalePollerOptions;
  readonly #concurrency: number;
  readonly #spread: number;
  readonly #now: () => Date;
  readonly #lifetime = new AbortController();
  #loop: Promise<void> | undefined;
  #last: CycleReport | undefined;

  constructor(options: ScalePollerOptions) {
    this.#o = options;
    this.intervalMs = options.intervalMs ?? DEFAULT_POLLING_INTERVAL_MS;
    this.#concurrency = options.concurrency ?? 8;
    this.#spread = options.spread ?? 0.8;
    this.#now = options.now ?? (() => new Date());
    if (!(this.intervalMs > 0)) throw new RangeError(`intervalMs must be > 0, got ${this.intervalMs}`);
    if (!(Number.isInteger(this.#concurrency) && this.#concurrency >= 1)) {
      throw new RangeError(`concurrency must be an integer >= 1, got ${this.#concurrency}`);
    }
    if (!(this.#spread >= 0 && this.#spread <= 1))
      throw new RangeError(`spread must be in [0, 1], got ${this.#spread}`);
  }

  /** The last completed cycle's report. */
  get lastCycle(): CycleReport | undefined {
    return this.#last;
  }

  /** Starts the loop: a cycle now, then one per interval (a cycle that overruns is followed at once). */
  start(): void {
    if (this.#loop || this.#lifetime.signal.aborted) return;
    this.#loop = this.#run();
    this.#o.logger.info(
      { intervalMs: this.intervalMs, concurrency: this.#concurrency },
      'scale poller started',
    );
  }

  /** Stops the loop, abandoning evaluations not yet started; resolves once the running ones end. */
  async stop(): Promise<void> {
    this.#lifetime.abort(new Error('scale poller stopped'));
    await this.#loop;
  }

  async #run(): Promise<void> {
    const signal = this.#lifetime.signal;
    while (!signal.aborted) {
      const started = Date.now();
      try {
        await this.runCycle(signal);
      } catch (error) {
        if (signal.aborted) return;
        this.#o.logger.error({ err: error }, 'scaling cycle failed');
      }
      const wait = this.intervalMs - (Date.now() - started);
      if (wait <= 0)
        this.#o.logger.warn({ overrunMs: -wait }, 'scaling cycle took longer than the polling interval');
      try {
        await sleep(Math.max(0, wait), undefined, { signal });
      } catch {
        return;
      }
    }
  }

  /** One cycle over every ElastiService (what the loop runs each interval). */
  async runCycle(signal: AbortSignal = this.#lifetime.signal): Promise<CycleReport> {
    const started = performance.now();
    const cycleStart = this.#now();
    const cache = cycleQueryCache(this.#o.prometheus, {
      time: cycleStart,
      signal,
      onResult: (r) =>
        this.#o.metrics?.queries.inc({
          outcome: r.ok
            ? r.outcome.kind
            : String((r.error as { errorType?: unknown }).errorType ?? r.error.name),
        }),
    });
    const all = this.#o.source.list();
    this.#o.actions.traffic.retain(new Set(all.map((es) => `${es.metadata.namespace}/${es.metadata.name}`)));
    const items = all.filter((es) => !es.metadata.deletionTimestamp);
    const spreadMs = this.intervalMs * this.#spread;
    const decisions = new Map<string, Decision>();
    let running = 0;
    const waiting: (() => void)[] = [];
    const slot = async (): Promise<void> => {
      if (running < this.#concurrency) {
        running++;
        return;
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    };
    const release = (): void => {
      const next = waiting.shift();
      if (next) next();
      else running--;
    };
    await Promise.all(
      items.map(async (es) => {
        const offset = spreadMs > 0 ? offsetOf(es, spreadMs) : 0;
        if (offset > 0) {
          try {
            await sleep(offset, undefined, { signal });
          } catch {
            return;
          }
        }
        if (signal.aborted) return;
        await slot();
        try {
          if (signal.aborted) return;
          const decision = await this.#evaluate(es, cache.query);
          if (decision) decisions.set(`${es.metadata.namespace}/${es.metadata.name}`, decision);
        } finally {
          release();
        }
      }),
    );
    const report: CycleReport = {
      evaluated: decisions.size,
      queriesSent: cache.sent(),
      durationMs: performance.now() - started,
      decisions,
    };
    this.#o.metrics?.cycle.observe(report.durationMs / 1000);
    this.#last = report;
    return report;
  }

  async #evaluate(
    es: ElastiService,
    query: Parameters<typeof evaluateTriggers>[1],
  ): Promise<Decision | undefined> {
    const key = `${es.metadata.namespace}/${es.metadata.name}`;
    const validation = validateElastiService(es);
    if (!validation.valid) return undefined; // the controller reports invalid specs
    const spec = validation.spec;
    const created = es.metadata.creationTimestamp ? new Date(es.metadata.creationTimestamp) : undefined;
    let decision: Decision;
    try {
      decision = await evaluateTriggers(
        { spec, createdAt: created, now: this.#now() },
        query,
        this.#o.defaults,
      );
      if (decision.action === 'scale-down') {
        const gate = () =>
          scaleDownGate({
            cooldownSeconds: spec.cooldownPeriodSeconds,
            lastScaledUpAt: parseTime(es.status?.lastScaledUpTime),
            lastTrafficAt: new Date(this.#o.actions.traffic.lastSeen(es)),
            resolverEndpoints: this.#o.resolver.addresses()?.length,
            now: this.#now(),
          });
        const held = gate();
        if (held) decision = held;
        else await this.#o.actions.scaleDown(es, spec, decision.detail, () => gate()?.detail);
      } else if (decision.action === 'scale-up') {
        await this.#o.actions.scaleUp(es, spec, 'poller', decision.detail);
      }
    } catch (error) {
      // Already reported (log + FailedToScale Event) by the actions; the next cycle tries again.
      this.#o.logger.debug({ es: key, err: error }, 'scaling failed');
      return { action: 'hold', reason: 'scale-failed', detail: String(error) };
    }
    const reason = decision.action === 'scale-down' ? 'idle' : decision.reason;
    this.#o.metrics?.decisions.inc({ action: decision.action, reason });
    this.#o.logger.debug(
      { es: key, action: decision.action, reason, detail: decision.detail },
      'scale decision',
    );
    return decision;
  }
}

/** A stable offset in [0, spreadMs) for `es` (its uid, or its key), so its period stays regular. */
export function offsetOf(es: ElastiService, spreadMs: number): number {
  const id = es.metadata.uid ?? `${es.metadata.namespace}/${es.metadata.name}`;
  const n = createHash('sha256').update(id).digest().readUInt32BE(0);
  return (n / 2 ** 32) * spreadMs;
}

function parseTime(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}
