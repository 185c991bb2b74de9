/**
 * The private Service, `elasti-<svc>-pvt-<hash>`: a copy of the public Service that keeps
 * selecting the target's Pods while the public Service's traffic is diverted to the resolver,
 * so the resolver has somewhere to send requests once the target is back.
 *
 * It is created on the first switch to proxy mode and kept afterwards (upstream does the same);
 * its selector and ports follow the public Service's from then on.
 *
 * @module
 */
import { privateServiceName } from '../api/v1alpha1/index.ts';
import type { KubeObject, Service, ServicePort } from '../kube/index.ts';
import { isAlreadyExists, isNotFound, resources } from '../kube/index.ts';
import type { ResourceClient } from '../runtime/index.ts';
import { jsonEqual } from './json.ts';
import { hasOwner, withOwner } from './owners.ts';

/** What an ensure/sync call did. */
export type WriteAction = 'created' | 'updated' | 'unchanged';

/** Annotations that describe the public object itself and must not be copied onto another. */
const NON_COPIED_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration'];

/**
 * Fields of a Service spec that belong to one Service instance (allocated addresses and node
 * ports) or make sense only for externally exposed types. The private Service is internal: it is
 * always `ClusterIP`, so it never allocates node ports or a second cloud load balancer.
 */
const INSTANCE_SPEC_FIELDS = [
  'clusterIP',
  'clusterIPs',
  'healthCheckNodePort',
  'loadBalancerIP',
  'loadBalancerSourceRanges',
  'loadBalancerClass',
  'allocateLoadBalancerNodePorts',
  'externalTrafficPolicy',
  'externalIPs',
  'externalName',
];

/** The public Service's ports without node ports (allocated per Service). */
export function privatePorts(ports: readonly ServicePort[] | undefined): ServicePort[] | undefined {
  if (!ports) return undefined;
  return ports.map((port) => {
    const { nodePort: _nodePort, ...rest } = port;
    return rest;
  });
}

/** The private Service to create for `publicSvc`, owned by `owner` (an ElastiService). */
export function buildPrivateService(publicSvc: Service, owner: KubeObject): Service {
  const name = privateServiceName(publicSvc.metadata.name ?? '');
  const spec: Record<string, unknown> = { ...(structuredClone(publicSvc.spec) ?? {}) };
  for (const field of INSTANCE_SPEC_FIELDS) delete spec[field];
  spec.type = 'ClusterIP';
  const ports = privatePorts(publicSvc.spec?.ports);
  if (ports) spec.ports = ports;
  const annotations = { ...(publicSvc.metadata.annotations ?? {}) };
  for (const key of NON_COPIED_ANNOTATIONS) delete annotations[key];
  const metadata: Service['metadata'] = {
    name,
    namespace: publicSvc.metadata.namespace,
    ownerReferences: withOwner(undefined, owner),
  };
  if (publicSvc.metadata.labels) metadata.labels = { ...publicSvc.metadata.labels };
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  return { apiVersion: 'v1', kind: 'Service', metadata, spec };
}

/**
 * `privateSvc` with its selector and ports set to the public Service's and `owner` among its
 * owners, or `undefined` when it already is so (no write needed).
 */
export function syncedPrivateService(
  privateSvc: Service,
  publicSvc: Service,
  owner: KubeObject,
): Service | undefined {
  const selector = publicSvc.spec?.selector;
  const ports = privatePorts(publicSvc.spec?.ports);
  const selectorSame = jsonEqual(privateSvc.spec?.selector ?? {}, selector ?? {});
  const portsSame = jsonEqual(privatePorts(privateSvc.spec?.ports) ?? [], ports ?? []);
  const owned = hasOwner(privateSvc.metadata.ownerReferences, owner);
  if (selectorSame && portsSame && owned) return undefined;
  const next: Service = structuredClone(privateSvc);
  next.spec = { ...(next.spec ?? {}) };
  if (selector && Object.keys(selector).length > 0) next.spec.selector = { ...selector };
  else delete next.spec.selector;
  if (ports) next.spec.ports = ports;
  else delete next.spec.ports;
  next.metadata.ownerReferences = withOwner(next.metadata.ownerReferences, owner);
  return next;
}

/** Creates the private Service of `publicSvc`, or brings an existing one in line with it. */
export async function ensurePrivateService(
  client: ResourceClient,
  publicSvc: Service,
  owner: KubeObject,
  fieldManager: string,
): Promise<{ action: WriteAction; service: Service }> {
  const namespace = publicSvc.metadata.namespace;
  const name = privateServiceName(publicSvc.metadata.name ?? '');
  let existing = await getOrUndefined(client, namespace, name);
  if (!existing) {
    try {
      const created = await client.create<Service>(
        resources.services.gvr,
        namespace,
        buildPrivateService(publicSvc, owner),
        {
          fieldManager,
        },
      );
      return { action: 'created', service: created };
    } catch (error) {
      // Another ElastiService on the same Service created it in the meantime: sync it instead.
      if (!isAlreadyExists(error)) throw error;
      existing = await client.get<Service>(resources.services.gvr, namespace, name);
    }
  }
  return syncExisting(client, existing, publicSvc, owner, fieldManager);
}

/**
 * Brings the private Service in line with the public one if it exists (`undefined` if it does
 * not: serve mode never creates it).
 */
export async function syncPrivateServiceIfExists(
  client: ResourceClient,
  publicSvc: Service,
  owner: KubeObject,
  fieldManager: string,
): Promise<{ action: WriteAction; service: Service } | undefined> {
  const name = privateServiceName(publicSvc.metadata.name ?? '');
  const existing = await getOrUndefined(client, publicSvc.metadata.namespace, name);
  if (!existing) return undefined;
  return syncExisting(client, existing, publicSvc, owner, fieldManager);
}

/** Deletes the private Service of `service` in `namespace`. Returns whether it existed. */
export async function deletePrivateService(
  client: ResourceClient,
  namespace: string,
  service: string,
): Promise<boolean> {
  try {
    await client.delete(resources.services.gvr, namespace, privateServiceName(service));
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

async function syncExisting(
  client: ResourceClient,
  existing: Service,
  publicSvc: Service,
  owner: KubeObject,
  fieldManager: string,
): Promise<{ action: WriteAction; service: Service }> {
  const next = syncedPrivateService(existing, publicSvc, owner);
  if (!next) return { action: 'unchanged', service: existing };
  const name = existing.metadata.name ?? '';
  // PUT with the resourceVersion we read: a concurrent change fails with 409 and is retried.
  const updated = await client.replace<Service>(
    resources.services.gvr,
    existing.metadata.namespace,
    name,
    next,
    {
      fieldManager,
    },
  );
  return { action: 'updated', service: updated };
}

async function getOrUndefined(
  client: ResourceClient,
  namespace: string | undefined,
  name: string,
): Promise<Service | undefined> {
  try {
    return await client.get<Service>(resources.services.gvr, namespace, name);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
