/**
 * All registrations on one GVR × namespace, and the upstream informers that serve them.
 *
 * ## Dispatch
 * Registrations are grouped by object name (`names`: name → {@link NameEntry} → registrations).
 * An event for name `n` from upstream `u` costs one Map lookup plus one queue push per
 * registration *of that name*: O(1) in the number of other registrations.
 *
 * ## Sharing
 * Each name is served by one *source* upstream: a per-name informer
 * (`fieldSelector=metadata.name=<n>`) or the group's single namespace-wide informer, as the
 * {@link SharingPolicy} decides. Upstreams are reference-counted by the names they serve and
 * stopped when the last one leaves.
 *
 * ## Migration without loss or duplication
 * When the layout changes (policy `auto` crossing its thresholds), each name gets a *next*
 * upstream while its *source* keeps delivering. Both dispatchers keep a view (last object seen
 * per name, see `upstream.ts`). Handlers only ever see the source's stream. The name is cut over
 * to `next` at the first moment when `next` has synced and both views hold the same state of
 * the object — the same resourceVersion, or both absent. Resource versions are only compared for
 * equality (they are opaque), and every write gets a new one, so equal versions mean equal
 * states. At that moment everything the handlers have seen is exactly what `next` has seen, so
 * `next`'s following events continue the stream with nothing missing and nothing repeated.
 * Whichever side is ahead, the other catches up through its own events and the check runs on
 * every event of either side, so the cutover happens as soon as both agree. If they never agree
 * within `handoverTimeoutMs` (e.g. the old source is disconnected) the cutover is forced: the
 * difference between the two views is delivered as one add/update/delete (delete with
 * `finalStateUnknown`), then `next` takes over. A source that never synced is cut over as soon
 * as `next` has synced, the same way: its handlers may hold a partial state it will not finish.
 *
 * ## Refused namespace-wide watches
 * A namespace-wide watch is an optimisation. When the API server refuses it (403; the health
 * monitor reports it through {@link WatchGroup.refuseWide}) the group goes back to per-name
 * watches, which RBAC may allow (`resourceNames`), and tries namespace-wide again only after
 * a wait that doubles per refusal ({@link WatchGroup.reconsider}).
 *
 * @module
 */
import type { Delta, GroupVersionResource, ListWatchTarget, Logger } from '../kube/index.ts';
import { backoffCeiling } from '../kube/index.ts';
import {
  cutoverDecision,
  desiredScope,
  type GroupScope,
  groupId,
  type ResolvedPolicy,
  reconcilingDelta,
  sourceEvent,
} from './group-rules.ts';
import type { ManagerMetrics } from './metrics.ts';
import { type GoneKind, type GroupMember, NameEntry } from './name-entry.ts';
import type { SharedInformerLike } from './types.ts';
import { Upstream, type UpstreamEvents } from './upstream.ts';

/** What a group needs from the Manager. */
export interface GroupDeps {
  createInformer(target: ListWatchTarget, id: string): SharedInformerLike;
  /** An upstream the group no longer needs; the Manager stops it and tracks the stop. */
  release(upstream: Upstream): void;
  readonly policy: ResolvedPolicy;
  readonly handoverTimeoutMs: number;
  now(): number;
  readonly logger: Logger;
  readonly metrics: ManagerMetrics;
  /** An upstream of the group failed a list or watch; `keys` are the registrations it serves. */
  upstreamError(
    upstream: Upstream,
    error: Error,
    info: { status: number | undefined; failures: number },
  ): void;
}

/** The registrations and upstream informers of one GVR × namespace. */
export class WatchGroup implements UpstreamEvents {
  readonly id: string;
  readonly gvr: GroupVersionResource;
  /** `''` for cluster-scoped resources. */
  readonly namespace: string;
  readonly names = new Map<string, NameEntry>();

  readonly #deps: GroupDeps;
  #scope: GroupScope;
  #wide: Upstream | undefined;
  readonly #perName = new Map<string, Upstream>();
  /** Key of the registration whose arrival switched the group to `namespace`, for rollback if that add fails. */
  #upgradedBy: string | undefined;
  readonly #handovers = new Set<NameEntry>();
  #handoverTimer: NodeJS.Timeout | undefined;
  /** Refusals of the namespace-wide watch since it last synced. */
  #wideRefusals = 0;
  /** Set while namespace-wide watches are off after a refusal: when they may be tried again. */
  #wideRetryAt: number | undefined;
  #disposed = false;

  constructor(gvr: GroupVersionResource, namespace: string, deps: GroupDeps) {
    this.gvr = gvr;
    this.namespace = namespace;
    this.id = groupId(gvr, namespace);
    this.#deps = deps;
    this.#scope = deps.policy.mode === 'namespace' ? 'namespace' : 'name';
  }

  /** The layout currently targeted. */
  get scope(): GroupScope {
    return this.#scope;
  }

  get isEmpty(): boolean {
    return this.names.size === 0;
  }

  /** Every upstream of this group. */
  upstreams(): Upstream[] {
    const all = [...this.#perName.values()];
    if (this.#wide) all.push(this.#wide);
    return all;
  }

  /**
   * Adds a member to the entry of its name (creating entry and upstream as needed) and replays
   * the current object to it. Throws if an informer cannot be created; the group is then unchanged.
   */
  attach(member: GroupMember): NameEntry {
    const existing = this.names.get(member.name);
    if (existing?.source) {
      existing.members.set(member.key, member);
      this.#replay(existing, member);
      return existing;
    }
    // A new name, or one whose watch was released after its target was gone (and is back: the
    // Manager checked it exists before attaching).
    const entry = existing ?? new NameEntry(member.name);
    const goneBefore = entry.gone;
    const scopeBefore = this.#scope;
    const upgradedByBefore = this.#upgradedBy;
    this.names.set(entry.name, entry);
    entry.gone = undefined;
    try {
      if (this.#evaluateScope(false) && this.#scope === 'namespace') this.#upgradedBy = member.key;
      entry.source = this.#upstreamFor(entry.name);
    } catch (error) {
      entry.gone = goneBefore;
      if (!existing) this.names.delete(entry.name);
      if (this.#scope !== scopeBefore) this.#evaluateScope(true);
      this.#upgradedBy = upgradedByBefore;
      throw error;
    }
    entry.syntheticDelete = false;
    entry.members.set(member.key, member);
    // Members left from before a `final` gone get the object again too, if it is already known.
    for (const m of entry.members.values()) this.#replay(entry, m);
    return entry;
  }

  /**
   * Removes a member. The last member of a name releases the name's upstreams. `failed` marks
   * the rollback of an `add` that did not complete: if that add is what switched the group to a
   * namespace-wide watch, the switch is undone without waiting for the downgrade threshold.
   */
  detach(member: GroupMember, failed: boolean): void {
    const entry = this.names.get(member.name);
    if (!entry || entry.members.get(member.key) !== member) return;
    entry.members.delete(member.key);
    if (entry.members.size > 0) return;
    this.names.delete(entry.name);
    this.#endHandover(entry);
    this.#releaseName(entry.source, entry.name);
    entry.source = undefined;
    const rollback = failed && this.#upgradedBy === member.key;
    if (this.#upgradedBy === member.key) this.#upgradedBy = undefined;
    this.#evaluateScope(rollback);
  }

  /**
   * Declares a name's target gone after a check that started when `entry.changes` was
   * `changesAtCheck`. A delete (`finalStateUnknown`) is delivered if the handlers' last state
   * still has the object. `final` also releases the name's upstreams. Returns false, changing
   * nothing, when the entry is no longer this group's or its handlers got anything since the
   * check started (the answer is stale).
   */
  markGone(entry: NameEntry, kind: GoneKind, changesAtCheck: number): boolean {
    if (this.names.get(entry.name) !== entry) return false;
    // The answer predates what the handlers hold now: a later check will decide.
    if (entry.changes !== changesAtCheck) return false;
    const last = entry.source?.view.get(entry.name);
    if (last && !entry.syntheticDelete) {
      entry.syntheticDelete = true;
      this.#deliver(entry, { type: 'delete', obj: last, finalStateUnknown: true });
    }
    if (entry.gone !== 'final') entry.gone = kind;
    if (kind === 'final') {
      this.#endHandover(entry);
      const source = entry.source;
      entry.source = undefined;
      this.#releaseName(source, entry.name);
      this.#evaluateScope(false);
    }
    return true;
  }

  /** Entries whose object the source no longer has (deleted, or absent since sync) and that are due for a check. */
  vanished(now: number, intervalMs: number): NameEntry[] {
    const due: NameEntry[] = [];
    for (const entry of this.names.values()) {
      if (entry.gone === 'final' || !entry.source?.synced) continue;
      if (entry.gone === undefined && entry.source.view.has(entry.name)) continue;
      if (entry.lastCheckAt !== undefined && now - entry.lastCheckAt < intervalMs) continue;
      due.push(entry);
    }
    return due;
  }

  /**
   * Re-delivers the current object of every name as an update with `oldObj === newObj`
   * (upstream's informer resync), so handlers can re-evaluate periodically.
   */
  resync(): void {
    for (const entry of this.names.values()) {
      const current = entry.source?.view.get(entry.name);
      if (current) this.#deliver(entry, { type: 'update', oldObj: current, newObj: current });
    }
  }

  /** Stops timers and releases every upstream. The group must not be used afterwards. */
  dispose(): void {
    this.#disposed = true;
    if (this.#handoverTimer) clearTimeout(this.#handoverTimer);
    this.#handoverTimer = undefined;
    this.#handovers.clear();
    for (const u of this.upstreams()) {
      u.names.clear();
      this.#dropUpstream(u);
    }
    this.names.clear();
  }

  /**
   * The namespace-wide upstream was refused (403): serve every name with per-name watches and
   * allow namespace-wide again only after a wait. Returns false when the group was not using a
   * namespace-wide watch (already narrowed, or never widened).
   */
  refuseWide(now: number): boolean {
    if (this.#scope !== 'namespace' || this.#disposed) return false;
    this.#wideRefusals++;
    const { forbiddenRetryMs, forbiddenRetryCapMs } = this.#deps.policy;
    const wait = backoffCeiling(this.#wideRefusals - 1, {
      initialMs: forbiddenRetryMs,
      capMs: forbiddenRetryCapMs,
    });
    this.#wideRetryAt = now + wait;
    this.#deps.metrics.wideRefused.inc();
    this.#deps.logger.warn(
      { group: this.id, refusals: this.#wideRefusals, retryInMs: wait },
      'namespace-wide watch forbidden (403); serving each name with its own watch',
    );
    this.#evaluateScope(true);
    return true;
  }

  /** Called on every monitor pass: once the wait after a refusal is over, decides the layout again. */
  reconsider(now: number): void {
    if (this.#wideRetryAt === undefined || now < this.#wideRetryAt || this.#disposed) return;
    this.#wideRetryAt = undefined;
    this.#evaluateScope(false);
  }

  // ---- UpstreamEvents ----

  onChange(upstream: Upstream, name: string, change: Delta): void {
    const entry = this.names.get(name);
    if (!entry) return;
    if (entry.source === upstream) {
      const outcome = sourceEvent(change, entry.syntheticDelete);
      entry.syntheticDelete = outcome.syntheticDelete;
      if (outcome.objectBack && entry.gone === 'object') entry.gone = undefined;
      // Undefined: the informer catching up on a delete the handlers were already told.
      if (!outcome.deliver) return;
      this.#deliver(entry, outcome.deliver);
      if (entry.next) this.#tryCutover(entry);
    } else if (entry.next === upstream) {
      this.#tryCutover(entry);
    }
  }

  onError(upstream: Upstream, error: Error, info: { status: number | undefined; failures: number }): void {
    if (!this.#disposed) this.#deps.upstreamError(upstream, error, info);
  }

  onSynced(upstream: Upstream): void {
    if (upstream === this.#wide) this.#wideRefusals = 0;
    for (const name of upstream.names) {
      const entry = this.names.get(name);
      if (entry?.next === upstream) this.#tryCutover(entry);
    }
  }

  // ---- layout ----

  /** Re-decides the layout; on a change every active name is retargeted. Returns true if it changed. */
  #evaluateScope(strict: boolean): boolean {
    let activeNames = 0;
    for (const entry of this.names.values()) if (entry.gone !== 'final') activeNames++;
    const desired = desiredScope({
      policy: this.#deps.policy,
      current: this.#scope,
      activeNames,
      strict,
      wideBlocked: this.#wideRetryAt !== undefined,
    });
    if (desired === this.#scope) return false;
    this.#deps.logger.info(
      { group: this.id, from: this.#scope, to: desired, names: this.names.size },
      'informer sharing layout changes',
    );
    this.#scope = desired;
    for (const entry of this.names.values()) {
      if (entry.source) this.#retarget(entry);
    }
    return true;
  }

  #retarget(entry: NameEntry): void {
    const target = this.#upstreamFor(entry.name);
    if (entry.source === target) {
      this.#endHandover(entry);
      return;
    }
    if (entry.next === target) return;
    this.#endHandover(entry);
    entry.next = target;
    entry.handoverSince = this.#deps.now();
    this.#handovers.add(entry);
    this.#scheduleHandoverCheck();
    this.#tryCutover(entry);
  }

  /** Cancels a pending handover of `entry`, releasing its `next`. */
  #endHandover(entry: NameEntry): void {
    const next = entry.next;
    entry.next = undefined;
    entry.handoverSince = undefined;
    this.#handovers.delete(entry);
    if (next && next !== entry.source) this.#releaseName(next, entry.name);
  }

  #tryCutover(entry: NameEntry): void {
    const next = entry.next;
    if (!next) return;
    const source = entry.source;
    const decision = cutoverDecision({
      nextSynced: next.synced,
      source: source && { synced: source.synced, state: source.view.get(entry.name) },
      nextState: next.view.get(entry.name),
    });
    if (decision !== 'wait') this.#cutover(entry, decision === 'forced');
  }

  #cutover(entry: NameEntry, forced: boolean): void {
    const next = entry.next;
    if (!next) return;
    const source = entry.source;
    if (forced) {
      const reconciling = reconcilingDelta(source?.view.get(entry.name), next.view.get(entry.name));
      if (reconciling) this.#deliver(entry, reconciling);
    }
    entry.source = next;
    entry.next = undefined;
    entry.handoverSince = undefined;
    this.#handovers.delete(entry);
    this.#deps.metrics.migrations.inc({ to: next.scope, forced: String(forced) });
    this.#deps.logger.debug(
      { group: this.id, name: entry.name, from: source?.id, to: next.id, forced },
      'informer name cut over',
    );
    if (source && source !== next) this.#releaseName(source, entry.name);
  }

  #scheduleHandoverCheck(): void {
    // Handovers start in time order, so an armed timer is already due no later than the new one.
    if (this.#handoverTimer || this.#disposed || this.#handovers.size === 0) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const entry of this.#handovers) earliest = Math.min(earliest, entry.handoverSince ?? earliest);
    const delay = Math.max(0, earliest + this.#deps.handoverTimeoutMs - this.#deps.now());
    this.#handoverTimer = setTimeout(() => {
      this.#handoverTimer = undefined;
      this.#expireHandovers();
    }, delay);
    this.#handoverTimer.unref?.();
  }

  #expireHandovers(): void {
    if (this.#disposed) return;
    const now = this.#deps.now();
    let waiting = 0;
    for (const entry of [...this.#handovers]) {
      if (entry.handoverSince === undefined || now - entry.handoverSince < this.#deps.handoverTimeoutMs)
        continue;
      if (entry.next?.synced) {
        this.#deps.logger.warn(
          { group: this.id, name: entry.name, from: entry.source?.id, to: entry.next.id },
          'informer handover did not converge in time; forcing it with a reconciling event',
        );
        this.#cutover(entry, true);
      } else {
        // The new informer has not synced: the old one keeps delivering; check again later.
        entry.handoverSince = now;
        waiting++;
      }
    }
    if (waiting > 0) {
      this.#deps.logger.warn(
        { group: this.id, names: waiting },
        'informer handover waits for a new informer that has not synced; the old ones keep delivering',
      );
    }
    this.#scheduleHandoverCheck();
  }

  // ---- upstreams ----

  #upstreamFor(name: string): Upstream {
    let upstream: Upstream | undefined;
    if (this.#scope === 'namespace') {
      upstream = this.#wide ??= this.#startUpstream('namespace', undefined);
    } else {
      upstream = this.#perName.get(name);
      if (!upstream) {
        upstream = this.#startUpstream('name', name);
        this.#perName.set(name, upstream);
      }
    }
    upstream.names.add(name);
    return upstream;
  }

  #startUpstream(scope: 'name' | 'namespace', name: string | undefined): Upstream {
    const target: ListWatchTarget = {
      gvr: this.gvr,
      ...(this.namespace ? { namespace: this.namespace } : {}),
      ...(name === undefined ? {} : { fieldSelector: `metadata.name=${name}` }),
    };
    const id = name === undefined ? this.id : `${this.id}/${name}`;
    const informer = this.#deps.createInformer(target, id);
    const upstream = new Upstream({
      id,
      scope,
      target,
      objectName: name,
      informer,
      events: this,
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

  #releaseName(upstream: Upstream | undefined, name: string): void {
    if (!upstream) return;
    upstream.names.delete(name);
    if (upstream.names.size === 0) this.#dropUpstream(upstream);
  }

  #dropUpstream(upstream: Upstream): void {
    if (this.#wide === upstream) this.#wide = undefined;
    if (upstream.objectName !== undefined && this.#perName.get(upstream.objectName) === upstream) {
      this.#perName.delete(upstream.objectName);
    }
    this.#deps.release(upstream);
  }

  // ---- delivery ----

  #deliver(entry: NameEntry, change: Delta): void {
    entry.changes++;
    for (const member of entry.members.values()) member.deliver(change);
  }

  #replay(entry: NameEntry, member: GroupMember): void {
    entry.changes++;
    const current = entry.source?.view.get(entry.name);
    if (current) member.deliver({ type: 'add', obj: current, isInInitialList: true });
  }
}
