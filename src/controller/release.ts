/**
 * Dropping one ElastiService's claim on a shared object (see `owners.ts`).
 *
 * @module
 */
import { isNotFound } from '../kube/errors.ts';
import type { GroupVersionResource, KubeObject } from '../kube/types.ts';
import { withoutOwner } from './owners.ts';
import type { ResourceClient } from './types.ts';

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
