/**
 * The EndpointSlice to the resolver, `elasti-<svc>-endpointslice-to-resolver-<hash>`: labelled
 * with the public Service's name, it adds the resolver's Pods to that Service's endpoints, so
 * while the target has no ready Pod its traffic reaches the resolver (which queues it and asks
 * for a scale-up). It exists exactly while the ElastiService is in proxy mode.
 *
 * Its endpoints are the resolver's ready IPv4 Pod IPs, read from the resolver Service's own
 * EndpointSlices; its single port carries the public Service's first port name (so kube-proxy
 * maps that port to it) with the resolver's reverse-proxy port, as upstream does.
 *
 * @module
 */
import { endpointSliceToResolverName } from '../api/v1alpha1/index.ts';
import type { EndpointSlice, KubeObject, Service } from '../kube/index.ts';
import { isAlreadyExists, isNotFound, resources } from '../kube/index.ts';
import type { ResourceClient } from '../runtime/index.ts';
import { PublicServiceInvalidError } from './errors.ts';
import { jsonEqual } from './json.ts';
import { hasOwner, withOwner } from './owners.ts';
import type { WriteAction } from './private-service.ts';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, SERVICE_NAME_LABEL } from './types.ts';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * Ready IPv4 addresses of the given EndpointSlices (the resolver Service's), sorted and unique.
 * An endpoint counts unless its `ready` condition is explicitly false (absent means ready, per
 * the EndpointSlice API).
 */
export function readyAddresses(slices: readonly EndpointSlice[]): string[] {
  const addresses = new Set<string>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) continue;
      for (const address of endpoint.addresses ?? []) if (IPV4.test(address)) addresses.add(address);
    }
  }
  return [...addresses].sort(compareIPv4);
}

/** Numeric order of dotted quads (so `10.0.0.9` sorts before `10.0.0.10`). */
export function compareIPv4(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The desired EndpointSlice for `publicSvc` pointing at `addresses` on `port`.
 *
 * @throws {PublicServiceInvalidError} when the public Service has no port.
 */
export function buildResolverSlice(
  publicSvc: Service,
  owner: KubeObject,
  addresses: readonly string[],
  port: number,
): EndpointSlice {
  const service = publicSvc.metadata.name ?? '';
  const firstPort = publicSvc.spec?.ports?.[0];
  if (!firstPort) {
    throw new PublicServiceInvalidError(publicSvc.metadata.namespace ?? '', service, 'has no ports');
  }
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: endpointSliceToResolverName(service),
      namespace: publicSvc.metadata.namespace,
      labels: { [SERVICE_NAME_LABEL]: service, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
      ownerReferences: withOwner(undefined, owner),
    },
    addressType: 'IPv4',
    endpoints: [...addresses]
      .sort(compareIPv4)
      .map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    ports: [{ name: firstPort.name ?? '', protocol: 'TCP', port }],
  };
}

/**
 * `existing` changed to carry `desired`'s labels, endpoints, ports and owner, or `undefined`
 * when it already does (no write needed). Other labels and owners are kept.
 */
export function updatedSlice(
  existing: EndpointSlice,
  desired: EndpointSlice,
  owner: KubeObject,
): EndpointSlice | undefined {
  const labels = { ...(existing.metadata.labels ?? {}), ...(desired.metadata.labels ?? {}) };
  const same =
    jsonEqual(labels, existing.metadata.labels ?? {}) &&
    hasOwner(existing.metadata.ownerReferences, owner) &&
    jsonEqual(comparableEndpoints(existing), comparableEndpoints(desired)) &&
    jsonEqual(existing.ports ?? [], desired.ports ?? []);
  if (same) return undefined;
  const next = structuredClone(existing);
  next.metadata.labels = labels;
  next.metadata.ownerReferences = withOwner(existing.metadata.ownerReferences, owner);
  next.endpoints = desired.endpoints ?? [];
  next.ports = desired.ports ?? [];
  return next;
}

/**
 * Creates or updates the EndpointSlice to the resolver for `publicSvc`. A slice of another
 * address type (immutable) is deleted and recreated.
 */
export async function ensureResolverSlice(
  client: ResourceClient,
  publicSvc: Service,
  owner: KubeObject,
  addresses: readonly string[],
  port: number,
  fieldManager: string,
): Promise<{ action: WriteAction; slice: EndpointSlice }> {
  const desired = buildResolverSlice(publicSvc, owner, addresses, port);
  const namespace = desired.metadata.namespace;
  const name = desired.metadata.name ?? '';
  let existing = await getOrUndefined(client, namespace, name);
  if (existing && existing.addressType !== desired.addressType) {
    await deleteSliceByName(client, namespace, name);
    existing = undefined;
  }
  if (!existing) {
    try {
      const created = await client.create<EndpointSlice>(resources.endpointSlices.gvr, namespace, desired, {
        fieldManager,
      });
      return { action: 'created', slice: created };
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      existing = await client.get<EndpointSlice>(resources.endpointSlices.gvr, namespace, name);
    }
  }
  const next = updatedSlice(existing, desired, owner);
  if (!next) return { action: 'unchanged', slice: existing };
  const updated = await client.replace<EndpointSlice>(resources.endpointSlices.gvr, namespace, name, next, {
    fieldManager,
  });
  return { action: 'updated', slice: updated };
}

/** Deletes the EndpointSlice to the resolver of `service`. Returns whether it existed. */
export async function deleteResolverSlice(
  client: ResourceClient,
  namespace: string,
  service: string,
): Promise<boolean> {
  return deleteSliceByName(client, namespace, endpointSliceToResolverName(service));
}

/** Order-insensitive view of a slice's endpoints: sorted addresses with their readiness. */
function comparableEndpoints(slice: EndpointSlice): { addresses: string[]; ready: boolean }[] {
  return (slice.endpoints ?? [])
    .map((e) => ({ addresses: [...(e.addresses ?? [])].sort(), ready: e.conditions?.ready !== false }))
    .sort((a, b) =>
      a.addresses.join() < b.addresses.join() ? -1 : a.addresses.join() > b.addresses.join() ? 1 : 0,
    );
}

async function deleteSliceByName(
  client: ResourceClient,
  namespace: string | undefined,
  name: string,
): Promise<boolean> {
  try {
    await client.delete(resources.endpointSlices.gvr, namespace, name);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

async function getOrUndefined(
  client: ResourceClient,
  namespace: string | undefined,
  name: string,
): Promise<EndpointSlice | undefined> {
  try {
    return await client.get<EndpointSlice>(resources.endpointSlices.gvr, namespace, name);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
