/**
 * Kubeconfig → connection against a real kube-apiserver: the harness's token kubeconfig, the
 * default loading rules with a relative CA file, an in-cluster service account layout, and an
 * exec credential plugin (the lazy @kubernetes/client-node path), including its re-run on 401.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { KubeClient } from '../../../src/kube/client/client.ts';
import { connect } from '../../../src/kube/config/connection.ts';
import { KubeApiError } from '../../../src/kube/core/errors.ts';
import { testCluster } from '../../support/cluster.ts';
import { execKubeconfig, writeExecPlugin } from '../../support/exec-plugin.ts';

interface NamespaceList {
  items: Array<{ metadata: { name: string } }>;
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'kube-config-it-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Lists namespaces and returns their names (the API answered as an authenticated admin). */
async function namespaceNames(client: KubeClient): Promise<string[]> {
  const list = await client.request<NamespaceList>('GET', '/api/v1/namespaces');
  return list.items.map((ns) => ns.metadata.name);
}

function runs(path: string): number {
  try {
    return readFileSync(path, 'utf8').split('\n').length - 1;
  } catch {
    return 0;
  }
}

describe('kubeconfig on the wire', () => {
  it("connects with the harness's token kubeconfig", async (t) => {
    const cluster = await testCluster();
    const client = await KubeClient.create(cluster.kubeconfigPath);
    t.after(() => client.close());
    assert.equal(client.connection.server, cluster.apiserverUrl.replace(/\/+$/, ''));
    assert.ok((await namespaceNames(client)).includes('default'));
  });

  it('follows KUBECONFIG and reads a CA file relative to the kubeconfig', async (t) => {
    const cluster = await testCluster();
    const dir = tempDir(t);
    writeFileSync(join(dir, 'ca.pem'), cluster.caPem);
    const path = join(dir, 'config');
    writeFileSync(
      path,
      `clusters:
- name: c
  cluster: {server: '${cluster.apiserverUrl}', certificate-authority: ca.pem}
users:
- name: u
  user: {token: '${cluster.token}'}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`,
    );
    const conn = await connect(undefined, { kubeconfig: { env: { KUBECONFIG: path }, homeDir: dir } });
    const client = new KubeClient(conn, undefined, {}, true);
    t.after(() => client.close());
    assert.ok((await namespaceNames(client)).includes('kube-system'));
  });

  it('connects in-cluster from a service account directory', async (t) => {
    const cluster = await testCluster();
    const url = new URL(cluster.apiserverUrl);
    const sa = tempDir(t);
    writeFileSync(join(sa, 'token'), `${cluster.token}\n`);
    writeFileSync(join(sa, 'ca.crt'), cluster.caPem);
    writeFileSync(join(sa, 'namespace'), 'default');
    const conn = await connect(undefined, {
      kubeconfig: {
        env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port },
        homeDir: join(sa, 'no-home'),
        serviceAccountDir: sa,
      },
    });
    const client = new KubeClient(conn, undefined, {}, true);
    t.after(() => client.close());
    assert.ok((await namespaceNames(client)).includes('default'));
  });

  it('authenticates through an exec credential plugin (client-node, loaded on demand)', async (t) => {
    const cluster = await testCluster();
    const dir = tempDir(t);
    const tokenPath = join(dir, 'token');
    const runsPath = join(dir, 'runs');
    writeFileSync(tokenPath, cluster.token);
    const plugin = writeExecPlugin(dir, tokenPath, runsPath);
    const path = join(dir, 'config');
    writeFileSync(path, execKubeconfig(cluster.apiserverUrl, cluster.caPem, plugin));
    const client = await KubeClient.create(path);
    t.after(() => client.close());
    assert.ok((await namespaceNames(client)).includes('default'));
    assert.ok(runs(runsPath) >= 1, 'the plugin ran');
  });

  it('runs the exec plugin again when the server answers 401', async (t) => {
    const cluster = await testCluster();
    const dir = tempDir(t);
    const tokenPath = join(dir, 'token');
    const runsPath = join(dir, 'runs');
    writeFileSync(tokenPath, 'not-a-valid-token');
    writeExecPlugin(dir, tokenPath, runsPath);
    const path = join(dir, 'config');
    // A relative command resolves against the kubeconfig's directory.
    writeFileSync(path, execKubeconfig(cluster.apiserverUrl, cluster.caPem, './credential-plugin.sh'));
    const client = await KubeClient.create(path);
    t.after(() => client.close());

    const before = runs(runsPath);
    await assert.rejects(namespaceNames(client), (e: unknown) => {
      assert.ok(e instanceof KubeApiError && e.status === 401, String(e));
      return true;
    });
    assert.equal(runs(runsPath), before + 1, 'one reload (one plugin run) per 401, then the 401 is final');

    // The plugin now hands out a valid token (as after a re-login).
    writeFileSync(tokenPath, cluster.token);
    assert.ok((await namespaceNames(client)).includes('default'));
    assert.equal(runs(runsPath), before + 2);
  });
});
