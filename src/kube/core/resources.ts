/**
 * Well-known built-in resources: their GVRs, kinds and scopes (stable across every supported
 * Kubernetes version, so no discovery round-trip is needed for them), plus minimal typed shapes
 * of the objects this project reads or writes. The shapes list only the fields we use; every
 * other field is carried through untouched via {@link KubeObject}'s index signature.
 *
 * @module
 */
import type { KubeObject, KubeObjectLike, ObjectMeta } from './types.ts';

/**
 * A built-in resource with what discovery would say about it. The type parameters keep the
 * literal names, so `resources.pods.gvr.resource` is typed `'pods'`, not `string`.
 */
export interface WellKnownResource<
  Group extends string = string,
  Version extends string = string,
  Resource extends string = string,
  Kind extends string = string,
> {
  readonly gvr: { readonly group: Group; readonly version: Version; readonly resource: Resource };
  readonly apiVersion: string;
  readonly kind: Kind;
  readonly namespaced: boolean;
}

function wk<const G extends string, const V extends string, const R extends string, const K extends string>(
  group: G,
  version: V,
  resource: R,
  kind: K,
  namespaced: boolean,
): WellKnownResource<G, V, R, K> {
  return {
    gvr: Object.freeze({ group, version, resource }),
    apiVersion: group ? `${group}/${version}` : version,
    kind,
    namespaced,
  };
}

/**
 * The common built-in resources (Pod, Deployment, ConfigMap, ... 22 of them) by name, typed with
 * their literal group, version, resource and kind.
 *
 * @example
 * ```ts
 * const pods = new SharedInformer<V1Pod>({ lw: client, target: { gvr: resources.pods.gvr, namespace: 'web' } });
 * ```
 */
export const resources = Object.freeze({
  namespaces: wk('', 'v1', 'namespaces', 'Namespace', false),
  configMaps: wk('', 'v1', 'configmaps', 'ConfigMap', true),
  secrets: wk('', 'v1', 'secrets', 'Secret', true),
  services: wk('', 'v1', 'services', 'Service', true),
  endpoints: wk('', 'v1', 'endpoints', 'Endpoints', true),
  pods: wk('', 'v1', 'pods', 'Pod', true),
  events: wk('', 'v1', 'events', 'Event', true),
  serviceAccounts: wk('', 'v1', 'serviceaccounts', 'ServiceAccount', true),
  nodes: wk('', 'v1', 'nodes', 'Node', false),
  deployments: wk('apps', 'v1', 'deployments', 'Deployment', true),
  statefulSets: wk('apps', 'v1', 'statefulsets', 'StatefulSet', true),
  replicaSets: wk('apps', 'v1', 'replicasets', 'ReplicaSet', true),
  daemonSets: wk('apps', 'v1', 'daemonsets', 'DaemonSet', true),
  endpointSlices: wk('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true),
  leases: wk('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  eventsV1: wk('events.k8s.io', 'v1', 'events', 'Event', true),
  customResourceDefinitions: wk(
    'apiextensions.k8s.io',
    'v1',
    'customresourcedefinitions',
    'CustomResourceDefinition',
    false,
  ),
  roles: wk('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
  roleBindings: wk('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
  clusterRoles: wk('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  clusterRoleBindings: wk(
    'rbac.authorization.k8s.io',
    'v1',
    'clusterrolebindings',
    'ClusterRoleBinding',
    false,
  ),
  horizontalPodAutoscalers: wk(
    'autoscaling',
    'v2',
    'horizontalpodautoscalers',
    'HorizontalPodAutoscaler',
    true,
  ),
});

const byApiVersionKind = new Map<string, WellKnownResource>(
  Object.values(resources).map((r) => [`${r.apiVersion}|${r.kind}`, r]),
);

/** The well-known resource for `apiVersion` + `kind`, if it is one (no network). */
export function wellKnown(apiVersion: string, kind: string): WellKnownResource | undefined {
  return byApiVersionKind.get(`${apiVersion}|${kind}`);
}

/** An object literal with `apiVersion`/`kind` set for a well-known resource. */
export function newObject<T extends KubeObjectLike = KubeObject>(
  resource: WellKnownResource,
  metadata: ObjectMeta,
  rest: Omit<T, 'apiVersion' | 'kind' | 'metadata'>,
): T {
  return { apiVersion: resource.apiVersion, kind: resource.kind, metadata, ...rest } as unknown as T;
}

/** `v1 ConfigMap`. */
export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

/** `v1 Pod` (the commonly read parts; every other field is carried through). */
export interface Pod extends KubeObject {
  spec?: {
    nodeName?: string;
    containers?: Array<{ name: string; image?: string; [field: string]: unknown }>;
    [field: string]: unknown;
  };
  status?: {
    phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
    podIP?: string;
    conditions?: Array<{ type: string; status: 'True' | 'False' | 'Unknown'; [field: string]: unknown }>;
    [field: string]: unknown;
  };
}

/** `v1 Secret`. */
export interface Secret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** `v1 Namespace`. */
export interface Namespace extends KubeObject {
  status?: { phase?: 'Active' | 'Terminating' };
}

/** A port of a `v1 Service`. */
export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  nodePort?: number;
  appProtocol?: string;
  [field: string]: unknown;
}

/** `v1 Service`. */
export interface Service extends KubeObject {
  spec?: {
    selector?: Record<string, string>;
    ports?: ServicePort[];
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    [field: string]: unknown;
  };
}

/** One endpoint of a `discovery.k8s.io/v1 EndpointSlice`. */
export interface Endpoint {
  addresses: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  [field: string]: unknown;
}

/** One port of a `discovery.k8s.io/v1 EndpointSlice`. */
export interface EndpointPort {
  name?: string;
  protocol?: string;
  port?: number;
  appProtocol?: string;
}

/** `discovery.k8s.io/v1 EndpointSlice`. */
export interface EndpointSlice extends KubeObject {
  addressType: string;
  endpoints?: Endpoint[] | null;
  ports?: EndpointPort[] | null;
}

/** Label selector as workloads carry it. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{
    key: string;
    /** One of these four; typed open (`string & {}`) because a selector read from the server is not checked. */
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | (string & {});
    values?: string[];
  }>;
}

/** `apps/v1 Deployment` / `StatefulSet`, or any scale target such as an Argo Rollout (the scale-relevant parts). */
export interface Workload extends KubeObject {
  spec?: { replicas?: number; selector?: LabelSelector; [field: string]: unknown };
  status?: {
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    observedGeneration?: number;
    [field: string]: unknown;
  };
}

/** `apps/v1 Deployment`. */
export type Deployment = Workload;
/** `apps/v1 StatefulSet`. */
export type StatefulSet = Workload;

/** `coordination.k8s.io/v1 Lease`. */
export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** `apiextensions.k8s.io/v1 CustomResourceDefinition` (the parts that identify what it serves). */
export interface CustomResourceDefinition extends KubeObject {
  spec?: {
    group: string;
    names: { plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[] };
    scope: 'Namespaced' | 'Cluster';
    versions: Array<{ name: string; served: boolean; storage: boolean; [field: string]: unknown }>;
    [field: string]: unknown;
  };
  status?: {
    conditions?: Array<{
      type: string;
      status: 'True' | 'False' | 'Unknown';
      reason?: string;
      message?: string;
    }>;
    acceptedNames?: { plural?: string; kind?: string };
    [field: string]: unknown;
  };
}

/** True when the CRD's `Established` condition is `True` (its resources are being served). */
export function isCrdEstablished(crd: CustomResourceDefinition): boolean {
  return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
}
