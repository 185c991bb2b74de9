/**
 * In-memory fakes of the controller's interfaces (never of the Kubernetes HTTP API):
 * - {@link FakeCluster}: a {@link ResourceClient} over a map of objects with resourceVersions,
 *   finalizer-aware deletion, merge patches, label-selector lists, and fault injection.
 * - {@link FakeManager}: a {@link WatchManager} recording registrations, able to fire handlers.
 * - {@link FakeEvents}: an {@link EventRecorder} that keeps what it was told.
 */
import { randomUUID } from 'node:crypto';
import { ELASTI_API_VERSION, ELASTI_GVR, ELASTI_KIND } from '../../../src/api/v1alpha1/constants.ts';
import type { ElastiService, ElastiServiceSpec } from '../../../src/api/v1alpha1/types.ts';
import type { WatchManager } from '../../../src/controller/types.ts';
import { InformerNotFoundError, TargetNotFoundError } from '../../../src/informer/errors.ts';
import { getKey, keyOf } from '../../../src/informer/key.ts';
import type { KeyParams, RequestWatch } from '../../../src/informer/types.ts';
import type { PatchType } from '../../../src/kube/client/client.ts';
import type { ListOptions, ListPage } from '../../../src/kube/core/contracts.ts';
import { KubeApiError } from '../../../src/kube/core/errors.ts';
import type {
  GroupVersionResource,
  KubeObject,
  ListWatchTarget,
  ResourceEventHandler,
} from '../../../src/kube/core/types.ts';
import type { EventRecorder, EventType, ResourceClient } from '../../../src/runtime/index.ts';

type Verb = 'get' | 'list' | 'create' | 'replace' | 'patch' | 'patchStatus' | 'delete';

/** One call the fake served (for assertions on what the controller wrote). */
export interface Call {
  readonly verb: Verb;
  readonly resource: string;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
}

function apiError(status: number, reason: string, verb: string, what: string): KubeApiError {
  return new KubeApiError({
    status,
    reason,
    verb,
    url: `fake://${what}`,
    body: { message: `${reason}: ${what}` },
  });
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return structuredClone(patch);
  const base: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}

/** `k=v,k2=v2` and `k in (a,b)` selectors (what the controller sends). */
function matches(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  for (const part of selector.split(/,(?![^(]*\))/)) {
    const inMatch = /^(\S+) (in|notin) \((.*)\)$/.exec(part);
    if (inMatch) {
      const [, key, op, values] = inMatch as unknown as [string, string, string, string];
      const has = values.split(',').includes(l[key] ?? '\u0000');
      if (op === 'in' ? !has : has) return false;
      continue;
    }
    if (part.startsWith('!')) {
      if (part.slice(1) in l) return false;
      continue;
    }
    const eq = part.indexOf('=');
    if (eq < 0) {
      if (!(part in l)) return false;
      continue;
    }
    if (l[part.slice(0, eq)] !== part.slice(eq + 1)) return false;
  }
  return true;
}

/** A ResourceClient over a map. */
export class FakeCluster implements ResourceClient {
  readonly calls: Call[] = [];
  readonly #objects = new Map<string, KubeObject>();
  #rv = 100;
  readonly #faults: { verb: Verb; resource: string; error: Error; remaining: number }[] = [];

  static key(gvr: GroupVersionResource, namespace: string | undefined, name: string): string {
    return `${gvr.group}/${gvr.resource}/${namespace ?? ''}/${name}`;
  }

  /** The next `times` calls of `verb` on `resource` fail with `error`. */
  failNext(verb: Verb, resource: string, error: Error, times = 1): void {
    this.#faults.push({ verb, resource, error, remaining: times });
  }

  /** Writes (create/replace/patch/patchStatus/delete) on `resource` since the call log was last cleared. */
  writes(resource?: string): Call[] {
    return this.calls.filter(
      (c) => c.verb !== 'get' && c.verb !== 'list' && (!resource || c.resource === resource),
    );
  }

  clearCalls(): void {
    this.calls.length = 0;
  }

  /** Direct read (no call logged); undefined when absent. */
  peek<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
  ): T | undefined {
    const obj = this.#objects.get(FakeCluster.key(gvr, namespace, name));
    return obj ? (structuredClone(obj) as T) : undefined;
  }

  /** Every object of a resource (no call logged). */
  all<T extends KubeObject>(gvr: GroupVersionResource, namespace?: string): T[] {
    const prefix = `${gvr.group}/${gvr.resource}/`;
    return [...this.#objects.entries()]
      .filter(
        ([k, o]) => k.startsWith(prefix) && (namespace === undefined || o.metadata.namespace === namespace),
      )
      .map(([, o]) => structuredClone(o) as T);
  }

  /** Direct write (no call logged), as a test's own setup or another actor would do. */
  put<T extends KubeObject>(gvr: GroupVersionResource, obj: T): T {
    const key = FakeCluster.key(gvr, obj.metadata.namespace, obj.metadata.name ?? '');
    const existing = this.#objects.get(key);
    const stored = structuredClone(obj);
    stored.metadata.uid = existing?.metadata.uid ?? obj.metadata.uid ?? randomUUID();
    stored.metadata.resourceVersion = String(++this.#rv);
    stored.metadata.generation = existing
      ? (existing.metadata.generation ?? 1) +
        (JSON.stringify(existing.spec) === JSON.stringify(obj.spec) ? 0 : 1)
      : 1;
    this.#objects.set(key, stored);
    return structuredClone(stored);
  }

  /** Direct delete (no call logged). */
  remove(gvr: GroupVersionResource, namespace: string | undefined, name: string): void {
    this.#objects.delete(FakeCluster.key(gvr, namespace, name));
  }

  #fault(verb: Verb, gvr: GroupVersionResource): void {
    const fault = this.#faults.find((f) => f.verb === verb && f.resource === gvr.resource && f.remaining > 0);
    if (!fault) return;
    fault.remaining--;
    throw fault.error;
  }

  #log(verb: Verb, gvr: GroupVersionResource, namespace: string | undefined, name: string | undefined): void {
    this.calls.push({ verb, resource: gvr.resource, namespace, name });
  }

  async get<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
  ): Promise<T> {
    this.#log('get', gvr, namespace, name);
    this.#fault('get', gvr);
    const obj = this.#objects.get(FakeCluster.key(gvr, namespace, name));
    if (!obj) throw apiError(404, 'NotFound', 'get', `${gvr.resource} ${namespace}/${name}`);
    return structuredClone(obj) as T;
  }

  async list<T extends KubeObject>(target: ListWatchTarget, _options?: ListOptions): Promise<ListPage<T>> {
    this.#log('list', target.gvr, target.namespace, undefined);
    this.#fault('list', target.gvr);
    const items = this.all<T>(target.gvr, target.namespace).filter((o) =>
      matches(o.metadata.labels, target.labelSelector),
    );
    return { items, resourceVersion: String(this.#rv) };
  }

  async create<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    obj: T,
  ): Promise<T> {
    this.#log('create', gvr, namespace, obj.metadata.name);
    this.#fault('create', gvr);
    const key = FakeCluster.key(gvr, namespace, obj.metadata.name ?? '');
    if (this.#objects.has(key)) throw apiError(409, 'AlreadyExists', 'create', key);
    const stored = structuredClone(obj);
    stored.metadata.namespace = namespace;
    stored.metadata.uid = randomUUID();
    stored.metadata.resourceVersion = String(++this.#rv);
    stored.metadata.generation = 1;
    stored.metadata.creationTimestamp = new Date().toISOString();
    this.#objects.set(key, stored);
    return structuredClone(stored);
  }

  async replace<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    obj: T,
  ): Promise<T> {
    this.#log('replace', gvr, namespace, name);
    this.#fault('replace', gvr);
    const key = FakeCluster.key(gvr, namespace, name);
    const existing = this.#objects.get(key);
    if (!existing) throw apiError(404, 'NotFound', 'replace', key);
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== existing.metadata.resourceVersion)
      throw apiError(409, 'Conflict', 'replace', key);
    const stored = structuredClone(obj);
    stored.metadata.uid = existing.metadata.uid;
    stored.metadata.resourceVersion = String(++this.#rv);
    this.#objects.set(key, stored);
    return structuredClone(stored);
  }

  async patch<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    body: unknown,
    type: PatchType,
  ): Promise<T> {
    this.#log('patch', gvr, namespace, name);
    this.#fault('patch', gvr);
    return this.#merge<T>(gvr, namespace, name, body, type, false);
  }

  async patchStatus<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    body: unknown,
    type: PatchType,
  ): Promise<T> {
    this.#log('patchStatus', gvr, namespace, name);
    this.#fault('patchStatus', gvr);
    return this.#merge<T>(gvr, namespace, name, body, type, true);
  }

  #merge<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    body: unknown,
    type: PatchType,
    statusOnly: boolean,
  ): T {
    if (type !== 'merge') throw new Error(`fake supports merge patches only, got ${type}`);
    const key = FakeCluster.key(gvr, namespace, name);
    const existing = this.#objects.get(key);
    if (!existing) throw apiError(404, 'NotFound', 'patch', key);
    const patch = body as { metadata?: { resourceVersion?: string }; status?: unknown };
    const rv = patch.metadata?.resourceVersion;
    if (rv !== undefined && rv !== existing.metadata.resourceVersion)
      throw apiError(409, 'Conflict', 'patch', key);
    const effective = statusOnly ? { status: patch.status } : { ...patch, status: undefined };
    if (!statusOnly) delete (effective as { status?: unknown }).status;
    const next = mergePatch(existing, effective) as KubeObject;
    if (!statusOnly && JSON.stringify(next.spec) !== JSON.stringify(existing.spec)) {
      next.metadata.generation = (existing.metadata.generation ?? 1) + 1;
    }
    next.metadata.resourceVersion = String(++this.#rv);
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      this.#objects.delete(key);
    } else {
      this.#objects.set(key, next);
    }
    return structuredClone(next) as T;
  }

  async delete(gvr: GroupVersionResource, namespace: string | undefined, name: string): Promise<void> {
    this.#log('delete', gvr, namespace, name);
    this.#fault('delete', gvr);
    const key = FakeCluster.key(gvr, namespace, name);
    const existing = this.#objects.get(key);
    if (!existing) throw apiError(404, 'NotFound', 'delete', key);
    if ((existing.metadata.finalizers ?? []).length > 0) {
      if (!existing.metadata.deletionTimestamp) {
        existing.metadata.deletionTimestamp = new Date().toISOString();
        existing.metadata.generation = (existing.metadata.generation ?? 1) + 1;
        existing.metadata.resourceVersion = String(++this.#rv);
      }
      return;
    }
    this.#objects.delete(key);
  }
}

/** A WatchManager recording registrations. */
export class FakeManager implements WatchManager {
  readonly registrations = new Map<string, RequestWatch>();
  /** `resource/namespace/name` of objects whose add fails with TargetNotFoundError. */
  readonly missing = new Set<string>();
  resolverHandlers: ResourceEventHandler | undefined;
  adds = 0;

  getKey(params: KeyParams): string {
    return getKey(params);
  }

  /** `allowMissing` of each add, by key. */
  readonly allowMissing = new Map<string, boolean>();

  async add(request: RequestWatch, options?: { allowMissing?: boolean }): Promise<string> {
    const { groupVersionResource: gvr, resourceNamespace: namespace, resourceName: name } = request;
    this.allowMissing.set(keyOf(request), options?.allowMissing === true);
    if (this.missing.has(`${gvr.resource}/${namespace}/${name}`) && options?.allowMissing !== true) {
      throw new TargetNotFoundError({ gvr, namespace, name });
    }
    const key = keyOf(request);
    this.adds++;
    if (!this.registrations.has(key)) this.registrations.set(key, request);
    return key;
  }

  async stopInformer(key: string): Promise<void> {
    if (!this.registrations.delete(key)) throw new InformerNotFoundError(key);
  }

  async stopForCRD(crdName: string, namespace: string): Promise<string[]> {
    const keys = [...this.registrations.entries()]
      .filter(([, r]) => r.req.name === crdName && r.req.namespace === namespace)
      .map(([k]) => k);
    for (const key of keys) this.registrations.delete(key);
    return keys;
  }

  async initializeResolverInformer(handlers: ResourceEventHandler): Promise<void> {
    this.resolverHandlers = handlers;
  }

  /** Registration keys, sorted. */
  keys(): string[] {
    return [...this.registrations.keys()].sort();
  }

  /** Calls `onAdd` of every registration watching `resource/namespace/name` (the object was created). */
  fireAdd(resource: string, namespace: string, name: string, obj: KubeObject): number {
    let fired = 0;
    for (const r of this.registrations.values()) {
      if (
        r.groupVersionResource.resource === resource &&
        r.resourceNamespace === namespace &&
        r.resourceName === name
      ) {
        void r.handlers.onAdd?.(obj, false);
        fired++;
      }
    }
    return fired;
  }

  /** Calls `onUpdate` of every registration watching `resource/namespace/name`. */
  fireUpdate(resource: string, namespace: string, name: string, obj: KubeObject): number {
    let fired = 0;
    for (const r of this.registrations.values()) {
      if (
        r.groupVersionResource.resource === resource &&
        r.resourceNamespace === namespace &&
        r.resourceName === name
      ) {
        void r.handlers.onUpdate?.(obj, obj);
        fired++;
      }
    }
    return fired;
  }
}

/** One recorded Event. */
export interface RecordedEvent {
  readonly object: string;
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
}

/** An EventRecorder that remembers. */
export class FakeEvents implements EventRecorder {
  readonly events: RecordedEvent[] = [];

  record(about: KubeObject, type: EventType, reason: string, message: string): void {
    this.events.push({ object: `${about.metadata.namespace}/${about.metadata.name}`, type, reason, message });
  }

  reasons(): string[] {
    return this.events.map((e) => e.reason);
  }
}

// ---------------------------------------------------------------------------------------------
// Object builders for tests.

export const DEPLOYMENTS: GroupVersionResource = { group: 'apps', version: 'v1', resource: 'deployments' };
export const STATEFULSETS: GroupVersionResource = { group: 'apps', version: 'v1', resource: 'statefulsets' };

export function elastiService(
  namespace: string,
  name: string,
  spec: Partial<ElastiServiceSpec> & Record<string, unknown> = {},
): ElastiService {
  return {
    apiVersion: ELASTI_API_VERSION,
    kind: ELASTI_KIND,
    metadata: { name, namespace },
    spec: {
      service: 'web',
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minTargetReplicas: 1,
      cooldownPeriod: 300,
      ...spec,
    } as ElastiServiceSpec,
  };
}

export function deployment(namespace: string, name: string, replicas: number, app = name): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: { replicas, selector: { matchLabels: { app } } },
    status: { replicas, readyReplicas: 0 },
  };
}

export function pod(namespace: string, name: string, app: string, ready: boolean): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app } },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

export function service(
  namespace: string,
  name: string,
  selector: Record<string, string>,
  ports: { name?: string; port: number; targetPort?: number; nodePort?: number }[] = [
    { name: 'http', port: 80, targetPort: 8080 },
  ],
  extra: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      type: 'ClusterIP',
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10'],
      selector,
      ports: ports.map((p) => ({ protocol: 'TCP', ...p })),
      ...extra,
    },
  };
}

export { ELASTI_GVR };
