/**
 * THE in-memory fake API server of the unit tests: one store of objects keyed by GVR ×
 * namespace × name, one global revision counter (string resourceVersions), an event history
 * with a compaction floor, and the list/watch protocol over them — paged lists with expirable
 * continue tokens, watches from a revision (410 `Expired` below the floor), bookmarks,
 * `sendInitialEvents` streaming lists, label and field selectors — plus the write verbs with
 * finalizer-aware deletion, merge patch and the status subresource, namespaces that terminate,
 * and scripted faults (an error or a hang for the next matching call of a verb).
 *
 * It implements OUR interfaces only (`ListerWatcher`, the runtime's `ResourceClient`, the
 * Manager's `ObjectReader`); no HTTP, never a mock of the Kubernetes API. The per-seam fakes
 * (`FakeApi` for reflectors, the Manager's `FakeCluster`/`FakeInformer`, the controller's
 * `FakeCluster`) are thin adapters over it, so stored state and its protocol exist once.
 */
import { randomUUID } from 'node:crypto';
import type { PatchType } from '../../src/kube/client/client.ts';
import type { ListerWatcher, ListOptions, ListPage, WatchOptions } from '../../src/kube/core/contracts.ts';
import type {
  GroupVersionResource,
  KubeObject,
  KubeObjectLike,
  ListWatchTarget,
  WatchEvent,
} from '../../src/kube/core/types.ts';
import { type Fault, FaultScript, ListSnapshots, type Verb, WatchHub } from './fake-api-protocol.ts';
import { apiError, fieldsMatch, gvrId, labelsMatch, mergePatch, specChanged } from './fake-api-rules.ts';

/** One call the server received. */
export interface Call {
  readonly verb: Verb;
  readonly resource: string;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
}

/** One change of the stored state, as the history and the watches see it. */
export interface Change {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly gvr: GroupVersionResource;
  readonly object: KubeObject;
  readonly revision: number;
}

/** Options of a {@link FakeApiServer}. */
export interface FakeApiServerOptions {
  /** The revision before the first write. Default 100. */
  initialRevision?: number;
}

const NAMESPACES = 'namespaces';

function storeKey(gvr: GroupVersionResource, namespace: string | undefined, name: string): string {
  return `${gvrId(gvr)}|${namespace ?? ''}|${name}`;
}

function byNamespaceAndName(a: KubeObject, b: KubeObject): number {
  const ka = `${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}`;
  const kb = `${b.metadata.namespace ?? ''}/${b.metadata.name ?? ''}`;
  return ka.localeCompare(kb);
}

/** The in-memory API server. See the module comment. */
export class FakeApiServer implements ListerWatcher {
  /** The revision of the last write; every write takes the next one. */
  revision: number;
  /** Watches from a revision below this fail with 410 `Expired`. */
  compactedBelow = 0;
  /** Every change since the server started (watches replay it from their revision). */
  readonly history: Change[] = [];
  /** Namespaces seen (a namespaced write registers its namespace) and whether they terminate. */
  readonly namespaces = new Map<string, { terminating: boolean }>();
  /** Every call, in order (`clearCalls` empties it). */
  readonly calls: Call[] = [];
  /** The options of every list / watch call (signals dropped). */
  readonly listCalls: ListOptions[] = [];
  readonly watchCalls: WatchOptions[] = [];
  /** Called before serving a list (after scripted faults); may throw (e.g. a 403 until granted). */
  beforeList: ((options: ListOptions) => void) | undefined;
  /** Called after serving the n-th list page. */
  afterList: ((served: number) => void) | undefined;
  listsServed = 0;
  /** Streaming lists end their initial events with the `k8s.io/initial-events-end` bookmark (false: an old server). */
  sendInitialEventsEnd = true;
  /** Reject `sendInitialEvents` with this error (a server without the feature). */
  rejectStreaming: Error | undefined;
  readonly #objects = new Map<string, { gvr: GroupVersionResource; object: KubeObject }>();
  readonly #faults = new FaultScript();
  readonly #listeners = new Set<(change: Change) => void>();
  readonly #watches = new WatchHub();
  readonly #lists = new ListSnapshots();

  constructor(options: FakeApiServerOptions = {}) {
    this.revision = options.initialRevision ?? 100;
  }

  // --- test controls -------------------------------------------------------------------------

  /**
   * The next `times` calls of `verb` (any of them, when several; on `resource`, when given) meet
   * `fault`. Faults play in the order they were injected.
   */
  injectFault(
    verb: Verb | readonly Verb[],
    fault: Fault,
    options: { resource?: string; times?: number } = {},
  ): void {
    this.#faults.inject(verb, fault, options);
  }

  /** Snapshots behind continue tokens; clearing them expires every token. */
  get snapshots(): Map<string, { items: KubeObject[]; revision: number }> {
    return this.#lists.snapshots;
  }

  /** Calls `listener` synchronously with every change; returns the unsubscribe. */
  subscribe(listener: (change: Change) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  clearCalls(): void {
    this.calls.length = 0;
  }

  /** Compaction: watches from before now get 410. */
  compact(): void {
    this.compactedBelow = this.revision + 1;
  }

  /** Sends a BOOKMARK at the current revision to every open watch. */
  bookmark(): void {
    this.#watches.bookmark(this.revision);
  }

  /** Ends every open watch normally (server-side timeout). */
  closeWatches(): void {
    this.#watches.closeAll();
  }

  /** Fails every open watch with `error` (in-stream ERROR or broken connection). */
  failWatches(error: Error): void {
    this.#watches.failAll(error);
  }

  /** Stops delivering to open watches without closing them. */
  freezeWatches(): void {
    this.#watches.freezeAll();
  }

  get openWatches(): number {
    return this.#watches.size;
  }

  // --- direct state access (no call logged, no fault): a test's setup or another actor -------

  /** A copy of the stored object, or undefined. */
  peek<T extends KubeObjectLike = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
  ): T | undefined {
    const entry = this.#objects.get(storeKey(gvr, namespace, name));
    return entry ? (structuredClone(entry.object) as unknown as T) : undefined;
  }

  /** Copies of the objects a target selects (namespace, label and field selectors), sorted by namespace/name. */
  select<T extends KubeObject = KubeObject>(target: ListWatchTarget): T[] {
    const out: KubeObject[] = [];
    for (const { gvr, object } of this.#objects.values()) {
      if (this.matches(target, gvr, object)) out.push(structuredClone(object));
    }
    return out.sort(byNamespaceAndName) as T[];
  }

  /** Whether `object` of `gvr` is in what `target` selects. */
  matches(target: ListWatchTarget, gvr: GroupVersionResource, object: KubeObject): boolean {
    if (gvrId(gvr) !== gvrId(target.gvr)) return false;
    if (target.namespace !== undefined && (object.metadata.namespace ?? '') !== target.namespace)
      return false;
    return (
      labelsMatch(object.metadata.labels, target.labelSelector) && fieldsMatch(object, target.fieldSelector)
    );
  }

  /**
   * Creates or updates `obj` without preconditions: a kept uid and creation time, a new
   * resourceVersion, the generation bumped when the spec changed; one change recorded.
   */
  upsert<T extends KubeObjectLike = KubeObject>(gvr: GroupVersionResource, input: T): T {
    const obj = input as unknown as KubeObject;
    const key = storeKey(gvr, obj.metadata.namespace, obj.metadata.name ?? '');
    const existing = this.#objects.get(key)?.object;
    const written = existing ? this.#update(gvr, key, existing, obj, false) : this.#insert(gvr, key, obj);
    return written as unknown as T;
  }

  /** Removes an object outright (finalizers ignored), recording DELETED; false when absent. */
  erase(gvr: GroupVersionResource, namespace: string | undefined, name: string): boolean {
    const key = storeKey(gvr, namespace, name);
    const existing = this.#objects.get(key)?.object;
    if (!existing) return false;
    this.#remove(gvr, key, existing);
    return true;
  }

  /** Registers a namespace (not terminating) if unknown. */
  ensureNamespace(namespace: string | undefined): void {
    if (namespace && !this.namespaces.has(namespace)) this.namespaces.set(namespace, { terminating: false });
  }

  /**
   * Deletes a namespace as the namespace controller does: it terminates, every object in it is
   * deleted (finalizer-aware), and it is gone once it is empty.
   */
  deleteNamespace(namespace: string): void {
    const ns = this.namespaces.get(namespace);
    if (ns) ns.terminating = true;
    for (const [key, { gvr, object }] of [...this.#objects]) {
      if (object.metadata.namespace === namespace) this.#delete(gvr, key, object);
    }
    if (![...this.#objects.values()].some((e) => e.object.metadata.namespace === namespace)) {
      this.namespaces.delete(namespace);
    }
  }

  // --- the API verbs (logged, faults apply) ---------------------------------------------------

  async get<T extends KubeObjectLike = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    signal?: AbortSignal,
  ): Promise<T> {
    await this.#enter('get', gvr, namespace, name, signal);
    if (gvr.group === '' && gvr.resource === NAMESPACES) {
      const ns = this.namespaces.get(name);
      if (!ns) throw apiError(404, 'NotFound', { verb: 'get', what: `namespaces ${name}`, gvr });
      const deleting = ns.terminating ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {};
      return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...deleting } } as unknown as T;
    }
    return this.#existing(gvr, namespace, name, 'get') as unknown as T;
  }

  async list<T extends KubeObjectLike = KubeObject>(
    target: ListWatchTarget,
    options: ListOptions = {},
  ): Promise<ListPage<T>> {
    this.listCalls.push({ ...options, signal: undefined });
    await this.#enter('list', target.gvr, target.namespace, undefined, options.signal);
    this.beforeList?.(options);
    const page = this.#lists.page(options, () => ({ items: this.select(target), revision: this.revision }));
    this.listsServed += 1;
    this.afterList?.(this.listsServed);
    return page as unknown as ListPage<T>;
  }

  watch<T extends KubeObjectLike = KubeObject>(
    target: ListWatchTarget,
    options: WatchOptions,
  ): AsyncIterable<WatchEvent<T>> {
    this.watchCalls.push({ ...options, signal: undefined });
    return this.#stream(target, options) as AsyncIterable<WatchEvent<T>>;
  }

  async create<T extends KubeObjectLike = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    input: T,
  ): Promise<T> {
    const obj = input as unknown as KubeObject;
    await this.#enter('create', gvr, namespace, obj.metadata.name);
    const what = `${gvr.resource} ${namespace ?? ''}/${obj.metadata.name ?? ''}`;
    if (namespace && this.namespaces.get(namespace)?.terminating) {
      throw apiError(403, 'Forbidden', {
        verb: 'create',
        what: `${what}: namespace ${namespace} is terminating`,
      });
    }
    const key = storeKey(gvr, namespace, obj.metadata.name ?? '');
    if (this.#objects.has(key)) throw apiError(409, 'AlreadyExists', { verb: 'create', what, gvr });
    const fresh = structuredClone(obj);
    fresh.metadata.namespace = namespace;
    delete fresh.metadata.uid;
    delete fresh.metadata.creationTimestamp;
    return this.#insert(gvr, key, fresh) as unknown as T;
  }

  async replace<T extends KubeObjectLike = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    input: T,
  ): Promise<T> {
    const obj = input as unknown as KubeObject;
    await this.#enter('replace', gvr, namespace, name);
    const existing = this.#existing(gvr, namespace, name, 'replace');
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== existing.metadata.resourceVersion) {
      throw apiError(409, 'Conflict', {
        verb: 'replace',
        what: `${gvr.resource} ${namespace ?? ''}/${name}`,
        gvr,
      });
    }
    return this.#update(gvr, storeKey(gvr, namespace, name), existing, obj, false) as unknown as T;
  }

  /** A merge patch of the object (its `status` ignored, as the main resource does). */
  async patch<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    body: unknown,
    type: PatchType,
  ): Promise<T> {
    await this.#enter('patch', gvr, namespace, name);
    return this.#merge<T>(gvr, namespace, name, body, type, false);
  }

  /** A merge patch of the status subresource: only `status` changes, the generation never. */
  async patchStatus<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    body: unknown,
    type: PatchType,
  ): Promise<T> {
    await this.#enter('patchStatus', gvr, namespace, name);
    return this.#merge<T>(gvr, namespace, name, body, type, true);
  }

  /** Deletes; with finalizers left, only marks `deletionTimestamp` (the object stays). */
  async delete(gvr: GroupVersionResource, namespace: string | undefined, name: string): Promise<void> {
    await this.#enter('delete', gvr, namespace, name);
    const existing = this.#existing(gvr, namespace, name, 'delete');
    this.#delete(gvr, storeKey(gvr, namespace, name), existing);
  }

  // --- internals -----------------------------------------------------------------------------

  /** Logs the call, then plays the first matching scripted fault. */
  async #enter(
    verb: Verb,
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    this.calls.push({ verb, resource: gvr.resource, namespace, name });
    await this.#faults.play(verb, gvr.resource, signal);
  }

  #existing(gvr: GroupVersionResource, namespace: string | undefined, name: string, verb: Verb): KubeObject {
    const entry = this.#objects.get(storeKey(gvr, namespace, name));
    if (!entry)
      throw apiError(404, 'NotFound', { verb, what: `${gvr.resource} ${namespace ?? ''}/${name}`, gvr });
    return structuredClone(entry.object);
  }

  #insert<T extends KubeObject>(gvr: GroupVersionResource, key: string, obj: T): T {
    const stored = structuredClone(obj);
    this.ensureNamespace(stored.metadata.namespace);
    stored.metadata.uid ??= randomUUID();
    stored.metadata.creationTimestamp ??= new Date().toISOString();
    stored.metadata.generation = 1;
    stored.metadata.resourceVersion = String(++this.revision);
    this.#objects.set(key, { gvr, object: stored });
    return this.#record('ADDED', gvr, stored);
  }

  /** The new state of an existing object; removed when it is deleting and has no finalizer left. */
  #update<T extends KubeObject>(
    gvr: GroupVersionResource,
    key: string,
    existing: KubeObject,
    next: T,
    statusOnly: boolean,
  ): T {
    const stored = structuredClone(next);
    stored.metadata.uid = existing.metadata.uid;
    stored.metadata.creationTimestamp = existing.metadata.creationTimestamp;
    if (existing.metadata.deletionTimestamp)
      stored.metadata.deletionTimestamp = existing.metadata.deletionTimestamp;
    const generation = existing.metadata.generation ?? 1;
    stored.metadata.generation = !statusOnly && specChanged(existing, stored) ? generation + 1 : generation;
    stored.metadata.resourceVersion = String(++this.revision);
    if (stored.metadata.deletionTimestamp && (stored.metadata.finalizers ?? []).length === 0) {
      this.#objects.delete(key);
      return this.#record('DELETED', gvr, stored);
    }
    this.#objects.set(key, { gvr, object: stored });
    return this.#record('MODIFIED', gvr, stored);
  }

  #delete(gvr: GroupVersionResource, key: string, existing: KubeObject): void {
    if ((existing.metadata.finalizers ?? []).length === 0) {
      this.#remove(gvr, key, existing);
      return;
    }
    if (existing.metadata.deletionTimestamp) return;
    const marked = structuredClone(existing);
    marked.metadata.deletionTimestamp = new Date().toISOString();
    marked.metadata.generation = (existing.metadata.generation ?? 1) + 1;
    marked.metadata.resourceVersion = String(++this.revision);
    this.#objects.set(key, { gvr, object: marked });
    this.#record('MODIFIED', gvr, marked);
  }

  #remove(gvr: GroupVersionResource, key: string, existing: KubeObject): void {
    this.#objects.delete(key);
    const gone = structuredClone(existing);
    gone.metadata.resourceVersion = String(++this.revision);
    this.#record('DELETED', gvr, gone);
  }

  #merge<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    body: unknown,
    type: PatchType,
    statusOnly: boolean,
  ): T {
    const verb = statusOnly ? 'patchStatus' : 'patch';
    if (type !== 'merge') throw new Error(`fake API server supports merge patches only, got ${type}`);
    const existing = this.#existing(gvr, namespace, name, verb);
    const patch = (body ?? {}) as { metadata?: { resourceVersion?: string }; status?: unknown };
    const rv = patch.metadata?.resourceVersion;
    if (rv !== undefined && rv !== existing.metadata.resourceVersion) {
      throw apiError(409, 'Conflict', { verb, what: `${gvr.resource} ${namespace ?? ''}/${name}`, gvr });
    }
    const effective: Record<string, unknown> = statusOnly ? { status: patch.status } : { ...patch };
    if (!statusOnly) delete effective.status;
    const next = mergePatch(existing, effective) as KubeObject;
    return this.#update(gvr, storeKey(gvr, namespace, name), existing, next as T, statusOnly);
  }

  /**
   * Records a change of the stored `object` and returns the one copy that both the writer and
   * the change listeners get (so a test can assert that a handler received what was written).
   */
  #record<T extends KubeObject>(type: Change['type'], gvr: GroupVersionResource, object: KubeObject): T {
    this.history.push({ type, gvr, object: structuredClone(object), revision: this.revision });
    this.#watches.broadcast({ type, object }, (target) => this.matches(target, gvr, object));
    const shared = structuredClone(object) as T;
    const change: Change = { type, gvr, object: shared, revision: this.revision };
    for (const listener of [...this.#listeners]) listener(change);
    return shared;
  }

  async *#stream(target: ListWatchTarget, options: WatchOptions): AsyncGenerator<WatchEvent> {
    const signal = options.signal;
    if (signal?.aborted) return;
    try {
      await this.#enter('watch', target.gvr, target.namespace, undefined, signal);
    } catch (error) {
      // Like the real client: an abort by the caller ends the stream quietly.
      if (signal?.aborted) return;
      throw error;
    }
    yield* this.#watches.serve(target, this.#initialEvents(target, options), options);
  }

  /** What a new watch sends first: the streaming list's initial state, or the history after its revision. */
  #initialEvents(target: ListWatchTarget, options: WatchOptions): WatchEvent[] {
    if (options.sendInitialEvents) {
      if (this.rejectStreaming) throw this.rejectStreaming;
      const events: WatchEvent[] = this.select(target).map((object) => ({ type: 'ADDED', object }));
      if (this.sendInitialEventsEnd) {
        const annotations = { 'k8s.io/initial-events-end': 'true' };
        events.push({
          type: 'BOOKMARK',
          object: { metadata: { resourceVersion: String(this.revision), annotations } },
        });
      }
      return events;
    }
    const from = Number(options.resourceVersion);
    if (!options.resourceVersion || Number.isNaN(from))
      throw new Error('fake API server: watch needs a numeric RV');
    if (from + 1 < this.compactedBelow) throw apiError(410, 'Expired', { verb: 'watch', what: `rv ${from}` });
    return this.history
      .filter((change) => change.revision > from && this.matches(target, change.gvr, change.object))
      .map(({ type, object }) => ({ type, object: structuredClone(object) }));
  }
}
