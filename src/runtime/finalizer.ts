/**
 * Finalizers for any kind: add one before creating anything a deletion must clean up, remove it
 * once cleaned. Both patches carry the resourceVersion read, so they are conditional: a
 * concurrent change fails with 409 (the reconcile is retried) instead of overwriting someone
 * else's finalizer list.
 *
 * @module
 */
import { type GroupVersionResource, isNotFound, type KubeObject } from '../kube/index.ts';
import type { ResourceClient } from './client.ts';

/** Options of the finalizer patches. */
export interface FinalizerPatchOptions {
  readonly fieldManager?: string;
  readonly signal?: AbortSignal;
}

/** True when `obj` carries `finalizer`. */
export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return (obj.metadata.finalizers ?? []).includes(finalizer);
}

/** True when `obj` is being deleted (has a `deletionTimestamp`). */
export function isBeingDeleted(obj: KubeObject): boolean {
  return typeof obj.metadata.deletionTimestamp === 'string' && obj.metadata.deletionTimestamp !== '';
}

/**
 * `obj` with `finalizer`: unchanged when present, else as patched.
 *
 * @example
 * ```ts
 * const widget = await ensureFinalizer(client, widgets.gvr, object, 'example.com/cleanup', { signal });
 * ```
 */
export async function ensureFinalizer<T extends KubeObject>(
  client: ResourceClient,
  gvr: GroupVersionResource,
  obj: T,
  finalizer: string,
  options: FinalizerPatchOptions = {},
): Promise<T> {
  const finalizers = obj.metadata.finalizers ?? [];
  if (finalizers.includes(finalizer)) return obj;
  return client.patch<T>(
    gvr,
    obj.metadata.namespace,
    obj.metadata.name ?? '',
    { metadata: { finalizers: [...finalizers, finalizer], resourceVersion: obj.metadata.resourceVersion } },
    'merge',
    patchOptions(options),
  );
}

/** Removes `finalizer` (the list becomes `null` when empty). An object already gone is no error. */
export async function removeFinalizer(
  client: ResourceClient,
  gvr: GroupVersionResource,
  obj: KubeObject,
  finalizer: string,
  options: FinalizerPatchOptions = {},
): Promise<void> {
  if (!hasFinalizer(obj, finalizer)) return;
  const finalizers = (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer);
  try {
    await client.patch(
      gvr,
      obj.metadata.namespace,
      obj.metadata.name ?? '',
      {
        metadata: {
          finalizers: finalizers.length > 0 ? finalizers : null,
          resourceVersion: obj.metadata.resourceVersion,
        },
      },
      'merge',
      patchOptions(options),
    );
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

function patchOptions(options: FinalizerPatchOptions): { fieldManager?: string; signal?: AbortSignal } {
  return {
    ...(options.fieldManager ? { fieldManager: options.fieldManager } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
}
