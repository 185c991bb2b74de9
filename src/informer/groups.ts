/**
 * The Manager's watch groups, one per GVR × namespace, and the upstream informers they have
 * released but that have not yet closed their connections. Kept apart from the Manager so its
 * file holds the request lifecycle (add, stop, keys) and this one the table it acts on.
 *
 * @module
 */
import type { GroupVersionResource, Logger } from '../kube/index.ts';
import { WatchGroup } from './group.ts';
import { groupId, type ResolvedPolicy } from './group-rules.ts';
import type { ManagerMetrics } from './metrics.ts';
import type { GroupMember } from './name-entry.ts';
import type { InformerFactory, UpstreamErrorInfo } from './types.ts';
import type { Upstream } from './upstream.ts';

/** What the table needs from the Manager. */
export interface WatchGroupsDeps {
  readonly factory: InformerFactory;
  readonly policy: ResolvedPolicy;
  readonly handoverTimeoutMs: number;
  readonly now: () => number;
  readonly logger: Logger;
  readonly metrics: ManagerMetrics;
  /** Reports an upstream's failure with the keys it serves. */
  readonly upstreamError: (error: Error, details: UpstreamErrorInfo) => void;
  /** Whether anyone listens: the keys of a failing upstream are collected only then. */
  readonly wantsUpstreamErrors: () => boolean;
}

export class WatchGroups {
  readonly #deps: WatchGroupsDeps;
  readonly #groups = new Map<string, WatchGroup>();
  /** Released upstreams still closing; `settleStops` waits for them. */
  readonly #stops = new Set<Promise<void>>();

  constructor(deps: WatchGroupsDeps) {
    this.#deps = deps;
  }

  values(): IterableIterator<WatchGroup> {
    return this.#groups.values();
  }

  /** Whether `group` is still the table's group for its GVR × namespace (not disposed and replaced). */
  isCurrent(group: WatchGroup): boolean {
    return this.#groups.get(group.id) === group;
  }

  /** The group of `gvr` × `namespace`, created on first use. */
  for(gvr: GroupVersionResource, namespace: string): WatchGroup {
    const id = groupId(gvr, namespace);
    const existing = this.#groups.get(id);
    if (existing) return existing;
    const deps = this.#deps;
    const group: WatchGroup = new WatchGroup(gvr, namespace, {
      createInformer: (target, name) => deps.factory(target, name),
      release: (upstream) => this.#release(upstream),
      policy: deps.policy,
      handoverTimeoutMs: deps.handoverTimeoutMs,
      now: deps.now,
      logger: deps.logger,
      metrics: deps.metrics,
      upstreamError: (upstream, error, info) => {
        if (!deps.wantsUpstreamErrors()) return;
        const keys: string[] = [];
        for (const name of upstream.names) {
          for (const member of group.names.get(name)?.members.values() ?? []) keys.push(member.key);
        }
        deps.upstreamError(error, {
          upstream: upstream.id,
          target: upstream.target,
          status: info.status,
          failures: info.failures,
          keys,
        });
      },
    });
    this.#groups.set(id, group);
    return group;
  }

  /** Takes `member` out of `group` (see `WatchGroup.detach`), dropping the group with its last name. */
  detach(group: WatchGroup, member: GroupMember, failed: boolean): void {
    group.detach(member, failed);
    this.#disposeIfEmpty(group);
  }

  #disposeIfEmpty(group: WatchGroup): void {
    if (!group.isEmpty || !this.isCurrent(group)) return;
    this.#groups.delete(group.id);
    group.dispose();
  }

  disposeAll(): void {
    for (const group of this.#groups.values()) group.dispose();
    this.#groups.clear();
  }

  /** Replays every group's cache to its handlers (the Manager's resync). */
  resync(): void {
    for (const group of this.#groups.values()) group.resync();
  }

  /** Resolves once every released upstream has closed, including ones released meanwhile. */
  async settleStops(): Promise<void> {
    while (this.#stops.size > 0) await Promise.all([...this.#stops]);
  }

  #release(upstream: Upstream): void {
    const stopping = upstream.stop();
    this.#stops.add(stopping);
    void stopping.finally(() => this.#stops.delete(stopping));
  }
}
