/**
 * KEDA's ScaledObject API for tests: the CustomResourceDefinition only (no KEDA controller runs;
 * tests check the annotations the operator writes), and a helper creating a ScaledObject.
 *
 * @module
 */
import type { KubeClient } from '../../src/kube/client/client.ts';
import type { KubeObject } from '../../src/kube/core/types.ts';
import { SCALEDOBJECT_GVR } from '../../src/scaling/keda.ts';
import { waitFor } from './wait.ts';

const CRDS_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const NAME = 'scaledobjects.keda.sh';

/** A minimal ScaledObject CRD: `keda.sh/v1alpha1`, namespaced, fields preserved as given. */
const SCALEDOBJECT_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: NAME },
  spec: {
    group: 'keda.sh',
    names: {
      kind: 'ScaledObject',
      listKind: 'ScaledObjectList',
      plural: 'scaledobjects',
      singular: 'scaledobject',
    },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1alpha1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      },
    ],
  },
};

let installed: Promise<void> | undefined;

/** Installs the ScaledObject CRD (server-side apply) and waits until it is served. Once per process. */
export function installScaledObjectCrd(client: KubeClient): Promise<void> {
  installed ??= (async () => {
    await client.request('PATCH', `${CRDS_PATH}/${NAME}`, JSON.stringify(SCALEDOBJECT_CRD), {
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: 'elasti-test', force: true },
    });
    await waitFor(
      async () => {
        try {
          await client.list({ gvr: SCALEDOBJECT_GVR }, { limit: 1 });
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 30_000, message: 'scaledobjects served' },
    );
  })();
  return installed;
}

/** Creates ScaledObject `name` targeting Deployment `target`, with optional annotations. */
export function createScaledObject(
  client: KubeClient,
  namespace: string,
  name: string,
  target: string,
  annotations?: Record<string, string>,
): Promise<KubeObject> {
  return client.create(SCALEDOBJECT_GVR, namespace, {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name, ...(annotations ? { annotations } : {}) },
    spec: { scaleTargetRef: { name: target }, minReplicaCount: 0, triggers: [] },
  } as KubeObject);
}
