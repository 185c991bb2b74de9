/**
 * A shared informer with a label selector, an indexer and reads from its cache.
 *
 * Run against any cluster (KUBECONFIG, ~/.kube/config or in-cluster credentials):
 *   EXAMPLE_NAMESPACE=default node shared-informer.js
 * It creates three ConfigMaps (two labelled `app=example`), lists and watches only the labelled
 * ones, reads them from the cache by key and by index, sees an update arrive, and cleans up.
 */
import { type ConfigMap, KubeClient, resources, SharedInformer } from 'elasti-informer';

const namespace = process.env.EXAMPLE_NAMESPACE ?? 'default';
const gvr = resources.configMaps.gvr;
const client = await KubeClient.create();

const configMap = (name: string, labels: Record<string, string>): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace, labels },
  data: { owner: name },
});
for (const cm of [
  configMap('example-web', { app: 'example', tier: 'web' }),
  configMap('example-db', { app: 'example', tier: 'db' }),
  configMap('unrelated', { app: 'other' }),
]) {
  await client.create<ConfigMap>(gvr, namespace, cm);
}

const informer = new SharedInformer<ConfigMap>({
  lw: client,
  target: { gvr, namespace, labelSelector: 'app=example' },
  // A second index besides the built-in `namespace` one: ConfigMaps by their `tier` label.
  indexers: { byTier: (cm) => [cm.metadata.labels?.tier ?? ''] },
});
let updated: () => void = () => {};
const sawUpdate = new Promise<void>((resolve) => {
  updated = resolve;
});
informer.addEventHandler({
  onAdd: (cm, initial) => console.log(`add ${cm.metadata.name}${initial ? ' (initial list)' : ''}`),
  onUpdate: (_old, cm) => {
    console.log(`update ${cm.metadata.name}: owner=${cm.data?.owner}`);
    updated();
  },
});
informer.start();
await informer.waitForSync(AbortSignal.timeout(30_000));

const cached = informer.store
  .list()
  .map((cm) => cm.metadata.name)
  .sort();
console.log(`synced: ${cached.length} config maps labelled app=example: ${cached.join(', ')}`);
console.log(`by key: ${informer.store.get(`${namespace}/example-db`)?.data?.owner}`);
console.log(`by index byTier=web: ${informer.store.byIndex('byTier', 'web').map((cm) => cm.metadata.name)}`);

await client.patch(gvr, namespace, 'example-web', { data: { owner: 'someone-else' } }, 'merge');
await sawUpdate;

await informer.stop();
for (const name of ['example-web', 'example-db', 'unrelated']) await client.delete(gvr, namespace, name);
await client.close();
console.log('done');
