/**
 * Registration keys.
 *
 * A key is upstream's four-part `crdname/namespace/resourcetype/resourcename`, lower-cased.
 * Upstream puts the bare plural in the third part (`deployments`), so two resources with the same
 * plural in different API groups (e.g. `deployments.apps` and a CRD `deployments.example.com`)
 * would get the same key. Here the third part is {@link resourceTypeOf}: the bare plural for the
 * core group (so core keys are byte-identical to upstream's: `es/ns/services/web`) and
 * `plural.group` otherwise (`es/ns/deployments.apps/web`). A plural never contains a dot, so
 * `plural.group` splits unambiguously at its first dot and never equals a core plural: distinct
 * group/resource pairs always get distinct keys. The version is not part of the key: two
 * versions of one group/resource serve the same objects.
 *
 * For callers that still build keys the upstream way, `Manager.stopInformer` also accepts the
 * group-less spelling when it names exactly one registration ({@link legacyKeyOf}).
 *
 * @module
 */
import type { GroupVersionResource } from '../kube/index.ts';
import { InvalidRequestWatchError } from './errors.ts';
import type { KeyParams, RequestWatch } from './types.ts';

/** The key's resource part for a GVR: `services` (core), `deployments.apps` (named group). */
export function resourceTypeOf(gvr: GroupVersionResource): string {
  return (gvr.group ? `${gvr.resource}.${gvr.group}` : gvr.resource).toLowerCase();
}

/** Upstream `GetKey`: `crdname/namespace/resourcetype/resourcename`, lower-cased. */
export function getKey(params: KeyParams): string {
  return [params.crdName, params.namespace, params.resourceType, params.resourceName]
    .map((part) => part.toLowerCase())
    .join('/');
}

/** The key of a RequestWatch. */
export function keyOf(request: RequestWatch<never>): string {
  return getKey({
    crdName: request.req.name,
    namespace: request.resourceNamespace,
    resourceType: resourceTypeOf(request.groupVersionResource),
    resourceName: request.resourceName,
  });
}

/** The key as upstream would spell it (bare plural), used to resolve such keys to ours. */
export function legacyKeyOf(request: RequestWatch<never>): string {
  return getKey({
    crdName: request.req.name,
    namespace: request.resourceNamespace,
    resourceType: request.groupVersionResource.resource,
    resourceName: request.resourceName,
  });
}

/** The parts of a key; `undefined` if it does not have four parts. */
export function parseKey(key: string): KeyParams | undefined {
  const parts = key.split('/');
  if (parts.length !== 4) return undefined;
  const [crdName, namespace, resourceType, resourceName] = parts as [string, string, string, string];
  return { crdName, namespace, resourceType, resourceName };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const RESOURCE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const VERSION = /^[a-z0-9]+$/;
// Object names differ per kind (most are DNS subdomains, RBAC allows `:`); refuse only what
// would break a key or a field selector: empty, `/`, `,`, `=`, whitespace and control characters.
const OBJECT_NAME = /^[^/,=\s\p{Cc}]{1,253}$/u;

/**
 * Checks a RequestWatch before anything is done with it. Throws {@link InvalidRequestWatchError}
 * naming the first bad field.
 */
export function validateRequestWatch(request: unknown): asserts request is RequestWatch {
  if (!isRecord(request)) throw new InvalidRequestWatchError('requestWatch', 'must be an object');
  const { req, resourceName, resourceNamespace, groupVersionResource: gvr, handlers } = request;
  if (!isRecord(req)) throw new InvalidRequestWatchError('req', 'must be { name, namespace }');
  if (typeof req.name !== 'string' || !OBJECT_NAME.test(req.name)) {
    throw new InvalidRequestWatchError('req.name', `not a usable name: ${JSON.stringify(req.name)}`);
  }
  if (typeof req.namespace !== 'string' || (req.namespace !== '' && !DNS_LABEL.test(req.namespace))) {
    throw new InvalidRequestWatchError('req.namespace', `not a namespace: ${JSON.stringify(req.namespace)}`);
  }
  if (typeof resourceName !== 'string' || !OBJECT_NAME.test(resourceName) || /^\.\.?$/.test(resourceName)) {
    throw new InvalidRequestWatchError('resourceName', `not a usable name: ${JSON.stringify(resourceName)}`);
  }
  if (
    typeof resourceNamespace !== 'string' ||
    (resourceNamespace !== '' && !DNS_LABEL.test(resourceNamespace))
  ) {
    throw new InvalidRequestWatchError(
      'resourceNamespace',
      `not a namespace ('' for cluster-scoped): ${JSON.stringify(resourceNamespace)}`,
    );
  }
  if (!isRecord(gvr))
    throw new InvalidRequestWatchError('groupVersionResource', 'must be { group, version, resource }');
  if (typeof gvr.group !== 'string' || (gvr.group !== '' && !DNS_SUBDOMAIN.test(gvr.group))) {
    throw new InvalidRequestWatchError(
      'groupVersionResource.group',
      `not an API group: ${JSON.stringify(gvr.group)}`,
    );
  }
  if (typeof gvr.version !== 'string' || !VERSION.test(gvr.version)) {
    throw new InvalidRequestWatchError(
      'groupVersionResource.version',
      `not a version: ${JSON.stringify(gvr.version)}`,
    );
  }
  if (typeof gvr.resource !== 'string' || !RESOURCE.test(gvr.resource)) {
    throw new InvalidRequestWatchError(
      'groupVersionResource.resource',
      `not a plural resource name: ${JSON.stringify(gvr.resource)}`,
    );
  }
  if (!isRecord(handlers)) throw new InvalidRequestWatchError('handlers', 'must be an object of callbacks');
  for (const callback of ['onAdd', 'onUpdate', 'onDelete'] as const) {
    const fn = handlers[callback];
    if (fn !== undefined && typeof fn !== 'function') {
      throw new InvalidRequestWatchError(`handlers.${callback}`, 'must be a function when present');
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
