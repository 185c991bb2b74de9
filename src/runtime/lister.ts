/**
 * Reads of an informer's cache (client-go's listers, controller-runtime's cache-backed reader):
 * by key, by namespace, by label selector and by index, never a request to the API server.
 *
 * @module
 */
import type { KubeObjectLike, ReadonlyStore } from '../kube/index.ts';
import { NAMESPACE_INDEX } from '../kube/index.ts';
import { type LabelSelectorInput, labelsOf, parseLabelSelector } from './selectors.ts';

/** Filters of {@link Lister.list}. */
export interface ListFilter {
  /** Only this namespace (read through the cache's namespace index). */
  readonly namespace?: string | undefined;
  /** Only objects whose labels match (`app=web,tier!=db`, or `{ app: 'web' }`). */
  readonly labelSelector?: LabelSelectorInput | undefined;
}

/**
 * See the module documentation. Objects are shared with the cache: treat them as read-only.
 *
 * @example
 * ```ts
 * const { lister } = cache.acquire<ConfigMap>({ gvr: resources.configMaps.gvr, indexers: { byOwner } });
 * lister.get('web', 'settings');
 * lister.list({ namespace: 'web', labelSelector: 'app=shop' });
 * lister.byIndex('byOwner', ownerUid);
 * ```
 */
export class Lister<T extends KubeObjectLike> {
  readonly #store: ReadonlyStore<T>;

  constructor(store: ReadonlyStore<T>) {
    this.#store = store;
  }

  /** The object `namespace/name` (`namespace` undefined for cluster-scoped), if cached. */
  get(namespace: string | undefined, name: string): T | undefined {
    return this.#store.getByName(namespace, name);
  }

  /** Cached objects, optionally of one namespace and matching a label selector. */
  list(filter: ListFilter = {}): T[] {
    const base =
      filter.namespace === undefined
        ? this.#store.list()
        : this.#store.byIndex(NAMESPACE_INDEX, filter.namespace);
    if (filter.labelSelector === undefined) return base;
    const selector = parseLabelSelector(filter.labelSelector);
    return base.filter((obj) => selector.matches(labelsOf(obj)));
  }

  /** Objects whose index `indexName` yields `value` (`UnknownIndexError` for an unknown index). */
  byIndex(indexName: string, value: string): T[] {
    return this.#store.byIndex(indexName, value);
  }

  /** Number of cached objects. */
  get size(): number {
    return this.#store.size;
  }
}
