/**
 * `connect()` on the lean loader: client-node is imported only for plugin users, an exec plugin
 * is run through client-node (and run again after refreshCredentials), in-cluster tokens are
 * re-read after the header TTL, and a broken reload keeps the last good credentials.
 * No request is sent: these are the steps before the wire (the integration tests cover it).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { connect } from '../../../../src/kube/config/connection.ts';
import { KubeConfigError } from '../../../../src/kube/core/errors.ts';
import { writeExecPlugin } from '../../../support/exec-plugin.ts';

const configModule = new URL('../../../../src/kube/config/connection.ts', import.meta.url).href;

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-connect-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function kubeconfig(user: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: 'https://127.0.0.1:6443', insecure-skip-tls-verify: true}
users:
- name: u
  user:
${user
  .split('\n')
  .map((line) => `    ${line}`)
  .join('\n')}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`;
}

function countRuns(runsPath: string): number {
  try {
    return readFileSync(runsPath, 'utf8').split('\n').length - 1;
  } catch {
    return 0;
  }
}

/**
 * Runs `connect(kubeconfigPath)` in a fresh Node process and returns the authorization header
 * and how many modules of @kubernetes/client-node were resolved (via a module resolve hook).
 */
async function connectInFreshProcess(
  kubeconfigPath: string | undefined,
  env: Record<string, string> = {},
): Promise<{ authorization: string; clientNodeModules: number }> {
  const script = `
import { registerHooks } from 'node:module';
let clientNodeModules = 0;
registerHooks({
  resolve(specifier, context, next) {
    const result = next(specifier, context);
    if (result.url.includes('/@kubernetes/client-node/')) clientNodeModules++;
    return result;
  },
});
const { connect } = await import(process.argv[1]);
const conn = await connect(process.argv[2] || undefined);
const headers = await conn.headers();
await conn.close();
console.log(JSON.stringify({ authorization: headers.authorization, clientNodeModules }));
`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', script, configModule, kubeconfigPath ?? ''],
    { env: { PATH: process.env.PATH ?? '', ...env } },
  );
  return JSON.parse(stdout) as { authorization: string; clientNodeModules: number };
}

describe('connect: client-node only for plugins', () => {
  it('a token kubeconfig never loads @kubernetes/client-node', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'config');
    writeFileSync(path, kubeconfig('token: lean'));
    const result = await connectInFreshProcess(path);
    assert.deepEqual(result, { authorization: 'Bearer lean', clientNodeModules: 0 });
  });

  it('KUBECONFIG (default rules) takes the lean path too', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'config');
    writeFileSync(path, kubeconfig('token: via-env'));
    const result = await connectInFreshProcess(undefined, { KUBECONFIG: path, HOME: dir });
    assert.deepEqual(result, { authorization: 'Bearer via-env', clientNodeModules: 0 });
  });

  it('an exec user loads it and gets its token from the plugin', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'token'), 'from-plugin');
    const plugin = writeExecPlugin(dir, join(dir, 'token'), join(dir, 'runs'));
    const path = join(dir, 'config');
    writeFileSync(
      path,
      kubeconfig(`exec: {apiVersion: client.authentication.k8s.io/v1, command: '${plugin}'}`),
    );
    const result = await connectInFreshProcess(path);
    assert.equal(result.authorization, 'Bearer from-plugin');
    assert.ok(result.clientNodeModules > 0, 'client-node was imported');
  });
});

describe('connect: credential refresh', () => {
  it('runs the exec plugin again after refreshCredentials (fresh authenticator), relative command included', async (t) => {
    const dir = tempDir(t);
    const tokenPath = join(dir, 'token');
    const runsPath = join(dir, 'runs');
    writeFileSync(tokenPath, 'exec-1');
    writeExecPlugin(dir, tokenPath, runsPath);
    const path = join(dir, 'config');
    // Relative to the kubeconfig's directory, not to this process's cwd.
    writeFileSync(
      path,
      kubeconfig(`exec: {apiVersion: client.authentication.k8s.io/v1, command: ./credential-plugin.sh}`),
    );
    let now = 0;
    const conn = await connect(path, { headerTtlMs: 1000, now: () => now });
    t.after(() => conn.close());
    assert.equal((await conn.headers()).authorization, 'Bearer exec-1');
    const runsAfterConnect = countRuns(runsPath);
    assert.ok(runsAfterConnect >= 1);

    writeFileSync(tokenPath, 'exec-2');
    now = 5000; // past the header TTL: client-node's credential cache (no expiry given) still answers
    assert.equal((await conn.headers()).authorization, 'Bearer exec-1');
    assert.equal(countRuns(runsPath), runsAfterConnect);

    await conn.refreshCredentials(); // what the client does on a 401
    assert.equal((await conn.headers()).authorization, 'Bearer exec-2');
    assert.equal(countRuns(runsPath), runsAfterConnect + 1);
  });

  it('re-reads a rotated in-cluster token after the header TTL, without a refresh', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'token'), 'sa-1');
    writeFileSync(join(dir, 'ca.crt'), 'not a real CA: no TLS handshake happens here');
    let now = 0;
    const conn = await connect(undefined, {
      headerTtlMs: 1000,
      now: () => now,
      kubeconfig: {
        env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
        homeDir: join(dir, 'no-home'),
        serviceAccountDir: dir,
      },
    });
    t.after(() => conn.close());
    assert.equal(conn.server, 'https://10.96.0.1:443');
    assert.equal((await conn.headers()).authorization, 'Bearer sa-1');
    writeFileSync(join(dir, 'token'), 'sa-2');
    now = 999;
    assert.equal((await conn.headers()).authorization, 'Bearer sa-1', 'cached within the TTL');
    now = 1000;
    assert.equal((await conn.headers()).authorization, 'Bearer sa-2');
  });

  it('keeps the last good credentials when the kubeconfig is broken at refresh time', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'config');
    writeFileSync(path, kubeconfig('token: good'));
    const conn = await connect(path);
    t.after(() => conn.close());
    writeFileSync(path, 'clusters: [\n'); // mid-rewrite
    await conn.refreshCredentials();
    assert.equal((await conn.headers()).authorization, 'Bearer good');
    writeFileSync(path, kubeconfig('token: fixed'));
    await conn.refreshCredentials();
    assert.equal((await conn.headers()).authorization, 'Bearer fixed');
  });
});

describe('connect: bad sources', () => {
  it('rejects an object that is not a KubeConfig', async () => {
    await assert.rejects(
      connect({ not: 'a kubeconfig' } as unknown as string),
      (err: unknown) =>
        err instanceof KubeConfigError && /path or a @kubernetes\/client-node KubeConfig/.test(err.message),
    );
  });

  it('turns a failing exec plugin into a KubeConfigError', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'config');
    writeFileSync(
      path,
      kubeconfig(`exec: {apiVersion: client.authentication.k8s.io/v1, command: '${join(dir, 'absent')}'}`),
    );
    await assert.rejects(connect(path), KubeConfigError);
  });
});
