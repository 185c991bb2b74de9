/**
 * One watched object name inside a watch group: its registrations, the upstream delivering its
 * events (`source`), the one taking over during a hand-over (`next`) and what the health monitor
 * concluded about it (`gone`). The behaviour lives in `group.ts`; this is its state.
 *
 * @module
 */
import type { Delta, KubeObject } from '../kube/index.ts';
import type { Upstream } from './upstream.ts';

/** A registration as the group sees it. */
export interface GroupMember {
  readonly key: string;
  readonly name: string;
  deliver(change: Delta): void;
}

/** Why a name was declared gone. `object`: the object is gone, its watch stays. `final`: the watch was released. */
export type GoneKind = 'object' | 'final';

/** The registrations of one object name and the upstream(s) serving them. */
export class NameEntry {
  readonly name: string;
  readonly members = new Map<string, GroupMember>();
  /** The upstream whose events are delivered. Undefined only after a `final` gone. */
  source: Upstream | undefined;
  /** The upstream taking over in a migration. */
  next: Upstream | undefined;
  handoverSince: number | undefined;
  gone: GoneKind | undefined;
  /** A delete was synthesised for this name; the source's own delete for it must not repeat it. */
  syntheticDelete = false;
  /** Last target check (ms since epoch). */
  lastCheckAt: number | undefined;
  /**
   * Counts what reached this name's handlers (events, replays, synthesised changes). A target
   * check remembers it when it starts: if it moved by the time the answer arrives, the handlers
   * have seen something newer than that answer (e.g. the object recreated while a 404 was in
   * flight) and the answer must not be applied.
   */
  changes = 0;

  constructor(name: string) {
    this.name = name;
  }
}

/** Same state of one object: both absent, or the same resourceVersion (compared for equality only). */
export function sameState(a: KubeObject | undefined, b: KubeObject | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a === b) return true;
  const rvA = a.metadata.resourceVersion;
  return rvA !== undefined && rvA === b.metadata.resourceVersion;
}
