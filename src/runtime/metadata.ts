/**
 * Metadata-only list/watch: the API server sends `PartialObjectMetadata` (apiVersion
 * `meta.k8s.io/v1`, the object's `metadata` and nothing else) instead of whole objects, so a
 * cache of 10,000 Secrets or ConfigMaps holds names, labels, owners and versions, not payloads.
 * controller-runtime's `metadata.k8s.io` informers; the engine sends the `Accept` header
 * (`ListOptions.metadataOnly`, `WatchOptions.metadataOnly`).
 *
 * @module
 */
import type { KubeObjectLike, ListerWatcher, ObjectMeta } from '../kube/index.ts';

/** What a metadata-only informer caches. */
export interface PartialObjectMetadata {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

/**
 * `lw` asking for metadata only on every list and watch.
 *
 * @example
 * ```ts
 * const secrets = new SharedInformer<PartialObjectMetadata>({
 *   lw: metadataOnlyListerWatcher(client),
 *   target: { gvr: resources.secrets.gvr, namespace: 'web' },
 * });
 * ```
 */
export function metadataOnlyListerWatcher(lw: ListerWatcher): ListerWatcher {
  return {
    list: <T extends KubeObjectLike>(...[target, options]: Parameters<ListerWatcher['list']>) =>
      lw.list<T>(target, { ...options, metadataOnly: true }),
    watch: <T extends KubeObjectLike>(...[target, options]: Parameters<ListerWatcher['watch']>) =>
      lw.watch<T>(target, { ...options, metadataOnly: true }),
  };
}
