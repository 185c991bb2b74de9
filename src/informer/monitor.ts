/**
 * The Manager's health monitor: one pass over every upstream informer (and the resolver's),
 * acting on the verdicts of the pure rules in `health.ts` — restart a stalled or hung watch,
 * hold one that is recovering, and when an informer keeps failing with 403/404 or an object
 * vanished, check whether its namespace or object still exists and mark it gone (a delete for
 * its handlers, no restart loop). A namespace-wide watch refused with 403 sends its group back to
 * per-name watches (`WatchGroup.refuseWide`). Kept apart from `manager.ts`, which owns the registrations
 * and groups this reads through {@link MonitorContext}.
 *
 * @module
 */

import type { GroupVersionResource, KubeObject, Logger } from '../kube/index.ts';
import { statusOf } from '../kube/index.ts';
import type { WatchGroup } from './group.ts';
import { type HealthVerdict, judgeHealth, nextMemory, wideWatchRefused } from './health.ts';
import type { ManagerMetrics } from './metrics.ts';
import type { NameEntry } from './name-entry.ts';
import type { GoneKind } from './name-state.ts';
import type { HealthBounds, ObjectReader, RestartBackoff } from './types.ts';
import type { MonitoredInformer, Upstream } from './upstream.ts';

const NAMESPACES: GroupVersionResource = { group: '', version: 'v1', resource: 'namespaces' };

type TargetState = 'present' | 'terminating' | 'gone' | 'unknown';

/** What the monitor reads from and acts through; the Manager provides it. */
export interface MonitorContext {
  readonly client: ObjectReader;
  readonly logger: Logger;
  readonly metrics: ManagerMetrics;
  readonly bounds: HealthBounds;
  readonly backoff: RestartBackoff;
  /** Parallel GETs of one target check. */
  readonly checkConcurrency: number;
  readonly now: () => number;
  /** Aborts in-flight target checks when the Manager stops. */
  readonly signal: AbortSignal;
  groups(): Iterable<WatchGroup>;
  /** False once the group was removed or the Manager stopped: results about it are dropped. */
  isCurrent(group: WatchGroup): boolean;
  resolver(): MonitoredInformer | undefined;
  /** A name's target was newly found gone (its registrations are now `TargetGone`). */
  targetGone?(entry: NameEntry): void;
}

/** Runs health-monitor passes for a Manager. */
export class HealthMonitor {
  readonly #ctx: MonitorContext;
  /** When each name's target was last checked (ms since epoch); entries of removed groups drop out. */
  readonly #lastCheckAt = new WeakMap<NameEntry, number>();

  constructor(ctx: MonitorContext) {
    this.#ctx = ctx;
  }

  async tick(): Promise<void> {
    const now = this.#ctx.now();
    const checks = new Map<WatchGroup, { entries: Set<NameEntry>; failing: Set<Upstream> }>();
    const checkOf = (group: WatchGroup) => {
      let c = checks.get(group);
      if (!c) {
        c = { entries: new Set(), failing: new Set() };
        checks.set(group, c);
      }
      return c;
    };
    for (const group of this.#ctx.groups()) {
      group.reconsider(now);
      for (const upstream of group.upstreams()) {
        if (
          upstream.scope === 'namespace' &&
          wideWatchRefused(upstream.informer.status()) &&
          group.refuseWide(now)
        ) {
          upstream.health = 'Failing';
          continue;
        }
        const verdict = this.#judge(upstream, now);
        if (verdict.action !== 'check-target') continue;
        const c = checkOf(group);
        c.failing.add(upstream);
        for (const name of upstream.names) {
          const entry = group.names.get(name);
          if (entry) c.entries.add(entry);
        }
      }
      for (const entry of group.vanished()) {
        const last = this.#lastCheckAt.get(entry);
        if (last === undefined || now - last >= this.#ctx.bounds.targetCheckIntervalMs)
          checkOf(group).entries.add(entry);
      }
    }
    const resolver = this.#ctx.resolver();
    if (resolver) this.#judge(resolver, now);
    for (const [group, c] of checks) {
      if (!this.#ctx.isCurrent(group)) continue;
      try {
        await this.#checkTargets(group, c.entries, c.failing, now);
      } catch (error) {
        this.#ctx.logger.warn({ group: group.id, err: error }, 'target check failed');
      }
    }
  }

  #judge(informer: MonitoredInformer, now: number): HealthVerdict {
    const status = informer.informer.status();
    const verdict = judgeHealth({
      status,
      now,
      bounds: this.#ctx.bounds,
      backoff: this.#ctx.backoff,
      memory: informer.memory,
    });
    informer.memory = nextMemory(informer.memory, verdict, now, this.#ctx.backoff);
    switch (verdict.action) {
      case 'restart':
        informer.health = 'Recovering';
        this.#ctx.metrics.monitorRestarts.inc({ scope: informer.scope, reason: verdict.reason });
        this.#ctx.logger.warn(
          {
            upstream: informer.id,
            reason: verdict.reason,
            phase: status.phase,
            restarts: informer.memory.restarts,
          },
          'health monitor restarts informer',
        );
        informer.informer.restart(`health monitor: ${verdict.reason}`);
        break;
      case 'hold':
        informer.health = 'Recovering';
        break;
      case 'check-target':
        informer.health = 'Failing';
        this.#ctx.logger.info(
          { upstream: informer.id, status: verdict.status },
          'informer keeps failing; checking target',
        );
        break;
      case 'none':
        informer.health = verdict.health;
        break;
    }
    return verdict;
  }

  async #checkTargets(
    group: WatchGroup,
    entries: Set<NameEntry>,
    failing: Set<Upstream>,
    now: number,
  ): Promise<void> {
    for (const entry of entries) this.#lastCheckAt.set(entry, now);
    // What each name's handlers had got when the evidence started being gathered: an answer is
    // applied only to entries that got nothing since (see NameEntry.changes).
    const changesAtStart = new Map<NameEntry, number>();
    for (const entry of group.names.values()) changesAtStart.set(entry, entry.changes);
    const live = (): boolean => this.#ctx.isCurrent(group);
    const namespace = group.namespace ? await this.#namespaceState(group.namespace) : 'present';
    if (!live()) return;
    if (namespace === 'gone') {
      for (const [entry, changes] of changesAtStart)
        this.#markGone(group, entry, 'final', 'namespace gone', changes);
      return;
    }
    const candidates = [...entries].filter(
      (e) => e.gone === undefined || (failing.size > 0 && e.gone === 'object'),
    );
    await forEachLimit(candidates, this.#ctx.checkConcurrency, async (entry) => {
      const state = await this.#objectState(group.gvr, group.namespace, entry.name);
      if (!live() || group.names.get(entry.name) !== entry || state !== 'gone') return;
      // Release the watch when it cannot recover by itself: namespace terminating, or the
      // informer keeps failing (e.g. its resource type was removed). Otherwise keep watching:
      // the object may be recreated.
      const final = namespace === 'terminating' || (entry.source !== undefined && failing.has(entry.source));
      this.#markGone(
        group,
        entry,
        final ? 'final' : 'object',
        final ? 'watch cannot recover' : 'object deleted',
        changesAtStart.get(entry) ?? Number.NaN,
      );
    });
  }

  #markGone(group: WatchGroup, entry: NameEntry, kind: GoneKind, why: string, changesAtCheck: number): void {
    const before = entry.gone;
    const scope = entry.source?.scope ?? 'name';
    if (!group.markGone(entry, kind, changesAtCheck)) {
      this.#ctx.logger.debug(
        { group: group.id, name: entry.name },
        'target check overtaken by newer events; ignored',
      );
      return;
    }
    if (before === entry.gone) return;
    if (before === undefined) {
      this.#ctx.metrics.targetGone.inc({ scope });
      this.#ctx.targetGone?.(entry);
    }
    this.#ctx.logger.info({ group: group.id, name: entry.name, kind, why }, 'watched target is gone');
  }

  async #namespaceState(namespace: string): Promise<TargetState> {
    try {
      const ns = await this.#ctx.client.get<KubeObject>(NAMESPACES, undefined, namespace, this.#ctx.signal);
      return ns.metadata?.deletionTimestamp ? 'terminating' : 'present';
    } catch (error) {
      return statusOf(error) === 404 ? 'gone' : 'unknown';
    }
  }

  async #objectState(gvr: GroupVersionResource, namespace: string, name: string): Promise<TargetState> {
    try {
      await this.#ctx.client.get(gvr, namespace || undefined, name, this.#ctx.signal);
      return 'present';
    } catch (error) {
      return statusOf(error) === 404 ? 'gone' : 'unknown';
    }
  }
}

async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
