/**
 * Status with standard conditions (`metav1.Condition`) for any kind: build a condition, merge it
 * into the object's list (a condition keeps its `lastTransitionTime` while its status holds:
 * `setStatusCondition` of the API package, defined once there) and write `status` with a merge
 * patch of the status subresource, skipped when nothing changed.
 *
 * @module
 */

import type { GroupVersionResource, KubeObject } from '../kube/index.ts';
import {
  type Condition,
  type ConditionStatus,
  formatConditionTime,
  setStatusCondition,
} from '../kube/index.ts';
import type { ResourceClient } from './client.ts';

/** A condition stamped with `now`, for `observedGeneration` (omitted when undefined). */
export function condition(
  type: string,
  status: ConditionStatus,
  reason: string,
  message: string,
  now: Date,
  observedGeneration: number | undefined,
): Condition {
  const c: Condition = { type, status, reason, message, lastTransitionTime: formatConditionTime(now) };
  if (observedGeneration !== undefined) c.observedGeneration = observedGeneration;
  return c;
}

/** An object whose `status` may hold `conditions`. */
export interface WithConditions extends KubeObject {
  status?: { conditions?: Condition[]; [field: string]: unknown };
}

/** Options of {@link patchStatus}. */
export interface StatusPatchOptions {
  /** Conditions merged into `status.conditions`. */
  readonly conditions?: readonly Condition[];
  /** Other `status` fields to set (merge-patch semantics: `null` removes one). */
  readonly fields?: Readonly<Record<string, unknown>>;
  readonly fieldManager?: string;
  readonly signal?: AbortSignal;
}

/**
 * Merges `conditions` and `fields` into `obj.status` and patches the status subresource; returns
 * the object as written, or `obj` itself when nothing would change (no write at all).
 *
 * @example
 * ```ts
 * await patchStatus(client, widgets.gvr, widget, {
 *   conditions: [condition('Ready', 'True', 'ConfigMapCreated', '', new Date(), widget.metadata.generation)],
 *   fields: { observedGeneration: widget.metadata.generation },
 * });
 * ```
 */
export async function patchStatus<T extends WithConditions>(
  client: ResourceClient,
  gvr: GroupVersionResource,
  obj: T,
  options: StatusPatchOptions,
): Promise<T> {
  let conditions = obj.status?.conditions;
  for (const c of options.conditions ?? []) conditions = setStatusCondition(conditions, c);
  const status: Record<string, unknown> = { ...(options.fields ?? {}) };
  if (options.conditions && options.conditions.length > 0) status.conditions = conditions;
  const current = (obj.status ?? {}) as Record<string, unknown>;
  const changed = Object.entries(status).some(
    ([k, v]) => JSON.stringify(current[k] ?? null) !== JSON.stringify(v ?? null),
  );
  if (!changed) return obj;
  return client.patchStatus<T>(gvr, obj.metadata.namespace, obj.metadata.name ?? '', { status }, 'merge', {
    ...(options.fieldManager ? { fieldManager: options.fieldManager } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
