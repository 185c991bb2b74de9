/**
 * One Node contender of the engine benchmark, in its own process (forked by bench/engine.ts
 * through `bench/_protocol.ts`): syncs every ConfigMap of a namespace, reports time and memory,
 * then records when updates arrive. One argument: its {@link NodeWorkerConfig} as JSON. The
 * benchmark runs the JavaScript `tsconfig.bench.json` compiles from this file, so no TypeScript
 * stripper is loaded in the measured process — as those modules, or (contenders marked `bundled`)
 * as one CommonJS file made from them the way the operator ships (`tools/bundle-operator.ts`).
 */

import type { KubeObject } from '../src/kube/core/types.ts';
import { collectGarbage, memorySnapshot } from './_memory.ts';
import type { NodeWorkerConfig, ParentMessage, WorkerMessage } from './_protocol.ts';
import { now } from './_util.ts';

const config = JSON.parse(process.argv[2] ?? '{}') as NodeWorkerConfig;
const { kubeconfig, namespace, expected } = config;
/**
 * One JSON message per line on stdout: the line protocol of `_protocol.ts`, as the client-go peer
 * speaks it. Not Node's IPC channel: that alone costs a forked process 3.1 MiB of RSS (2.3 of it
 * the `node` executable's pages) that the peer does not pay.
 */
const send = (message: WorkerMessage): void => void process.stdout.write(`${JSON.stringify(message)}\n`);

let onParentMessage: ((message: ParentMessage) => void) | undefined;
const early: ParentMessage[] = [];
/** The parent's messages, one per line of stdin; the end of stdin ends this worker normally. */
function readParent(): void {
  let rest = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    rest += chunk;
    for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n')) {
      const line = rest.slice(0, nl).trim();
      rest = rest.slice(nl + 1);
      if (line === '') continue;
      const message = JSON.parse(line) as ParentMessage;
      if (onParentMessage) onParentMessage(message);
      else early.push(message);
    }
  });
  // The parent going away ends this worker normally (so --cpu-prof and friends can write their output).
  process.stdin.on('end', () => process.exit(0));
}
readParent();

interface ConfigMapLike {
  metadata?: { name?: string };
  data?: Record<string, string>;
}
const arrivals: [string, number, number][] = [];
const onUpdate = (obj: ConfigMapLike): void => {
  const seq = Number(obj.data?.seq ?? 0);
  if (seq > 0) arrivals.push([obj.metadata?.name ?? '', seq, now()]);
};

// Each contender's code is imported only in its own process, so RSS counts only its own modules.
const baselineRss = process.memoryUsage().rss;
/** RSS once the contender's modules are loaded, before it connects: the module graph's cost. */
let importedRssMb = 0;
const imported = (): void => {
  importedRssMb = process.memoryUsage().rss / 2 ** 20;
};

async function syncOurs(): Promise<number> {
  const { KubeClient } = await import('../src/kube/client/client.ts');
  const { SharedInformer } = await import('../src/kube/cache/informer.ts');
  // The one small module of the runtime a metadata-only informer needs (no other imports).
  const { metadataOnlyListerWatcher } = await import('../src/runtime/metadata.ts');
  imported();
  const client = await KubeClient.create(kubeconfig, { http2: config.http2 ?? false });
  const informer = new SharedInformer<KubeObject>({
    lw: config.metadataOnly ? metadataOnlyListerWatcher(client) : client,
    target: { gvr: { group: '', version: 'v1', resource: 'configmaps' }, namespace },
    reflector: {
      streamingList: { enabled: config.streaming ?? false, deadlineMs: 30_000 },
      ...(config.pageSize ? { pageSize: config.pageSize } : {}),
    },
    ...(config.heapRelease === false ? { heapRelease: false as const } : {}),
  });
  let added = 0;
  informer.addEventHandler({
    onAdd() {
      added++;
    },
    onUpdate(_old, obj) {
      onUpdate(obj as ConfigMapLike);
    },
  });
  const start = now();
  informer.start();
  await informer.waitForSync();
  // Synced means stored; also wait until the handler has been handed every object.
  while (added < expected) await new Promise((resolve) => setImmediate(resolve));
  return now() - start;
}

/**
 * The floor, not a product: one unpaged LIST for a resourceVersion, then one raw WATCH whose
 * lines are only `JSON.parse`d and handed to the handler — no cache, no queue, no resume, no
 * error handling. Whatever latency it shows comes from the apiserver, etcd and this machine.
 */
async function syncRawWatch(): Promise<number> {
  const { connect } = await import('../src/kube/config/connection.ts');
  const { request } = await import('undici');
  imported();
  const conn = await connect(kubeconfig);
  const base = `${conn.server}/api/v1/namespaces/${namespace}/configmaps`;
  const start = now();
  const listed = await request(base, { dispatcher: conn.dispatcher, headers: await conn.headers() });
  const list = (await listed.body.json()) as { metadata: { resourceVersion: string }; items: unknown[] };
  if (list.items.length !== expected) throw new Error(`raw list: ${list.items.length} of ${expected}`);
  const syncMs = now() - start;
  const watch = await request(`${base}?watch=true&resourceVersion=${list.metadata.resourceVersion}`, {
    dispatcher: conn.dispatcher,
    headers: await conn.headers(),
  });
  void (async () => {
    let rest = '';
    for await (const chunk of watch.body) {
      rest += (chunk as Buffer).toString('utf8');
      let nl = rest.indexOf('\n');
      while (nl >= 0) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        const event = JSON.parse(line) as { type: string; object: ConfigMapLike };
        if (event.type === 'MODIFIED') onUpdate(event.object);
        nl = rest.indexOf('\n');
      }
    }
  })();
  return syncMs;
}

async function syncClientNode(): Promise<number> {
  const { CoreV1Api, KubeConfig, makeInformer } = await import('@kubernetes/client-node');
  imported();
  type V1ConfigMap = import('@kubernetes/client-node').V1ConfigMap;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const api = kc.makeApiClient(CoreV1Api);
  const informer = makeInformer<V1ConfigMap>(kc, `/api/v1/namespaces/${namespace}/configmaps`, () =>
    api.listNamespacedConfigMap({ namespace }),
  );
  let added = 0;
  const done = new Promise<void>((resolve) => {
    informer.on('add', () => {
      if (++added === expected) resolve();
    });
  });
  informer.on('update', (obj) => onUpdate(obj));
  informer.on('error', (err: unknown) => send({ type: 'error', message: String(err) }));
  const start = now();
  await informer.start();
  await done;
  return now() - start;
}

/** Syncs, reports, then answers the parent's collect requests (no top-level await: the worker also runs as a CommonJS bundle). */
async function main(): Promise<void> {
  try {
    const syncMs =
      config.engine === 'client-node'
        ? await syncClientNode()
        : config.engine === 'raw-watch'
          ? await syncRawWatch()
          : await syncOurs();
    // RSS as the process holds it right after the sync, then the live heap after full GCs.
    const atSync = memorySnapshot();
    collectGarbage();
    const afterGc = memorySnapshot();
    const rss = atSync.rss as number;
    send({
      type: 'synced',
      syncMs,
      rssMb: rss,
      rssDeltaMb: rss - baselineRss / 2 ** 20,
      heapMb: afterGc.heapUsed as number,
      objects: expected,
      detail: { baselineRssMb: baselineRss / 2 ** 20, importedRssMb, atSync, afterGc },
    });
    // CPU this process spends from here on is the cost of receiving, decoding, caching and
    // delivering the update events: the engine's own cost, independent of the apiserver's.
    let cpuSince = process.cpuUsage();
    onParentMessage = async (message: ParentMessage) => {
      if (message.type !== 'collect') return;
      const deadline = now() + message.timeoutMs;
      while (arrivals.length < message.expected && now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const cpu = process.cpuUsage(cpuSince);
      send({
        type: 'received',
        arrivals: arrivals.splice(0),
        cpuMs: (cpu.user + cpu.system) / 1000,
        rssMb: process.memoryUsage().rss / 2 ** 20,
      });
      cpuSince = process.cpuUsage();
    };
    for (const message of early.splice(0)) onParentMessage(message);
  } catch (error) {
    send({ type: 'error', message: String(error) });
    process.exit(1);
  }
}

void main();
