/**
 * Owner references from the objects the controller creates (private Service, EndpointSlice to
 * the resolver) to the ElastiServices that use them. Names of those objects derive from the
 * Service name alone, so two ElastiServices fronting the same Service share them: each adds
 * itself as an owner (only the first as `controller`), and a deleted ElastiService removes only
 * its own reference while another still uses the object. With every owner gone, the garbage
 * collector would remove the object even if the finalizer never ran.
 *
 * @module
 */
import { ELASTI_API_VERSION, ELASTI_KIND } from '../api/v1alpha1/index.ts';
import type { KubeObject, OwnerReference } from '../kube/index.ts';

/** The reference to `owner` (an ElastiService read from the API, so it has a uid). */
export function ownerReferenceTo(owner: KubeObject, controller: boolean): OwnerReference {
  return {
    apiVersion: ELASTI_API_VERSION,
    kind: ELASTI_KIND,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller,
    blockOwnerDeletion: true,
  };
}

/** True when `refs` already point at `owner` (by uid). */
export function hasOwner(refs: readonly OwnerReference[] | undefined, owner: KubeObject): boolean {
  return (refs ?? []).some((ref) => ref.uid === owner.metadata.uid);
}

/** `refs` plus `owner` (as controller only if nothing controls the object yet). Unchanged copy if present. */
export function withOwner(refs: readonly OwnerReference[] | undefined, owner: KubeObject): OwnerReference[] {
  const list = [...(refs ?? [])];
  if (hasOwner(list, owner)) return list;
  const controlled = list.some((ref) => ref.controller === true);
  list.push(ownerReferenceTo(owner, !controlled));
  return list;
}

/** `refs` without the reference of uid `ownerUid`. */
export function withoutOwner(
  refs: readonly OwnerReference[] | undefined,
  ownerUid: string,
): OwnerReference[] {
  return (refs ?? []).filter((ref) => ref.uid !== ownerUid);
}
