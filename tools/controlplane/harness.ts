/**
 * A real Kubernetes control plane (etcd + kube-apiserver, built from pinned Go modules by
 * `build.sh`) for integration tests, the demo and benchmarks — what controller-runtime's
 * envtest does, in TypeScript.
 *
 * Every process runs under `supervise` (see `supervise/main.go`), which kills it and removes
 * its data directory when this Node process dies in any way, SIGKILL included.
 *
 * @module
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';

const here = dirname(fileURLToPath(import.meta.url));

/** The versions, read from `versions.env` (the single source of truth, shared with build.sh). */
export const versions: { kube: string; etcd: string } = (() => {
  const text = readFileSync(join(here, 'versions.env'), 'utf8');
  const value = (name: string): string => {
    const match = new RegExp(`^${name}=(\\S+)`, 'm').exec(text);
    if (!match?.[1]) throw new Error(`versions.env has no ${name}`);
    return match[1];
  };
  return { kube: value('KUBE_VERSION'), etcd: value('ETCD_VERSION') };
})();

let cachedBinDir: string | undefined;

/**
 * Builds the binaries if needed (idempotent, cached outside the tree) and returns their directory.
 * The first build takes minutes; progress goes to stderr.
 */
export function ensureBinaries(): string {
  if (cachedBinDir) return cachedBinDir;
  // Fast path without running Go: every binary is there and the supervisor is newer than its source.
  const cacheRoot =
    process.env.ELASTI_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'elasti-ts');
  const expected = join(cacheRoot, 'controlplane', `${versions.kube}-etcd${versions.etcd}`);
  try {
    const built = ['etcd', 'kube-apiserver'].every((name) => statSync(join(expected, name)).isFile());
    const supervisor = statSync(join(expected, 'supervise')).mtimeMs;
    if (built && supervisor > statSync(join(here, 'supervise', 'main.go')).mtimeMs) {
      cachedBinDir = expected;
      return expected;
    }
  } catch {
    // something is missing: build
  }
  const out = execFileSync('bash', [join(here, 'build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const dir = out.trim().split('\n').pop();
  if (!dir) throw new Error('tools/controlplane/build.sh printed no binary directory');
  cachedBinDir = dir;
  return dir;
}

/** A free TCP port on 127.0.0.1 (bound and released; good enough on a loopback-only test machine). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Options of {@link startControlPlane}. */
export interface ControlPlaneOptions {
  /** Extra kube-apiserver flags, e.g. `--watch-cache=false`. */
  apiserverArgs?: string[];
  /** Forward the processes' output to this process's stderr (default: only on failure). */
  verbose?: boolean;
  /** How long to wait for readiness (default 120 s: a cold 2-core machine is slow). */
  readyTimeoutMs?: number;
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
  /** Writes a kubeconfig for `server` (e.g. a proxy's URL) and returns its path. */
  writeKubeconfig(name: string, server: string, token?: string): string;
  /** Stops kube-apiserver and starts it again on the same port with the same etcd. */
  restartApiserver(): Promise<void>;
  /**
   * Compacts etcd at its current revision (physical), returning that revision. Watches served by
   * etcd then get 410 Gone for older resourceVersions; the apiserver's watch cache (on by default)
   * keeps serving its own window, so fault tests that need the 410 at once start their control
   * plane with `--watch-cache=false`.
   */
  compactEtcd(): Promise<number>;
  /** Stops both processes and removes every file. Idempotent. */
  stop(): Promise<void>;
}

interface Supervised {
  readonly child: ChildProcess;
  readonly output: string[];
  readonly exited: Promise<number | null>;
}

function supervised(binDir: string, cleanup: string[], command: string[], verbose: boolean): Supervised {
  const args = [...cleanup.flatMap((dir) => ['--cleanup', dir]), '--', ...command];
  const child = spawn(join(binDir, 'supervise'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer): void => {
    output.push(chunk.toString());
    if (output.length > 400) output.splice(0, output.length - 400);
    if (verbose) process.stderr.write(chunk);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // The control plane must not keep this process alive: when it exits (however), the supervisor
  // notices and cleans up. So a test file that never calls stop() still ends.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
  return { child, output, exited };
}

async function stopSupervised(proc: Supervised): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  // Hold the event loop open until it has exited (the handle is unref'd while it runs).
  proc.child.ref();
  proc.child.kill('SIGTERM');
  await proc.exited;
}

async function waitReady(
  what: string,
  proc: Supervised,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) {
      throw new Error(
        `${what} exited with ${proc.child.exitCode} before ready:\n${proc.output.join('').slice(-4000)}`,
      );
    }
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `${what} not ready within ${timeoutMs} ms (last probe error: ${String(lastError)}):\n${proc.output.join('').slice(-4000)}`,
  );
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
 * Starts etcd and kube-apiserver on free loopback ports and waits until `/readyz` answers.
 * Identities: a bearer token in `system:masters` (admin) and one with no groups (restricted),
 * from a static token file. RBAC authorization, a generated service-account key, and the
 * apiserver's self-generated serving certificate.
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binDir = ensureBinaries();
  const verbose = options.verbose ?? process.env.ELASTI_CONTROLPLANE_VERBOSE === '1';
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
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
    [dir],
    [
      join(binDir, 'etcd'),
      `--data-dir=${etcdDir}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ],
    verbose,
  );
  let apiserver: Supervised | undefined;
  const stopAll = async (): Promise<void> => {
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
      join(binDir, 'kube-apiserver'),
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
      const proc = supervised(binDir, [], apiserverCommand, verbose);
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
      writeKubeconfig,
      async restartApiserver() {
        if (apiserver) await stopSupervised(apiserver);
        apiserver = await startApiserver('kube-apiserver (restart)');
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
