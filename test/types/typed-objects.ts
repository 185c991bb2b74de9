/**
 * Type tests: compiled by `tsc` (`npm run typecheck`, and again by the packaging test against the
 * installed tarball with the import rewritten to `elasti-informer`), never run. Each
 * `@ts-expect-error` line must fail to type-check, so a constraint that becomes too loose fails
 * the build as surely as one that becomes too strict.
 *
 * Accepted as `T` without casts: `@kubernetes/client-node` models (classes, `Date`-typed fields,
 * no index signatures), `kubernetes-types` interfaces (readonly metadata fields) and a user's
 * own interface. Rejected: types whose metadata fields the engine reads have the wrong type, and
 * types with no metadata at all.
 *
 * @module
 */
import type { V1ConfigMap, V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { ConfigMap as KtConfigMap } from 'kubernetes-types/core/v1.js';
import {
  type KubeClient,
  type Manager,
  type ReadonlyStore,
  type RequestWatch,
  type ResourceEventHandler,
  resources,
  SharedInformer,
  Store,
} from '../../src/index.ts';

declare const client: KubeClient;
declare const manager: Manager;

/** A user's own resource, as a consumer would write it: no index signatures, required fields. */
interface Widget {
  apiVersion: 'example.com/v1';
  kind: 'Widget';
  metadata: { name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string> };
  spec: { size: number };
}

// --- accepted ------------------------------------------------------------------------------

// client-node models.
const cmInformer = new SharedInformer<V1ConfigMap>({
  lw: client,
  target: { gvr: resources.configMaps.gvr, namespace: 'default', labelSelector: 'app=web' },
  indexers: { byApp: (cm) => [cm.metadata?.labels?.app ?? ''] },
});
const cmStore: ReadonlyStore<V1ConfigMap> = cmInformer.store;
const cmData: Record<string, string> | undefined = cmStore.getByName('default', 'x')?.data;
const podHandler: ResourceEventHandler<V1Pod> = {
  onAdd: (pod) => void pod.status?.phase,
  onDelete: (pod, info) => void [pod.spec?.nodeName, info.finalStateUnknown],
};
new SharedInformer<V1Pod>({ lw: client, target: { gvr: resources.pods.gvr } }).addEventHandler(podHandler);
async function clientNodeClient(): Promise<number | undefined> {
  const d = await client.get<V1Deployment>(resources.deployments.gvr, 'default', 'web');
  await client.replace<V1Deployment>(resources.deployments.gvr, 'default', 'web', d);
  const page = await client.list<V1ConfigMap>({ gvr: resources.configMaps.gvr }, { limit: 10 });
  void page.items[0]?.data;
  return d.spec?.replicas;
}

// kubernetes-types interfaces (readonly metadata fields).
const ktStore = new Store<KtConfigMap>({ indexers: { byName: (cm) => [cm.metadata?.name ?? ''] } });
const ktData: { [key: string]: string } | undefined = ktStore.list()[0]?.data;
const ktRequest: RequestWatch<KtConfigMap> = {
  req: { namespace: 'default', name: 'my-es' },
  resourceName: 'settings',
  resourceNamespace: 'default',
  groupVersionResource: resources.configMaps.gvr,
  handlers: { onUpdate: (_old, cm) => void cm.data?.key },
};
void manager.add(ktRequest);

// A user's interface, through the Manager and the client.
void manager.add<Widget>({
  req: { namespace: 'default', name: 'my-es' },
  resourceName: 'w1',
  resourceNamespace: 'default',
  groupVersionResource: { group: 'example.com', version: 'v1', resource: 'widgets' },
  handlers: { onAdd: (w) => void w.spec.size },
});
async function userClient(): Promise<number> {
  const gvr = { group: 'example.com', version: 'v1', resource: 'widgets' };
  const created = await client.create<Widget>(gvr, 'default', {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w1', namespace: 'default' },
    spec: { size: 3 },
  });
  return created.spec.size;
}

// The well-known resources keep their literal names.
const podsResource: 'pods' = resources.pods.gvr.resource;
const deploymentsGroup: 'apps' = resources.deployments.gvr.group;

// --- rejected ------------------------------------------------------------------------------

interface NumericName {
  metadata: { name: number };
}
interface NoMetadata {
  spec: { size: number };
}
interface MetadataNotAnObject {
  metadata: string;
}

// @ts-expect-error metadata.name must be a string
new Store<NumericName>();
// @ts-expect-error an object type without metadata is not a Kubernetes object
new Store<NoMetadata>();
// @ts-expect-error metadata must be an object
new SharedInformer<MetadataNotAnObject>({ lw: client, target: { gvr: resources.pods.gvr } });
// @ts-expect-error a primitive is not a Kubernetes object
void client.get<string>(resources.pods.gvr, 'default', 'p');
void manager.add<Widget>({
  req: { namespace: 'default', name: 'my-es' },
  resourceName: 'w1',
  resourceNamespace: 'default',
  groupVersionResource: resources.configMaps.gvr,
  // @ts-expect-error handlers receive the declared type: a Widget has no `data`
  handlers: { onAdd: (w) => void w.data },
});
// @ts-expect-error a literal-typed GVR: pods are not deployments
const wrongResource: 'deployments' = resources.pods.gvr.resource;

export const used = [
  cmData,
  clientNodeClient,
  ktData,
  userClient,
  podsResource,
  deploymentsGroup,
  wrongResource,
];
