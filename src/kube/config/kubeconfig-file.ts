/**
 * The kubeconfig file format: the shapes a kubeconfig resolves to ({@link Kubeconfig}, its
 * {@link KubeconfigCluster} and {@link KubeconfigUser}) and how files become one: each file is
 * parsed as YAML, the files are merged by kubectl's rules, and the chosen context is resolved
 * to one cluster and one user, every field type-checked. `kubeconfig.ts` decides which files
 * to read (or whether to use the in-cluster service account instead) and turns the result into
 * TLS material and headers; this module never looks at the environment.
 *
 * Merge rules (kubectl's): the first file to define a cluster, user or context name wins, and
 * `current-context` comes from the first file that sets it.
 *
 * Relative file paths (`certificate-authority`, `client-certificate`, `client-key`,
 * `token-file`, and an `exec` command containing a `/`) resolve against the directory of the
 * file that defined the entry. When both a `*-data` field and its file field are set, the data
 * wins (kubectl's rule). Users whose credentials come from a plugin (`exec` or `auth-provider`)
 * are only marked ({@link KubeconfigUser.plugin}); `config.ts` hands those to client-node.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { loadAll } from 'js-yaml';
import { errorMessage, KubeConfigError } from '../core/index.ts';

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
  /** `as-groups` (at most one: more are refused when the kubeconfig is read). */
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
 * Reads and merges `files` and resolves `context` (default: the merged `current-context`).
 * `mustExist`: a missing file is an error (an explicit path) rather than skipped (a `KUBECONFIG`
 * entry removed meanwhile).
 *
 * @throws KubeConfigError when a file is unreadable or not a kubeconfig, the context, its
 *   cluster or its user is missing, or a field has the wrong type.
 */
export function fromFiles(files: string[], context: string | undefined, mustExist: boolean): Kubeconfig {
  const merged: Merged = {
    files: [],
    clusters: new Map(),
    users: new Map(),
    contexts: new Map(),
    currentContext: undefined,
  };
  for (const file of files) mergeFile(merged, file, mustExist);
  const where = merged.files.join(', ');

  const contextName = context ?? merged.currentContext;
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
    throw new KubeConfigError(`cannot read kubeconfig ${file}: ${errorMessage(error)}`, error);
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
