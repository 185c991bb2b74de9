/**
 * The mode decision: is the scale target serving traffic (serve mode) or not (proxy mode)?
 *
 * Inputs are the target's `spec.replicas`, `status.replicas` and the readiness of its Pods, found
 * with the target's own label selector. A Pod counts as ready when its `Ready` condition is
 * `True` and it is not being deleted (a terminating Pod is about to stop serving). The target is
 * in **proxy** mode when no Pod is ready, or when it is scaled to zero with no replicas left;
 * otherwise **serve**. Counting Pods rather than trusting `status.readyReplicas` alone means a
 * target whose workload controller has not yet caught up (or which has none, as in tests) is
 * still judged by what can actually take traffic.
 *
 * @module
 */
import type { ElastiMode } from '../api/v1alpha1/index.ts';
import type { LabelSelector, Pod, Workload } from '../kube/index.ts';

/** The label selector cannot be expressed as a query (unknown operator, bad values). */
export class InvalidSelectorError extends Error {
  override readonly name = 'InvalidSelectorError';
}

/**
 * A selector as the `labelSelector` query parameter spells it, or `undefined` for a selector that
 * selects nothing (absent, or with neither labels nor expressions: workload APIs reject an empty
 * selector, so treating it as "no Pods" is the safe reading).
 *
 * @throws {InvalidSelectorError} for an operator other than In/NotIn/Exists/DoesNotExist, or
 *   In/NotIn without values.
 */
export function selectorToQuery(selector: LabelSelector | undefined): string | undefined {
  if (!selector) return undefined;
  const parts: string[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) parts.push(`${key}=${value}`);
  for (const expr of selector.matchExpressions ?? []) {
    const values = expr.values ?? [];
    switch (expr.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0)
          throw new InvalidSelectorError(`operator ${expr.operator} on ${expr.key} needs values`);
        parts.push(`${expr.key} ${expr.operator.toLowerCase()} (${values.join(',')})`);
        break;
      case 'Exists':
        parts.push(expr.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${expr.key}`);
        break;
      default:
        throw new InvalidSelectorError(
          `unsupported selector operator ${JSON.stringify(expr.operator)} on ${expr.key}`,
        );
    }
  }
  return parts.length > 0 ? parts.join(',') : undefined;
}

/** True when the Pod can take traffic: condition `Ready` is `True` and it is not terminating. */
export function isPodReady(pod: Pod): boolean {
  if (pod.metadata.deletionTimestamp) return false;
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** What the decision was based on (for logs, Events and tests). */
export interface TargetReadiness {
  /** Where `readyPods` came from: the Pods themselves, or `status.readyReplicas` for a target without a selector. */
  readonly source: 'pods' | 'status';
  /** `spec.replicas`; `undefined` when unset (workload APIs default it to 1). */
  readonly specReplicas: number | undefined;
  /** `status.replicas`, 0 when unset. */
  readonly statusReplicas: number;
  /** Pods matching the selector that are ready. */
  readonly readyPods: number;
  /** Pods matching the selector. */
  readonly pods: number;
}

/**
 * Summarizes a target and its Pods. `pods` is `undefined` when the target has no selector to find
 * them with; `status.readyReplicas` then stands in for the ready Pod count.
 */
export function evaluateTarget(target: Workload, pods: readonly Pod[] | undefined): TargetReadiness {
  const specReplicas = target.spec?.replicas;
  const statusReplicas = numberOr0(target.status?.replicas);
  const base = {
    specReplicas: typeof specReplicas === 'number' ? specReplicas : undefined,
    statusReplicas,
  };
  if (!pods) {
    const ready = numberOr0(target.status?.readyReplicas);
    return { ...base, source: 'status', readyPods: ready, pods: statusReplicas };
  }
  return { ...base, source: 'pods', readyPods: pods.filter(isPodReady).length, pods: pods.length };
}

function numberOr0(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** Proxy when nothing can take traffic, serve otherwise (see the module documentation). */
export function decideMode(readiness: TargetReadiness): ElastiMode {
  if (readiness.readyPods === 0) return 'proxy';
  if (readiness.specReplicas === 0 && readiness.statusReplicas === 0) return 'proxy';
  return 'serve';
}

/** `2/3 pods ready (spec.replicas 3, status.replicas 3)`, for messages. */
export function describeReadiness(r: TargetReadiness): string {
  const spec = r.specReplicas === undefined ? 'unset' : String(r.specReplicas);
  const what = r.source === 'pods' ? 'pods ready' : 'replicas ready (status.readyReplicas, no selector)';
  return `${r.readyPods}/${r.pods} ${what} (spec.replicas ${spec}, status.replicas ${r.statusReplicas})`;
}
