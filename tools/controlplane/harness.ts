/**
 * A real Kubernetes control plane for integration tests, the demo and benchmarks — what
 * controller-runtime's envtest does, in TypeScript, plus the parts that make it behave like a
 * cluster when asked: kube-controller-manager, kube-scheduler, kwok (fake Nodes that run Pods
 * through their lifecycle) and a Prometheus server. All built from pinned Go modules by `build.sh`.
 *
 * Every process runs under `supervise` (see `supervise/main.go`), which kills it and removes
 * its data directory when this Node process dies in any way, SIGKILL included.
 *
 * @module
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { binaryNames, ensureBinaries, versions } from './binaries.ts';
import {
  type ComponentContext,
  DEFAULT_CONTROLLERS,
  type Kwok,
  startControllerManager,
  startKwok,
  startScheduler,
} from './cluster-components.ts';
import {
  type PrometheusOptions,
  type PrometheusServer,
  type StartedPrometheus,
  startPrometheus,
} from './prometheus.ts';
import { freePort, type Supervised, stopSupervised, supervised, waitReady } from './supervised.ts';

export { binaryNames, ensureBinaries, versions } from './binaries.ts';
export { DEFAULT_CONTROLLERS, KWOK_POD_CIDR } from './cluster-components.ts';
export { KWOK_NODE_ANNOTATION } from './kwok-stages.ts';
export {
  PROMETHEUS_TEST_JOB,
  type PrometheusCoordinates,
  type PrometheusOptions,
  type PrometheusServer,
  prometheusAt,
  type ScrapeTarget,
} from './prometheus.ts';
export { freePort } from './supervised.ts';

/** Options of {@link startControlPlane}. Without `nodes`, `controllers` and `prometheus`: etcd + kube-apiserver only. */
export interface ControlPlaneOptions {
  /** Extra kube-apiserver flags, e.g. `--watch-cache=false`. */
  apiserverArgs?: string[];
  /** Forward the processes' output to this process's stderr (default: only on failure). */
  verbose?: boolean;
  /** How long to wait for readiness (default 120 s: a cold 2-core machine is slow). */
  readyTimeoutMs?: number;
  /**
   * Run kube-controller-manager and kube-scheduler. `true`: the {@link DEFAULT_CONTROLLERS};
   * or the `--controllers` list to run. Default: neither runs.
   */
  controllers?: boolean | readonly string[];
  /** Fake Nodes (`kwok-node-0`, ...) that kwok manages. Default 0: kwok does not run. */
  nodes?: number;
  /** kwok: from a Pod getting its IP to Running and Ready (default 500 ms). */
  podReadyDelayMs?: number;
  /** kwok: from a Pod's deletion to its removal, as a kubelet's confirmation (default 0). */
  podDeleteDelayMs?: number;
  /** Run a Prometheus server (default: no). */
  prometheus?: boolean | PrometheusOptions;
}

/** A running control plane. */
export interface ControlPlane {
  /** Kubeconfig file for the admin identity (`system:masters`). */
  readonly kubeconfigPath: string;
  /** Kubeconfig file for the `restricted` user: authenticated, no RBAC grants. */
  readonly restrictedKubeconfigPath: string;
  readonly apiserverUrl: string;
  readonly apiserverPort: number;
  readonly etcdUrl: string;
  readonly tokens: { readonly admin: string; readonly restricted: string };
  /** PEM of the CA that signed the apiserver's serving certificate. */
  readonly caPem: string;
  readonly dir: string;
  /** What runs, one line each (`kube-apiserver v1.37.2`, ...), for printing. */
  readonly components: readonly string[];
  /** The fake Nodes kwok manages (empty without `nodes`). */
  readonly nodeNames: readonly string[];
  /** The Prometheus server, when started with `prometheus`. */
  readonly prometheus: PrometheusServer | undefined;
  /** Writes a kubeconfig for `server` (e.g. a proxy's URL) and returns its path. */
  writeKubeconfig(name: string, server: string, token?: string): string;
  /** Stops kube-apiserver and starts it again on the same port with the same etcd. */
  restartApiserver(): Promise<void>;
  /**
   * Stops kube-controller-manager and starts it again (its informers re-list; controllers resume
   * from what the apiserver holds). Throws without `controllers`.
   */
  restartControllerManager(): Promise<void>;
  /**
   * Stops kwok: scheduled Pods stop getting IPs and turning Ready, deleted Pods stay Terminating,
   * node leases stop being renewed (after ~40 s the node lifecycle controller marks the Nodes
   * NotReady). Throws without `nodes`.
   */
  pauseKwok(): Promise<void>;
  /** Starts kwok again; resolves when its Nodes are Ready. */
  resumeKwok(): Promise<void>;
  /**
   * Compacts etcd at its current revision (physical), returning that revision. Watches served by
   * etcd then get 410 Gone for older resourceVersions; the apiserver's watch cache (on by default)
   * keeps serving its own window, so fault tests that need the 410 at once start their control
   * plane with `--watch-cache=false`.
   */
  compactEtcd(): Promise<number>;
  /** Stops every process and removes every file. Idempotent. */
  stop(): Promise<void>;
}

function kubeconfigYaml(server: string, caPem: string, token: string): string {
  const ca = Buffer.from(caPem).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    '- name: user',
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: local',
    '  context: {cluster: local, user: user}',
    'current-context: local',
    '',
  ].join('\n');
}

/**
 * Starts etcd and kube-apiserver on free loopback ports and waits until `/readyz` answers; then,
 * as asked, kube-controller-manager, kube-scheduler, kwok with its Nodes, and Prometheus, each
 * waited for too. Identities: a bearer token in `system:masters` (admin) and one with no groups
 * (restricted), from a static token file. RBAC authorization, a generated service-account key
 * (the controller-manager signs ServiceAccount tokens with it), and the apiserver's
 * self-generated serving certificate.
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binDir = ensureBinaries();
  const verbose = options.verbose ?? process.env.ELASTI_CONTROLPLANE_VERBOSE === '1';
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const nodes = options.nodes ?? 0;
  if (!Number.isInteger(nodes) || nodes < 0) throw new Error(`nodes must be an integer >= 0, got ${nodes}`);
  const controllers = options.controllers === true ? DEFAULT_CONTROLLERS : options.controllers || undefined;
  const dir = mkdtempSync(join(tmpdir(), 'elasti-cp-'));
  const etcdDir = join(dir, 'etcd');
  const certDir = join(dir, 'certs');
  mkdirSync(certDir, { recursive: true });

  const [etcdPort, etcdPeerPort, apiserverPort] = [await freePort(), await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
  const apiserverUrl = `https://127.0.0.1:${apiserverPort}`;

  // etcd lives as long as the control plane (the apiserver may be restarted), so its supervisor
  // owns the removal of the whole directory: certificates, tokens and kubeconfigs go with it.
  const etcd = supervised(
    binDir,
    [
      join(binDir, binaryNames.etcd),
      `--data-dir=${etcdDir}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ],
    { cleanup: [dir], verbose },
  );
  let apiserver: Supervised | undefined;
  let controllerManager: Supervised | undefined;
  let scheduler: Supervised | undefined;
  let kwok: Kwok | undefined;
  let prometheus: StartedPrometheus | undefined;
  const stopAll = async (): Promise<void> => {
    // Clients of the apiserver first, so none of them logs the apiserver's disappearance.
    await Promise.all([
      kwok?.stop(),
      scheduler && stopSupervised(scheduler),
      controllerManager && stopSupervised(controllerManager),
      prometheus?.stop(),
    ]);
    if (apiserver) await stopSupervised(apiserver);
    await stopSupervised(etcd);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitReady(
      'etcd',
      etcd,
      async () => {
        const res = await request(`${etcdUrl}/health`);
        const body = await res.body.text();
        return res.statusCode === 200 && body.includes('true');
      },
      readyTimeoutMs,
    );

    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const saKeyPath = join(dir, 'sa.key');
    writeFileSync(saKeyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const tokens = { admin: randomBytes(24).toString('hex'), restricted: randomBytes(24).toString('hex') };
    const tokenFile = join(dir, 'tokens.csv');
    writeFileSync(
      tokenFile,
      `${tokens.admin},admin,admin-uid,"system:masters"\n${tokens.restricted},restricted,restricted-uid\n`,
    );

    const apiserverCommand = [
      join(binDir, binaryNames.apiserver),
      `--etcd-servers=${etcdUrl}`,
      `--cert-dir=${certDir}`,
      `--secure-port=${apiserverPort}`,
      '--bind-address=127.0.0.1',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      '--disable-admission-plugins=ServiceAccount',
      '--authorization-mode=RBAC',
      `--token-auth-file=${tokenFile}`,
      `--service-account-issuer=${apiserverUrl}/`,
      `--service-account-key-file=${saKeyPath}`,
      `--service-account-signing-key-file=${saKeyPath}`,
      '--v=0',
      ...(options.apiserverArgs ?? []),
    ];
    // Readiness is probed without verifying TLS: the certificate only exists once the server wrote it.
    const startApiserver = async (what: string): Promise<Supervised> => {
      const probeAgent = new Agent({ connect: { rejectUnauthorized: false } });
      const proc = supervised(binDir, apiserverCommand, { verbose });
      try {
        await waitReady(
          what,
          proc,
          async () => {
            const res = await request(`${apiserverUrl}/readyz`, {
              dispatcher: probeAgent,
              headers: { authorization: `Bearer ${tokens.admin}` },
            });
            await res.body.text();
            return res.statusCode === 200;
          },
          readyTimeoutMs,
        );
        return proc;
      } catch (error) {
        await stopSupervised(proc);
        throw error;
      } finally {
        await probeAgent.close();
      }
    };
    apiserver = await startApiserver('kube-apiserver');

    // The self-generated file holds the serving certificate followed by the CA that signed it.
    const certFile = readFileSync(join(certDir, 'apiserver.crt'), 'utf8');
    const pems = certFile.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
    const caPem = pems.join('');

    const writeKubeconfig = (name: string, server: string, token: string = tokens.admin): string => {
      const path = join(dir, `${name}.kubeconfig`);
      writeFileSync(path, kubeconfigYaml(server, caPem, token), { mode: 0o600 });
      return path;
    };
    const kubeconfigPath = writeKubeconfig('admin', apiserverUrl);
    const restrictedKubeconfigPath = writeKubeconfig('restricted', apiserverUrl, tokens.restricted);

    const ctx: ComponentContext = {
      binDir,
      dir,
      verbose,
      readyTimeoutMs,
      apiserverUrl,
      kubeconfigPath,
      adminToken: tokens.admin,
      caPem,
      saKeyPath,
    };
    // Started side by side (2 cores: their start-up is mostly waiting on the apiserver); every
    // one that did start is stopped if another fails.
    const started = await Promise.allSettled([
      controllers &&
        startControllerManager(ctx, controllers).then((proc) => {
          controllerManager = proc;
        }),
      controllers &&
        startScheduler(ctx).then((proc) => {
          scheduler = proc;
        }),
      nodes > 0 &&
        startKwok(
          ctx,
          binaryNames.kwok,
          nodes,
          {
            podReadyDelayMs: options.podReadyDelayMs ?? 500,
            podDeleteDelayMs: options.podDeleteDelayMs ?? 0,
          },
          controllers !== undefined,
        ).then((running) => {
          kwok = running;
        }),
      options.prometheus &&
        startPrometheus(
          binDir,
          binaryNames.prometheus,
          join(dir, 'prometheus'),
          options.prometheus === true ? {} : options.prometheus,
          verbose,
          readyTimeoutMs,
        ).then((running) => {
          prometheus = running;
        }),
    ]);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;

    const components = [
      `etcd ${versions.etcd}`,
      `kube-apiserver ${versions.kube}`,
      ...(controllers ? [`kube-controller-manager ${versions.kube}`, `kube-scheduler ${versions.kube}`] : []),
      ...(nodes > 0 ? [`kwok ${versions.kwok} (${nodes} node${nodes === 1 ? '' : 's'})`] : []),
      ...(options.prometheus ? [`prometheus ${versions.prometheus}`] : []),
    ];
    let stopped: Promise<void> | undefined;
    return {
      kubeconfigPath,
      restrictedKubeconfigPath,
      apiserverUrl,
      apiserverPort,
      etcdUrl,
      tokens,
      caPem,
      dir,
      components,
      nodeNames: kwok?.nodeNames ?? [],
      prometheus: prometheus?.server,
      writeKubeconfig,
      async restartApiserver() {
        if (apiserver) await stopSupervised(apiserver);
        apiserver = await startApiserver('kube-apiserver (restart)');
      },
      async restartControllerManager() {
        if (!controllers) throw new Error('restartControllerManager: started without controllers');
        if (controllerManager) await stopSupervised(controllerManager);
        controllerManager = await startControllerManager(ctx, controllers, true);
      },
      async pauseKwok() {
        if (!kwok) throw new Error('pauseKwok: started without nodes');
        await kwok.pause();
      },
      async resumeKwok() {
        if (!kwok) throw new Error('resumeKwok: started without nodes');
        await kwok.resume();
      },
      async compactEtcd() {
        // etcd's gRPC gateway: read the current revision with a range on any key, then compact to it.
        const rangeRes = await request(`${etcdUrl}/v3/kv/range`, {
          method: 'POST',
          body: JSON.stringify({ key: Buffer.from('/').toString('base64'), limit: 1 }),
        });
        const range = (await rangeRes.body.json()) as { header?: { revision?: string } };
        const revision = Number(range.header?.revision);
        if (!Number.isFinite(revision) || revision <= 0) throw new Error('etcd returned no revision');
        const compactRes = await request(`${etcdUrl}/v3/kv/compaction`, {
          method: 'POST',
          body: JSON.stringify({ revision: String(revision), physical: true }),
        });
        const text = await compactRes.body.text();
        // Already compacted at or past this revision (no write since the last compaction, or the
        // apiserver's own compactor ran meanwhile): what the caller asked for holds.
        const alreadyCompacted = text.includes('required revision has been compacted');
        if (compactRes.statusCode !== 200 && !alreadyCompacted)
          throw new Error(`etcd compaction failed: ${compactRes.statusCode} ${text}`);
        return revision;
      },
      stop() {
        stopped ??= stopAll();
        return stopped;
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

export { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
