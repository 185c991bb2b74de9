/**
 * Reflector-test helpers over the one in-memory API server (`test/support/fake-api-server.ts`):
 * {@link FakeApi} (ConfigMaps in one namespace), a recording sink and a capturing logger.
 */
import type {
  ListOptions,
  ListPage,
  ReflectorSink,
  WatchOptions,
} from '../../../../src/kube/core/contracts.ts';
import type {
  KubeObject,
  KubeObjectLike,
  ListWatchTarget,
  ObjectMeta,
  WatchEvent,
} from '../../../../src/kube/core/types.ts';
import { objectKey } from '../../../../src/kube/core/types.ts';
import { FakeApiServer } from '../../../support/fake-api-server.ts';

export const gvr = { group: '', version: 'v1', resource: 'configmaps' } as const;
export const target: ListWatchTarget = { gvr, namespace: 'ns' };

/**
 * The reflector tests' view of the {@link FakeApiServer}: ConfigMaps in `ns` by name, a seed of
 * many old objects, and a guard that the reflector asks for the one target it was given.
 */
export class FakeApi extends FakeApiServer {
  /** Creates or updates ConfigMap `ns/name`; `meta` adds metadata (labels, owner references). */
  put(name: string, data: Record<string, string> = {}, meta: Partial<ObjectMeta> = {}): KubeObject {
    const metadata = { ...meta, name, namespace: target.namespace, uid: `uid-${name}` };
    return this.upsert(gvr, { apiVersion: 'v1', kind: 'ConfigMap', metadata, data });
  }

  remove(name: string): void {
    if (!this.erase(gvr, target.namespace, name)) throw new Error(`no ${target.namespace}/${name}`);
  }

  /** Fills the store with `count` objects without history (as if created long ago). */
  seed(count: number): void {
    for (let i = 0; i < count; i++) this.put(`cm-${String(i).padStart(5, '0')}`);
    this.compactedBelow = this.revision;
  }

  override list<T extends KubeObjectLike>(t: ListWatchTarget, options: ListOptions): Promise<ListPage<T>> {
    if (t.gvr.resource !== gvr.resource) throw new Error('wrong target');
    return super.list<T>(t, options);
  }

  override watch<T extends KubeObjectLike>(
    t: ListWatchTarget,
    options: WatchOptions,
  ): AsyncIterable<WatchEvent<T>> {
    if (t.gvr.resource !== gvr.resource) throw new Error('wrong target');
    return super.watch<T>(t, options);
  }
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
