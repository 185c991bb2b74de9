/**
 * Owner references as a controller uses them: finding the controller of an object (to map an
 * owned object's events to its owner's reconcile) and making an object controlled by its owner
 * (so `owns()` sees it and the garbage collector deletes it with the owner).
 *
 * @module
 */
import type { GroupVersionResource, KubeObjectLike, OwnerReference } from '../kube/index.ts';

/** A kind a controller reconciles: its resource and its `kind` (what owner references name). */
export interface ResourceKind {
  readonly gvr: GroupVersionResource;
  readonly kind: string;
  /** Default true. A cluster-scoped owner's requests have no namespace. */
  readonly namespaced?: boolean;
}

/** `group/version`, or `version` for the core group. */
export function apiVersionOf(gvr: GroupVersionResource): string {
  return gvr.group ? `${gvr.group}/${gvr.version}` : gvr.version;
}

const groupOf = (apiVersion: string): string => {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
};

/** The owner references of any object (metadata-only objects included). */
export function ownerReferencesOf(obj: KubeObjectLike): readonly OwnerReference[] {
  const meta = obj.metadata as { ownerReferences?: OwnerReference[] } | undefined;
  return meta?.ownerReferences ?? [];
}

/**
 * The reference with `controller: true` if it points at `owner`'s kind (group and kind compared,
 * not the version: an owner read at v1beta1 still controls what it made at v1).
 */
export function controllerReferenceTo(obj: KubeObjectLike, owner: ResourceKind): OwnerReference | undefined {
  return ownerReferencesOf(obj).find(
    (ref) =>
      ref.controller === true && ref.kind === owner.kind && groupOf(ref.apiVersion) === owner.gvr.group,
  );
}

/** Thrown by {@link controllerReference} for an owner without the uid a reference needs. */
export class OwnerReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OwnerReferenceError';
  }
}

/**
 * The controller reference to `owner` (an object read from the API: it has a name and a uid),
 * to put in `metadata.ownerReferences` of what the reconciler creates.
 *
 * @example
 * ```ts
 * const child = { metadata: { name: 'x', namespace: 'web', ownerReferences: [controllerReference(owner, widgets)] } };
 * ```
 */
export function controllerReference(owner: KubeObjectLike, kind: ResourceKind): OwnerReference {
  const { name, uid } = owner.metadata ?? {};
  if (!name || !uid) throw new OwnerReferenceError(`owner ${kind.kind} ${name ?? '?'} has no name or uid`);
  return {
    apiVersion: apiVersionOf(kind.gvr),
    kind: kind.kind,
    name,
    uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}
