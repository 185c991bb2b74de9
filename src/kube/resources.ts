/**
 * Well-known built-in resources: their GVRs, kinds and scopes (stable across every supported
 * Kubernetes version, so no discovery round-trip is needed for them), plus minimal typed shapes
 * of the objects this project reads or writes. The shapes list only the fields we use; every
 * other field is carried through untouched via {@link KubeObject}'s index signature.
 *
 * @module
 */
import type { GroupVersionResource, KubeObject, ObjectMeta } from './types.ts';

/** A built-in resource with what discovery would say about it. */
export interface WellKnownResource {
  readonly gvr: GroupVersionResource;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

function wk(
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
): WellKnownResource {
  return {
    gvr: Object.freeze({ group, version, resource }),
    apiVersion: group ? `${group}/${version}` : version,
    kind,
    namespaced,
  };
}

/** The built-in resources the engine and the operator use. */
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
export function newObject<T extends KubeObject>(
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
}

/** `v1 Service`. */
export interface Service extends KubeObject {
  spec?: {
    selector?: Record<string, string>;
    ports?: ServicePort[];
    type?: string;
    clusterIP?: string;
    [field: string]: unknown;
  };
}

/** Label selector as workloads carry it. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }>;
}

/** `apps/v1 Deployment` / `StatefulSet` (the scale-relevant parts). */
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
