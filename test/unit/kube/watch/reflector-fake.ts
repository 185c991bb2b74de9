/**
 * An in-memory {@link ListerWatcher} for reflector tests: a tiny "server" holding objects with
 * a global revision counter, paged lists with continue tokens that can be expired, watches
 * from a revision with a compaction floor (410 below it), bookmarks, streaming lists, and
 * scripted failures. It implements OUR interface only; no HTTP is involved.
 */
import type {
  ListerWatcher,
  ListOptions,
  ListPage,
  ReflectorSink,
  WatchOptions,
} from '../../../../src/kube/core/contracts.ts';
import { KubeApiError, WatchIdleTimeoutError } from '../../../../src/kube/core/errors.ts';
import type {
  KubeObject,
  KubeObjectLike,
  ListWatchTarget,
  WatchEvent,
} from '../../../../src/kube/core/types.ts';
import { objectKey } from '../../../../src/kube/core/types.ts';

export const gvr = { group: '', version: 'v1', resource: 'configmaps' } as const;
export const target: ListWatchTarget = { gvr, namespace: 'ns' };

export function apiError(status: number, reason?: string, extra: Partial<KubeApiError> = {}): KubeApiError {
  return new KubeApiError({
    status,
    reason,
    verb: 'test',
    url: '/fake',
    body: { kind: 'Status', code: status, reason, message: `fake ${status}` },
    retryAfterSeconds: extra.retryAfterSeconds,
  });
}

interface HistoryEntry {
  readonly revision: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: KubeObject;
}

/** One open watch stream. */
class Stream {
  readonly queue: Array<WatchEvent | { end: true } | { error: Error }> = [];
  wake: (() => void) | undefined;
  /** While true, nothing is delivered (a silently dead connection). */
  frozen = false;
  readonly options: WatchOptions;
  constructor(options: WatchOptions) {
    this.options = options;
  }
  push(item: WatchEvent | { end: true } | { error: Error }): void {
    this.queue.push(item);
    this.wake?.();
  }
}

/** A scripted failure, consumed by the next matching call. */
type Script = { error: Error } | { hang: true };

export class FakeApi implements ListerWatcher {
  readonly objects = new Map<string, KubeObject>();
  readonly history: HistoryEntry[] = [];
  revision = 100;
  /** Watches from a revision below this fail with 410. */
  compactedBelow = 0;
  readonly listCalls: ListOptions[] = [];
  readonly watchCalls: WatchOptions[] = [];
  readonly listScript: Script[] = [];
  /** Called before serving a list; may throw (e.g. a 403 until access is granted). */
  beforeList: ((options: ListOptions) => void) | undefined;
  /** Called after serving the n-th list page. */
  afterList: ((served: number) => void) | undefined;
  listsServed = 0;
  readonly watchScript: Script[] = [];
  /** Stream-list behaviour: send the initial-events-end bookmark (false: never, like an old server). */
  sendInitialEventsEnd = true;
  /** Reject `sendInitialEvents` with this error (a server without the feature). */
  rejectStreaming: Error | undefined;
  readonly streams = new Set<Stream>();
  /** Snapshots behind continue tokens; clearing them expires the tokens. */
  readonly snapshots = new Map<string, { items: KubeObject[]; revision: number }>();
  #snapshotSeq = 0;

  // --- server-side mutations ---

  put(name: string, data: Record<string, string> = {}): KubeObject {
    const key = `${target.namespace}/${name}`;
    const type = this.objects.has(key) ? 'MODIFIED' : 'ADDED';
    this.revision += 1;
    const object: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        namespace: target.namespace,
        resourceVersion: String(this.revision),
        uid: `uid-${name}`,
      },
      data,
    };
    this.objects.set(key, object);
    this.#record(type, object);
    return object;
  }

  remove(name: string): void {
    const key = `${target.namespace}/${name}`;
    const existing = this.objects.get(key);
    if (!existing) throw new Error(`no ${key}`);
    this.objects.delete(key);
    this.revision += 1;
    const object = {
      ...existing,
      metadata: { ...existing.metadata, resourceVersion: String(this.revision) },
    };
    this.#record('DELETED', object);
  }

  /** Fills the store with `count` objects without history (as if created long ago). */
  seed(count: number): void {
    for (let i = 0; i < count; i++) this.put(`cm-${String(i).padStart(5, '0')}`);
    this.compactedBelow = this.revision;
  }

  /** Compaction: watches from before now get 410. */
  compact(): void {
    this.compactedBelow = this.revision + 1;
  }

  bookmark(): void {
    for (const stream of this.streams) {
      stream.push({ type: 'BOOKMARK', object: { metadata: { resourceVersion: String(this.revision) } } });
    }
  }

  /** Ends every open watch normally (server-side timeout). */
  closeWatches(): void {
    for (const stream of this.streams) stream.push({ end: true });
  }

  /** Fails every open watch with `error` (in-stream ERROR or broken connection). */
  failWatches(error: Error): void {
    for (const stream of this.streams) stream.push({ error });
  }

  /** Stops delivering to open watches without closing them. */
  freezeWatches(): void {
    for (const stream of this.streams) stream.frozen = true;
  }

  get openWatches(): number {
    return this.streams.size;
  }

  // --- ListerWatcher ---

  async list<T extends KubeObjectLike>(t: ListWatchTarget, options: ListOptions): Promise<ListPage<T>> {
    this.listCalls.push({ ...options, signal: undefined });
    if (t.gvr.resource !== gvr.resource) throw new Error('wrong target');
    await scripted(this.listScript.shift(), options.signal);
    this.beforeList?.(options);
    const page = this.#page<T>(options);
    this.listsServed += 1;
    this.afterList?.(this.listsServed);
    return page;
  }

  #page<T extends KubeObjectLike>(options: ListOptions): ListPage<T> {
    let snapshot: { items: KubeObject[]; revision: number };
    let offset = 0;
    let id: string;
    if (options.continue) {
      const [snapId, off] = options.continue.split(':');
      const found = this.snapshots.get(snapId ?? '');
      if (!found) throw apiError(410, 'Expired');
      snapshot = found;
      id = snapId ?? '';
      offset = Number(off);
    } else {
      const items = [...this.objects.values()].sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
      snapshot = { items: items.map((o) => structuredClone(o)), revision: this.revision };
      id = String(++this.#snapshotSeq);
      this.snapshots.set(id, snapshot);
    }
    const limit = options.limit ?? snapshot.items.length;
    const items = snapshot.items.slice(offset, offset + limit) as unknown as T[];
    const end = offset + limit;
    const page: ListPage<T> = { items, resourceVersion: String(snapshot.revision) };
    if (end < snapshot.items.length) page.continue = `${id}:${end}`;
    return page;
  }

  watch<T extends KubeObjectLike>(t: ListWatchTarget, options: WatchOptions): AsyncIterable<WatchEvent<T>> {
    this.watchCalls.push({ ...options, signal: undefined });
    if (t.gvr.resource !== gvr.resource) throw new Error('wrong target');
    return this.#stream<T>(options);
  }

  async *#stream<T extends KubeObjectLike>(options: WatchOptions): AsyncGenerator<WatchEvent<T>> {
    const signal = options.signal;
    if (signal?.aborted) return;
    try {
      await scripted(this.watchScript.shift(), signal);
    } catch (error) {
      // Like the real client: an abort by the caller ends the stream quietly.
      if (signal?.aborted) return;
      throw error;
    }
    const stream = new Stream(options);
    if (options.sendInitialEvents) {
      if (this.rejectStreaming) throw this.rejectStreaming;
      for (const object of [...this.objects.values()])
        stream.push({ type: 'ADDED', object: structuredClone(object) });
      if (this.sendInitialEventsEnd) {
        stream.push({
          type: 'BOOKMARK',
          object: {
            metadata: {
              resourceVersion: String(this.revision),
              annotations: { 'k8s.io/initial-events-end': 'true' },
            },
          },
        });
      }
    } else {
      const from = Number(options.resourceVersion);
      if (!options.resourceVersion || Number.isNaN(from)) throw new Error('fake: watch needs a numeric RV');
      if (from + 1 < this.compactedBelow) throw apiError(410, 'Expired');
      for (const entry of this.history) {
        if (entry.revision > from) stream.push({ type: entry.type, object: structuredClone(entry.object) });
      }
    }
    this.streams.add(stream);
    const onAbort = (): void => stream.wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        if (signal?.aborted) return;
        const item = stream.frozen ? undefined : stream.queue.shift();
        if (item === undefined) {
          const idle = options.idleTimeoutMs;
          const timedOut = await new Promise<boolean>((resolve) => {
            const timer = idle ? setTimeout(() => resolve(true), idle) : undefined;
            stream.wake = () => {
              if (timer) clearTimeout(timer);
              resolve(false);
            };
          });
          stream.wake = undefined;
          if (timedOut) throw new WatchIdleTimeoutError(idle ?? 0);
          continue;
        }
        if ('end' in item) return;
        if ('error' in item) throw item.error;
        yield item as unknown as WatchEvent<T>;
      }
    } finally {
      this.streams.delete(stream);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  #record(type: HistoryEntry['type'], object: KubeObject): void {
    this.history.push({ revision: this.revision, type, object });
    for (const stream of this.streams) stream.push({ type, object: structuredClone(object) });
  }
}

async function scripted(script: Script | undefined, signal: AbortSignal | undefined): Promise<void> {
  if (!script) return;
  if ('error' in script) throw script.error;
  // Hang until aborted, like a request to a paused proxy.
  await new Promise<void>((_, reject) => {
    if (signal?.aborted) reject(signal.reason);
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** A sink that records what the reflector handed it and keeps the resulting state. */
export class RecordingSink implements ReflectorSink<KubeObject> {
  readonly state = new Map<string, KubeObject>();
  readonly calls: Array<
    { op: 'replace'; count: number; resourceVersion: string } | { op: 'apply'; type: string; key: string }
  > = [];
  failNext: Error | undefined;

  replace(items: KubeObject[], resourceVersion: string): void {
    this.#maybeFail();
    this.state.clear();
    for (const item of items) this.state.set(objectKey(item), item);
    this.calls.push({ op: 'replace', count: items.length, resourceVersion });
  }

  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject): void {
    this.#maybeFail();
    if (type === 'DELETED') this.state.delete(objectKey(obj));
    else this.state.set(objectKey(obj), obj);
    this.calls.push({ op: 'apply', type, key: objectKey(obj) });
  }

  get replaces(): number {
    return this.calls.filter((c) => c.op === 'replace').length;
  }

  #maybeFail(): void {
    const error = this.failNext;
    if (error) {
      this.failNext = undefined;
      throw error;
    }
  }
}

/** A logger that keeps every record, for asserting structured fields. */
export class CapturingLogger {
  readonly records: Array<{ level: string; msg: string | undefined; fields: Record<string, unknown> }> = [];
  readonly #bindings: Record<string, unknown>;
  constructor(bindings: Record<string, unknown> = {}, records?: CapturingLogger['records']) {
    this.#bindings = bindings;
    if (records) this.records = records;
  }
  #log(level: string, obj: object, msg?: string): void {
    this.records.push({ level, msg, fields: { ...this.#bindings, ...obj } });
  }
  debug(obj: object, msg?: string): void {
    this.#log('debug', obj, msg);
  }
  info(obj: object, msg?: string): void {
    this.#log('info', obj, msg);
  }
  warn(obj: object, msg?: string): void {
    this.#log('warn', obj, msg);
  }
  error(obj: object, msg?: string): void {
    this.#log('error', obj, msg);
  }
  child(bindings: Record<string, unknown>): CapturingLogger {
    return new CapturingLogger({ ...this.#bindings, ...bindings }, this.records);
  }
}
