/**
 * A small controller on the generic rate-limited workqueue: an informer feeds keys of
 * ConfigMaps labelled `mirror=true` into the queue; two workers reconcile each key by making a
 * `<name>-mirror` ConfigMap with the same data. A failed reconcile is retried with backoff
 * (`addRateLimited`); a key queued many times while busy is processed once more, never twice at once.
 *
 *   EXAMPLE_NAMESPACE=default node workqueue-controller.js
 */
import {
  type ConfigMap,
  isNotFound,
  KubeClient,
  objectKey,
  resources,
  SharedInformer,
} from 'elasti-informer';
import { RateLimitingQueue } from 'elasti-informer/workqueue';

const namespace = process.env.EXAMPLE_NAMESPACE ?? 'default';
const gvr = resources.configMaps.gvr;
const client = await KubeClient.create();

const informer = new SharedInformer<ConfigMap>({
  lw: client,
  target: { gvr, namespace, labelSelector: 'mirror=true' },
});
const queue = new RateLimitingQueue<string>();
const enqueue = (cm: ConfigMap): void => queue.add(objectKey(cm));
informer.addEventHandler({ onAdd: enqueue, onUpdate: (_old, cm) => enqueue(cm), onDelete: enqueue });

/** Called after each successful reconcile, so this demo knows when to stop. */
let onReconciled: (key: string, data: string) => void = () => {};

async function reconcile(key: string): Promise<void> {
  const source = informer.store.get(key); // read from the cache, never a stale copy
  const [ns, name] = key.split('/') as [string, string];
  const mirror = `${name}-mirror`;
  if (!source) {
    await client.deleteIfExists(gvr, ns, mirror);
    return;
  }
  const body: ConfigMap = { metadata: { name: mirror, namespace: ns }, data: source.data ?? {} };
  try {
    const current = await client.get<ConfigMap>(gvr, ns, mirror);
    await client.replace<ConfigMap>(gvr, ns, mirror, {
      ...body,
      metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion },
    });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await client.create<ConfigMap>(gvr, ns, body);
  }
  onReconciled(key, JSON.stringify(source.data ?? {}));
}

async function worker(): Promise<void> {
  for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
    try {
      await reconcile(key);
      queue.forget(key);
    } catch (error) {
      console.log(`reconcile ${key} failed, retrying: ${(error as Error).message}`);
      queue.addRateLimited(key);
    } finally {
      queue.done(key);
    }
  }
}

informer.start();
await informer.waitForSync(AbortSignal.timeout(30_000));
const workers = [worker(), worker()];

const reconciledWith = (expected: string): Promise<void> =>
  new Promise((resolve) => {
    onReconciled = (key, data) => {
      if (key !== `${namespace}/settings` || data !== expected) return;
      console.log(`reconciled ${key}: mirror has ${data}`);
      resolve();
    };
  });
let next = reconciledWith('{"color":"blue"}');
await client.create<ConfigMap>(gvr, namespace, {
  metadata: { name: 'settings', namespace, labels: { mirror: 'true' } },
  data: { color: 'blue' },
});
await next;
next = reconciledWith('{"color":"green"}');
await client.patch(gvr, namespace, 'settings', { data: { color: 'green' } }, 'merge');
await next;
const mirrored = await client.get<ConfigMap>(gvr, namespace, 'settings-mirror');
console.log(`settings-mirror data: ${JSON.stringify(mirrored.data)}`);

await queue.shutDownWithDrain();
await Promise.all(workers);
await informer.stop();
await client.delete(gvr, namespace, 'settings');
await client.delete(gvr, namespace, 'settings-mirror');
await client.close();
console.log('done');
