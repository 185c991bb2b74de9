/**
 * Shared vocabulary of the engine: objects, resources, events, handler contracts and
 * the reflector's observable status. Every other module in `src/kube/` and the layers
 * above it (`src/informer/`, `src/controller/`) speak in these types.
 *
 * @module
 */

/** A Kubernetes GroupVersionResource. The core group is the empty string. */
export interface GroupVersionResource {
  readonly group: string;
  readonly version: string;
  /** Plural, lower-case resource name, e.g. `deployments`. */
  readonly resource: string;
}

/** An owner reference as the API serves it. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** The parts of `metadata` the engine reads; everything else is carried through untouched. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  /** Opaque. Never compare two resourceVersions numerically (API conventions). */
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: unknown[];
  [field: string]: unknown;
}

/** Any Kubernetes object as plain JSON. Typed wrappers narrow it per kind. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/**
 * The metadata fields the engine itself reads (cache keys, change detection, logs). Every typed
 * object model has them, all optional: client-node's `V1ObjectMeta`, `kubernetes-types`'
 * `ObjectMeta`, a user's own interface.
 */
export interface ObjectMetaLike {
  readonly name?: string | undefined;
  readonly namespace?: string | undefined;
  readonly uid?: string | undefined;
  /** Opaque. Never compare two resourceVersions numerically (API conventions). */
  readonly resourceVersion?: string | undefined;
}

/**
 * What informers, stores, clients and the Manager require of an object type `T`: only the
 * metadata they read. So `V1ConfigMap` (`@kubernetes/client-node`), `ConfigMap`
 * (`kubernetes-types`) and plain user interfaces are accepted as they are, without casts;
 * {@link KubeObject} is the untyped default.
 *
 * Objects are decoded JSON, never class instances: a client-node model's `Date`-typed fields
 * (`metadata.creationTimestamp`, ...) hold the RFC 3339 strings the API sent.
 *
 * @example
 * ```ts
 * import type { V1ConfigMap } from '@kubernetes/client-node';
 * import { resources, SharedInformer } from 'elasti-informer';
 * const informer = new SharedInformer<V1ConfigMap>({ lw: client, target: { gvr: resources.configMaps.gvr } });
 * ```
 */
export interface KubeObjectLike {
  readonly metadata?: ObjectMetaLike | undefined;
}

/** Event types of the watch protocol. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/**
 * A BOOKMARK's object: no object, only a point in the stream (`metadata.resourceVersion`) and,
 * at the end of a streaming list's initial events, the `k8s.io/initial-events-end` annotation.
 */
export interface BookmarkObject {
  readonly kind?: string;
  readonly apiVersion?: string;
  readonly metadata: {
    readonly resourceVersion?: string;
    readonly annotations?: Readonly<Record<string, string>>;
  };
}

/**
 * One decoded watch event, by its type: an object change, a bookmark, or an in-stream error
 * (a `Status`). `KubeClient` turns `ERROR` into a thrown `KubeApiError`; another
 * `ListerWatcher` may yield it, and the reflector handles both.
 */
export type WatchEvent<T extends KubeObjectLike = KubeObject> =
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: T }
  | { readonly type: 'BOOKMARK'; readonly object: BookmarkObject }
  | { readonly type: 'ERROR'; readonly object: ApiStatus };

/** A watch event that carries an object (`ADDED`, `MODIFIED`, `DELETED`). */
export type ObjectWatchEvent<T extends KubeObjectLike = KubeObject> = Extract<
  WatchEvent<T>,
  { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' }
>;

/**
 * Narrows a watch event to one that carries an object.
 *
 * @example
 * ```ts
 * for await (const event of client.watch<ConfigMap>(target, { resourceVersion })) {
 *   if (isObjectEvent(event)) console.log(event.type, event.object.metadata.name);
 * }
 * ```
 */
export function isObjectEvent<T extends KubeObjectLike>(event: WatchEvent<T>): event is ObjectWatchEvent<T> {
  return event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED';
}

/** A `metav1.Status` object, as returned in error bodies and in-stream ERROR events. */
export interface ApiStatus {
  kind?: 'Status';
  apiVersion?: string;
  status?: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; retryAfterSeconds?: number; causes?: unknown[] };
}

/** Where a list/watch looks: one GVR, optionally one namespace, optionally filtered. */
export interface ListWatchTarget {
  readonly gvr: GroupVersionResource;
  /** Omit (or `undefined`) for all namespaces or a cluster-scoped resource. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/**
 * Extra information about a delete. `finalStateUnknown` is true when the object vanished
 * while the informer was disconnected and was only noticed by a relist; the object passed
 * along is then the last state the cache held, not the state at deletion
 * (client-go's `DeletedFinalStateUnknown`; here a flag instead of a wrapper type so that
 * handlers always receive an object of their type).
 */
export interface DeleteInfo {
  readonly finalStateUnknown: boolean;
}

/**
 * Callbacks of an informer handler. Each may be sync or async; an async handler is awaited
 * before the next event of the same registration is delivered, so per-object order holds.
 * Throwing or rejecting is caught, logged and counted; it never affects other handlers.
 */
export interface ResourceEventHandler<T extends KubeObjectLike = KubeObject> {
  /** `isInInitialList` is true for objects delivered as part of a (re)list or a late registration's replay. */
  onAdd?(obj: T, isInInitialList: boolean): void | Promise<void>;
  /** For a resync, `oldObj === newObj`. */
  onUpdate?(oldObj: T, newObj: T): void | Promise<void>;
  onDelete?(obj: T, info: DeleteInfo): void | Promise<void>;
}

/** Options of one handler registration. */
export interface HandlerOptions {
  /** Replay the cache to this handler as updates every period (ms). 0 or absent: never. */
  resyncPeriodMs?: number;
  /** A name for logs and metrics. */
  name?: string;
}

/** What `addEventHandler` returns. */
export interface HandlerRegistration {
  /** Stop delivering to this handler; queued events are dropped. Idempotent. */
  remove(): void;
  /** True once this handler has been handed every object of the initial state. */
  hasSynced(): boolean;
  /** Events queued for this handler and not yet delivered. */
  readonly queueDepth: number;
}

/** The phases of the reflector's state machine. */
export type ReflectorPhase = 'Idle' | 'Listing' | 'Watching' | 'Backoff' | 'Stopped';

/** A snapshot of the reflector's state, readable at any time. */
export interface ReflectorStatus {
  readonly phase: ReflectorPhase;
  /** When the current phase began (ms since epoch). */
  readonly phaseSince: number;
  /** True once the first complete list (or streaming initial state) has been stored. */
  readonly synced: boolean;
  readonly lastSyncResourceVersion: string | undefined;
  /** Last time any byte of protocol progress was seen: an event, a bookmark, a list page (ms since epoch). */
  readonly lastEventAt: number | undefined;
  readonly lastError: Error | undefined;
  /** Consecutive failures since the last healthy period (drives backoff). */
  readonly consecutiveFailures: number;
  readonly lists: number;
  readonly relists: number;
  readonly watchRestarts: number;
}

/** Structured logger; pino's Logger satisfies it. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** A logger that drops everything, the default when none is passed. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/** `namespace/name`, or `name` for cluster-scoped objects (client-go's MetaNamespaceKeyFunc). */
export function objectKey(obj: KubeObjectLike): string {
  const { namespace, name } = obj.metadata ?? {};
  return namespace ? `${namespace}/${name ?? ''}` : (name ?? '');
}

/** Formats a GVR for messages and keys: `deployments.v1.apps`, `services.v1` for core. */
export function formatGvr(gvr: GroupVersionResource): string {
  return gvr.group ? `${gvr.resource}.${gvr.version}.${gvr.group}` : `${gvr.resource}.${gvr.version}`;
}
