/**
 * What the controller needs from the modules around it, as small interfaces (so the reconciler
 * can be tested with in-memory fakes), and the few Kubernetes object shapes it reads and writes.
 *
 * - {@link ResourceClient}: the CRUD half of `KubeClient`.
 * - {@link WatchManager}: the informer Manager (`src/informer/`).
 * - {@link ServiceDirectory}: the CRD directory (`src/crddirectory/`).
 * - {@link ResolverEndpoints}: the resolver pod IPs (from the resolver Service's EndpointSlices).
 * - {@link EventRecorder}: Kubernetes Events about an ElastiService.
 *
 * @module
 */
import type { ElastiServiceSpec, ElastiServiceStatus } from '../api/v1alpha1/types.ts';
import type { CRDEntry } from '../crddirectory/directory.ts';
import type { KeyParams, RequestWatch } from '../informer/types.ts';
import type { GroupVersionResource, KubeObject, ObjectMeta, ResourceEventHandler } from '../kube/types.ts';

export type { ResourceClient } from '../runtime/index.ts';

/**
 * The informer Manager as the controller uses it. Methods may be sync or async; the controller
 * awaits whatever they return.
 */
export interface WatchManager {
  /**
   * Starts watching one object for one ElastiService; rejects with `TargetNotFoundError` when it
   * does not exist, unless `allowMissing` (then its creation arrives as an `onAdd`).
   */
  add(
    request: RequestWatch,
    options?: { timeoutMs?: number; signal?: AbortSignal; allowMissing?: boolean },
  ): Promise<unknown> | unknown;
  /** Stops one registration; may throw `InformerNotFoundError` (ignored by the controller). */
  stopInformer(key: string): Promise<unknown> | unknown;
  /** Stops every registration of one ElastiService. */
  stopForCRD(crdName: string, namespace: string): Promise<unknown> | unknown;
  /** Watches the resolver Deployment and calls `handlers` on its changes. */
  initializeResolverInformer(handlers: ResourceEventHandler): Promise<unknown> | unknown;
  /** The registration key for these parts. */
  getKey(params: KeyParams): string;
}

/** The CRD directory as the controller uses it; `CRDDirectory` satisfies it. */
export interface ServiceDirectory {
  set(
    key: string,
    details: { crdName: string; namespace: string; spec: ElastiServiceSpec; status: ElastiServiceStatus },
  ): unknown;
  deleteByCRD(namespace: string, crdName: string): string | undefined;
  findByCRD(namespace: string, crdName: string): { key: string; details: CRDEntry } | undefined;
  list(): { key: string; details: CRDEntry }[];
}

/** The resolver's pod IPs. */
export interface ResolverEndpoints {
  /** Ready IPv4 addresses, sorted and unique; `undefined` while not yet known (cache not synced). */
  addresses(): readonly string[] | undefined;
}

export type { EventRecorder, EventType } from '../runtime/index.ts';

// ---------------------------------------------------------------------------------------------
// Kubernetes objects the controller reads and writes (only the fields it uses are typed).

/** Core group, v1 Services. */
export const SERVICE_GVR: GroupVersionResource = Object.freeze({
  group: '',
  version: 'v1',
  resource: 'services',
});
/** discovery.k8s.io/v1 EndpointSlices. */
export const ENDPOINTSLICE_GVR: GroupVersionResource = Object.freeze({
  group: 'discovery.k8s.io',
  version: 'v1',
  resource: 'endpointslices',
});
/** Core group, v1 Pods. */
export const POD_GVR: GroupVersionResource = Object.freeze({ group: '', version: 'v1', resource: 'pods' });
/** Core group, v1 Events. */
export const EVENT_GVR: GroupVersionResource = Object.freeze({
  group: '',
  version: 'v1',
  resource: 'events',
});
/** apps/v1 Deployments (the resolver's kind). */
export const DEPLOYMENT_GVR: GroupVersionResource = Object.freeze({
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
});

/** Label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Label naming the controller that manages an EndpointSlice (the endpointslice controller leaves others alone). */
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
/** Our value of {@link MANAGED_BY_LABEL}. */
export const MANAGED_BY_VALUE = 'elasti.truefoundry.com';

/** One port of a Service. */
export interface ServicePort {
  name?: string;
  protocol?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
  appProtocol?: string;
  [field: string]: unknown;
}

/** A core/v1 Service. */
export interface Service extends KubeObject {
  spec?: {
    type?: string;
    selector?: Record<string, string>;
    ports?: ServicePort[];
    clusterIP?: string;
    clusterIPs?: string[];
    [field: string]: unknown;
  };
}

/** One endpoint of an EndpointSlice. */
export interface Endpoint {
  addresses: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  [field: string]: unknown;
}

/** One port of an EndpointSlice. */
export interface EndpointPort {
  name?: string;
  protocol?: string;
  port?: number;
  appProtocol?: string;
}

/** A discovery.k8s.io/v1 EndpointSlice. */
export interface EndpointSlice extends KubeObject {
  addressType: string;
  endpoints?: Endpoint[] | null;
  ports?: EndpointPort[] | null;
}

/** A label selector as workloads carry it in `spec.selector`. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** A scale target (Deployment, StatefulSet, Argo Rollout): the fields the mode decision reads. */
export interface ScaleTarget extends KubeObject {
  spec?: { replicas?: number; selector?: LabelSelector; [field: string]: unknown };
  status?: { replicas?: number; readyReplicas?: number; [field: string]: unknown };
}

/** A core/v1 Pod: the fields readiness needs. */
export interface Pod extends KubeObject {
  metadata: ObjectMeta;
  status?: { phase?: string; conditions?: { type: string; status: string }[]; [field: string]: unknown };
}
