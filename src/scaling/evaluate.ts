/**
 * Evaluates one ElastiService's triggers (the decision of `decision.ts`, with its queries sent),
 * and the per-cycle query cache that makes identical queries — the same uptime check of many
 * ElastiServices on one Prometheus, say — go out once per polling cycle.
 *
 * @module
 */
import type { ResolvedElastiServiceSpec } from '../api/v1alpha1/index.ts';
import { type Decision, judgeTrigger, judgeUptime, preGate, type QueryResult } from './decision.ts';
import type { QueryOptions, QueryOutcome } from './prometheus.ts';
import { resolveTrigger, TriggerConfigError, type TriggerDefaults, uptimeQuery } from './triggers.ts';

/** Sends one instant query; `PrometheusClient` satisfies it. */
export interface PrometheusQuerier {
  query(address: string, query: string, options?: QueryOptions): Promise<QueryOutcome>;
}

/** What an evaluation is told about the ElastiService besides its spec. */
export interface EvaluationInput {
  readonly spec: ResolvedElastiServiceSpec;
  readonly createdAt: Date | undefined;
  readonly now: Date;
}

/** Runs a query of this cycle (answered from the cycle's cache when it was asked before). */
export type CycleQuery = (
  address: string,
  query: string,
  headers: Readonly<Record<string, string>>,
) => Promise<QueryResult>;

/**
 * A query function whose identical calls (same address, query and headers) share one request.
 * Make one per cycle; `sent()` tells how many requests went out.
 */
export function cycleQueryCache(
  prometheus: PrometheusQuerier,
  options: { time: Date; signal?: AbortSignal; onResult?: (result: QueryResult) => void },
): { query: CycleQuery; sent(): number } {
  const cache = new Map<string, Promise<QueryResult>>();
  const query: CycleQuery = (address, promql, headers) => {
    const key = [
      address,
      promql,
      ...Object.entries(headers)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .flat(),
    ].join('\u0000');
    let result = cache.get(key);
    if (!result) {
      result = prometheus
        .query(address, promql, {
          headers,
          time: options.time,
          ...(options.signal ? { signal: options.signal } : {}),
        })
        .then(
          (outcome): QueryResult => ({ ok: true, outcome }),
          (error: unknown): QueryResult => ({
            ok: false,
            error: error instanceof Error ? error : new Error(String(error)),
          }),
        )
        .then((r) => {
          options.onResult?.(r);
          return r;
        });
      cache.set(key, result);
    }
    return result;
  };
  return { query, sent: () => cache.size };
}

/**
 * The decision for one ElastiService (steps 1–2 of `decision.ts`): gates first, then each trigger's
 * uptime check and query, in order, stopping at the first trigger that decides.
 */
export async function evaluateTriggers(
  input: EvaluationInput,
  query: CycleQuery,
  defaults: TriggerDefaults,
): Promise<Decision> {
  const gated = preGate(input);
  if (gated) return gated;
  const { spec } = input;
  const values: string[] = [];
  for (const [index, raw] of spec.triggers.entries()) {
    let trigger: ReturnType<typeof resolveTrigger>;
    try {
      trigger = resolveTrigger(raw, index, defaults);
    } catch (error) {
      if (!(error instanceof TriggerConfigError)) throw error;
      return { action: 'hold', reason: 'trigger-config', detail: error.message };
    }
    const uptime = await query(
      trigger.serverAddress,
      uptimeQuery(trigger.uptimeFilter, spec.cooldownPeriodSeconds),
      trigger.headers,
    );
    const unhealthy = judgeUptime(uptime, index);
    if (unhealthy) return unhealthy;
    const result = await query(trigger.serverAddress, trigger.query, trigger.headers);
    const verdict = judgeTrigger(result, trigger.threshold, index);
    if (typeof verdict !== 'string') return verdict;
    const value = result.ok && result.outcome.kind === 'sample' ? result.outcome.value : Number.NaN;
    if (verdict === 'not-below') {
      return {
        action: 'scale-up',
        reason: 'traffic',
        detail: `trigger ${index}: ${value} >= threshold ${trigger.threshold}`,
      };
    }
    values.push(`trigger ${index}: ${value} < ${trigger.threshold}`);
  }
  return { action: 'scale-down', detail: values.join('; ') };
}
