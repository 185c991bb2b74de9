/**
 * The ElastiService's finalizer (`ELASTI_FINALIZER`). The reconciler adds it before it creates
 * anything for the ElastiService, so a deletion waits until the private Service and the
 * EndpointSlice to the resolver are cleaned up, and removes it once they are.
 *
 * The patches are the runtime's generic finalizer helpers (conditional on the resourceVersion
 * read: a concurrent change fails with 409 and the key is retried).
 *
 * @module
 */

import type { ElastiService } from '../api/v1alpha1/index.ts';
import { ELASTI_FINALIZER, ELASTI_GVR } from '../api/v1alpha1/index.ts';
import type { ResourceClient } from '../runtime/index.ts';
import { ensureFinalizer as ensure, removeFinalizer as remove } from '../runtime/index.ts';

/** `es` with our finalizer: unchanged when present, else as patched. */
export function ensureFinalizer(
  client: ResourceClient,
  es: ElastiService,
  fieldManager: string,
  signal: AbortSignal | undefined,
): Promise<ElastiService> {
  return ensure(client, ELASTI_GVR, es, ELASTI_FINALIZER, { fieldManager, ...(signal ? { signal } : {}) });
}

/** Removes our finalizer (the list becomes `null` when empty). An ElastiService already gone is no error. */
export function removeFinalizer(
  client: ResourceClient,
  es: ElastiService,
  fieldManager: string,
): Promise<void> {
  return remove(client, ELASTI_GVR, es, ELASTI_FINALIZER, { fieldManager });
}
