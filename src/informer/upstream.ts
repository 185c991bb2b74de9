/**
 * One upstream informer (one list/watch against the API server) and its dispatcher.
 *
 * The informer gets exactly one handler, the dispatcher, whatever the number of registrations
 * it serves. The dispatcher keeps a *view*: for every object name, the object as of the last
 * event it received. The view is what a late registration is replayed from. The informer's own
 * cache cannot be used for that: the engine delivers to handlers asynchronously, so its cache can
 * be ahead of the event stream, and a replay from it followed by the still-queued events would
 * deliver states twice or out of order. The view holds references to the informer's objects, so
 * its cost is one Map entry per object.
 *
 * @module
 */
import type { Delta, HandlerRegistration, KubeObject, ListWatchTarget, Logger } from '../kube/index.ts';
import { Waiters } from '../kube/index.ts';
import { initialMemory, type MonitorMemory } from './health.ts';
import type { SharedInformerLike, UpstreamHealth, UpstreamInfo, UpstreamScope } from './types.ts';

/** Where an upstream reports what it saw. */
export interface UpstreamEvents {
  /** One change of the object called `name`, after the view was updated. */
  onChange(upstream: Upstream, name: string, change: Delta): void;
  /** The dispatcher has received the complete initial state. Called once. */
  onSynced(upstream: Upstream): void;
  /** A list or watch of the informer failed (it retries by itself). */
  onError(upstream: Upstream, error: Error, info: { status: number | undefined; failures: number }): void;
}

/** Rejection of {@link Upstream.whenSynced} when the upstream stopped first. */
export class UpstreamStoppedError extends Error {
  constructor(id: string) {
    super(`upstream informer ${id} stopped`);
    this.name = 'UpstreamStoppedError';
  }
}

/** What the health monitor needs of an informer it watches over (an {@link Upstream} or the resolver's). */
export interface MonitoredInformer {
  readonly id: string;
  readonly scope: UpstreamScope;
  readonly target: ListWatchTarget;
  readonly informer: SharedInformerLike;
  memory: MonitorMemory;
  health: UpstreamHealth;
}

/** How often the dispatcher's own sync state is polled after the informer reports synced. */
const HANDLER_SYNC_POLL_MS = 2;

/** An upstream informer shared by the registrations of one GVR × namespace (or of one name). */
export class Upstream implements MonitoredInformer {
  readonly id: string;
  readonly scope: Exclude<UpstreamScope, 'resolver'>;
  readonly target: ListWatchTarget;
  readonly informer: SharedInformerLike;
  /** Last object seen per name, as of the dispatcher's position in the event stream. */
  readonly view = new Map<string, KubeObject>();
  /** Names this upstream serves: delivering to them, or about to take them over. */
  readonly names = new Set<string>();
  /** The monitor's memory for this informer. */
  memory: MonitorMemory = initialMemory;
  health: UpstreamHealth = 'Starting';
  /** For a per-name upstream, the object name its field selector picks. */
  readonly objectName: string | undefined;

  readonly #events: UpstreamEvents;
  readonly #logger: Logger;
  readonly #abort = new AbortController();
  readonly #waiters = new Waiters();
  #registration: HandlerRegistration | undefined;
  #lifecycle: { remove(): void } | undefined;
  #synced = false;
  #stopping: Promise<void> | undefined;

  constructor(args: {
    id: string;
    scope: Exclude<UpstreamScope, 'resolver'>;
    target: ListWatchTarget;
    objectName: string | undefined;
    informer: SharedInformerLike;
    events: UpstreamEvents;
    logger: Logger;
  }) {
    this.id = args.id;
    this.objectName = args.objectName;
    this.scope = args.scope;
    this.target = args.target;
    this.informer = args.informer;
    this.#events = args.events;
    this.#logger = args.logger;
  }

  /** True once the dispatcher has received the informer's complete initial state. */
  get synced(): boolean {
    return this.#synced;
  }

  get stopped(): boolean {
    return this.#stopping !== undefined;
  }

  /** What `Manager.upstreams()` reports about this informer. */
  info(): UpstreamInfo {
    return {
      id: this.id,
      scope: this.scope,
      target: this.target,
      names: this.names.size,
      synced: this.synced,
      status: this.informer.status(),
      health: this.health,
      monitorRestarts: this.memory.restarts,
    };
  }

  /** Registers the dispatcher and starts the informer. Throws what the informer throws. */
  start(): void {
    this.#registration = this.informer.addEventHandler(
      {
        onAdd: (obj, isInInitialList) => this.#receive(obj, { type: 'add', obj, isInInitialList }, false),
        onUpdate: (oldObj, newObj) => this.#receive(newObj, { type: 'update', oldObj, newObj }, false),
        onDelete: (obj, info) =>
          this.#receive(obj, { type: 'delete', obj, finalStateUnknown: info.finalStateUnknown }, true),
      },
      { name: `informer-manager:${this.id}` },
    );
    this.#lifecycle = this.informer.addLifecycleListener?.({
      onError: (error, info) => {
        if (!this.stopped) this.#events.onError(this, error, info);
      },
    });
    this.informer.start();
    void this.#trackSync();
  }

  /** Resolves when {@link synced}; rejects with the signal's reason or {@link UpstreamStoppedError}. */
  whenSynced(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    if (this.stopped) return Promise.reject(new UpstreamStoppedError(this.id));
    return this.#waiters.wait(signal);
  }

  /** Stops the informer (idempotent); resolves once it has released its connection. */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#abort.abort();
    this.health = 'Stopped';
    this.#waiters.rejectAll(new UpstreamStoppedError(this.id));
    this.#registration?.remove();
    this.#lifecycle?.remove();
    this.#stopping = this.informer.stop().catch((error: unknown) => {
      this.#logger.warn({ err: error, upstream: this.id }, 'upstream informer failed to stop cleanly');
    });
    return this.#stopping;
  }

  #receive(obj: KubeObject, change: Delta, deleted: boolean): void {
    if (this.stopped) return;
    const name = obj?.metadata?.name;
    if (typeof name !== 'string') return;
    if (deleted) this.view.delete(name);
    else this.view.set(name, obj);
    this.#events.onChange(this, name, change);
  }

  async #trackSync(): Promise<void> {
    try {
      await this.informer.waitForSync(this.#abort.signal);
      // The informer's cache is synced; the dispatcher may still have queued initial events.
      while (!this.stopped && !(this.#registration?.hasSynced() ?? false)) {
        await new Promise((resolve) => setTimeout(resolve, HANDLER_SYNC_POLL_MS));
      }
    } catch {
      return; // stopped before sync: waiters were rejected by stop()
    }
    if (this.stopped) return;
    this.#synced = true;
    this.health = 'Healthy';
    this.#waiters.resolveAll();
    this.#events.onSynced(this);
  }
}
