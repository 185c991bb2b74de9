/**
 * The seam through which the controller's tests give it informers of their own: a
 * `ControllerInformerFactory` (`controller.ts`) builds a `ControllerInformer` (a small surface a
 * test double can implement), and {@link cacheInformerFactory} turns it into what the runtime's
 * `InformerCache` expects. Without a factory the cache builds the engine's `SharedInformer`.
 *
 * @module
 */
import type { KubeObject, KubeObjectLike, ReadonlyStore } from '../kube/index.ts';
import { NAMESPACE_INDEX, UnknownIndexError } from '../kube/index.ts';
import type { CacheInformer, CacheInformerFactory } from '../runtime/index.ts';
import type { ControllerInformer, ControllerInformerFactory } from './controller.ts';

/** The runtime cache's factory over `factory`: each informer it builds, seen as a `CacheInformer`. */
export function cacheInformerFactory(factory: ControllerInformerFactory): CacheInformerFactory {
  return (options) => {
    const informer = factory<KubeObject>(options.target, options.name ?? '');
    return asCacheInformer(informer, options.name ?? '') as unknown as CacheInformer<KubeObjectLike>;
  };
}

function asCacheInformer<T extends KubeObject>(
  informer: ControllerInformer<T>,
  name: string,
): CacheInformer<T> {
  return {
    name,
    store: storeOver(informer.store),
    start: () => informer.start(),
    stop: () => informer.stop(),
    hasSynced: () => informer.hasSynced(),
    waitForSync: (signal) => informer.waitForSync(signal),
    addEventHandler: (handler, options) => informer.addEventHandler(handler, options),
  };
}

/** A read-only store over a list: the namespace index only (what the controller reads). */
function storeOver<T extends KubeObject>(store: ControllerInformer<T>['store']): ReadonlyStore<T> {
  const keyOf = (obj: T): string =>
    obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : (obj.metadata.name ?? '');
  const find = (namespace: string | undefined, name: string): T | undefined =>
    store.getByName
      ? store.getByName(namespace, name)
      : store
          .list()
          .find((o) => (o.metadata.namespace ?? '') === (namespace ?? '') && o.metadata.name === name);
  const namespaceIndex = (indexName: string): void => {
    if (indexName !== NAMESPACE_INDEX) throw new UnknownIndexError(indexName);
  };
  return {
    get: (key) => store.list().find((o) => keyOf(o) === key),
    getByName: find,
    list: () => store.list(),
    keys: () => store.list().map(keyOf),
    byIndex: (indexName, value) => {
      namespaceIndex(indexName);
      return store.list().filter((o) => (o.metadata.namespace ?? '') === value);
    },
    indexKeys: (indexName, value) => {
      namespaceIndex(indexName);
      return store
        .list()
        .filter((o) => (o.metadata.namespace ?? '') === value)
        .map(keyOf);
    },
    indexValues: (indexName) => {
      namespaceIndex(indexName);
      return [...new Set(store.list().map((o) => o.metadata.namespace ?? ''))];
    },
    indexNames: () => [NAMESPACE_INDEX],
    get size() {
      return store.list().length;
    },
  };
}
