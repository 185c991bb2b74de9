/**
 * What the controller needs from the modules around it, as small interfaces (so the reconciler
 * can be tested with in-memory fakes), and the labels of the EndpointSlices it writes.
 *
 * - {@link ResourceClient}: the CRUD half of `KubeClient`.
 * - {@link WatchManager}: the informer Manager (`src/informer/`).
 * - {@link ServiceDirectory}: the CRD directory (`src/crddirectory/`).
 * - {@link ResolverEndpoints}: the resolver pod IPs (from the resolver Service's EndpointSlices).
 * - {@link EventRecorder}: Kubernetes Events about an ElastiService.
 *
 * @module
 */
import type { ElastiServiceSpec, ElastiServiceStatus } from '../api/v1alpha1/index.ts';
import type { CRDEntry } from '../crddirectory/index.ts';
import type { KeyParams, RequestWatch } from '../informer/index.ts';
import type {
  DeleteOptions,
  GroupVersionResource,
  KubeObject,
  ListOptions,
  ListPage,
  ListWatchTarget,
  PatchOptions,
  PatchType,
  ResourceEventHandler,
  WriteOptions,
} from '../kube/index.ts';

/** Single-object and list verbs; `KubeClient` satisfies it. Failures are `KubeApiError`s (with `.status`). */
export interface ResourceClient {
  get<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    signal?: AbortSignal,
  ): Promise<T>;
  list<T extends KubeObject>(target: ListWatchTarget, options?: ListOptions): Promise<ListPage<T>>;
  create<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    obj: T,
    opts?: WriteOptions,
  ): Promise<T>;
  replace<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    obj: T,
    opts?: WriteOptions,
  ): Promise<T>;
  patch<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    body: unknown,
    type: PatchType,
    opts?: PatchOptions,
  ): Promise<T>;
  patchStatus<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    body: unknown,
    type: PatchType,
    opts?: PatchOptions,
  ): Promise<T>;
  delete(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    opts?: DeleteOptions,
  ): Promise<void>;
}

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

/** Event types of core/v1 Events. */
export type EventType = 'Normal' | 'Warning';

/** Records Kubernetes Events. Never throws: a failure to record is logged. */
export interface EventRecorder {
  record(about: KubeObject, type: EventType, reason: string, message: string): void;
}

// Labels of the EndpointSlices the controller writes. (The object types and GVRs it reads and
// writes are the engine's: `Service`, `EndpointSlice`, `Pod`, `Workload`, `resources.*.gvr`.)

/** Label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Label naming the controller that manages an EndpointSlice (the endpointslice controller leaves others alone). */
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
/** Our value of {@link MANAGED_BY_LABEL}. */
export const MANAGED_BY_VALUE = 'elasti.truefoundry.com';
