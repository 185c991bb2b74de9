/**
 * The ElastiService's finalizer (`ELASTI_FINALIZER`). The reconciler adds it before it creates
 * anything for the ElastiService, so a deletion waits until the private Service and the
 * EndpointSlice to the resolver are cleaned up, and removes it once they are.
 *
 * Both patches carry the resourceVersion read, which makes them conditional: a concurrent change
 * fails with 409 and the key is retried, instead of overwriting someone else's finalizer list.
 *
 * @module
 */

import type { ElastiService } from '../api/v1alpha1/index.ts';
import { ELASTI_FINALIZER, ELASTI_GVR } from '../api/v1alpha1/index.ts';
import { isNotFound } from '../kube/index.ts';
import type { ResourceClient } from './types.ts';

/** `es` with our finalizer: unchanged when present, else as patched. */
export async function ensureFinalizer(
  client: ResourceClient,
  es: ElastiService,
  fieldManager: string,
  signal: AbortSignal | undefined,
): Promise<ElastiService> {
  const finalizers = es.metadata.finalizers ?? [];
  if (finalizers.includes(ELASTI_FINALIZER)) return es;
  return client.patch<ElastiService>(
    ELASTI_GVR,
    es.metadata.namespace,
    es.metadata.name ?? '',
    {
      metadata: {
        finalizers: [...finalizers, ELASTI_FINALIZER],
        resourceVersion: es.metadata.resourceVersion,
      },
    },
    'merge',
    { fieldManager, ...(signal ? { signal } : {}) },
  );
}

/** Removes our finalizer (the list becomes `null` when empty). An ElastiService already gone is no error. */
export async function removeFinalizer(
  client: ResourceClient,
  es: ElastiService,
  fieldManager: string,
): Promise<void> {
  const finalizers = (es.metadata.finalizers ?? []).filter((f) => f !== ELASTI_FINALIZER);
  try {
    await client.patch(
      ELASTI_GVR,
      es.metadata.namespace,
      es.metadata.name ?? '',
      {
        metadata: {
          finalizers: finalizers.length > 0 ? finalizers : null,
          resourceVersion: es.metadata.resourceVersion,
        },
      },
      'merge',
      { fieldManager },
    );
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}
