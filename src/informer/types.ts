/**
 * Public vocabulary of the informer Manager: what a requester asks for ({@link RequestWatch}),
 * how a registration is named ({@link KeyParams}), how watches are shared ({@link SharingPolicy})
 * and what the Manager reports about itself ({@link RegistrationInfo}, {@link UpstreamInfo}).
 *
 * @module
 */
import type {
  GroupVersionResource,
  HandlerOptions,
  HandlerRegistration,
  KubeObject,
  KubeObjectLike,
  ListWatchTarget,
  ReflectorStatus,
  ResourceEventHandler,
} from '../kube/index.ts';

/** The object that asks for a watch: an ElastiService, by namespace and name. */
export interface Requester {
  readonly name: string;
  readonly namespace: string;
}

/**
 * A request to watch one object on behalf of one requester.
 *
 * Handlers receive the informer's objects (shared, read-only: never mutate them), not a copy
 * captured at registration. They should not capture the requester's spec either: an
 * ElastiService can change after the watch was added, so read its latest state from the CRD
 * directory or the controller's cache inside the handler.
 */
export interface RequestWatch<T extends KubeObjectLike = KubeObject> {
  /** The ElastiService that asks (upstream: the reconcile `ctrl.Request`). */
  readonly req: Requester;
  readonly resourceName: string;
  /** `''` for a cluster-scoped resource. */
  readonly resourceNamespace: string;
  readonly groupVersionResource: GroupVersionResource;
  readonly handlers: ResourceEventHandler<T>;
}

/**
 * The four parts of a registration key (upstream `KeyParams`).
 *
 * `resourceType` is the resource as {@link resourceTypeOf} spells it: the plural alone for the
 * core group (`services`), `plural.group` otherwise (`deployments.apps`). The upstream spelling
 * without the group (`deployments`) is accepted by `stopInformer` when it names exactly one
 * registration; see `key.ts`.
 */
export interface KeyParams {
  readonly namespace: string;
  readonly crdName: string;
  readonly resourceType: string;
  readonly resourceName: string;
}

/**
 * How RequestWatches on one GVR x namespace share upstream informers.
 *
 * - `per-name`: one informer per watched object name, list/watch filtered by
 *   `fieldSelector=metadata.name=<name>` (the upstream design, but still shared by every
 *   requester watching that same object).
 * - `namespace`: one informer per GVR x namespace, unfiltered; events are routed by name.
 * - `auto`: `per-name` while fewer than `autoThreshold` distinct names are watched in that
 *   GVR x namespace, `namespace` from `autoThreshold` on; back to `per-name` only when the count
 *   falls below `autoDowngradeBelow` (hysteresis, so a count oscillating around the threshold
 *   does not migrate back and forth).
 *
 * In every mode a namespace-wide watch is an optimisation, never a requirement: when its LIST or
 * WATCH is forbidden (403) while per-name ones are allowed — RBAC with `resourceNames` grants only
 * field-selected lists — the group goes back to per-name watches and tries namespace-wide again
 * after `forbiddenRetryMs` (doubling per refusal, at most one hour).
 */
export interface SharingPolicy {
  readonly mode: 'per-name' | 'namespace' | 'auto';
  /** Names per GVR x namespace at which `auto` switches to one namespace-wide watch. Default 25. */
  readonly autoThreshold?: number;
  /** Names below which `auto` goes back to per-name watches. Default `floor(autoThreshold / 2)`, at least 1. */
  readonly autoDowngradeBelow?: number;
  /** First wait before a namespace-wide watch refused with 403 is tried again (ms). Default 300 000. */
  readonly forbiddenRetryMs?: number;
}

/** Options of one `add`. */
export interface AddOptions {
  /** Bound on target check + initial sync (ms). Default: the Manager's `syncTimeoutMs` (30 s). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /**
   * Register the watch even when the target does not exist yet (its GET answers 404): the
   * handlers get `onAdd` when it is created. Without it such an `add` rejects with
   * `TargetNotFoundError`. Applies to the attempt this call starts; a call that joins an attempt
   * already in flight for the key gets that attempt's outcome.
   */
  readonly allowMissing?: boolean;
}

/** The subset of the engine's `SharedInformer` the Manager uses; the real class satisfies it. */
export interface SharedInformerLike<T extends KubeObjectLike = KubeObject> {
  start(): void;
  stop(): Promise<void>;
  addEventHandler(handler: ResourceEventHandler<T>, options?: HandlerOptions): HandlerRegistration;
  hasSynced(): boolean;
  waitForSync(signal?: AbortSignal): Promise<void>;
  status(): ReflectorStatus;
  restart(reason: string): void;
  /** Optional: the engine's informers have it; the Manager forwards their errors to its own listeners. */
  addLifecycleListener?(listener: {
    onError?(error: Error, info: { readonly status: number | undefined; readonly failures: number }): void;
  }): { remove(): void };
}

/** What {@link ManagerLifecycleListener.onUpstreamError} is told besides the error. */
export interface UpstreamErrorInfo {
  /** The upstream informer's id (as in `Manager.upstreams()`). */
  readonly upstream: string;
  readonly target: ListWatchTarget;
  /** HTTP status when the server answered (401, 403, 404, 410, 5xx…); `undefined` for transport failures. */
  readonly status: number | undefined;
  /** Consecutive failures before this one (0 for the first). */
  readonly failures: number;
  /** Registration keys this upstream serves: the requesters the failure delays. */
  readonly keys: readonly string[];
}

/**
 * Hooks on the Manager's life, to surface what `add` alone cannot show: an upstream watch that
 * keeps failing after its registrations became active (RBAC revoked, a namespace deleted), and
 * registrations changing state. Hooks run synchronously inside the Manager; a throwing hook is
 * logged and ignored. They observe; the Manager keeps retrying on its own.
 *
 * @example
 * ```ts
 * const listener = manager.addLifecycleListener({
 *   onUpstreamError: (error, info) => {
 *     if (info.status === 403) console.warn(`${info.upstream} forbidden (${info.keys.length} registrations wait): ${error.message}`);
 *   },
 *   onRegistrationState: (info, state) => console.info(`${info.key}: ${state}`),
 * });
 * // ... later
 * listener.remove();
 * ```
 */
export interface ManagerLifecycleListener {
  /** A list or watch of an upstream informer failed; it backs off and retries by itself. */
  onUpstreamError?(error: Error, info: UpstreamErrorInfo): void;
  /**
   * A registration became `Active` (its `add` resolved), its target was found gone (`TargetGone`),
   * or it was removed (`Removed`: `stopInformer`, `stopForCRD`, `stop`).
   */
  onRegistrationState?(
    info: RegistrationInfo,
    state: Exclude<RegistrationState, 'Syncing'> | 'Removed',
  ): void;
}

/**
 * Builds the upstream informer for one target; `name` is for logs and engine metrics.
 *
 * The informer may be shared with users outside the Manager (the runtime's
 * `leasingInformerFactory`: one lease on a cache informer per call). The Manager treats it as
 * its own either way, which stays correct because such a factory gives these meanings:
 * `stop()` releases only the Manager's hold (the watch ends with its last user, nobody else is
 * stopped), and the health monitor's `restart()` of a hung or stalled watch restarts the shared
 * informer — its reflector drops the watch and relists or resumes, keeping the store and every
 * handler — so every user, not only the Manager, receives what the hung watch missed as ordinary
 * events, once, and converges. Nobody sees a stop or a replay from scratch.
 */
export type InformerFactory = (target: ListWatchTarget, name: string) => SharedInformerLike;

/** Reads single objects; `KubeClient` satisfies it. Errors carry the HTTP status as `KubeApiError`. */
export interface ObjectReader {
  get<T extends KubeObjectLike = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    signal?: AbortSignal,
  ): Promise<T>;
}

/** Where the resolver Deployment lives (upstream: the resolver config). */
export interface ResolverConfig {
  readonly namespace: string;
  /** Default `elasti-resolver`. */
  readonly deploymentName?: string;
}

/** Thresholds of the health monitor. All in ms. */
export interface HealthBounds {
  /** A watch that has seen no protocol progress for this long is stalled. Default 150 000 (bookmarks come about once a minute). */
  readonly idleBoundMs: number;
  /** A list that has made no progress for this long is stuck. Default 60 000. */
  readonly listDeadlineMs: number;
  /** Staying in Backoff longer than this is stuck. Default 120 000. */
  readonly backoffBoundMs: number;
  /** Consecutive 403/404 failures after which the target is checked. Default 3. */
  readonly goneAfterFailures: number;
  /** Minimum time between two target checks of the same upstream (or name). Default 30 000. */
  readonly targetCheckIntervalMs: number;
}

/** The monitor's own restart backoff (per upstream informer). */
export interface RestartBackoff {
  readonly initialMs: number;
  readonly factor: number;
  readonly capMs: number;
  /** A healthy period this long forgets earlier restarts. */
  readonly resetAfterMs: number;
}

/**
 * State of a registration.
 * - `Syncing`: `add` is in progress (target checked, waiting for the informer's initial state).
 * - `Active`: delivering events.
 * - `TargetGone`: the object (or its namespace) was confirmed gone; a delete was delivered. If
 *   only the object is gone the watch stays and the state returns to `Active` when it is
 *   recreated; if the namespace is gone the watch is stopped (stop and re-add to watch again).
 */
export type RegistrationState = 'Syncing' | 'Active' | 'TargetGone';

/** One registration as `Manager.list()` reports it. */
export interface RegistrationInfo {
  readonly key: string;
  readonly requester: Requester;
  readonly gvr: GroupVersionResource;
  readonly namespace: string;
  readonly name: string;
  readonly state: RegistrationState;
  /** The upstream informer currently delivering this registration's events, if any. */
  readonly upstreamId: string | undefined;
  /** True while the name is being handed over between two upstream informers. */
  readonly migrating: boolean;
  readonly since: number;
  /**
   * Changes queued for this registration's handlers and not yet handed to them (a slow handler
   * builds a backlog here; other registrations are not held back by it).
   */
  readonly queueDepth: number;
}

/** The scope of an upstream informer. */
export type UpstreamScope = 'name' | 'namespace' | 'resolver';

/** Health as last judged by the monitor. */
export type UpstreamHealth = 'Starting' | 'Healthy' | 'Recovering' | 'Failing' | 'TargetGone' | 'Stopped';

/** One upstream informer (one list/watch) as `Manager.upstreams()` reports it. */
export interface UpstreamInfo {
  readonly id: string;
  readonly scope: UpstreamScope;
  readonly target: ListWatchTarget;
  /** Names this informer serves (delivering, or about to take over in a migration). */
  readonly names: number;
  readonly synced: boolean;
  readonly status: ReflectorStatus;
  readonly health: UpstreamHealth;
  /** Restarts ordered by the health monitor. */
  readonly monitorRestarts: number;
}
