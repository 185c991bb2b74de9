/**
 * The cache as an informer factory for code that builds and stops its own informers — the
 * informer Manager (`InformerFactory` of `src/informer/types.ts`, matched structurally: the
 * runtime does not import the informer layer). Each call takes one lease on the cache's shared
 * informer for the target; the informer it returns is that lease:
 *
 * - `start()` starts the shared informer (a no-op when another user already did);
 * - `addEventHandler` and `addLifecycleListener` are removed again by `stop()`;
 * - `stop()` releases the lease, so the watch ends only when the last user lets go — other
 *   users never see a stop they did not ask for;
 * - `restart(reason)` restarts the SHARED informer (the health monitor's answer to a hung or
 *   stalled watch): its reflector drops the watch and relists, keeping its store and every
 *   handler, so every user — not only the one that asked — sees the relist's differences as
 *   ordinary add/update/delete events and converges on the current state. Nobody is stopped,
 *   nobody's handler is replayed from scratch. Restarting a watch that is hung for one user is
 *   right for all: they share the same connection.
 *
 * The cache's informers must be the engine's `SharedInformer` (the default) or offer its
 * `status()` and `restart()`: an informer without them cannot be judged or restarted, and the
 * factory refuses it with a `TypeError`.
 *
 * @module
 */
import type {
  HandlerOptions,
  HandlerRegistration,
  InformerLifecycleListener,
  KubeObject,
  LifecycleRegistration,
  ListWatchTarget,
  ReadonlyStore,
  ReflectorStatus,
  ResourceEventHandler,
} from '../kube/index.ts';
import { CacheStoppedError, type InformerCache, type InformerLease, type InformerRequest } from './cache.ts';

/** One lease on a cache informer, shaped as an informer its user starts and stops. */
export interface LeasedInformer<T extends KubeObject = KubeObject> {
  /** The shared informer's name (its first requester's). */
  readonly name: string;
  /** The cache key: two leases with the same key share one watch. */
  readonly key: string;
  readonly store: ReadonlyStore<T>;
  /** Starts the shared informer if nobody has. Throws after {@link stop}. */
  start(): void;
  /** Releases the lease (removing this user's handlers and listeners); the last one ends the watch. */
  stop(): Promise<void>;
  hasSynced(): boolean;
  waitForSync(signal?: AbortSignal): Promise<void>;
  addEventHandler(handler: ResourceEventHandler<T>, options?: HandlerOptions): HandlerRegistration;
  status(): ReflectorStatus;
  /** Restarts the shared informer for every user (see the module documentation). */
  restart(reason: string): void;
  addLifecycleListener(listener: InformerLifecycleListener): LifecycleRegistration;
}

/** A factory of {@link LeasedInformer}s: see {@link leasingInformerFactory}. */
export type LeasingInformerFactory = (target: ListWatchTarget, name: string) => LeasedInformer;

/**
 * `cache` as an informer factory (the Manager's `informerFactory`): each call is one lease on
 * the shared informer of `target`; `name` names the informer when this call creates it.
 * Throws what `acquire` throws (`CacheStoppedError` once the cache stopped).
 *
 * @example
 * ```ts
 * const cache = new InformerCache({ lw: client });
 * const manager = new Manager({ client, informerFactory: leasingInformerFactory(cache) });
 * // a Manager RequestWatch and a controller's watches() on the same GVR × namespace: one watch
 * ```
 */
export function leasingInformerFactory(cache: InformerCache): LeasingInformerFactory {
  return (target, name) => leasedInformer(cache.acquire(requestOfTarget(target, name)));
}

/** The cache request standing for a list/watch target (the sharing key follows from it). */
export function requestOfTarget(target: ListWatchTarget, name: string): InformerRequest<KubeObject> {
  return {
    gvr: target.gvr,
    namespace: target.namespace,
    labelSelector: target.labelSelector,
    fieldSelector: target.fieldSelector,
    name,
  };
}

/** `lease` as a {@link LeasedInformer}. @throws {TypeError} when its informer lacks `status`/`restart`. */
export function leasedInformer(lease: InformerLease<KubeObject>): LeasedInformer {
  const shared = lease.informer;
  const { status, restart } = shared;
  if (!status || !restart) {
    void lease.release();
    throw new TypeError(`informer ${shared.name} has no status() or restart(): it cannot be leased as one`);
  }
  const listeners: LifecycleRegistration[] = [];
  let stopped = false;
  return {
    name: shared.name,
    key: lease.key,
    store: shared.store,
    start: () => {
      if (stopped) throw new CacheStoppedError(`lease on ${lease.key} was released`);
      shared.start();
    },
    stop: async () => {
      stopped = true;
      for (const l of listeners.splice(0)) l.remove();
      await lease.release();
    },
    hasSynced: () => shared.hasSynced(),
    waitForSync: (signal) => shared.waitForSync(signal),
    addEventHandler: (handler, options) => lease.addEventHandler(handler, options),
    status: () => status.call(shared),
    restart: (reason) => restart.call(shared, reason),
    addLifecycleListener: (listener) => {
      if (stopped || !shared.addLifecycleListener) return { remove: () => {} };
      const registration = shared.addLifecycleListener(listener);
      listeners.push(registration);
      return registration;
    },
  };
}
