/**
 * HTTP/1.1 vs HTTP/2 for the per-cluster undici dispatcher (`src/kube/config/connection.ts`): how long
 * opening N concurrent watches takes, how fast one change fans out to all of them, how many TCP
 * connections that costs, and LIST throughput (sequential and concurrent paged lists).
 *
 * Run: `npm run bench -- transport-h1-vs-h2` or `node bench/transport-h1-vs-h2.ts [watches]`.
 * Numbers are reported, never asserted.
 */
import { Agent } from 'undici';
import { KubeClient } from '../src/kube/client/client.ts';
import { connect } from '../src/kube/config/connection.ts';
import { resources } from '../src/kube/core/resources.ts';
import { isObjectEvent, type KubeObject } from '../src/kube/core/types.ts';
import { startControlPlane } from '../tools/controlplane/harness.ts';

const CM = resources.configMaps.gvr;

interface ModeResult {
  watches: number;
  /** ms until every watch delivered its streaming list's end bookmark. */
  openAllMs: number;
  /** ms from one create until every watch saw it. */
  fanOutMs: number;
  /** TCP connections the dispatcher held with all watches open. */
  connections: number;
  /** Paged list of the whole collection, repeated sequentially. */
  listSequentialObjectsPerSec: number;
  /** Several such lists at once. */
  listConcurrentObjectsPerSec: number;
  /** Watches that could not open within the time limit (stream limits). */
  stuckWatches: number;
}

function connectionsOf(client: KubeClient): number {
  const dispatcher = client.connection.dispatcher;
  if (!(dispatcher instanceof Agent)) return -1;
  let connected = 0;
  for (const stats of Object.values(dispatcher.stats))
    connected += (stats as { connected?: number }).connected ?? 0;
  return connected;
}

async function listAll(client: KubeClient, ns: string): Promise<number> {
  let count = 0;
  let cont: string | undefined;
  do {
    const page = await client.list(
      { gvr: CM, namespace: ns },
      cont ? { limit: 500, continue: cont } : { limit: 500 },
    );
    count += page.items.length;
    cont = page.continue;
  } while (cont);
  return count;
}

let runs = 0;

async function measure(
  kubeconfig: string,
  http2: boolean,
  watches: number,
  listNs: string,
): Promise<ModeResult> {
  const conn = await connect(kubeconfig, { http2 });
  const client = new KubeClient(conn, undefined, {}, true);
  const admin = await KubeClient.create(kubeconfig);
  const ns = `watch-${http2 ? 'h2' : 'h1'}-${++runs}`;
  await admin.create(resources.namespaces.gvr, undefined, { metadata: { name: ns } });

  const controller = new AbortController();
  const opened: boolean[] = Array.from({ length: watches }, () => false);
  const seen: boolean[] = Array.from({ length: watches }, () => false);
  const started = performance.now();
  const streams = opened.map(async (_, i) => {
    try {
      for await (const event of client.watch<KubeObject>(
        { gvr: CM, namespace: ns },
        {
          sendInitialEvents: true,
          resourceVersionMatch: 'NotOlderThan',
          allowWatchBookmarks: true,
          signal: controller.signal,
        },
      )) {
        if (event.type === 'BOOKMARK') opened[i] = true;
        if (isObjectEvent(event) && event.object.metadata.name === 'probe') seen[i] = true;
      }
    } catch {
      // counted as stuck below
    }
  });
  const deadline = started + 60_000;
  while (opened.some((o) => !o) && performance.now() < deadline) await sleep(5);
  const openAllMs = performance.now() - started;
  const stuckWatches = opened.filter((o) => !o).length;
  const connections = connectionsOf(client);

  const probeAt = performance.now();
  await admin.create(CM, ns, { metadata: { name: 'probe' } });
  while (seen.some((s, i) => !s && opened[i]) && performance.now() < probeAt + 30_000) await sleep(2);
  const fanOutMs = performance.now() - probeAt;
  controller.abort();
  await Promise.all(streams);

  const rounds = 5;
  let t0 = performance.now();
  let objects = 0;
  for (let r = 0; r < rounds; r++) objects += await listAll(client, listNs);
  const listSequentialObjectsPerSec = objects / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  const counts = await Promise.all(Array.from({ length: 8 }, () => listAll(client, listNs)));
  const listConcurrentObjectsPerSec = counts.reduce((a, b) => a + b, 0) / ((performance.now() - t0) / 1000);

  await client.close();
  await admin.close();
  return {
    watches,
    openAllMs: Math.round(openAllMs),
    fanOutMs: Math.round(fanOutMs),
    connections,
    listSequentialObjectsPerSec: Math.round(listSequentialObjectsPerSec),
    listConcurrentObjectsPerSec: Math.round(listConcurrentObjectsPerSec),
    stuckWatches,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Entry point for `bench/run.ts`. */
export async function run(watches = 200, objects = 2000): Promise<Record<string, unknown>> {
  const plane = await startControlPlane();
  try {
    const admin = await KubeClient.create(plane.kubeconfigPath);
    const listNs = 'list-bench';
    await admin.create(resources.namespaces.gvr, undefined, { metadata: { name: listNs } });
    let next = 0;
    const payload = 'x'.repeat(512);
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < objects) {
          const i = next++;
          await admin.create(CM, listNs, { metadata: { name: `cm-${i}` }, data: { payload } });
        }
      }),
    );
    await admin.close();
    // Alternate the order so neither mode always runs on a colder server.
    const h1 = await measure(plane.kubeconfigPath, false, watches, listNs);
    const h2 = await measure(plane.kubeconfigPath, true, watches, listNs);
    const h1Again = await measure(plane.kubeconfigPath, false, watches, listNs);
    return { objects, h1, h2, h1Again };
  } finally {
    await plane.stop();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '\0')) {
  const watches = Number(process.argv[2] ?? 200);
  process.stdout.write(`${JSON.stringify(await run(watches), null, 2)}\n`);
}
