/**
 * From a kubeconfig to a live connection: the server URL, ONE undici dispatcher per cluster
 * (keep-alive, TLS material from the kubeconfig) and an auth-header provider that can re-read
 * credentials when the server answers 401.
 *
 * The kubeconfig is read by our own loader (`kubeconfig.ts`: `KUBECONFIG` merging, `~/.kube/config`,
 * in-cluster service account, token / token-file / client certificate / basic auth / impersonation).
 * `@kubernetes/client-node` is imported lazily, only for a user whose credentials come from an
 * `exec` or `auth-provider` plugin (its `KubeConfig` runs the plugin and caches the credential;
 * a 401 builds a fresh one), or when the caller passes a client-node `KubeConfig`. Every byte on
 * the wire goes through our own dispatcher.
 *
 * ## Memory: why client-node is not imported eagerly
 *
 * Importing client-node loads its whole generated API client. Measured on Node 24.21 (2 shared
 * cores): a fresh process that imports `src/kube/index.ts`, creates a `KubeClient` from the test
 * control plane's token kubeconfig and LISTs namespaces (RSS after a forced GC; 3 runs each):
 *
 * | loader                                   | RSS after import | RSS after connect + LIST |
 * |------------------------------------------|------------------|--------------------------|
 * | client-node `KubeConfig` (before)        | 166–167 MB       | 165–170 MB               |
 * | lean loader, token kubeconfig (now)      | 108–110 MB       | 113–114 MB               |
 * | lean loader, exec-plugin user (now)      | 108–110 MB       | 165–167 MB (client-node loaded on demand) |
 *
 * For scale, same method: bare Node ~45 MB; importing a one-line `.ts` file (Node's TypeScript
 * stripper loads) ~63 MB; `undici` alone ~75 MB; `js-yaml` alone ~48 MB. Since then the
 * dispatchers come from `undici-lean.ts` (undici's Agent/ProxyAgent without its package entry):
 * the compiled engine's RSS after import went from ~72 to ~62 MB; after syncing 10,000
 * ConfigMaps the saving is 2–3 MB RSS and 2.5 MB of live heap (`bench/RESULTS.md`, "memory").
 *
 * ## HTTP/1.1 or HTTP/2
 *
 * Measured with `bench/transport-h1-vs-h2.ts` against the test control plane (kube-apiserver
 * v1.37.2 on loopback, 2 shared cores, undici 8.13.1; see that file for the method):
 *
 * | N watches | mode | open all | sockets | one change → all N | paged LIST, sequential / 8 concurrent |
 * |-----------|------|----------|---------|--------------------|---------------------------------------|
 * | 200       | h1   | ~325 ms  | 200     | 6–9 ms             | ~80k / 116–182k objects/s             |
 * | 200       | h2   | ~120 ms  | 2       | 15 ms              | ~89k / 138k objects/s                 |
 * | 500       | h1   | 860–1050 ms | 500  | 19–31 ms           | 56–62k / 86–135k objects/s            |
 * | 500       | h2   | ~290 ms  | 5       | 33 ms              | 57k / 106k objects/s                  |
 *
 * (undici caps a session at 100 streams and opens another connection beyond that, so no watch
 * ever queued behind the stream limit.) Throughput and fan-out latency are the same within
 * run-to-run noise; HTTP/2 only wins on setting up many watches at once (one TLS handshake per
 * 100 streams) and on socket count. Both modes recovered from an apiserver restart in the same
 * way (`restartApiserver` with 5 reflectors).
 *
 * Decision: **HTTP/1.1 by default**, `http2: true` opts in. Reasons: no throughput gain to buy;
 * with one socket per watch a dead or stalled connection (and our per-watch idle timeout) affects
 * exactly one watch instead of up to 100 multiplexed ones, and flow-control stalls cannot couple
 * unrelated streams; undici's HTTP/2 client has had GOAWAY bugs (nodejs/undici#3140, a request
 * after GOAWAY hanging; #5089, a graceful GOAWAY treated as a hard failure) and kube-apiserver
 * sends GOAWAY on shutdown and with `--goaway-chance`. An operator runs tens of watches, so the
 * socket count is not a constraint; a process with thousands of watches should opt in.
 *
 * @module
 */
import type { Dispatcher } from 'undici';
import { KubeConfigError, type Logger, silentLogger } from '../core/index.ts';
import { guardedConnector } from './h2-stream-guard.ts';
import {
  authHeadersOf,
  type KubeconfigReadOptions,
  readKubeconfig,
  type TlsMaterial,
  tlsMaterialOf,
} from './kubeconfig.ts';
import type { Kubeconfig } from './kubeconfig-file.ts';
import { Agent, ProxyAgent } from './undici-lean.ts';

/** A connection to one cluster. Shared by every client/reflector talking to that cluster. */
export interface ClusterConnection {
  /** The API server base URL from the kubeconfig, e.g. `https://10.0.0.1:6443` (may carry a path prefix). */
  readonly server: string;
  /** The one dispatcher for this cluster; pass it as `dispatcher` to undici calls. */
  readonly dispatcher: Dispatcher;
  /** Headers every request must carry (authorization, impersonation, user agent). */
  headers(): Promise<Record<string, string>>;
  /** Forgets cached credentials and reloads them (kubeconfig file, exec plugin, token file). */
  refreshCredentials(): Promise<void>;
  /** Closes the dispatcher and its sockets. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** Negotiate HTTP/2 via ALPN when the server offers it. Default false (see the module doc). */
  http2?: boolean;
  /** How long resolved auth headers are reused before asking the kubeconfig again (ms). Default 10 000. */
  headerTtlMs?: number;
  /** `User-Agent` header. Default `elasti-informer`. */
  userAgent?: string;
  /** TCP connect timeout (ms). Default 10 000. */
  connectTimeoutMs?: number;
  /** Idle keep-alive time of a pooled socket (ms). Default 30 000. */
  keepAliveTimeoutMs?: number;
  /** Clock, for tests of the header cache. */
  now?: () => number;
  /** Where the connection's start-up warnings go (e.g. `insecure-skip-tls-verify`). Default: none. */
  logger?: Logger;
  /**
   * Inputs of the default loading rules (environment, home and service account directories,
   * context override), for tests and for picking a context. The path comes from `source`.
   */
  kubeconfig?: Omit<KubeconfigReadOptions, 'path'>;
}

/**
 * The parts of a `@kubernetes/client-node` `KubeConfig` that {@link connect} uses. Declared here,
 * structurally, so this package's types never depend on client-node: it is an optional peer
 * dependency, needed only for exec/auth-provider kubeconfigs (and then loaded lazily).
 */
export interface ClientNodeKubeConfig {
  getCurrentCluster(): {
    readonly name: string;
    readonly server: string;
    readonly proxyUrl?: string | undefined;
  } | null;
  applyToHTTPSOptions(opts: object): Promise<void>;
  exportConfig(): string;
}

/**
 * What {@link connect} accepts: a kubeconfig path, a `KubeConfig` of `@kubernetes/client-node`
 * (used as is, through client-node), or nothing (the default loading rules).
 */
export type KubeConfigSource = string | ClientNodeKubeConfig | undefined;

/** Auth headers and TLS material at one moment. */
interface ResolvedAuth {
  headers: Record<string, string>;
  tls: TlsMaterial;
}

/** Where a connection's credentials come from: our own loader, or client-node for plugins. */
interface CredentialSource {
  readonly clusterName: string;
  readonly server: string;
  readonly proxyUrl: string | undefined;
  /** Headers and TLS material (TLS is only used when the dispatcher is built). */
  auth(): Promise<ResolvedAuth>;
  /** Headers only: called every header-TTL, so it must stay cheap. */
  headers(): Promise<Record<string, string>>;
  /** The same source read afresh (file, fresh plugin state); this one when that fails. */
  reload(): Promise<CredentialSource>;
}

/**
 * Opens (lazily: no socket until the first request) a connection to the current context's
 * cluster of the kubeconfig.
 *
 * A path or nothing goes through our lean loader (`kubeconfig.ts`); `@kubernetes/client-node`
 * is imported only for a user with an `exec` or `auth-provider` plugin, or when `source` is a
 * client-node `KubeConfig`.
 */
export async function connect(
  source?: KubeConfigSource,
  options: ConnectOptions = {},
): Promise<ClusterConnection> {
  let creds = await openCredentials(source, options);
  let serverUrl: URL;
  try {
    serverUrl = new URL(creds.server);
  } catch (error) {
    throw new KubeConfigError(
      `cluster ${creds.clusterName} has an invalid server URL: ${creds.server}`,
      error,
    );
  }
  if (serverUrl.protocol !== 'https:' && serverUrl.protocol !== 'http:') {
    throw new KubeConfigError(
      `cluster ${creds.clusterName}: unsupported server scheme ${serverUrl.protocol}`,
    );
  }

  const resolved = await creds.auth();
  if (resolved.tls.rejectUnauthorized === false && serverUrl.protocol === 'https:') {
    // Said once, at start: whoever sits between us and the API server can impersonate it.
    (options.logger ?? silentLogger).warn(
      { cluster: creds.clusterName, server: creds.server },
      "insecure-skip-tls-verify is set: the API server's certificate is not verified; use certificate-authority(-data) instead",
    );
  }
  const dispatcher = buildDispatcher(resolved.tls, creds.proxyUrl, options);
  const now = options.now ?? Date.now;
  const ttl = options.headerTtlMs ?? 10_000;
  const userAgent = options.userAgent ?? 'elasti-informer';

  let cached: { headers: Record<string, string>; at: number } | undefined = {
    headers: resolved.headers,
    at: now(),
  };
  let inflight: Promise<Record<string, string>> | undefined;
  let closed: Promise<void> | undefined;

  const fetchHeaders = async (): Promise<Record<string, string>> => {
    const headers = await creds.headers();
    cached = { headers, at: now() };
    return headers;
  };

  return {
    server: creds.server.replace(/\/+$/, ''),
    dispatcher,
    async headers() {
      if (!cached || now() - cached.at >= ttl) {
        // Single flight: concurrent requests after expiry share one credential refresh (one exec run).
        inflight ??= fetchHeaders().finally(() => {
          inflight = undefined;
        });
        await inflight;
      }
      return { 'user-agent': userAgent, ...(cached?.headers ?? {}) };
    },
    async refreshCredentials() {
      // Re-reading the file picks up rotated tokens, and a fresh client-node KubeConfig has fresh
      // authenticators (exec/OIDC token caches). TLS material is not re-read: it is baked into
      // the dispatcher.
      creds = await creds.reload();
      cached = undefined;
      inflight = undefined;
      await fetchHeaders();
    },
    close() {
      // A graceful undici close waits for every in-flight request to finish, and an open watch
      // only ends when the server times it out (minutes). Give ordinary requests a moment, then
      // destroy: closing a connection must never wait on a watch someone forgot to stop.
      closed ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), 1_000);
        });
        const outcome = await Promise.race([dispatcher.close().then(() => 'closed' as const), grace]);
        clearTimeout(timer);
        if (outcome === 'timeout') await dispatcher.destroy();
      })();
      return closed;
    },
  };
}

async function openCredentials(source: KubeConfigSource, options: ConnectOptions): Promise<CredentialSource> {
  if (typeof source === 'object' && source !== null) return fromClientNodeObject(source);
  if (source !== undefined && typeof source !== 'string') {
    throw new KubeConfigError(`kubeconfig source must be a path or a KubeConfig, got ${typeof source}`);
  }
  const read = (): Kubeconfig => readKubeconfig({ ...options.kubeconfig, path: source });
  return fromKubeconfig(read(), read);
}

/** Our loader's result; plugin users are handed to client-node. */
async function fromKubeconfig(kc: Kubeconfig, read: () => Kubeconfig): Promise<CredentialSource> {
  const reload = async (current: CredentialSource): Promise<CredentialSource> => {
    let fresh: Kubeconfig;
    try {
      fresh = read();
    } catch {
      // The file may be mid-rewrite; keep the old config and let the next 401 try again.
      return current;
    }
    return fromKubeconfig(fresh, read);
  };
  if (kc.user.plugin) {
    const clientNode = await loadClientNode(
      `user ${kc.user.name} of the kubeconfig authenticates with an ${kc.user.plugin} plugin`,
    );
    const config = new clientNode.KubeConfig();
    // JSON is YAML: client-node parses the selected context's entries itself, so its plugin
    // support (exec, oidc, gcp, azure) sees exactly what the kubeconfig says.
    config.loadFromString(JSON.stringify(kc.document));
    const delegated: CredentialSource = {
      ...clientNodeAuth(config),
      clusterName: kc.cluster.name,
      server: kc.cluster.server,
      proxyUrl: kc.cluster.proxyUrl,
      reload: () => reload(delegated),
    };
    return delegated;
  }
  const lean: CredentialSource = {
    clusterName: kc.cluster.name,
    server: kc.cluster.server,
    proxyUrl: kc.cluster.proxyUrl,
    async auth() {
      return { headers: authHeadersOf(kc), tls: tlsMaterialOf(kc) };
    },
    async headers() {
      // Re-reads `token-file` (bound service account tokens rotate).
      return authHeadersOf(kc);
    },
    reload: () => reload(lean),
  };
  return lean;
}

/**
 * A caller-built client-node `KubeConfig`: used as is, copied afresh on reload (fresh
 * authenticators). Recognised by shape, so a `KubeConfig` from another copy of client-node
 * works too; client-node itself is imported only to make the copy.
 */
async function fromClientNodeObject(source: object): Promise<CredentialSource> {
  if (!isKubeConfigLike(source)) {
    throw new KubeConfigError('kubeconfig source must be a path or a @kubernetes/client-node KubeConfig');
  }
  const kc = source;
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeConfigError('kubeconfig has no current cluster (check current-context)');
  const make = (config: ClientNodeKubeConfig): CredentialSource => {
    const self: CredentialSource = {
      ...clientNodeAuth(config),
      clusterName: cluster.name,
      server: cluster.server,
      proxyUrl: cluster.proxyUrl,
      async reload() {
        try {
          const copy = new (await loadClientNode('reloading a client-node KubeConfig')).KubeConfig();
          copy.loadFromString(kc.exportConfig());
          return make(copy);
        } catch {
          return self;
        }
      },
    };
    return self;
  };
  return make(kc);
}

function isKubeConfigLike(value: object): value is ClientNodeKubeConfig {
  const candidate = value as Partial<
    Record<'getCurrentCluster' | 'applyToHTTPSOptions' | 'exportConfig', unknown>
  >;
  return (
    typeof candidate.getCurrentCluster === 'function' &&
    typeof candidate.applyToHTTPSOptions === 'function' &&
    typeof candidate.exportConfig === 'function'
  );
}

type ClientNode = typeof import('@kubernetes/client-node');

/**
 * Imports client-node on first need (~85 MB RSS: the whole generated API comes with it). It is
 * an optional peer dependency, so a missing copy is a user's setup problem: say which package
 * to install, and why this kubeconfig needs it.
 */
async function loadClientNode(why: string): Promise<ClientNode> {
  try {
    return await import('@kubernetes/client-node');
  } catch (error) {
    if (isMissingClientNode(error)) {
      throw new KubeConfigError(
        `${why}: that needs the optional peer dependency @kubernetes/client-node, which is not ` +
          'installed (npm install @kubernetes/client-node)',
        error,
      );
    }
    throw new KubeConfigError(`cannot load @kubernetes/client-node (${why}): ${String(error)}`, error);
  }
}

function isMissingClientNode(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    String((error as Error).message).includes('@kubernetes/client-node')
  );
}

function clientNodeAuth(kc: ClientNodeKubeConfig): Pick<CredentialSource, 'auth' | 'headers'> {
  return {
    auth: () => resolveAuth(kc),
    headers: async () => (await resolveAuth(kc)).headers,
  };
}

/** Asks client-node's KubeConfig for TLS options and auth headers of the current user. */
async function resolveAuth(kc: ClientNodeKubeConfig): Promise<ResolvedAuth> {
  const opts: {
    headers?: Record<string, string | number | string[] | undefined>;
    ca?: Buffer | string;
    cert?: Buffer | string;
    key?: Buffer | string;
    rejectUnauthorized?: boolean;
    servername?: string;
    auth?: string;
  } = { headers: {} };
  try {
    await kc.applyToHTTPSOptions(opts);
  } catch (error) {
    throw new KubeConfigError(`cannot resolve credentials from kubeconfig: ${String(error)}`, error);
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(opts.headers ?? {})) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  if (opts.auth && headers.authorization === undefined) {
    headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  }
  if (headers.authorization) headers.authorization = headers.authorization.trim();
  return {
    headers,
    tls: {
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      rejectUnauthorized: opts.rejectUnauthorized,
      servername: opts.servername,
    },
  };
}

/** Builds the single per-cluster dispatcher. Exported for the transport benchmark. */
export function buildDispatcher(
  tls: TlsMaterial,
  proxyUrl: string | undefined,
  options: Pick<ConnectOptions, 'http2' | 'connectTimeoutMs' | 'keepAliveTimeoutMs'> = {},
): Dispatcher {
  const connectOpts = {
    ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
    ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
    ...(tls.key !== undefined ? { key: tls.key } : {}),
    ...(tls.rejectUnauthorized !== undefined ? { rejectUnauthorized: tls.rejectUnauthorized } : {}),
    ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
    timeout: options.connectTimeoutMs ?? 10_000,
    // TCP keep-alive probes find half-open sockets that carry only a silent watch.
    keepAlive: true,
    keepAliveInitialDelay: 30_000,
  };
  const common = {
    allowH2: options.http2 ?? false,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    // Watches stay open for many minutes with long silences: the reflector enforces its own
    // idle timeout, so undici's body timeout is off here and set per request where it fits.
    bodyTimeout: 0,
    headersTimeout: 60_000,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
  };
  if (proxyUrl) {
    if (!/^https?:/.test(proxyUrl)) {
      throw new KubeConfigError(`proxy-url ${proxyUrl}: only http(s) proxies are supported`);
    }
    return new ProxyAgent({ uri: proxyUrl, requestTls: connectOpts, ...common });
  }
  // Over HTTP/2 every stream gets a persistent error sink (see h2-stream-guard.ts): an undici
  // bug otherwise lets a connection cut crash the process.
  return new Agent({
    connect: common.allowH2 ? guardedConnector({ ...connectOpts, allowH2: true }) : connectOpts,
    ...common,
  });
}
