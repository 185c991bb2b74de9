/**
 * What the controller needs from the modules around it, as small interfaces (the client and
 * event recorder interfaces are the runtime's: `ResourceClient`, `EventRecorder`) (so the reconciler
 * can be tested with in-memory fakes), and the labels of the EndpointSlices it writes.
 *
 * - {@link WatchManager}: the informer Manager (`src/informer/`).
 * - {@link ServiceDirectory}: the CRD directory (`src/crddirectory/`).
 * - {@link ResolverEndpoints}: the resolver pod IPs (from the resolver Service's EndpointSlices).
 *
 * @module
 */
import type { ElastiServiceSpec, ElastiServiceStatus } from '../api/v1alpha1/index.ts';
import type { CRDEntry } from '../crddirectory/index.ts';
import type { KeyParams, RequestWatch } from '../informer/index.ts';
import type { ResourceEventHandler } from '../kube/index.ts';

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

// Labels of the EndpointSlices the controller writes. (The object types and GVRs it reads and
// writes are the engine's: `Service`, `EndpointSlice`, `Pod`, `Workload`, `resources.*.gvr`.)

/** Label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Label naming the controller that manages an EndpointSlice (the endpointslice controller leaves others alone). */
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
/** Our value of {@link MANAGED_BY_LABEL}. */
export const MANAGED_BY_VALUE = 'elasti.truefoundry.com';
