/**
 * The scale decision for one ElastiService, as pure functions (time and query answers are
 * inputs), in upstream's order:
 *
 * 1. {@link preGate}: no triggers → nothing; created less than one cooldown ago → nothing (no
 *    query sent); outside `enabledPeriod` → scale up to `minTargetReplicas`.
 * 2. Per trigger, in order ({@link judgeUptime}, {@link judgeTrigger}): the uptime check must say
 *    Prometheus was up for the whole cooldown, then the trigger's value `< threshold` means "no
 *    traffic". The first trigger with traffic decides "scale up"; all below → "scale down".
 *    Anything else — a failed query, an unreachable Prometheus, an empty result, several
 *    series, NaN — decides "nothing": no evidence is never taken as idleness.
 * 3. {@link scaleDownGate}: a scale-down also needs a full cooldown since the last scale-up or
 *    sign of traffic, and a resolver with a ready endpoint to take the traffic.
 *
 * @module
 */

import type { ResolvedElastiServiceSpec } from '../api/v1alpha1/index.ts';
import { isInEnabledPeriod } from '../api/v1alpha1/index.ts';
import type { QueryOutcome } from './prometheus.ts';

/** Why nothing is done this cycle. */
export type HoldReason =
  | 'no-triggers'
  | 'creation-cooldown'
  | 'prometheus-unhealthy'
  | 'query-failed'
  | 'no-usable-sample'
  | 'trigger-config'
  | 'scale-up-cooldown'
  | 'resolver-not-ready'
  | 'scale-failed';

/** The outcome of an evaluation. */
export type Decision =
  | {
      readonly action: 'scale-up';
      readonly reason: 'outside-enabled-period' | 'traffic';
      readonly detail: string;
    }
  | { readonly action: 'scale-down'; readonly detail: string }
  | { readonly action: 'hold'; readonly reason: HoldReason; readonly detail: string };

/** A query's answer, or how it failed. */
export type QueryResult =
  | { readonly ok: true; readonly outcome: QueryOutcome }
  | { readonly ok: false; readonly error: Error };

/** Steps 1 of the module documentation; `undefined` means "go on and query". */
export function preGate(input: {
  readonly spec: ResolvedElastiServiceSpec;
  /** `metadata.creationTimestamp`. */
  readonly createdAt: Date | undefined;
  readonly now: Date;
}): Decision | undefined {
  const { spec, now } = input;
  if (spec.triggers.length === 0) {
    return { action: 'hold', reason: 'no-triggers', detail: 'no triggers: never scaled to zero' };
  }
  const cooldownMs = spec.cooldownPeriodSeconds * 1000;
  if (input.createdAt && input.createdAt.getTime() + cooldownMs > now.getTime()) {
    return {
      action: 'hold',
      reason: 'creation-cooldown',
      detail: `created less than ${spec.cooldownPeriodSeconds} s ago`,
    };
  }
  if (spec.enabledPeriod && !isInEnabledPeriod(spec.enabledPeriod, now)) {
    return {
      action: 'scale-up',
      reason: 'outside-enabled-period',
      detail: `outside enabledPeriod (${spec.enabledPeriod.schedule} for ${spec.enabledPeriod.duration})`,
    };
  }
  return undefined;
}

/** The uptime check's verdict: a hold decision, or `undefined` when Prometheus was up throughout. */
export function judgeUptime(result: QueryResult, index: number): Decision | undefined {
  if (!result.ok) {
    return {
      action: 'hold',
      reason: 'query-failed',
      detail: `trigger ${index} uptime check: ${result.error.message}`,
    };
  }
  const { outcome } = result;
  if (outcome.kind === 'sample' && outcome.value === 1) return undefined;
  return {
    action: 'hold',
    reason: 'prometheus-unhealthy',
    detail: `trigger ${index} uptime check: ${describeOutcome(outcome)} (1 needed: Prometheus up for the whole cooldown)`,
  };
}

/**
 * The trigger's verdict: `below` (no traffic), `not-below` (traffic: scale up), or a hold
 * decision when the answer is no evidence either way.
 */
export function judgeTrigger(
  result: QueryResult,
  threshold: number,
  index: number,
): 'below' | 'not-below' | Decision {
  if (!result.ok) {
    return { action: 'hold', reason: 'query-failed', detail: `trigger ${index}: ${result.error.message}` };
  }
  const { outcome } = result;
  if (outcome.kind !== 'sample') {
    return {
      action: 'hold',
      reason: 'no-usable-sample',
      detail: `trigger ${index}: ${describeOutcome(outcome)}`,
    };
  }
  return outcome.value < threshold ? 'below' : 'not-below';
}

/** Step 3 of the module documentation: `undefined` when the scale-down may go ahead. */
export function scaleDownGate(input: {
  readonly cooldownSeconds: number;
  /** `status.lastScaledUpTime`. */
  readonly lastScaledUpAt: Date | undefined;
  /** The last time this operator saw traffic for it (a resolver request, a trigger above threshold, its own start). */
  readonly lastTrafficAt: Date | undefined;
  /** Ready resolver endpoints (`undefined`: not known yet). */
  readonly resolverEndpoints: number | undefined;
  readonly now: Date;
}): Decision | undefined {
  const latest = Math.max(
    input.lastScaledUpAt?.getTime() ?? -Infinity,
    input.lastTrafficAt?.getTime() ?? -Infinity,
  );
  const cooldownMs = input.cooldownSeconds * 1000;
  if (latest + cooldownMs > input.now.getTime()) {
    return {
      action: 'hold',
      reason: 'scale-up-cooldown',
      detail: `last scale-up or traffic ${Math.round((input.now.getTime() - latest) / 1000)} s ago (cooldown ${input.cooldownSeconds} s)`,
    };
  }
  if (!input.resolverEndpoints) {
    return {
      action: 'hold',
      reason: 'resolver-not-ready',
      detail:
        input.resolverEndpoints === undefined
          ? 'resolver endpoints not known yet'
          : 'the resolver has no ready endpoint: its traffic would be lost',
    };
  }
  return undefined;
}

/** Human-readable form of an outcome, for decision details. */
export function describeOutcome(outcome: QueryOutcome): string {
  switch (outcome.kind) {
    case 'sample':
      return `value ${outcome.value}`;
    case 'empty':
      return 'empty result';
    case 'multiple':
      return `${outcome.count} series (the query must return one)`;
    case 'not-a-number':
      return `value ${outcome.raw ?? 'null'}`;
  }
}
