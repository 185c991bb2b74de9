/**
 * A lean kubeconfig loader: finds the kubeconfig (or the in-cluster service account), resolves
 * its current context to one cluster and one user, and turns them into TLS material and request
 * headers.
 *
 * Why not `@kubernetes/client-node`'s `KubeConfig`: importing it loads the whole generated API
 * (~85 MB RSS). This module needs only `js-yaml`. Users whose credentials come from a plugin
 * (`exec` or `auth-provider`) are marked {@link KubeconfigUser.plugin}; `config.ts` hands those
 * to client-node, loaded on demand.
 *
 * Parsing and merging the files, and the shapes they resolve to, live in `kubeconfig-file.ts`
 * (re-exported here); this module chooses the source and uses the result. Loading rules, in
 * order:
 * 1. an explicit path: that one file;
 * 2. `KUBECONFIG`: a `path.delimiter`-separated list, merged (missing files are skipped, as
 *    kubectl does): the first file to define a cluster, user or context name wins, and
 *    `current-context` comes from the first file that sets it;
 * 3. `~/.kube/config` when it exists;
 * 4. in-cluster: `KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT` and the service account's
 *    `token`, `ca.crt` and `namespace` files.
 *
 * Relative paths in a file resolve against that file's directory, and a `*-data` field wins over
 * its file field (kubectl's rules; see `kubeconfig-file.ts`).
 *
 * @module
 */
import { readFileSync, statSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { errorMessage, KubeConfigError } from '../core/index.ts';
import { fromFiles, type Kubeconfig } from './kubeconfig-file.ts';

// The resolved shapes live with the file parser; re-exported so imports from kubeconfig.ts keep working.

/** Where the service account's files are mounted in a pod. */
export const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Inputs of {@link readKubeconfig}; everything but `path` exists for tests. */
export interface KubeconfigReadOptions {
  /** An explicit kubeconfig file; skips the other rules. */
  path?: string | undefined;
  /** Use this context instead of `current-context`. */
  context?: string | undefined;
  /** Environment (`KUBECONFIG`, `KUBERNETES_SERVICE_HOST/PORT`). Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Home directory for `~/.kube/config`. Default `os.homedir()`. */
  homeDir?: string;
  /** Directory of the service account's `token`, `ca.crt` and `namespace`. Default {@link serviceAccountDir}. */
  serviceAccountDir?: string;
}

/** TLS material resolved from a kubeconfig, in the shape of Node's TLS options. */
export interface TlsMaterial {
  ca?: Buffer | string | undefined;
  cert?: Buffer | string | undefined;
  key?: Buffer | string | undefined;
  rejectUnauthorized?: boolean | undefined;
  servername?: string | undefined;
}

/**
 * Loads a kubeconfig by the rules in the module doc and resolves its current (or the given)
 * context. Synchronous: it reads a few small files.
 *
 * @throws KubeConfigError when no source applies, a file is unreadable or not a kubeconfig,
 *   the context, its cluster or its user is missing, or a field has the wrong type.
 */
export function readKubeconfig(options: KubeconfigReadOptions = {}): Kubeconfig {
  const env = options.env ?? process.env;
  if (options.path !== undefined) return fromFiles([resolve(options.path)], options.context, true);

  const list = env.KUBECONFIG;
  if (list) {
    const files = [...new Set(list.split(delimiter).filter((p) => p !== ''))].map((p) => resolve(p));
    const present = files.filter(isFile);
    if (present.length === 0) {
      throw new KubeConfigError(`none of the files in KUBECONFIG exists: ${files.join(', ')}`);
    }
    return fromFiles(present, options.context, false);
  }

  const home = join(options.homeDir ?? homedir(), '.kube', 'config');
  if (isFile(home)) return fromFiles([home], options.context, true);

  const saDir = options.serviceAccountDir ?? serviceAccountDir;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (host && port && isFile(join(saDir, 'token'))) return inCluster(host, port, saDir);

  throw new KubeConfigError(
    `no kubeconfig found: KUBECONFIG is not set, ${home} does not exist, and this is not a pod ` +
      `(KUBERNETES_SERVICE_HOST/PORT unset or no ${join(saDir, 'token')})`,
  );
}

/** True when the user's credentials come from an `exec` or `auth-provider` plugin. */
export function needsPlugin(kc: Kubeconfig): boolean {
  return kc.user.plugin !== undefined;
}

/**
 * TLS material of the current context: CA, client certificate and key (data fields decoded,
 * files read), `insecure-skip-tls-verify` and `tls-server-name`.
 *
 * @throws KubeConfigError when a referenced file is unreadable.
 */
export function tlsMaterialOf(kc: Kubeconfig): TlsMaterial {
  const { cluster, user } = kc;
  return {
    ca: pem(cluster.certificateAuthorityData, cluster.certificateAuthority, 'certificate-authority'),
    cert: pem(user.clientCertificateData, user.clientCertificate, 'client-certificate'),
    key: pem(user.clientKeyData, user.clientKey, 'client-key'),
    rejectUnauthorized: cluster.insecureSkipTlsVerify ? false : undefined,
    servername: cluster.tlsServerName,
  };
}

/**
 * Request headers for the current user (lower-case names): `authorization` from `token-file`
 * (read now, so a rotated token is picked up), `token` or basic auth, and impersonation.
 * Not for plugin users ({@link needsPlugin}).
 *
 * @throws KubeConfigError when the token file is unreadable or empty.
 */
export function authHeadersOf(kc: Kubeconfig): Record<string, string> {
  const { user } = kc;
  if (user.plugin) {
    throw new KubeConfigError(`user ${user.name} authenticates with an ${user.plugin} plugin`);
  }
  const headers: Record<string, string> = {};
  if (user.tokenFile !== undefined) {
    // Bound service account tokens rotate: the file is the source of truth, so it wins over
    // a `token` written next to it (kubectl's rule).
    const token = readText(user.tokenFile, 'token-file').trim();
    if (token === '') throw new KubeConfigError(`token-file ${user.tokenFile} is empty`);
    headers.authorization = `Bearer ${token}`;
  } else if (user.token !== undefined && user.token !== '') {
    headers.authorization = `Bearer ${user.token.trim()}`;
  } else if (user.username !== undefined && user.username !== '') {
    headers.authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
  }
  if (user.impersonate !== undefined) headers['impersonate-user'] = user.impersonate;
  if (user.impersonateUid !== undefined) headers['impersonate-uid'] = user.impersonateUid;
  const [group] = user.impersonateGroups;
  if (group !== undefined) headers['impersonate-group'] = group;
  return headers;
}

function inCluster(host: string, port: string, saDir: string): Kubeconfig {
  // IPv6 service addresses need brackets in a URL.
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const namespaceFile = join(saDir, 'namespace');
  const namespace = isFile(namespaceFile) ? readText(namespaceFile, 'namespace file').trim() : undefined;
  const tokenFile = join(saDir, 'token');
  const caFile = join(saDir, 'ca.crt');
  return {
    origin: 'in-cluster',
    files: [],
    contextName: 'in-cluster',
    namespace: namespace || undefined,
    cluster: { name: 'in-cluster', server, certificateAuthority: caFile, insecureSkipTlsVerify: false },
    user: { name: 'in-cluster', tokenFile, impersonateGroups: [] },
    document: {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'in-cluster', cluster: { server, 'certificate-authority': caFile } }],
      users: [{ name: 'in-cluster', user: { 'token-file': tokenFile } }],
      contexts: [{ name: 'in-cluster', context: { cluster: 'in-cluster', user: 'in-cluster', namespace } }],
      'current-context': 'in-cluster',
    },
  };
}

function pem(data: string | undefined, file: string | undefined, field: string): Buffer | undefined {
  if (data !== undefined && data !== '') return Buffer.from(data, 'base64');
  if (file !== undefined) {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new KubeConfigError(`cannot read ${field} ${file}: ${errorMessage(error)}`, error);
    }
  }
  return undefined;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new KubeConfigError(`cannot read ${what} ${file}: ${errorMessage(error)}`, error);
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
