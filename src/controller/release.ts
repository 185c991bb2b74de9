/**
 * Dropping one ElastiService's claim on the objects derived from a Service (see `owners.ts`):
 * the private Service and the EndpointSlice to the resolver are shared by every ElastiService
 * fronting that Service, so they are deleted only when no other live one still does.
 *
 * @module
 */

import type { ElastiService } from '../api/v1alpha1/index.ts';
import { endpointSliceToResolverName, privateServiceName } from '../api/v1alpha1/index.ts';
import type { GroupVersionResource, KubeObject } from '../kube/index.ts';
import { isNotFound, resources } from '../kube/index.ts';
import type { ResourceClient } from '../runtime/index.ts';
import { deleteResolverSlice } from './endpointslice.ts';
import { withoutOwner } from './owners.ts';
import { deletePrivateService } from './private-service.ts';

/**
 * Removes the owner reference of `ownerUid` from the object, if present. Returns whether a write
 * happened. A missing object is not an error. The PUT carries the resourceVersion read, so a
 * concurrent change fails with 409 and the caller retries.
 */
export async function releaseOwnedObject(
  client: ResourceClient,
  gvr: GroupVersionResource,
  namespace: string,
  name: string,
  ownerUid: string,
  fieldManager: string,
): Promise<boolean> {
  let existing: KubeObject;
  try {
    existing = await client.get(gvr, namespace, name);
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  const refs = existing.metadata.ownerReferences;
  if (!refs?.some((ref) => ref.uid === ownerUid)) return false;
  const next = structuredClone(existing);
  next.metadata.ownerReferences = withoutOwner(refs, ownerUid);
  await client.replace(gvr, namespace, name, next, { fieldManager });
  return true;
}

/**
 * `es` stops fronting `service`: deletes the objects derived from it, or, when another live
 * ElastiService among `candidates` (the namespace's ElastiServices) fronts the same Service, only
 * removes `es`'s owner references from them. Returns those other ElastiServices (empty when the
 * objects were deleted): they should reconcile, to take the objects over.
 */
export async function releaseService(
  client: ResourceClient,
  es: KubeObject,
  namespace: string,
  service: string,
  candidates: readonly ElastiService[],
  fieldManager: string,
): Promise<ElastiService[]> {
  const siblings = candidates.filter(
    (other) =>
      other.metadata.uid !== es.metadata.uid &&
      other.metadata.name !== es.metadata.name &&
      !other.metadata.deletionTimestamp &&
      other.spec?.service === service,
  );
  if (siblings.length === 0) {
    await deleteResolverSlice(client, namespace, service);
    await deletePrivateService(client, namespace, service);
    return siblings;
  }
  const uid = es.metadata.uid ?? '';
  await releaseOwnedObject(
    client,
    resources.services.gvr,
    namespace,
    privateServiceName(service),
    uid,
    fieldManager,
  );
  await releaseOwnedObject(
    client,
    resources.endpointSlices.gvr,
    namespace,
    endpointSliceToResolverName(service),
    uid,
    fieldManager,
  );
  return siblings;
}
