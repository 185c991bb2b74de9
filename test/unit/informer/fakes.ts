/**
 * In-memory fakes of the Manager's own interfaces (`SharedInformerLike`, `InformerFactory`,
 * `ObjectReader`) over the one fake API server (`test/support/fake-api-server.ts`). No HTTP, no
 * Kubernetes API mock: a {@link FakeCluster} is that server's Manager-facing view (it holds the
 * objects); {@link FakeInformer}s list it and receive its change stream the way
 * the engine's informer would (replace on list, then one event per change), with knobs for
 * asynchronous delivery, lag (hold/release), list failures and arbitrary reflector status.
 */

import type { InformerFactory, ObjectReader, SharedInformerLike } from '../../../src/informer/types.ts';
import type {
  GroupVersionResource,
  HandlerOptions,
  HandlerRegistration,
  KubeObject,
  KubeObjectLike,
  ListWatchTarget,
  ReflectorStatus,
  ResourceEventHandler,
} from '../../../src/kube/core/types.ts';
import { FakeApiServer } from '../../support/fake-api-server.ts';

export const DEPLOYMENTS: GroupVersionResource = { group: 'apps', version: 'v1', resource: 'deployments' };
export const SERVICES: GroupVersionResource = { group: '', version: 'v1', resource: 'services' };

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** Options of a {@link FakeCluster}. */
export interface FakeClusterOptions {
  /** Handlers get events on a later macrotask, like the engine's processor. Default false (synchronous). */
  asyncDelivery?: boolean;
  /** Informers list by themselves on start (next macrotask). Default true. */
  autoList?: boolean;
}

/**
 * The Manager tests' view of the {@link FakeApiServer}: its informer factory (informers fed
 * from the server's change stream) and an `ObjectReader` with gates on GETs of objects.
 */
export class FakeCluster extends FakeApiServer implements ObjectReader {
  readonly informers: FakeInformer[] = [];
  readonly options: Required<FakeClusterOptions>;
  /** GET calls made, for assertions (`group/version/resource ns/name`). */
  readonly gets: string[] = [];
  /** When set, GETs of objects wait for this promise. */
  getGate: Promise<void> | undefined;
  /** When set, GETs of objects throw this. */
  getError: Error | undefined;
  /**
   * When set, GETs of objects read the cluster at once but answer only when this resolves: the
   * answer is then stale, as a response in flight while the object changes is.
   */
  answerGate: Promise<void> | undefined;
  /** Called for every informer the factory builds, before the Manager uses it. */
  onCreate: ((informer: FakeInformer) => void) | undefined;

  constructor(options: FakeClusterOptions = {}) {
    super();
    this.options = { asyncDelivery: options.asyncDelivery ?? false, autoList: options.autoList ?? true };
    this.subscribe(({ type, gvr, object }) => {
      for (const informer of this.informers) {
        if (informer.started && !informer.stopped && this.matches(informer.target, gvr, object))
          informer.receive(type, object);
      }
    });
  }

  /** The informer factory to inject into the Manager. */
  readonly factory: InformerFactory = (target, name) => {
    const informer = new FakeInformer(this, target, name);
    this.informers.push(informer);
    this.onCreate?.(informer);
    return informer;
  };

  /** Informers started and not stopped. */
  live(): FakeInformer[] {
    return this.informers.filter((i) => i.started && !i.stopped);
  }

  /** Creates or updates an object (its top-level fields from `data`) and tells the informers. */
  put(
    gvr: GroupVersionResource,
    namespace: string,
    name: string,
    data: Record<string, unknown> = {},
  ): KubeObject {
    return this.upsert(gvr, {
      apiVersion: gvr.group ? `${gvr.group}/${gvr.version}` : gvr.version,
      kind: 'Thing',
      metadata: { name, ...(namespace ? { namespace } : {}) },
      ...data,
    });
  }

  /** Removes an object (if present) and tells the informers. */
  remove(gvr: GroupVersionResource, namespace: string, name: string): void {
    this.erase(gvr, namespace || undefined, name);
  }

  override async get<T extends KubeObjectLike = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    signal?: AbortSignal,
  ): Promise<T> {
    if (gvr.group === '' && gvr.resource === 'namespaces') return super.get<T>(gvr, namespace, name, signal);
    this.gets.push(`${gvr.group}/${gvr.version}/${gvr.resource} ${namespace ?? ''}/${name}`);
    if (this.getGate) {
      const gate = this.getGate;
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal?.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
        void gate.then(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    signal?.throwIfAborted();
    if (this.getError) throw this.getError;
    // Read now (settled, so a NotFound waits for the gate unobserved), answer when the gate opens.
    const read = super.get<T>(gvr, namespace, name, signal).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    if (this.answerGate) await this.answerGate;
    const answer = await read;
    if ('error' in answer) throw answer.error;
    return answer.value;
  }
}

interface FakeHandler {
  readonly handler: ResourceEventHandler;
  readonly queue: (() => void | Promise<void>)[];
  enqueued: number;
  delivered: number;
  syncTarget: number | undefined;
  removed: boolean;
  running: boolean;
}

/** A fake of the engine's SharedInformer, fed by a {@link FakeCluster}. */
export class FakeInformer implements SharedInformerLike {
  readonly cluster: FakeCluster;
  readonly target: ListWatchTarget;
  readonly name: string;
  readonly store = new Map<string, KubeObject>();
  readonly handlers: FakeHandler[] = [];
  readonly restarts: string[] = [];
  started = false;
  stopped = false;
  synced = false;
  /** While true, incoming changes are buffered (a lagging watch). */
  held = false;
  readonly buffer: { type: EventType; obj: KubeObject }[] = [];
  statusOverride: Partial<ReflectorStatus> | undefined;
  /** Overrides the cluster's `autoList` for this informer. */
  autoList: boolean | undefined;
  lists = 0;
  #waiters: { resolve(): void; reject(e: unknown): void }[] = [];
  readonly createdAt = Date.now();

  constructor(cluster: FakeCluster, target: ListWatchTarget, name: string) {
    this.cluster = cluster;
    this.target = target;
    this.name = name;
  }

  start(): void {
    if (this.stopped) throw new Error('stopped');
    if (this.started) return;
    this.started = true;
    if (this.autoList ?? this.cluster.options.autoList) setImmediate(() => this.list());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const h of this.handlers) h.removed = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(new Error(`informer ${this.name} stopped`));
  }

  /**
   * The initial (or a re)list: replaces the store from the cluster (or from `snapshot`, e.g. a
   * stale one as a lagging watch cache would serve) and emits the differences.
   */
  list(snapshot?: KubeObject[]): void {
    if (!this.started || this.stopped) return;
    this.lists++;
    const fresh = new Map<string, KubeObject>();
    for (const obj of snapshot ?? this.cluster.select(this.target)) fresh.set(obj.metadata.name ?? '', obj);
    const initial = !this.synced;
    for (const [name, obj] of fresh) {
      const old = this.store.get(name);
      if (!old) this.#emit((h) => h.onAdd?.(obj, initial));
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion)
        this.#emit((h) => h.onUpdate?.(old, obj));
    }
    for (const [name, old] of this.store) {
      if (!fresh.has(name)) this.#emit((h) => h.onDelete?.(old, { finalStateUnknown: true }));
    }
    this.store.clear();
    for (const [name, obj] of fresh) this.store.set(name, obj);
    if (!this.synced) {
      this.synced = true;
      for (const h of this.handlers) h.syncTarget ??= h.enqueued;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w.resolve();
    }
  }

  receive(type: EventType, obj: KubeObject): void {
    // Before the first list the change is part of what that list will read.
    if (!this.synced) return;
    if (this.held) {
      this.buffer.push({ type, obj });
      return;
    }
    this.#apply(type, obj);
  }

  hold(): void {
    this.held = true;
  }

  /** Delivers buffered changes (stale ones are skipped as a real watch from a later RV would). */
  release(): void {
    this.held = false;
    const buffered = this.buffer.splice(0);
    for (const { type, obj } of buffered) this.#apply(type, obj);
  }

  #apply(type: EventType, obj: KubeObject): void {
    const name = obj.metadata.name ?? '';
    const old = this.store.get(name);
    if (type === 'DELETED') {
      if (!old) return;
      this.store.delete(name);
      this.#emit((h) => h.onDelete?.(obj, { finalStateUnknown: false }));
      return;
    }
    this.store.set(name, obj);
    if (old) this.#emit((h) => h.onUpdate?.(old, obj));
    else this.#emit((h) => h.onAdd?.(obj, false));
  }

  addEventHandler(handler: ResourceEventHandler, _options?: HandlerOptions): HandlerRegistration {
    if (this.stopped) throw new Error('stopped');
    const h: FakeHandler = {
      handler,
      queue: [],
      enqueued: 0,
      delivered: 0,
      syncTarget: undefined,
      removed: false,
      running: false,
    };
    this.handlers.push(h);
    if (this.synced) {
      for (const obj of this.store.values()) this.#enqueue(h, () => handler.onAdd?.(obj, true));
      h.syncTarget = h.enqueued;
    }
    return {
      remove: () => {
        h.removed = true;
      },
      hasSynced: () => h.syncTarget !== undefined && h.delivered >= h.syncTarget,
      get queueDepth() {
        return h.queue.length;
      },
    };
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error('stopped'));
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      this.#waiters.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  status(): ReflectorStatus {
    const base: ReflectorStatus = {
      phase: this.stopped ? 'Stopped' : !this.started ? 'Idle' : this.synced ? 'Watching' : 'Listing',
      phaseSince: this.createdAt,
      synced: this.synced,
      lastSyncResourceVersion: undefined,
      lastEventAt: Date.now(),
      lastError: undefined,
      consecutiveFailures: 0,
      lists: this.lists,
      relists: Math.max(0, this.lists - 1),
      watchRestarts: this.restarts.length,
    };
    return { ...base, ...this.statusOverride };
  }

  restart(reason: string): void {
    this.restarts.push(reason);
  }

  readonly #lifecycle = new Set<{
    onError?(error: Error, info: { status: number | undefined; failures: number }): void;
  }>();

  addLifecycleListener(listener: {
    onError?(error: Error, info: { status: number | undefined; failures: number }): void;
  }): { remove(): void } {
    this.#lifecycle.add(listener);
    return { remove: () => void this.#lifecycle.delete(listener) };
  }

  /** Reports a list/watch failure to the lifecycle listeners, as the engine's reflector would. */
  fail(error: Error, status: number | undefined, failures = 0): void {
    for (const l of this.#lifecycle) l.onError?.(error, { status, failures });
  }

  handlerCount(): number {
    return this.handlers.filter((h) => !h.removed).length;
  }

  #emit(call: (h: ResourceEventHandler) => void | Promise<void>): void {
    for (const h of this.handlers) {
      if (!h.removed) this.#enqueue(h, () => call(h.handler));
    }
  }

  #enqueue(h: FakeHandler, fn: () => void | Promise<void>): void {
    h.enqueued++;
    if (!this.cluster.options.asyncDelivery) {
      void fn();
      h.delivered++;
      return;
    }
    h.queue.push(fn);
    if (!h.running) {
      h.running = true;
      setImmediate(() => void this.#drain(h));
    }
  }

  async #drain(h: FakeHandler): Promise<void> {
    while (h.queue.length > 0 && !h.removed) {
      const fn = h.queue.shift() as () => void | Promise<void>;
      await fn();
      h.delivered++;
      // Interleave with other handlers and timers, as the engine does.
      if (h.delivered % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    h.running = false;
  }
}

/** A recording handler set. */
export interface Recorder {
  readonly events: string[];
  readonly handlers: ResourceEventHandler;
}

/** Records `add:name:rv[:initial]`, `update:name:oldRv>newRv`, `delete:name:rv[:unknown]`. */
export function recorder(): Recorder {
  const events: string[] = [];
  return {
    events,
    handlers: {
      onAdd: (obj, initial) => {
        events.push(`add:${obj.metadata.name}:${obj.metadata.resourceVersion}${initial ? ':initial' : ''}`);
      },
      onUpdate: (oldObj, newObj) => {
        events.push(
          `update:${newObj.metadata.name}:${oldObj.metadata.resourceVersion}>${newObj.metadata.resourceVersion}`,
        );
      },
      onDelete: (obj, info) => {
        events.push(
          `delete:${obj.metadata.name}:${obj.metadata.resourceVersion}${info.finalStateUnknown ? ':unknown' : ''}`,
        );
      },
    },
  };
}

/** A seeded PRNG (mulberry32): same seed, same sequence. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
