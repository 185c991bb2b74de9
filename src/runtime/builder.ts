/**
 * The controller builder (controller-runtime's `builder`, kube-rs's `Controller::new(..).owns(..)`):
 * what the controller reconciles (`for`), what it creates and must notice drifting (`owns`:
 * events mapped to the owner through the object's controller owner reference), anything else
 * it depends on (`watches` with a map function), predicates per watch, and tuning.
 *
 * Every watch is an informer of the shared {@link InformerCache}: two controllers watching the
 * same GVR × namespace × selectors share one watch.
 *
 * @module
 */
import type { Registry } from 'prom-client';
import type { GroupVersionResource, IndexFunc, KubeObject, KubeObjectLike, Logger } from '../kube/index.ts';
import type { InformerCache, InformerRequest, NamedTransform } from './cache.ts';
import { Controller, type ControllerOptions, type WatchSource } from './controller.ts';
import { ControllerRuntimeMetrics } from './metrics.ts';
import { controllerReferenceTo, type ResourceKind } from './owners.ts';
import type { Predicate } from './predicates.ts';
import type { ReconcileRequest, Reconciler } from './reconcile.ts';
import type { LabelSelectorInput } from './selectors.ts';

/** What a controller runs on. */
export interface ControllerDeps {
  /** Shared with other controllers (and other users of the cache): informers are shared by key. */
  readonly cache: InformerCache;
  readonly logger?: Logger;
  /** Where `controller_runtime_*` metrics go; none when absent. */
  readonly registry?: Registry;
}

/** Options of one watch (`for`, `owns`, `watches`). */
export interface ControllerWatchOptions<T extends KubeObjectLike> {
  readonly namespace?: string;
  /**
   * Several namespaces, one informer each (`--watch-namespace a,b`); wins over `namespace`.
   * Empty: all namespaces.
   */
  readonly namespaces?: readonly string[];
  /** The informer's name in logs and sync errors (default: the cache key). */
  readonly name?: string;
  /**
   * Whether `start()` fails when this watch does not sync in time (default true). An optional
   * watch that has not synced by the deadline is logged and the controller starts anyway.
   */
  readonly syncRequired?: boolean;
  readonly labelSelector?: LabelSelectorInput;
  readonly fieldSelector?: string;
  /** Cache `PartialObjectMetadata` only (owned Secrets or ConfigMaps whose data is not read). */
  readonly metadataOnly?: boolean;
  readonly transform?: NamedTransform<T>;
  readonly indexers?: Readonly<Record<string, IndexFunc<T>>>;
  /** All must pass for an event to enqueue (see `predicates.ts`). */
  readonly predicates?: readonly Predicate<T>[];
  /** Replay this watch's cache every period (ms), through the predicates. Default: never. */
  readonly resyncPeriodMs?: number;
}

/** The builder was used wrongly (no `for`, a bad option). */
export class ControllerBuildError extends TypeError {
  constructor(controller: string, problem: string) {
    super(`controller ${controller}: ${problem}`);
    this.name = 'ControllerBuildError';
  }
}

interface PendingWatch {
  readonly role: 'owns' | 'watches';
  readonly gvr: GroupVersionResource;
  readonly options: ControllerWatchOptions<KubeObjectLike>;
  readonly map?: (obj: KubeObjectLike) => readonly ReconcileRequest[];
}

/**
 * See the module documentation.
 *
 * @example
 * ```ts
 * import { resources, type ConfigMap } from 'elasti-informer';
 * import { ControllerBuilder, InformerCache, generationChanged } from 'elasti-informer/runtime';
 *
 * const widgets = { gvr: { group: 'example.com', version: 'v1', resource: 'widgets' }, kind: 'Widget' };
 * const cache = new InformerCache({ lw: client });
 * const controller = new ControllerBuilder('widgets', { cache, registry })
 *   .for<Widget>(widgets, { predicates: [generationChanged] })
 *   .owns(resources.configMaps, { metadataOnly: true })
 *   .watches(resources.secrets, (secret) => [{ namespace: secret.metadata?.namespace, name: 'all' }])
 *   .withOptions({ maxConcurrentReconciles: 4 })
 *   .build(async (req, { object, signal }) => {
 *     if (!object) return; // deleted
 *     await ensureConfigMap(object, signal);
 *     return { requeueAfterMs: 60_000 };
 *   });
 * await controller.start();
 * ```
 */
export class ControllerBuilder<T extends KubeObjectLike = KubeObject> {
  readonly #name: string;
  readonly #deps: ControllerDeps;
  #for: { kind: ResourceKind; options: ControllerWatchOptions<KubeObjectLike> } | undefined;
  readonly #watches: PendingWatch[] = [];
  #options: ControllerOptions = {};

  constructor(name: string, deps: ControllerDeps) {
    if (typeof name !== 'string' || name === '') throw new ControllerBuildError(String(name), 'needs a name');
    if (!deps?.cache) throw new ControllerBuildError(name, 'needs an InformerCache (deps.cache)');
    this.#name = name;
    this.#deps = deps;
  }

  /** The primary kind: its events enqueue its own `namespace/name`. Exactly once. */
  for<U extends KubeObjectLike>(
    kind: ResourceKind,
    options: ControllerWatchOptions<U> = {},
  ): ControllerBuilder<U> {
    if (this.#for) throw new ControllerBuildError(this.#name, 'for() was already called');
    if (!kind?.gvr || !kind.kind) throw new ControllerBuildError(this.#name, 'for() needs { gvr, kind }');
    this.#for = { kind, options: erase(options) };
    return this as unknown as ControllerBuilder<U>;
  }

  /**
   * Objects this controller creates: an event on one enqueues the primary object named by its
   * controller owner reference (group and kind of the `for` kind); objects without one are ignored.
   */
  owns<U extends KubeObjectLike>(
    resource: { readonly gvr: GroupVersionResource },
    options: ControllerWatchOptions<U> = {},
  ): this {
    this.#watches.push({ role: 'owns', gvr: resource.gvr, options: erase(options) });
    return this;
  }

  /** Any other source: `map` turns one of its objects into the requests to enqueue. */
  watches<U extends KubeObjectLike>(
    resource: { readonly gvr: GroupVersionResource },
    map: (obj: U) => readonly ReconcileRequest[],
    options: ControllerWatchOptions<U> = {},
  ): this {
    if (typeof map !== 'function')
      throw new ControllerBuildError(this.#name, 'watches() needs a map function');
    this.#watches.push({
      role: 'watches',
      gvr: resource.gvr,
      options: erase(options),
      map: map as (obj: KubeObjectLike) => readonly ReconcileRequest[],
    });
    return this;
  }

  /** Tuning: workers, rate limiter, cache sync timeout. */
  withOptions(options: ControllerOptions): this {
    const n = options.maxConcurrentReconciles;
    if (n !== undefined && (!Number.isInteger(n) || n < 1)) {
      throw new ControllerBuildError(
        this.#name,
        `maxConcurrentReconciles must be a positive integer, got ${n}`,
      );
    }
    this.#options = { ...this.#options, ...options };
    return this;
  }

  /** Acquires the informers from the cache and returns the (not yet started) controller. */
  build(reconciler: Reconciler<T>): Controller<T> {
    const primary = this.#for;
    if (!primary) throw new ControllerBuildError(this.#name, 'for() was not called');
    if (typeof reconciler !== 'function' && typeof reconciler?.reconcile !== 'function') {
      throw new ControllerBuildError(this.#name, 'build() needs a reconciler');
    }
    const { cache } = this.#deps;
    const namespaced = primary.kind.namespaced !== false;
    const primaryLeases = requestsOf(primary.kind.gvr, primary.options).map((r) => cache.acquire(r));
    const sources: WatchSource[] = primaryLeases.map((lease) =>
      source('for', lease, primary.options, (obj) => [
        { namespace: namespaced ? obj.metadata?.namespace : undefined, name: obj.metadata?.name ?? '' },
      ]),
    );
    for (const w of this.#watches) {
      const map =
        w.map ??
        ((obj: KubeObjectLike): ReconcileRequest[] => {
          const ref = controllerReferenceTo(obj, primary.kind);
          return ref ? [{ namespace: namespaced ? obj.metadata?.namespace : undefined, name: ref.name }] : [];
        });
      for (const request of requestsOf(w.gvr, w.options)) {
        sources.push(source(w.role, cache.acquire(request), w.options, map));
      }
    }
    const registry = this.#deps.registry;
    return new Controller<T>({
      name: this.#name,
      cache,
      primary: primaryLeases as never,
      sources,
      reconciler,
      options: this.#options,
      logger: this.#deps.logger,
      metrics: registry
        ? (c) =>
            new ControllerRuntimeMetrics(registry, this.#name, {
              queueDepth: () => c.queueLength,
              activeWorkers: () => c.activeWorkers,
            })
        : undefined,
    });
  }
}

/**
 * The builder keeps watches of different object types in one list; each watch's functions only
 * ever see objects of its own informer, so erasing `U` here is sound.
 */
function erase<U extends KubeObjectLike>(
  options: ControllerWatchOptions<U>,
): ControllerWatchOptions<KubeObjectLike> {
  return options as unknown as ControllerWatchOptions<KubeObjectLike>;
}

/** One informer request per namespace of `namespaces`, else one for `namespace` (or all). */
function requestsOf(
  gvr: GroupVersionResource,
  o: ControllerWatchOptions<KubeObjectLike>,
): InformerRequest<KubeObjectLike>[] {
  const namespaces = o.namespaces && o.namespaces.length > 0 ? [...new Set(o.namespaces)] : [o.namespace];
  return namespaces.map((namespace) => requestOf(gvr, o, namespace));
}

function requestOf(
  gvr: GroupVersionResource,
  o: ControllerWatchOptions<KubeObjectLike>,
  namespace: string | undefined,
): InformerRequest<KubeObjectLike> {
  return {
    gvr,
    namespace,
    name: o.name && namespace && o.namespaces?.length ? `${o.name}/${namespace}` : o.name,
    labelSelector: o.labelSelector,
    fieldSelector: o.fieldSelector,
    metadataOnly: o.metadataOnly,
    transform: o.transform,
    indexers: o.indexers,
  };
}

function source(
  role: string,
  lease: WatchSource['lease'],
  options: ControllerWatchOptions<KubeObjectLike>,
  map: WatchSource['map'],
): WatchSource {
  return {
    lease,
    role,
    map: (obj) => map(obj).filter((r) => r.name !== ''),
    predicates: options.predicates ?? [],
    resyncPeriodMs: options.resyncPeriodMs ?? 0,
    syncRequired: options.syncRequired ?? true,
  };
}
