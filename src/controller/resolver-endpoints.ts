/**
 * The resolver's Pod IPs, from a cache of the resolver Service's EndpointSlices (an informer on
 * `endpointslices` in the resolver namespace, filtered by `kubernetes.io/service-name`). Reading
 * the cache instead of listing on every reconcile keeps a burst of proxy-mode reconciles (after a
 * resolver rollout, say) from turning into a burst of LISTs.
 *
 * @module
 */

import type { EndpointSlice } from '../kube/index.ts';
import { readyAddresses } from './endpointslice.ts';
import type { ResolverEndpoints } from './types.ts';

/** The informer surface this needs; the engine's `SharedInformer` satisfies it. */
export interface SliceCache {
  hasSynced(): boolean;
  readonly store: { list(): EndpointSlice[] };
}

/** {@link ResolverEndpoints} over a cache of the resolver Service's EndpointSlices. */
export class CachedResolverEndpoints implements ResolverEndpoints {
  readonly #cache: SliceCache;

  constructor(cache: SliceCache) {
    this.#cache = cache;
  }

  addresses(): readonly string[] | undefined {
    if (!this.#cache.hasSynced()) return undefined;
    return readyAddresses(this.#cache.store.list());
  }
}

/** A fixed set of addresses (tests, or a resolver reached by static IPs). */
export class StaticResolverEndpoints implements ResolverEndpoints {
  #addresses: readonly string[] | undefined;

  constructor(addresses: readonly string[] | undefined) {
    this.#addresses = addresses;
  }

  set(addresses: readonly string[] | undefined): void {
    this.#addresses = addresses;
  }

  addresses(): readonly string[] | undefined {
    return this.#addresses;
  }
}
