/**
 * The parts that make the control plane behave like a cluster: kube-controller-manager,
 * kube-scheduler and kwok (fake Nodes and the kubelet's part of the Pod lifecycle), each under
 * `supervise`, with what each needs to be ready.
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, type Dispatcher, request } from 'undici';
import { KWOK_NODE_ANNOTATION, type KwokTimings, kwokConfigYaml, kwokNode } from './kwok-stages.ts';
import { freePort, type Supervised, stopSupervised, supervised, waitReady } from './supervised.ts';

/**
 * The controllers kube-controller-manager runs by default here: every controller that is on by
 * default upstream (`*`: deployment, replicaset, statefulset, endpointslice, namespace,
 * garbage-collector, serviceaccount, node-lifecycle and the rest, as in a real cluster), minus
 * the storage ones: there are no volumes, and they would only add watches on a 2-core machine.
 */
export const DEFAULT_CONTROLLERS: readonly string[] = [
  '*',
  '-persistentvolume-attach-detach-controller',
  '-persistentvolume-binder-controller',
  '-persistentvolume-expander-controller',
  '-persistentvolume-protection-controller',
  '-persistentvolumeclaim-protection-controller',
  '-ephemeral-volume-controller',
  '-volumeattributesclass-protection-controller',
];

/** What every component needs from the running apiserver. */
export interface ComponentContext {
  readonly binDir: string;
  readonly dir: string;
  readonly verbose: boolean;
  readonly readyTimeoutMs: number;
  readonly apiserverUrl: string;
  /** Admin kubeconfig (`system:masters`). */
  readonly kubeconfigPath: string;
  readonly adminToken: string;
  readonly caPem: string;
  /** The service-account signing key the apiserver verifies tokens with. */
  readonly saKeyPath: string;
}

/** A minimal admin client of the apiserver, for the harness's own few calls. */
export class HarnessApi {
  readonly #agent: Dispatcher;
  readonly #ctx: ComponentContext;

  constructor(ctx: ComponentContext) {
    this.#ctx = ctx;
    this.#agent = new Agent({ connect: { ca: ctx.caPem } });
  }

  async call<T>(
    method: Dispatcher.HttpMethod,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const res = await request(`${this.#ctx.apiserverUrl}${path}`, {
      method,
      dispatcher: this.#agent,
      headers: {
        authorization: `Bearer ${this.#ctx.adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: (text ? JSON.parse(text) : undefined) as T };
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

/** Probes `https://127.0.0.1:<port><path>` of a component serving a self-signed certificate. */
async function probeHttps(port: number, path: string): Promise<boolean> {
  const agent = new Agent({ connect: { rejectUnauthorized: false } });
  try {
    const res = await request(`https://127.0.0.1:${port}${path}`, { dispatcher: agent });
    await res.body.text();
    return res.statusCode === 200;
  } finally {
    await agent.close();
  }
}

async function startHealthChecked(
  what: string,
  ctx: ComponentContext,
  command: string[],
  port: number,
  path: string,
  extraReady?: () => Promise<boolean>,
): Promise<Supervised> {
  const proc = supervised(ctx.binDir, command, { verbose: ctx.verbose });
  try {
    await waitReady(
      what,
      proc,
      async () => (await probeHttps(port, path)) && (extraReady ? await extraReady() : true),
      ctx.readyTimeoutMs,
    );
    return proc;
  } catch (error) {
    await stopSupervised(proc);
    throw error;
  }
}

/**
 * Starts kube-controller-manager: admin kubeconfig, each controller with its own ServiceAccount
 * credentials (as in a real cluster, so RBAC applies to the controllers too), tokens signed with
 * the apiserver's service-account key, no leader election. Ready when `/healthz` answers and the
 * serviceaccount controller has created the `default` ServiceAccount (controllers are running).
 */
export async function startControllerManager(
  ctx: ComponentContext,
  controllers: readonly string[],
  restart = false,
): Promise<Supervised> {
  const port = await freePort();
  const caFile = join(ctx.dir, 'ca.crt');
  writeFileSync(caFile, ctx.caPem);
  const api = new HarnessApi(ctx);
  try {
    return await startHealthChecked(
      restart ? 'kube-controller-manager (restart)' : 'kube-controller-manager',
      ctx,
      [
        join(ctx.binDir, 'kube-controller-manager'),
        `--kubeconfig=${ctx.kubeconfigPath}`,
        `--secure-port=${port}`,
        '--bind-address=127.0.0.1',
        `--cert-dir=${join(ctx.dir, 'kcm-certs')}`,
        `--service-account-private-key-file=${ctx.saKeyPath}`,
        `--root-ca-file=${caFile}`,
        '--use-service-account-credentials=true',
        '--leader-elect=false',
        `--controllers=${controllers.join(',')}`,
        '--v=0',
      ],
      port,
      '/healthz',
      async () =>
        (await api.call('GET', '/api/v1/namespaces/default/serviceaccounts/default')).status === 200,
    );
  } finally {
    await api.close();
  }
}

/** Starts kube-scheduler (admin kubeconfig, no leader election); ready when `/readyz` answers. */
export async function startScheduler(ctx: ComponentContext): Promise<Supervised> {
  const port = await freePort();
  return startHealthChecked(
    'kube-scheduler',
    ctx,
    [
      join(ctx.binDir, 'kube-scheduler'),
      `--kubeconfig=${ctx.kubeconfigPath}`,
      `--secure-port=${port}`,
      '--bind-address=127.0.0.1',
      `--cert-dir=${join(ctx.dir, 'scheduler-certs')}`,
      '--leader-elect=false',
      '--v=0',
    ],
    port,
    '/readyz',
  );
}

/** The Pod CIDR kwok assigns Pod IPs from (apart from the Service range 10.0.0.0/24). */
export const KWOK_POD_CIDR = '10.244.0.0/16';

/** A kwok process and how to start it again (after a pause). */
export interface Kwok {
  readonly nodeNames: readonly string[];
  readonly proc: () => Supervised | undefined;
  /** Stops kwok: Pods stop getting IPs, turning Ready or being removed; node leases stop renewing. */
  pause(): Promise<void>;
  /** Starts kwok again; it picks up every Pod and Node where they are. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Creates `count` fake Nodes (`kwok-node-0`, ...) and starts kwok managing them; resolves when
 * every Node is Ready and, if `untaintedToo`, carries no `node.kubernetes.io/*` taint (the node
 * lifecycle controller's not-ready taint would keep Pods off it for a moment).
 */
export async function startKwok(
  ctx: ComponentContext,
  binary: string,
  count: number,
  timings: KwokTimings,
  untaintedToo: boolean,
): Promise<Kwok> {
  const configPath = join(ctx.dir, 'kwok.yaml');
  writeFileSync(configPath, kwokConfigYaml(timings));
  const nodeNames = Array.from({ length: count }, (_, i) => `kwok-node-${i}`);
  const api = new HarnessApi(ctx);
  try {
    for (const name of nodeNames) {
      const res = await api.call('POST', '/api/v1/nodes', kwokNode(name));
      if (res.status !== 201 && res.status !== 409) {
        throw new Error(`creating Node ${name}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      }
    }
  } finally {
    await api.close();
  }
  const command = [
    join(ctx.binDir, binary),
    `--kubeconfig=${ctx.kubeconfigPath}`,
    `--config=${configPath}`,
    `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
    `--cidr=${KWOK_POD_CIDR}`,
    '--node-ip=10.240.0.1',
    '--node-lease-duration-seconds=40',
  ];
  // kwok also reads ~/.kwok/kwok.yaml when it exists: a HOME of its own keeps a developer's out.
  const env = { HOME: join(ctx.dir, 'kwok-home') };
  let proc: Supervised | undefined;
  const start = async (what: string): Promise<void> => {
    const started = supervised(ctx.binDir, command, { verbose: ctx.verbose, env });
    proc = started;
    const probeApi = new HarnessApi(ctx);
    try {
      await waitReady(what, started, () => nodesReady(probeApi, nodeNames, untaintedToo), ctx.readyTimeoutMs);
    } catch (error) {
      await stopSupervised(started);
      throw error;
    } finally {
      await probeApi.close();
    }
  };
  await start('kwok');
  return {
    nodeNames,
    proc: () => proc,
    async pause() {
      if (proc) await stopSupervised(proc);
      proc = undefined;
    },
    async resume() {
      if (!proc) await start('kwok (resume)');
    },
    async stop() {
      if (proc) await stopSupervised(proc);
      proc = undefined;
    },
  };
}

interface NodeList {
  items: {
    metadata: { name: string };
    spec?: { taints?: { key: string }[] };
    status?: { conditions?: { type: string; status: string }[] };
  }[];
}

async function nodesReady(
  api: HarnessApi,
  names: readonly string[],
  untaintedToo: boolean,
): Promise<boolean> {
  const res = await api.call<NodeList>('GET', '/api/v1/nodes');
  if (res.status !== 200) return false;
  const byName = new Map(res.body.items.map((node) => [node.metadata.name, node]));
  return names.every((name) => {
    const node = byName.get(name);
    const ready = node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    const tainted = node?.spec?.taints?.some((taint) => taint.key.startsWith('node.kubernetes.io/')) ?? false;
    return ready && !(untaintedToo && tainted);
  });
}
