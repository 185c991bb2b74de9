/**
 * One watched object name inside a watch group: its registrations, its serving state (a
 * {@link NameState} union: which upstream delivers its events, the one taking over during a
 * hand-over, what the health monitor concluded) and the count of what reached its handlers.
 * The state changes only in `group.ts`, through the pure transitions of `name-state.ts`.
 *
 * @module
 */
import type { Delta, KubeObject } from '../kube/index.ts';
import { type GoneKind, type NameState, UNATTACHED } from './name-state.ts';
import type { Upstream } from './upstream.ts';

/** A registration as the group sees it. */
export interface GroupMember {
  readonly key: string;
  readonly name: string;
  deliver(change: Delta): void;
}

/** The registrations of one object name and the upstream(s) serving them. */
export class NameEntry {
  readonly name: string;
  readonly members = new Map<string, GroupMember>();
  /** Assigned by `WatchGroup` only, one transition of `name-state.ts` at a time. */
  state: NameState<Upstream> = UNATTACHED;
  #changes = 0;

  constructor(name: string) {
    this.name = name;
  }

  /** The upstream whose events are delivered. Undefined only while no watch is held (see `released`). */
  get source(): Upstream | undefined {
    return this.state.phase === 'released' ? undefined : this.state.source;
  }

  /** The upstream taking over in a hand-over. */
  get next(): Upstream | undefined {
    return this.state.phase === 'handover' ? this.state.next : undefined;
  }

  /** What the health monitor concluded about the target, if anything. */
  get gone(): GoneKind | undefined {
    return this.state.gone;
  }

  /**
   * Counts what reached this name's handlers (events, replays, synthesised changes). A target
   * check remembers it when it starts: if it moved by the time the answer arrives, the handlers
   * have seen something newer than that answer (e.g. the object recreated while a 404 was in
   * flight) and the answer must not be applied.
   */
  get changes(): number {
    return this.#changes;
  }

  /** Delivers `change` to every registration of the name. */
  deliver(change: Delta): void {
    this.#changes++;
    for (const member of this.members.values()) member.deliver(change);
  }

  /** Replays the source's current object to `member` (an add in the initial list), if it has one. */
  replay(member: GroupMember): void {
    this.#changes++;
    const current = this.source?.view.get(this.name);
    if (current) member.deliver({ type: 'add', obj: current, isInInitialList: true });
  }
}

/** Same state of one object: both absent, or the same resourceVersion (compared for equality only). */
export function sameState(a: KubeObject | undefined, b: KubeObject | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a === b) return true;
  const rvA = a.metadata.resourceVersion;
  return rvA !== undefined && rvA === b.metadata.resourceVersion;
}
