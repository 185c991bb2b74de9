/**
 * Predicates: which informer events may enqueue a reconcile (controller-runtime's `predicate`
 * package). A predicate sees the event as the cache produced it (the engine's {@link Delta}:
 * `add`, `update` with old and new object, `delete`) and returns true to let it through. A
 * controller applies the predicates of a watch in order; all must pass.
 *
 * Updates where nothing of interest changed are the point: a resync replays every object as an
 * update with `oldObj === newObj`, a status write bumps only `resourceVersion`.
 *
 * @module
 */
import type { Delta, KubeObjectLike } from '../kube/index.ts';

/** Decides whether an event enqueues a reconcile. Must be pure and fast (it runs per event). */
export type Predicate<T extends KubeObjectLike = KubeObjectLike> = (event: Delta<T>) => boolean;

interface MetaView {
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
}
const meta = (obj: KubeObjectLike): MetaView => (obj.metadata ?? {}) as MetaView;

/**
 * Lets every add and delete through, and an update only when `pick` differs between the old and
 * the new object (compared as JSON, so key order of plain objects matters little in practice:
 * the API server keeps it stable).
 *
 * @example
 * ```ts
 * const replicasChanged = updateChanged((d: Deployment) => d.spec?.replicas);
 * ```
 */
export function updateChanged<T extends KubeObjectLike>(pick: (obj: T) => unknown): Predicate<T> {
  return (event) =>
    event.type !== 'update' || JSON.stringify(pick(event.oldObj)) !== JSON.stringify(pick(event.newObj));
}

/**
 * Updates pass only when `metadata.generation` changed: spec edits, not status writes or
 * metadata-only edits, nor resyncs. Objects without a generation (ConfigMaps) never pass an update.
 *
 * @example
 * ```ts
 * new ControllerBuilder('demo', deps).for(widgets, { predicates: [generationChanged] })
 * ```
 */
export const generationChanged: Predicate = (event) =>
  event.type !== 'update' ||
  (meta(event.newObj).generation !== undefined &&
    meta(event.oldObj).generation !== meta(event.newObj).generation);

/** Updates pass only when `metadata.labels` changed. */
export const labelsChanged: Predicate = updateChanged((obj) => sorted(meta(obj).labels));

/** Updates pass only when `metadata.annotations` changed. */
export const annotationsChanged: Predicate = updateChanged((obj) => sorted(meta(obj).annotations));

/** Drops resyncs: updates pass only when `metadata.resourceVersion` changed. */
export const resourceVersionChanged: Predicate = (event) =>
  event.type !== 'update' || meta(event.oldObj).resourceVersion !== meta(event.newObj).resourceVersion;

/** A predicate from separate decisions per event type; an omitted one lets its events through. */
export function predicateFor<T extends KubeObjectLike>(decide: {
  add?: (obj: T) => boolean;
  update?: (oldObj: T, newObj: T) => boolean;
  delete?: (obj: T) => boolean;
}): Predicate<T> {
  return (event) => {
    switch (event.type) {
      case 'add':
        return decide.add?.(event.obj) ?? true;
      case 'update':
        return decide.update?.(event.oldObj, event.newObj) ?? true;
      case 'delete':
        return decide.delete?.(event.obj) ?? true;
    }
  };
}

/** Passes when every predicate passes. */
export function and<T extends KubeObjectLike>(...predicates: Predicate<T>[]): Predicate<T> {
  return (event) => predicates.every((p) => p(event));
}

/** Passes when any predicate passes. */
export function or<T extends KubeObjectLike>(...predicates: Predicate<T>[]): Predicate<T> {
  return (event) => predicates.some((p) => p(event));
}

/** Passes when `predicate` does not. */
export function not<T extends KubeObjectLike>(predicate: Predicate<T>): Predicate<T> {
  return (event) => !predicate(event);
}

function sorted(record: Record<string, string> | undefined): [string, string][] {
  return Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
