/**
 * `elasti-informer`: the list/watch engine (client, shared informer, store with indexers,
 * reflector) and the informer Manager (per-name watches started and stopped at runtime, shared
 * upstreams), in one import. The same things are importable separately as
 * `elasti-informer/kube` (the engine) and `elasti-informer/informer` (the Manager); the generic
 * controller pieces are `elasti-informer/workqueue`, `elasti-informer/leader-election` and
 * `elasti-informer/health`; the ElastiService API types are `elasti-informer/api/v1alpha1`.
 *
 * @example
 * ```ts
 * import { KubeClient, resources, SharedInformer } from 'elasti-informer';
 *
 * const client = await KubeClient.create(); // KUBECONFIG, ~/.kube/config or in-cluster
 * const informer = new SharedInformer({ lw: client, target: { gvr: resources.configMaps.gvr, namespace: 'default' } });
 * informer.addEventHandler({ onAdd: (cm) => console.log('added', cm.metadata?.name) });
 * informer.start();
 * await informer.waitForSync(AbortSignal.timeout(30_000));
 * console.log(informer.store.list().length, 'config maps');
 * await informer.stop();
 * await client.close();
 * ```
 *
 * @module
 */
export * from './informer/index.ts';
export * from './kube/index.ts';
