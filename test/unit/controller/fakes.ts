/**
 * In-memory fakes of the controller's interfaces (never of the Kubernetes HTTP API):
 * - {@link FakeCluster}: a {@link ResourceClient} over the one fake API server
 *   (`test/support/fake-api-server.ts`: resourceVersions, finalizer-aware deletion, merge
 *   patches, label-selector lists), with a call log and fault injection.
 * - {@link FakeManager}: a {@link WatchManager} recording registrations, able to fire handlers.
 * - {@link FakeEvents}: an {@link EventRecorder} that keeps what it was told.
 */
import { ELASTI_API_VERSION, ELASTI_GVR, ELASTI_KIND } from '../../../src/api/v1alpha1/constants.ts';
import type { ElastiService, ElastiServiceSpec } from '../../../src/api/v1alpha1/types.ts';
import type { WatchManager } from '../../../src/controller/types.ts';
import { InformerNotFoundError, TargetNotFoundError } from '../../../src/informer/errors.ts';
import { getKey, keyOf } from '../../../src/informer/key.ts';
import type { KeyParams, RequestWatch } from '../../../src/informer/types.ts';
import type { GroupVersionResource, KubeObject, ResourceEventHandler } from '../../../src/kube/core/types.ts';
import type { EventRecorder, EventType, ResourceClient } from '../../../src/runtime/index.ts';
import type { Verb } from '../../support/fake-api-protocol.ts';
import { type Call, FakeApiServer } from '../../support/fake-api-server.ts';

/**
 * The controller tests' view of the {@link FakeApiServer}: the runtime's `ResourceClient` (its
 * verbs are the server's) with a log of calls, direct reads and writes for a test's setup, and
 * fault injection by verb and resource.
 */
export class FakeCluster extends FakeApiServer implements ResourceClient {
  /** The next `times` calls of `verb` on `resource` fail with `error`. */
  failNext(verb: Verb, resource: string, error: Error, times = 1): void {
    this.injectFault(verb, { error }, { resource, times });
  }

  /** Writes (create/replace/patch/patchStatus/delete) on `resource` since the call log was last cleared. */
  writes(resource?: string): Call[] {
    return this.calls.filter((c) => WRITES.has(c.verb) && (!resource || c.resource === resource));
  }

  /** Every object of a resource (no call logged). */
  all<T extends KubeObject>(gvr: GroupVersionResource, namespace?: string): T[] {
    return this.select<T>({ gvr, namespace });
  }

  /** Direct write (no call logged), as a test's own setup or another actor would do. */
  put<T extends KubeObject>(gvr: GroupVersionResource, obj: T): T {
    return this.upsert(gvr, obj);
  }

  /** Direct delete (no call logged). */
  remove(gvr: GroupVersionResource, namespace: string | undefined, name: string): void {
    this.erase(gvr, namespace, name);
  }
}

const WRITES: ReadonlySet<Verb> = new Set<Verb>(['create', 'replace', 'patch', 'patchStatus', 'delete']);

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
