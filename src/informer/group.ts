/**
 * All registrations on one GVR × namespace, and the upstream informers that serve them.
 *
 * ## Dispatch
 * Registrations are grouped by object name (`names`: name → {@link NameEntry} → registrations).
 * An event for name `n` from upstream `u` costs one Map lookup plus one queue push per
 * registration *of that name*: O(1) in the number of other registrations.
 *
 * ## State
 * Each name's state is a union (`name-state.ts`): `serving` on its *source* upstream, `handover`
 * while a *next* upstream takes it over, or `released` (no watch held). Every change goes through
 * a pure transition applied by `#apply`, the one place that assigns it: upstreams held before
 * and not after are released there, and the set of hand-overs is kept there. The layout and the
 * access to namespace-wide watches are unions too (`group-layout.ts`); the decisions are in
 * `group-rules.ts`.
 *
 * ## Sharing
 * Each name is served by one *source* upstream: a per-name informer
 * (`fieldSelector=metadata.name=<n>`) or the group's single namespace-wide informer, as the
 * {@link SharingPolicy} decides. Upstreams (`upstream-pool.ts`) are reference-counted by the
 * names they serve and stopped when the last one leaves.
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
import {
  initialLayout,
  type Layout,
  relaid,
  WIDE_ALLOWED,
  type WideAccess,
  widenedBy,
  wideRefused,
  wideRetryDue,
  wideSynced,
  withoutCause,
} from './group-layout.ts';
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
import { type GroupMember, NameEntry } from './name-entry.ts';
import {
  afterSourceEvent,
  cutOver,
  declaredGone,
  detached,
  type GoneKind,
  handoverRestarted,
  heldUpstreams,
  type NameState,
  retargeted,
  served,
  targetFound,
} from './name-state.ts';
import type { SharedInformerLike } from './types.ts';
import type { Upstream, UpstreamEvents } from './upstream.ts';
import { UpstreamPool } from './upstream-pool.ts';

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
  readonly #pool: UpstreamPool;
  #layout: Layout;
  #wideAccess: WideAccess = WIDE_ALLOWED;
  /** The entries in phase `handover` (kept by `#apply`). */
  readonly #handovers = new Set<NameEntry>();
  #handoverTimer: NodeJS.Timeout | undefined;
  #disposed = false;

  constructor(gvr: GroupVersionResource, namespace: string, deps: GroupDeps) {
    this.gvr = gvr;
    this.namespace = namespace;
    this.id = groupId(gvr, namespace);
    this.#deps = deps;
    this.#layout = initialLayout(deps.policy.mode);
    this.#pool = new UpstreamPool({
      gvr,
      namespace,
      id: this.id,
      events: this,
      logger: deps.logger,
      createInformer: (target, id) => deps.createInformer(target, id),
      release: (upstream) => deps.release(upstream),
    });
  }

  /** The layout currently targeted. */
  get scope(): GroupScope {
    return this.#layout.scope;
  }

  get isEmpty(): boolean {
    return this.names.size === 0;
  }

  /** Every upstream of this group. */
  upstreams(): Upstream[] {
    return this.#pool.all();
  }

  /**
   * Adds a member to the entry of its name (creating entry and upstream as needed) and replays
   * the current object to it. Throws if an informer cannot be created; the group is then unchanged.
   */
  attach(member: GroupMember): NameEntry {
    const existing = this.names.get(member.name);
    if (existing && existing.state.phase !== 'released') {
      existing.members.set(member.key, member);
      existing.replay(member);
      return existing;
    }
    // A new name, or one whose watch was released after its target was gone (and is back: the
    // Manager checked it exists before attaching).
    const entry = existing ?? new NameEntry(member.name);
    const scopeBefore = this.scope;
    this.names.set(entry.name, entry);
    try {
      // The name counts as active in the decision though it holds no watch yet.
      this.#evaluateScope(false, { attaching: member.key });
      this.#apply(entry, served(this.#pool.acquire(this.scope, entry.name)));
    } catch (error) {
      if (!existing) this.names.delete(entry.name);
      if (this.scope !== scopeBefore) {
        this.#layout = withoutCause(this.#layout, member.key);
        this.#evaluateScope(true);
      }
      throw error;
    }
    entry.members.set(member.key, member);
    // Members left from before a `final` gone get the object again too, if it is already known.
    for (const m of entry.members.values()) entry.replay(m);
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
    this.#apply(entry, detached(entry.state));
    const rollback = failed && widenedBy(this.#layout, member.key);
    this.#layout = withoutCause(this.#layout, member.key);
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
    const outcome = declaredGone(entry.state, kind, last !== undefined);
    if (last && outcome.synthesizeDelete)
      entry.deliver({ type: 'delete', obj: last, finalStateUnknown: true });
    this.#apply(entry, outcome.state);
    if (kind === 'final') this.#evaluateScope(false);
    return true;
  }

  /** The target of `entry` was seen to exist (a GET): an `object` gone verdict no longer holds. */
  targetFound(entry: NameEntry): void {
    if (this.names.get(entry.name) === entry) this.#apply(entry, targetFound(entry.state));
  }

  /** Entries whose object the synced source no longer has (deleted, or absent since sync), or already found gone. */
  vanished(): NameEntry[] {
    const due: NameEntry[] = [];
    for (const entry of this.names.values()) {
      const { state } = entry;
      if (state.phase === 'released' || !state.source.synced) continue;
      if (state.gone === undefined && state.source.view.has(entry.name)) continue;
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
      if (current) entry.deliver({ type: 'update', oldObj: current, newObj: current });
    }
  }

  /** Stops timers and releases every upstream. The group must not be used afterwards. */
  dispose(): void {
    this.#disposed = true;
    if (this.#handoverTimer) clearTimeout(this.#handoverTimer);
    this.#handoverTimer = undefined;
    this.#handovers.clear();
    this.#pool.releaseAll();
    this.names.clear();
  }

  /**
   * The namespace-wide upstream was refused (403): serve every name with per-name watches and
   * allow namespace-wide again only after a wait. Returns false when the group was not using a
   * namespace-wide watch (already narrowed, or never widened).
   */
  refuseWide(now: number): boolean {
    if (this.scope !== 'namespace' || this.#disposed) return false;
    const refused = wideRefused(this.#wideAccess, now, this.#deps.policy);
    this.#wideAccess = refused.access;
    this.#deps.metrics.wideRefused.inc();
    this.#deps.logger.warn(
      { group: this.id, refusals: refused.access.refusals, retryInMs: refused.waitMs },
      'namespace-wide watch forbidden (403); serving each name with its own watch',
    );
    this.#evaluateScope(true);
    return true;
  }

  /** Called on every monitor pass: once the wait after a refusal is over, decides the layout again. */
  reconsider(now: number): void {
    const access = wideRetryDue(this.#wideAccess, now);
    if (access === this.#wideAccess || this.#disposed) return;
    this.#wideAccess = access;
    this.#evaluateScope(false);
  }

  // ---- UpstreamEvents ----

  onChange(upstream: Upstream, name: string, change: Delta): void {
    const entry = this.names.get(name);
    if (!entry) return;
    const { state } = entry;
    if (state.phase === 'released') return;
    if (state.source === upstream) {
      const outcome = sourceEvent(change, state.syntheticDelete);
      this.#apply(entry, afterSourceEvent(state, outcome));
      // Undefined: the informer catching up on a delete the handlers were already told.
      if (!outcome.deliver) return;
      entry.deliver(outcome.deliver);
      this.#tryCutover(entry);
    } else if (entry.next === upstream) {
      this.#tryCutover(entry);
    }
  }

  onError(upstream: Upstream, error: Error, info: { status: number | undefined; failures: number }): void {
    if (!this.#disposed) this.#deps.upstreamError(upstream, error, info);
  }

  onSynced(upstream: Upstream): void {
    if (this.#pool.isWide(upstream)) this.#wideAccess = wideSynced(this.#wideAccess);
    for (const name of upstream.names) {
      const entry = this.names.get(name);
      if (entry?.next === upstream) this.#tryCutover(entry);
    }
  }

  // ---- state ----

  /**
   * The one place an entry's state changes: assigns `after`, keeps the hand-over set, and
   * releases the upstreams held before and not after.
   */
  #apply(entry: NameEntry, after: NameState<Upstream>): void {
    const before = entry.state;
    if (after === before) return;
    entry.state = after;
    if (after.phase === 'handover') this.#handovers.add(entry);
    else this.#handovers.delete(entry);
    const kept = heldUpstreams(after);
    for (const upstream of heldUpstreams(before)) {
      if (!kept.includes(upstream)) this.#pool.releaseName(upstream, entry.name);
    }
  }

  // ---- layout ----

  /**
   * Re-decides the layout; on a change every name holding a watch is retargeted. `attaching`:
   * the key of a registration whose name is being attached (counted as active; remembered as
   * the cause if it widens the group).
   */
  #evaluateScope(strict: boolean, how: { attaching?: string } = {}): void {
    let activeNames = how.attaching === undefined ? 0 : 1;
    for (const entry of this.names.values()) if (entry.state.phase !== 'released') activeNames++;
    const desired = desiredScope({
      policy: this.#deps.policy,
      current: this.scope,
      activeNames,
      strict,
      wideBlocked: this.#wideAccess.state === 'refused',
    });
    if (desired === this.scope) return;
    this.#deps.logger.info(
      { group: this.id, from: this.scope, to: desired, names: this.names.size },
      'informer sharing layout changes',
    );
    this.#layout = relaid(this.#layout, desired, how.attaching);
    for (const entry of this.names.values()) {
      if (entry.state.phase !== 'released') this.#retarget(entry);
    }
  }

  #retarget(entry: NameEntry): void {
    const target = this.#pool.acquire(this.scope, entry.name);
    const before = entry.state;
    this.#apply(entry, retargeted(before, target, this.#deps.now()));
    // A new hand-over (not one already going to `target`).
    if (entry.state !== before && entry.state.phase === 'handover') {
      this.#scheduleHandoverCheck();
      this.#tryCutover(entry);
    }
  }

  #tryCutover(entry: NameEntry): void {
    const { state } = entry;
    if (state.phase !== 'handover') return;
    const decision = cutoverDecision({
      nextSynced: state.next.synced,
      source: { synced: state.source.synced, state: state.source.view.get(entry.name) },
      nextState: state.next.view.get(entry.name),
    });
    if (decision !== 'wait') this.#cutover(entry, decision === 'forced');
  }

  #cutover(entry: NameEntry, forced: boolean): void {
    const { state } = entry;
    if (state.phase !== 'handover') return;
    const { source, next } = state;
    if (forced) {
      const reconciling = reconcilingDelta(source.view.get(entry.name), next.view.get(entry.name));
      if (reconciling) entry.deliver(reconciling);
    }
    this.#apply(entry, cutOver(state));
    this.#deps.metrics.migrations.inc({ to: next.scope, forced: String(forced) });
    this.#deps.logger.debug(
      { group: this.id, name: entry.name, from: source.id, to: next.id, forced },
      'informer name cut over',
    );
  }

  #scheduleHandoverCheck(): void {
    // Handovers start in time order, so an armed timer is already due no later than the new one.
    if (this.#handoverTimer || this.#disposed || this.#handovers.size === 0) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const { state } of this.#handovers) {
      if (state.phase === 'handover') earliest = Math.min(earliest, state.since);
    }
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
      const { state } = entry;
      if (state.phase !== 'handover' || now - state.since < this.#deps.handoverTimeoutMs) continue;
      if (state.next.synced) {
        this.#deps.logger.warn(
          { group: this.id, name: entry.name, from: state.source.id, to: state.next.id },
          'informer handover did not converge in time; forcing it with a reconciling event',
        );
        this.#cutover(entry, true);
      } else {
        // The new informer has not synced: the old one keeps delivering; check again later.
        this.#apply(entry, handoverRestarted(state, now));
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
}
