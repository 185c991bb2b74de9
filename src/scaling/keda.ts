/**
 * KEDA ScaledObjects of ElastiServices with `autoscaler.type: keda`: paused before the target is
 * scaled to zero, so KEDA does not scale it straight back up, and unpaused on wake-up and when
 * the ElastiService is deleted — the same JSON merge patches on `metadata.annotations` as
 * upstream (PRs #104, #283):
 *
 * - pause: `autoscaling.keda.sh/paused: "true"`, `autoscaling.keda.sh/paused-replicas: "0"`;
 * - unpause: `autoscaling.keda.sh/paused: "false"`, `autoscaling.keda.sh/paused-replicas` removed.
 *
 * @module
 */
import type { AutoscalerSpec } from '../api/v1alpha1/index.ts';
import type { GroupVersionResource, KubeObject } from '../kube/index.ts';
import { isNotFound } from '../kube/index.ts';

/** `keda.sh/v1alpha1` ScaledObjects. */
export const SCALEDOBJECT_GVR: GroupVersionResource = Object.freeze({
  group: 'keda.sh',
  version: 'v1alpha1',
  resource: 'scaledobjects',
});

/** KEDA's pause annotation. */
export const KEDA_PAUSED_ANNOTATION = 'autoscaling.keda.sh/paused';
/** KEDA's "hold this many replicas while paused" annotation. */
export const KEDA_PAUSED_REPLICAS_ANNOTATION = 'autoscaling.keda.sh/paused-replicas';

/** The pause patch. */
export const KEDA_PAUSE_PATCH = Object.freeze({
  metadata: { annotations: { [KEDA_PAUSED_ANNOTATION]: 'true', [KEDA_PAUSED_REPLICAS_ANNOTATION]: '0' } },
});
/** The unpause patch (`null` removes the key in a merge patch). */
export const KEDA_UNPAUSE_PATCH = Object.freeze({
  metadata: { annotations: { [KEDA_PAUSED_ANNOTATION]: 'false', [KEDA_PAUSED_REPLICAS_ANNOTATION]: null } },
});

/** The patch verb of `KubeClient`. */
export interface MergePatcher {
  patch<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    body: unknown,
    type: 'merge',
    opts?: { fieldManager?: string; signal?: AbortSignal },
  ): Promise<T>;
}

/** The ScaledObject of `autoscaler`, if it is a KEDA one (type compared case-insensitively, as upstream). */
export function kedaScaledObject(autoscaler: AutoscalerSpec | undefined): string | undefined {
  if (!autoscaler || typeof autoscaler !== 'object') return undefined;
  const { type, name } = autoscaler as { type?: unknown; name?: unknown };
  return typeof type === 'string' && type.toLowerCase() === 'keda' && typeof name === 'string' && name !== ''
    ? name
    : undefined;
}

/**
 * The controller's `onFinalize` hook: unpause the ScaledObject of a deleted ElastiService (PR
 * #283), whoever paused it; a missing one is fine, other failures keep the finalizer (retried).
 */
export function unpauseKedaOnFinalize(
  client: MergePatcher,
  fieldManager: string,
): (
  es: { metadata: { namespace?: string }; spec?: { autoscaler?: AutoscalerSpec } },
  signal?: AbortSignal,
) => Promise<void> {
  return async (es, signal) => {
    const name = kedaScaledObject(es.spec?.autoscaler);
    if (name)
      await unpauseKeda(client, es.metadata.namespace ?? '', name, {
        fieldManager,
        ...(signal ? { signal } : {}),
      });
  };
}

/** Pauses KEDA for ScaledObject `namespace/name`. Throws on any failure (a missing ScaledObject included). */
export async function pauseKeda(
  client: MergePatcher,
  namespace: string,
  name: string,
  opts: { fieldManager?: string; signal?: AbortSignal } = {},
): Promise<void> {
  await client.patch(SCALEDOBJECT_GVR, namespace, name, KEDA_PAUSE_PATCH, 'merge', opts);
}

/**
 * Unpauses KEDA for ScaledObject `namespace/name`. A missing ScaledObject is nothing to unpause
 * (`'not-found'`); other failures throw.
 */
export async function unpauseKeda(
  client: MergePatcher,
  namespace: string,
  name: string,
  opts: { fieldManager?: string; signal?: AbortSignal } = {},
): Promise<'unpaused' | 'not-found'> {
  try {
    await client.patch(SCALEDOBJECT_GVR, namespace, name, KEDA_UNPAUSE_PATCH, 'merge', opts);
    return 'unpaused';
  } catch (error) {
    if (isNotFound(error)) return 'not-found';
    throw error;
  }
}
