/**
 * The informer Manager: watches of single named objects, started and stopped at runtime, on
 * behalf of a requester (here an imaginary `my-app` custom resource). Requests for names in the
 * same GVR x namespace share upstream watches; each registration gets only its own object's events.
 *
 *   EXAMPLE_NAMESPACE=default node manager.js
 */
import { type ConfigMap, KubeClient, Manager, type RequestWatch, resources } from 'elasti-informer';

const namespace = process.env.EXAMPLE_NAMESPACE ?? 'default';
const gvr = resources.configMaps.gvr;
const client = await KubeClient.create();
const manager = new Manager({ client });
manager.start(); // the health monitor

for (const name of ['alpha', 'beta']) {
  await client.create<ConfigMap>(gvr, namespace, {
    metadata: { name, namespace },
    data: { version: '1' },
  });
}

/** Resolves when `name` is seen with `data.version === version`. */
const seen = new Map<string, () => void>();
const waitFor = (name: string, version: string): Promise<void> =>
  new Promise((resolve) => seen.set(`${name}@${version}`, resolve));

const watchOf = (name: string): RequestWatch<ConfigMap> => ({
  req: { namespace, name: 'my-app' },
  resourceName: name,
  resourceNamespace: namespace,
  groupVersionResource: gvr,
  handlers: {
    onAdd: (cm) => console.log(`[${name}] add version=${cm.data?.version}`),
    onUpdate: (_old, cm) => {
      console.log(`[${name}] update version=${cm.data?.version}`);
      seen.get(`${name}@${cm.data?.version}`)?.();
    },
  },
});

// add() resolves once the watch has synced (the object was delivered as an add).
const alphaKey = await manager.add(watchOf('alpha'));
const betaKey = await manager.add(watchOf('beta'));
console.log(
  `watching: ${manager
    .list()
    .map((r) => `${r.name}=${r.state}`)
    .sort()
    .join(', ')}`,
);

const betaV2 = waitFor('beta', '2');
await client.patch(gvr, namespace, 'beta', { data: { version: '2' } }, 'merge');
await betaV2;

await manager.stopInformer(alphaKey);
console.log(
  `stopped alpha; watching: ${manager
    .list()
    .map((r) => r.name)
    .join(', ')}`,
);
// alpha changes now reach nobody; beta's next change still arrives.
await client.patch(gvr, namespace, 'alpha', { data: { version: '2' } }, 'merge');
const betaV3 = waitFor('beta', '3');
await client.patch(gvr, namespace, 'beta', { data: { version: '3' } }, 'merge');
await betaV3;

await manager.stopInformer(betaKey);
await manager.stop();
for (const name of ['alpha', 'beta']) await client.delete(gvr, namespace, name);
await client.close();
console.log('done');
