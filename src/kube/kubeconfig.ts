/**
 * A lean kubeconfig loader: reads kubeconfig YAML (or the in-cluster service account), applies
 * kubectl's loading and merge rules and resolves the current context to one cluster and one user.
 *
 * Why not `@kubernetes/client-node`'s `KubeConfig`: importing it loads the whole generated API
 * (~85 MB RSS). This module needs only `js-yaml`. Users whose credentials come from a plugin
 * (`exec` or `auth-provider`) are marked {@link KubeconfigUser.plugin}; `config.ts` hands those
 * to client-node, loaded on demand.
 *
 * Loading rules, in order:
 * 1. an explicit path: that one file;
 * 2. `KUBECONFIG`: a `path.delimiter`-separated list, merged (missing files are skipped, as
 *    kubectl does): the first file to define a cluster, user or context name wins, and
 *    `current-context` comes from the first file that sets it;
 * 3. `~/.kube/config` when it exists;
 * 4. in-cluster: `KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT` and the service account's
 *    `token`, `ca.crt` and `namespace` files.
 *
 * Relative file paths (`certificate-authority`, `client-certificate`, `client-key`,
 * `token-file`, and an `exec` command containing a `/`) resolve against the directory of the
 * file that defined the entry. When both a `*-data` field and its file field are set, the data
 * wins (kubectl's rule).
 *
 * @module
 */
import { readFileSync, statSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { loadAll } from 'js-yaml';
import { KubeConfigError } from './errors.ts';

/** Where the service account's files are mounted in a pod. */
export const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The selected cluster, with file paths made absolute. */
export interface KubeconfigCluster {
  readonly name: string;
  /** The API server URL as written (trailing slashes removed). */
  readonly server: string;
  /** Absolute path of a PEM CA bundle. */
  readonly certificateAuthority?: string | undefined;
  /** Base64 of a PEM CA bundle (wins over {@link certificateAuthority}). */
  readonly certificateAuthorityData?: string | undefined;
  readonly insecureSkipTlsVerify: boolean;
  readonly tlsServerName?: string | undefined;
  readonly proxyUrl?: string | undefined;
}

/** The selected user, with file paths made absolute. */
export interface KubeconfigUser {
  /** Empty for a context without a user (anonymous requests). */
  readonly name: string;
  readonly token?: string | undefined;
  /** Absolute path of a file holding a bearer token; re-read on every credential refresh. */
  readonly tokenFile?: string | undefined;
  readonly clientCertificate?: string | undefined;
  readonly clientCertificateData?: string | undefined;
  readonly clientKey?: string | undefined;
  readonly clientKeyData?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** `as`: the user to impersonate. */
  readonly impersonate?: string | undefined;
  /** `as-uid`. */
  readonly impersonateUid?: string | undefined;
  /** `as-groups` (at most one: see {@link readKubeconfig}). */
  readonly impersonateGroups: readonly string[];
  /**
   * Set when the credentials come from a plugin that this module does not run: `exec`
   * (client-go credential plugins) or `auth-provider` (oidc, gcp, azure, ...).
   */
  readonly plugin?: 'exec' | 'auth-provider' | undefined;
}

/** A kubeconfig resolved to its current context. */
export interface Kubeconfig {
  readonly origin: 'file' | 'in-cluster';
  /** The files that were read (for messages); empty in-cluster. */
  readonly files: readonly string[];
  readonly contextName: string;
  /** The context's namespace (in-cluster: the service account's namespace). */
  readonly namespace?: string | undefined;
  readonly cluster: KubeconfigCluster;
  readonly user: KubeconfigUser;
  /**
   * The selected context as a self-contained kubeconfig document (its cluster, user and context
   * entries as written, with relative paths made absolute): what a plugin-capable loader needs.
   */
  readonly document: Readonly<Record<string, unknown>>;
}

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

type YamlMap = Record<string, unknown>;

/** An entry of `clusters`, `users` or `contexts`, remembering the directory of its file. */
interface Entry {
  readonly body: YamlMap;
  readonly dir: string;
  readonly file: string;
}

interface Merged {
  readonly files: string[];
  readonly clusters: Map<string, Entry>;
  readonly users: Map<string, Entry>;
  readonly contexts: Map<string, Entry>;
  currentContext: string | undefined;
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
  if (options.path !== undefined) return fromFiles([resolve(options.path)], options, true);

  const list = env.KUBECONFIG;
  if (list) {
    const files = [...new Set(list.split(delimiter).filter((p) => p !== ''))].map((p) => resolve(p));
    const present = files.filter(isFile);
    if (present.length === 0) {
      throw new KubeConfigError(`none of the files in KUBECONFIG exists: ${files.join(', ')}`);
    }
    return fromFiles(present, options, false);
  }

  const home = join(options.homeDir ?? homedir(), '.kube', 'config');
  if (isFile(home)) return fromFiles([home], options, true);

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

// ---------------------------------------------------------------------------------------------

function fromFiles(files: string[], options: KubeconfigReadOptions, mustExist: boolean): Kubeconfig {
  const merged: Merged = {
    files: [],
    clusters: new Map(),
    users: new Map(),
    contexts: new Map(),
    currentContext: undefined,
  };
  for (const file of files) mergeFile(merged, file, mustExist);
  const where = merged.files.join(', ');

  const contextName = options.context ?? merged.currentContext;
  if (!contextName) throw new KubeConfigError(`kubeconfig ${where} has no current-context`);
  const ctxEntry = merged.contexts.get(contextName);
  if (!ctxEntry) throw new KubeConfigError(`context "${contextName}" not found in kubeconfig ${where}`);
  const ctx = mapField(ctxEntry.body, 'context', `context "${contextName}"`) ?? {};
  const clusterName = stringField(ctx, 'cluster', `context "${contextName}"`);
  if (!clusterName) throw new KubeConfigError(`context "${contextName}" names no cluster (in ${where})`);
  const userName = stringField(ctx, 'user', `context "${contextName}"`) ?? '';
  const namespace = stringField(ctx, 'namespace', `context "${contextName}"`);

  const clusterEntry = merged.clusters.get(clusterName);
  if (!clusterEntry) {
    throw new KubeConfigError(`cluster "${clusterName}" of context "${contextName}" not found in ${where}`);
  }
  const cluster = toCluster(clusterName, clusterEntry);

  let user: KubeconfigUser = { name: '', impersonateGroups: [] };
  let userBody: YamlMap = {};
  if (userName !== '') {
    const userEntry = merged.users.get(userName);
    if (!userEntry) {
      throw new KubeConfigError(`user "${userName}" of context "${contextName}" not found in ${where}`);
    }
    ({ user, body: userBody } = toUser(userName, userEntry));
  }

  return {
    origin: 'file',
    files: merged.files,
    contextName,
    namespace,
    cluster,
    user,
    document: {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: clusterName, cluster: clusterDocument(cluster, clusterEntry.body) }],
      users: userName === '' ? [] : [{ name: userName, user: userBody }],
      contexts: [{ name: contextName, context: { ...ctx } }],
      'current-context': contextName,
    },
  };
}

function mergeFile(merged: Merged, file: string, mustExist: boolean): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (!mustExist && (error as NodeJS.ErrnoException).code === 'ENOENT') return; // removed meanwhile
    throw new KubeConfigError(`cannot read kubeconfig ${file}: ${errorText(error)}`, error);
  }
  merged.files.push(file);
  const doc = parseYaml(text, file);
  if (doc === undefined) return; // an empty file is an empty kubeconfig
  const dir = dirname(file);
  for (const [list, target] of [
    ['clusters', merged.clusters],
    ['users', merged.users],
    ['contexts', merged.contexts],
  ] as const) {
    const value = doc[list];
    if (value === undefined || value === null) continue;
    if (!Array.isArray(value)) throw new KubeConfigError(`${file}: ${list} must be a list`);
    value.forEach((item: unknown, i) => {
      if (!isMap(item)) throw new KubeConfigError(`${file}: ${list}[${i}] must be a mapping`);
      const name = item.name;
      if (typeof name !== 'string' || name === '') {
        throw new KubeConfigError(`${file}: ${list}[${i}] has no name`);
      }
      // kubectl: the first file to set a map key wins.
      if (!target.has(name)) target.set(name, { body: item, dir, file });
    });
  }
  const current = doc['current-context'];
  if (current !== undefined && current !== null && typeof current !== 'string') {
    throw new KubeConfigError(`${file}: current-context must be a string`);
  }
  if (merged.currentContext === undefined && current) merged.currentContext = current;
}

/** Parses one YAML document; `undefined` for an empty one. Never echoes the file's content (secrets). */
function parseYaml(text: string, file: string): YamlMap | undefined {
  let docs: unknown[];
  try {
    docs = loadAll(text);
  } catch (error) {
    // The YAML error carries the whole source and a snippet of it; a kubeconfig holds tokens
    // and keys, so only the reason and position go into the message, and it is not the cause.
    const { reason, mark } = error as { reason?: unknown; mark?: { line?: unknown; column?: unknown } };
    const at =
      typeof mark?.line === 'number' && typeof mark.column === 'number'
        ? ` at line ${mark.line + 1}, column ${mark.column + 1}`
        : '';
    throw new KubeConfigError(
      `${file} is not valid YAML: ${typeof reason === 'string' ? reason : 'parse error'}${at}`,
    );
  }
  if (docs.length > 1) throw new KubeConfigError(`${file} holds ${docs.length} YAML documents, expected one`);
  const [doc] = docs;
  if (doc === undefined || doc === null) return undefined;
  if (!isMap(doc)) throw new KubeConfigError(`${file} is not a kubeconfig (its top level is not a mapping)`);
  return doc;
}

function toCluster(name: string, entry: Entry): KubeconfigCluster {
  const what = `cluster "${name}" (in ${entry.file})`;
  const body = mapField(entry.body, 'cluster', what);
  if (!body) throw new KubeConfigError(`${what} has no cluster field`);
  const server = stringField(body, 'server', what);
  if (!server) throw new KubeConfigError(`${what} has no server`);
  const insecure = body['insecure-skip-tls-verify'];
  if (insecure !== undefined && insecure !== null && typeof insecure !== 'boolean') {
    throw new KubeConfigError(`${what}: insecure-skip-tls-verify must be true or false`);
  }
  return {
    name,
    server: server.replace(/\/+$/, ''),
    certificateAuthority: pathField(body, 'certificate-authority', what, entry.dir),
    certificateAuthorityData: stringField(body, 'certificate-authority-data', what),
    insecureSkipTlsVerify: insecure === true,
    tlsServerName: stringField(body, 'tls-server-name', what),
    proxyUrl: stringField(body, 'proxy-url', what),
  };
}

function clusterDocument(cluster: KubeconfigCluster, entry: YamlMap): YamlMap {
  const body = { ...(entry.cluster as YamlMap) };
  if (cluster.certificateAuthority !== undefined)
    body['certificate-authority'] = cluster.certificateAuthority;
  return body;
}

function toUser(name: string, entry: Entry): { user: KubeconfigUser; body: YamlMap } {
  const what = `user "${name}" (in ${entry.file})`;
  const raw = mapField(entry.body, 'user', what) ?? {};
  const body: YamlMap = { ...raw };
  const groups = raw['as-groups'];
  let impersonateGroups: string[] = [];
  if (groups !== undefined && groups !== null) {
    if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) {
      throw new KubeConfigError(`${what}: as-groups must be a list of strings`);
    }
    // Each group must travel as its own Impersonate-Group header line, and our connection's
    // headers are one value per name: refuse rather than send a wrong identity.
    if (groups.length > 1)
      throw new KubeConfigError(`${what}: more than one as-groups entry is not supported`);
    impersonateGroups = groups;
  }
  if (isMap(raw['as-user-extra']) && Object.keys(raw['as-user-extra']).length > 0) {
    throw new KubeConfigError(`${what}: as-user-extra is not supported`);
  }

  let plugin: KubeconfigUser['plugin'];
  if (raw.exec !== undefined && raw.exec !== null) {
    const exec = mapField(raw, 'exec', what);
    const command = exec && stringField(exec, 'command', `${what} exec`);
    if (!command) throw new KubeConfigError(`${what}: exec has no command`);
    // kubectl: a command with a path separator is relative to the kubeconfig; a bare name is looked up in PATH.
    if (command.includes('/') && !isAbsolute(command)) {
      body.exec = { ...exec, command: resolve(entry.dir, command) };
    }
    plugin = 'exec';
  } else if (raw['auth-provider'] !== undefined && raw['auth-provider'] !== null) {
    if (!mapField(raw, 'auth-provider', what)) throw new KubeConfigError(`${what}: auth-provider is empty`);
    plugin = 'auth-provider';
  }

  const user: KubeconfigUser = {
    name,
    token: stringField(raw, 'token', what),
    tokenFile: pathField(raw, 'token-file', what, entry.dir),
    clientCertificate: pathField(raw, 'client-certificate', what, entry.dir),
    clientCertificateData: stringField(raw, 'client-certificate-data', what),
    clientKey: pathField(raw, 'client-key', what, entry.dir),
    clientKeyData: stringField(raw, 'client-key-data', what),
    username: stringField(raw, 'username', what),
    password: stringField(raw, 'password', what),
    impersonate: stringField(raw, 'as', what),
    impersonateUid: stringField(raw, 'as-uid', what),
    impersonateGroups,
    plugin,
  };
  for (const [field, value] of [
    ['token-file', user.tokenFile],
    ['client-certificate', user.clientCertificate],
    ['client-key', user.clientKey],
  ] as const) {
    if (value !== undefined) body[field] = value;
  }
  return { user, body };
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
      throw new KubeConfigError(`cannot read ${field} ${file}: ${errorText(error)}`, error);
    }
  }
  return undefined;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new KubeConfigError(`cannot read ${what} ${file}: ${errorText(error)}`, error);
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isMap(value: unknown): value is YamlMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mapField(body: YamlMap, field: string, what: string): YamlMap | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!isMap(value)) throw new KubeConfigError(`${what}: ${field} must be a mapping`);
  return value;
}

/**
 * A string field; absent/null is `undefined`. Numbers and booleans are refused rather than
 * converted: YAML reads `token: 0755` as 755, and a silently altered secret is worse than an error.
 */
function stringField(body: YamlMap, field: string, what: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new KubeConfigError(`${what}: ${field} must be a string (quote it in the YAML)`);
  }
  return value;
}

function pathField(body: YamlMap, field: string, what: string, dir: string): string | undefined {
  const value = stringField(body, field, what);
  if (value === undefined || value === '') return undefined;
  return resolve(dir, value);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
