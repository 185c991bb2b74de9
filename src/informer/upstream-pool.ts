/**
 * The upstream informers of one watch group: at most one namespace-wide upstream and one
 * per-name upstream per object name, each reference-counted by the names it serves
 * (`Upstream.names`) and released with the last one. Both kinds can live side by side: during a
 * hand-over between layouts a name is held on its source and on its next upstream.
 *
 * @module
 */
import type { GroupVersionResource, ListWatchTarget, Logger } from '../kube/index.ts';
import type { GroupScope } from './group-rules.ts';
import type { SharedInformerLike } from './types.ts';
import { Upstream, type UpstreamEvents } from './upstream.ts';

/** What the pool needs from its group. */
export interface UpstreamPoolDeps {
  readonly gvr: GroupVersionResource;
  /** `''` for cluster-scoped resources. */
  readonly namespace: string;
  /** The group's id, the namespace-wide upstream's id and the prefix of the per-name ones. */
  readonly id: string;
  readonly events: UpstreamEvents;
  readonly logger: Logger;
  createInformer(target: ListWatchTarget, id: string): SharedInformerLike;
  /** An upstream no longer needed; the Manager stops it. */
  release(upstream: Upstream): void;
}

/** The upstreams of one GVR × namespace, shared by the names they serve. */
export class UpstreamPool {
  readonly #deps: UpstreamPoolDeps;
  #wide: Upstream | undefined;
  readonly #perName = new Map<string, Upstream>();

  constructor(deps: UpstreamPoolDeps) {
    this.#deps = deps;
  }

  /** Every upstream of the pool. */
  all(): Upstream[] {
    const all = [...this.#perName.values()];
    if (this.#wide) all.push(this.#wide);
    return all;
  }

  /** Whether `upstream` is the pool's namespace-wide upstream. */
  isWide(upstream: Upstream): boolean {
    return upstream === this.#wide;
  }

  /**
   * The upstream serving `name` in `scope`, started if there is none; `name` is counted on it.
   * Throws if an informer cannot be created; the pool is then unchanged.
   */
  acquire(scope: GroupScope, name: string): Upstream {
    let upstream: Upstream | undefined;
    if (scope === 'namespace') {
      upstream = this.#wide ??= this.#start('namespace', undefined);
    } else {
      upstream = this.#perName.get(name);
      if (!upstream) {
        upstream = this.#start('name', name);
        this.#perName.set(name, upstream);
      }
    }
    upstream.names.add(name);
    return upstream;
  }

  /** `name` no longer needs `upstream`; the last name releases it. */
  releaseName(upstream: Upstream, name: string): void {
    upstream.names.delete(name);
    if (upstream.names.size === 0) this.#drop(upstream);
  }

  /** Releases every upstream, whatever it serves. */
  releaseAll(): void {
    for (const upstream of this.all()) {
      upstream.names.clear();
      this.#drop(upstream);
    }
  }

  #start(scope: GroupScope, name: string | undefined): Upstream {
    const { gvr, namespace, id: groupId } = this.#deps;
    const target: ListWatchTarget = {
      gvr,
      ...(namespace ? { namespace } : {}),
      ...(name === undefined ? {} : { fieldSelector: `metadata.name=${name}` }),
    };
    const id = name === undefined ? groupId : `${groupId}/${name}`;
    const informer = this.#deps.createInformer(target, id);
    const upstream = new Upstream({
      id,
      scope,
      target,
      objectName: name,
      informer,
      events: this.#deps.events,
      logger: this.#deps.logger,
    });
    try {
      upstream.start();
    } catch (error) {
      void upstream.stop();
      throw error;
    }
    return upstream;
  }

  #drop(upstream: Upstream): void {
    if (this.#wide === upstream) this.#wide = undefined;
    if (upstream.objectName !== undefined && this.#perName.get(upstream.objectName) === upstream) {
      this.#perName.delete(upstream.objectName);
    }
    this.#deps.release(upstream);
  }
}
