/**
 * An operator on the public runtime alone: every ConfigMap labelled `role=source` gets a
 * `<name>-copy` ConfigMap that it controls (owner reference), with the same data. `owns()`
 * notices at once when a copy is deleted or edited and the reconcile puts it back; the copies'
 * lister shares the controller's watch through the cache (same GVR × namespace × selector).
 *
 *   EXAMPLE_NAMESPACE=default node owned-configmap-operator.js
 */
import { type ConfigMap, KubeClient, resources } from 'elasti-informer';
import { ControllerBuilder, controllerReference, InformerCache } from 'elasti-informer/runtime';

const namespace = process.env.EXAMPLE_NAMESPACE ?? 'default';
const { gvr } = resources.configMaps;
const client = await KubeClient.create();
const cache = new InformerCache({ lw: client });
const copies = cache.acquire<ConfigMap>({ gvr, namespace, labelSelector: { role: 'copy' } });

const controller = new ControllerBuilder('configmap-copier', { cache })
  .for<ConfigMap>(resources.configMaps, { namespace, labelSelector: { role: 'source' } })
  .owns(resources.configMaps, { namespace, labelSelector: { role: 'copy' } })
  .build(async (req, { object: source, signal }) => {
    if (!source) return; // gone: the garbage collector deletes what it owned
    const name = `${req.name}-copy`;
    const copy: ConfigMap = {
      metadata: {
        name,
        namespace,
        labels: { role: 'copy' },
        ownerReferences: [controllerReference(source, resources.configMaps)],
      },
      data: source.data ?? {},
    };
    const current = copies.lister.get(namespace, name); // the cache, not the API server
    if (!current) {
      await client.create(gvr, namespace, copy, { signal });
      writes.push(`created ${name} with ${JSON.stringify(copy.data)}`);
    } else if (JSON.stringify(current.data) !== JSON.stringify(copy.data)) {
      const resourceVersion = current.metadata.resourceVersion;
      await client.replace(gvr, namespace, name, {
        ...copy,
        metadata: { ...copy.metadata, resourceVersion },
      });
      writes.push(`updated ${name} to ${JSON.stringify(copy.data)}`);
    }
  });
const writes: string[] = [];

/** Waits until the reconciler has written `count` times, and prints the last write. */
async function written(count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (writes.length < count) {
    if (Date.now() > deadline)
      throw new Error(`only ${writes.length} of ${count} writes: ${writes.join('; ')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  console.log(writes[count - 1]);
}

await controller.start();
console.log(`${cache.size} informers for 3 users`); // the lister and owns() share one
const source = {
  metadata: { name: 'settings', namespace, labels: { role: 'source' } },
  data: { color: 'blue' },
};
await client.create<ConfigMap>(gvr, namespace, source);
await written(1);
await client.delete(gvr, namespace, 'settings-copy'); // drift: owns() reconciles the owner
await written(2);
await client.patch(gvr, namespace, 'settings-copy', { data: { color: 'red' } }, 'merge');
await written(3);
await client.patch(gvr, namespace, 'settings', { data: { color: 'green' } }, 'merge');
await written(4);

await controller.stop();
await cache.stop();
await client.delete(gvr, namespace, 'settings');
await client.deleteIfExists(gvr, namespace, 'settings-copy');
await client.close();
console.log('done');
