/**
 * The lean kubeconfig loader: loading rules (explicit path, KUBECONFIG merge, ~/.kube/config,
 * in-cluster), relative paths, data vs file fields, header and TLS resolution, typed errors.
 * Every fixture is written to a temp dir; the environment is injected.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import {
  authHeadersOf,
  type KubeconfigReadOptions,
  needsPlugin,
  readKubeconfig,
  tlsMaterialOf,
} from '../../../../src/kube/config/kubeconfig.ts';
import { KubeConfigError } from '../../../../src/kube/core/errors.ts';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `text` at `dir/name` (creating parents) and returns the path. */
function write(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** An environment with nothing set, so the developer's own KUBECONFIG/home never leak in. */
function isolated(dir: string, extra: Partial<KubeconfigReadOptions> = {}): KubeconfigReadOptions {
  return { env: {}, homeDir: join(dir, 'no-home'), serviceAccountDir: join(dir, 'no-sa'), ...extra };
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

const single = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://10.0.0.1:6443/prefix//
    certificate-authority-data: ${b64('CA-PEM')}
    tls-server-name: api.internal
    proxy-url: http://proxy:3128
users:
- name: u
  user:
    token: tok-123
    as: bob
    as-uid: "42"
    as-groups: [devs]
contexts:
- name: x
  context: {cluster: c, user: u, namespace: team-a}
- name: y
  context: {cluster: c}
current-context: x
`;

describe('readKubeconfig: an explicit path', () => {
  it('resolves the current context to its cluster and user', (t) => {
    const dir = tempDir(t);
    const kc = readKubeconfig(isolated(dir, { path: write(dir, 'config', single) }));
    assert.equal(kc.origin, 'file');
    assert.equal(kc.contextName, 'x');
    assert.equal(kc.namespace, 'team-a');
    assert.equal(kc.cluster.server, 'https://10.0.0.1:6443/prefix');
    assert.equal(kc.cluster.tlsServerName, 'api.internal');
    assert.equal(kc.cluster.proxyUrl, 'http://proxy:3128');
    assert.equal(kc.cluster.insecureSkipTlsVerify, false);
    assert.equal(kc.user.token, 'tok-123');
    assert.equal(needsPlugin(kc), false);
    assert.deepEqual(authHeadersOf(kc), {
      authorization: 'Bearer tok-123',
      'impersonate-user': 'bob',
      'impersonate-uid': '42',
      'impersonate-group': 'devs',
    });
    const tls = tlsMaterialOf(kc);
    assert.equal(tls.ca?.toString(), 'CA-PEM');
    assert.equal(tls.servername, 'api.internal');
    assert.equal(
      tls.rejectUnauthorized,
      undefined,
      'verification stays on unless the kubeconfig disables it',
    );
    assert.equal(tls.cert, undefined);
  });

  it('honours a context override, and a context without a user is anonymous', (t) => {
    const dir = tempDir(t);
    const kc = readKubeconfig(isolated(dir, { path: write(dir, 'config', single), context: 'y' }));
    assert.equal(kc.contextName, 'y');
    assert.equal(kc.user.name, '');
    assert.deepEqual(authHeadersOf(kc), {});
  });

  it('ignores KUBECONFIG and ~/.kube/config when a path is given', (t) => {
    const dir = tempDir(t);
    const other = write(dir, 'other', single.replace('tok-123', 'from-env'));
    write(dir, 'home/.kube/config', single.replace('tok-123', 'from-home'));
    const kc = readKubeconfig({
      path: write(dir, 'config', single),
      env: { KUBECONFIG: other },
      homeDir: join(dir, 'home'),
    });
    assert.equal(kc.user.token, 'tok-123');
  });
});

describe('readKubeconfig: KUBECONFIG merging', () => {
  it('lets the first file win each name and each current-context, skipping missing files', (t) => {
    const dir = tempDir(t);
    const first = write(
      dir,
      'a/config',
      `clusters:
- name: shared
  cluster: {server: 'https://first:1'}
users:
- name: shared-user
  user: {token: first-token}
`,
    );
    const second = write(
      dir,
      'b/config',
      `clusters:
- name: shared
  cluster: {server: 'https://second:2'}
- name: only-second
  cluster: {server: 'https://only-second:3'}
users:
- name: shared-user
  user: {token: second-token}
contexts:
- name: ctx
  context: {cluster: shared, user: shared-user}
- name: other
  context: {cluster: only-second, user: shared-user}
current-context: ctx
`,
    );
    const third = write(dir, 'c/config', 'current-context: other\n');
    const list = ['', join(dir, 'missing'), first, second, first, third].join(delimiter);
    const kc = readKubeconfig(isolated(dir, { env: { KUBECONFIG: list } }));
    assert.deepEqual(kc.files, [first, second, third]);
    assert.equal(kc.contextName, 'ctx', 'current-context from the first file that sets it');
    assert.equal(kc.cluster.server, 'https://first:1', 'first definition of a cluster name wins');
    assert.equal(kc.user.token, 'first-token', 'first definition of a user name wins');
    const other = readKubeconfig(isolated(dir, { env: { KUBECONFIG: list }, context: 'other' }));
    assert.equal(other.cluster.server, 'https://only-second:3', 'names unique to a later file are merged in');
  });

  it('fails when no file of the list exists', (t) => {
    const dir = tempDir(t);
    const env = { KUBECONFIG: [join(dir, 'x'), join(dir, 'y')].join(delimiter) };
    assert.throws(
      () => readKubeconfig(isolated(dir, { env })),
      (err: unknown) => err instanceof KubeConfigError && /none of the files in KUBECONFIG/.test(err.message),
    );
  });

  it('falls back to ~/.kube/config when KUBECONFIG is unset or empty', (t) => {
    const dir = tempDir(t);
    write(dir, 'home/.kube/config', single);
    for (const env of [{}, { KUBECONFIG: '' }]) {
      const kc = readKubeconfig({ env, homeDir: join(dir, 'home'), serviceAccountDir: join(dir, 'no-sa') });
      assert.deepEqual(kc.files, [join(dir, 'home/.kube/config')]);
      assert.equal(kc.user.token, 'tok-123');
    }
  });
});

describe('readKubeconfig: file references', () => {
  it("resolves relative paths against the defining file's directory", (t) => {
    const dir = tempDir(t);
    write(dir, 'one/certs/ca.pem', 'CA-ONE');
    write(dir, 'two/creds/client.crt', 'CERT-TWO');
    write(dir, 'two/creds/client.key', 'KEY-TWO');
    write(dir, 'two/creds/token', '  token-from-file\n');
    const one = write(
      dir,
      'one/config',
      `clusters:
- name: c
  cluster: {server: 'https://h:1', certificate-authority: certs/ca.pem}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`,
    );
    const two = write(
      dir,
      'two/config',
      `users:
- name: u
  user:
    client-certificate: creds/client.crt
    client-key: ./creds/client.key
    token-file: creds/token
`,
    );
    const kc = readKubeconfig(isolated(dir, { env: { KUBECONFIG: `${one}${delimiter}${two}` } }));
    assert.equal(kc.cluster.certificateAuthority, join(dir, 'one/certs/ca.pem'));
    assert.equal(kc.user.clientKey, join(dir, 'two/creds/client.key'));
    const tls = tlsMaterialOf(kc);
    assert.equal(tls.ca?.toString(), 'CA-ONE');
    assert.equal(tls.cert?.toString(), 'CERT-TWO');
    assert.equal(tls.key?.toString(), 'KEY-TWO');
    assert.equal(authHeadersOf(kc).authorization, 'Bearer token-from-file', 'trimmed');
  });

  it('prefers *-data over the file field, and token-file over token', (t) => {
    const dir = tempDir(t);
    write(dir, 'token', 'file-token');
    const path = write(
      dir,
      'config',
      `clusters:
- name: c
  cluster: {server: 'https://h:1', certificate-authority: missing-ca.pem, certificate-authority-data: ${b64('DATA-CA')}, insecure-skip-tls-verify: true}
users:
- name: u
  user:
    client-certificate: missing.crt
    client-certificate-data: ${b64('DATA-CERT')}
    client-key-data: ${b64('DATA-KEY')}
    token: inline-token
    token-file: token
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`,
    );
    const kc = readKubeconfig(isolated(dir, { path }));
    const tls = tlsMaterialOf(kc);
    assert.equal(tls.ca?.toString(), 'DATA-CA');
    assert.equal(tls.cert?.toString(), 'DATA-CERT');
    assert.equal(tls.key?.toString(), 'DATA-KEY');
    assert.equal(tls.rejectUnauthorized, false);
    assert.equal(authHeadersOf(kc).authorization, 'Bearer file-token');
    writeFileSync(join(dir, 'token'), 'rotated');
    assert.equal(authHeadersOf(kc).authorization, 'Bearer rotated', 'the token file is read on every call');
  });

  it('maps username/password to basic auth', (t) => {
    const dir = tempDir(t);
    const path = write(
      dir,
      'config',
      single.replace(/token: tok-123/, "username: alice\n    password: 's3:cret'"),
    );
    const kc = readKubeconfig(isolated(dir, { path }));
    assert.equal(authHeadersOf(kc).authorization, `Basic ${b64('alice:s3:cret')}`);
  });

  it('reports an unreadable referenced file with its path', (t) => {
    const dir = tempDir(t);
    const path = write(
      dir,
      'config',
      single.replace(/certificate-authority-data: .*/, 'certificate-authority: nope.pem'),
    );
    const kc = readKubeconfig(isolated(dir, { path }));
    assert.throws(
      () => tlsMaterialOf(kc),
      (err: unknown) => err instanceof KubeConfigError && err.message.includes(join(dir, 'nope.pem')),
    );
  });
});

describe('readKubeconfig: plugin users', () => {
  it('marks exec users, resolving a relative command against the kubeconfig directory', (t) => {
    const dir = tempDir(t);
    const path = write(
      dir,
      'sub/config',
      `clusters:
- name: c
  cluster: {server: 'https://h:1', certificate-authority: ca.pem}
users:
- name: relative
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: ./bin/plugin, args: [a]}
- name: in-path
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: aws}
- name: oidc
  user:
    auth-provider: {name: oidc, config: {idp-issuer-url: 'https://issuer'}}
contexts:
- name: relative
  context: {cluster: c, user: relative}
- name: in-path
  context: {cluster: c, user: in-path}
- name: oidc
  context: {cluster: c, user: oidc}
current-context: relative
`,
    );
    const kc = readKubeconfig(isolated(dir, { path }));
    assert.equal(kc.user.plugin, 'exec');
    assert.ok(needsPlugin(kc));
    assert.throws(() => authHeadersOf(kc), KubeConfigError);
    const doc = kc.document as {
      users: Array<{ user: { exec: { command: string; args: string[] } } }>;
      clusters: Array<{ cluster: Record<string, unknown> }>;
      'current-context': string;
    };
    assert.equal(doc.users[0]?.user.exec.command, join(dir, 'sub/bin/plugin'));
    assert.deepEqual(doc.users[0]?.user.exec.args, ['a']);
    assert.equal(doc.clusters[0]?.cluster['certificate-authority'], join(dir, 'sub/ca.pem'));
    assert.equal(doc['current-context'], 'relative');

    const inPath = readKubeconfig(isolated(dir, { path, context: 'in-path' }));
    const inPathDoc = inPath.document as { users: Array<{ user: { exec: { command: string } } }> };
    assert.equal(inPathDoc.users[0]?.user.exec.command, 'aws', 'a bare command is looked up in PATH');
    assert.equal(readKubeconfig(isolated(dir, { path, context: 'oidc' })).user.plugin, 'auth-provider');
  });
});

describe('readKubeconfig: in-cluster', () => {
  function serviceAccount(dir: string): string {
    const sa = join(dir, 'sa');
    write(sa, 'token', 'sa-token-1');
    write(sa, 'ca.crt', 'SA-CA');
    write(sa, 'namespace', 'operators\n');
    return sa;
  }

  it('uses the service host/port and the service account files, re-reading the token', (t) => {
    const dir = tempDir(t);
    const sa = serviceAccount(dir);
    const kc = readKubeconfig({
      env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      homeDir: join(dir, 'no-home'),
      serviceAccountDir: sa,
    });
    assert.equal(kc.origin, 'in-cluster');
    assert.equal(kc.cluster.server, 'https://10.96.0.1:443');
    assert.equal(kc.namespace, 'operators');
    assert.equal(tlsMaterialOf(kc).ca?.toString(), 'SA-CA');
    assert.equal(authHeadersOf(kc).authorization, 'Bearer sa-token-1');
    writeFileSync(join(sa, 'token'), 'sa-token-2');
    assert.equal(authHeadersOf(kc).authorization, 'Bearer sa-token-2', 'bound tokens rotate');
  });

  it('brackets an IPv6 service host', (t) => {
    const dir = tempDir(t);
    const kc = readKubeconfig({
      env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
      homeDir: join(dir, 'no-home'),
      serviceAccountDir: serviceAccount(dir),
    });
    assert.equal(kc.cluster.server, 'https://[fd00::1]:443');
  });

  it('prefers ~/.kube/config over the service account', (t) => {
    const dir = tempDir(t);
    write(dir, 'home/.kube/config', single);
    const kc = readKubeconfig({
      env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      homeDir: join(dir, 'home'),
      serviceAccountDir: serviceAccount(dir),
    });
    assert.equal(kc.origin, 'file');
  });

  it('fails with a message naming every source tried when none applies', (t) => {
    const dir = tempDir(t);
    // The env says "pod" but there is no token file.
    const options = isolated(dir, { env: { KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '1' } });
    assert.throws(
      () => readKubeconfig(options),
      (err: unknown) =>
        err instanceof KubeConfigError &&
        err.message.includes('KUBECONFIG is not set') &&
        err.message.includes(join(dir, 'no-home', '.kube', 'config')) &&
        err.message.includes(join(dir, 'no-sa', 'token')),
    );
  });
});

describe('readKubeconfig: errors', () => {
  const cases: Array<{ name: string; text: string; message: RegExp }> = [
    { name: 'empty file', text: '', message: /has no current-context/ },
    {
      name: 'missing context',
      text: single.replace('current-context: x', 'current-context: nope'),
      message: /context "nope" not found/,
    },
    {
      name: 'missing cluster',
      text: single.replace('{cluster: c, user: u', '{cluster: gone, user: u'),
      message: /cluster "gone" of context "x" not found/,
    },
    {
      name: 'missing user',
      text: single.replace('{cluster: c, user: u', '{cluster: c, user: ghost'),
      message: /user "ghost" of context "x" not found/,
    },
    {
      name: 'context without cluster',
      text: single.replace('{cluster: c, user: u, ', '{user: u, '),
      message: /names no cluster/,
    },
    {
      name: 'cluster without server',
      text: single.replace(/ {4}server: .*\n/, ''),
      message: /has no server/,
    },
    { name: 'top level not a mapping', text: '- a\n- b\n', message: /not a kubeconfig/ },
    { name: 'two documents', text: `${single}---\n${single}`, message: /2 YAML documents/ },
    { name: 'clusters not a list', text: 'clusters: {a: 1}\n', message: /clusters must be a list/ },
    { name: 'entry without a name', text: 'users:\n- user: {token: x}\n', message: /users\[0\] has no name/ },
    {
      name: 'numeric token',
      text: single.replace('token: tok-123', 'token: 0755'),
      message: /token must be a string/,
    },
    {
      name: 'non-boolean insecure flag',
      text: single.replace('tls-server-name', 'insecure-skip-tls-verify: "yes"\n    tls-server-name'),
      message: /insecure-skip-tls-verify must be true or false/,
    },
    {
      name: 'several as-groups',
      text: single.replace('[devs]', '[devs, ops]'),
      message: /more than one as-groups/,
    },
    {
      name: 'exec without command',
      text: single.replace('token: tok-123', 'exec: {apiVersion: v1}'),
      message: /exec has no command/,
    },
  ];
  for (const { name, text, message } of cases) {
    it(`rejects: ${name}`, (t) => {
      const dir = tempDir(t);
      const path = write(dir, 'config', text);
      assert.throws(
        () => readKubeconfig(isolated(dir, { path })),
        (err: unknown) => err instanceof KubeConfigError && message.test(err.message),
      );
    });
  }

  it('reports bad YAML with its position but without echoing the file (it holds secrets)', (t) => {
    const dir = tempDir(t);
    const path = write(dir, 'config', 'users:\n- name: u\n  user: {token: super-secret-token\ncontexts: [\n');
    assert.throws(
      () => readKubeconfig(isolated(dir, { path })),
      (err: unknown) =>
        err instanceof KubeConfigError &&
        err.message.startsWith(`${path} is not valid YAML: `) &&
        / at line \d+, column \d+$/.test(err.message) &&
        !err.message.includes('super-secret-token') &&
        err.cause === undefined,
    );
  });

  it('reports a missing or unreadable explicit file', (t) => {
    const dir = tempDir(t);
    assert.throws(
      () => readKubeconfig(isolated(dir, { path: join(dir, 'missing') })),
      (err: unknown) =>
        err instanceof KubeConfigError && /cannot read kubeconfig .*missing: .*ENOENT/.test(err.message),
    );
    assert.throws(
      () => readKubeconfig(isolated(dir, { path: dir })),
      (err: unknown) => err instanceof KubeConfigError && /EISDIR/.test(err.message),
    );
  });

  it('reports an empty token file', (t) => {
    const dir = tempDir(t);
    write(dir, 'token', '\n');
    const path = write(dir, 'config', single.replace('token: tok-123', 'token-file: token'));
    const kc = readKubeconfig(isolated(dir, { path }));
    assert.throws(() => authHeadersOf(kc), /token-file .* is empty/);
  });
});
