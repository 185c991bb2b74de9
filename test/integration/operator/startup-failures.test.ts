/**
 * The operator's failure modes as a new user meets them, on the real apiserver: no RBAC, a bad
 * token, a closed port, a wrong CA. The command exits 1 after the cache sync timeout with ONE
 * line naming the cause; a replica refused the Lease is not ready and says why; the endpoints
 * take IPv6 addresses and `0` to turn them off.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { rootCertificates } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { ControllerStartError } from '../../../src/controller/controller.ts';
import { KubeClient } from '../../../src/kube/client/client.ts';
import { resources } from '../../../src/kube/core/resources.ts';
import type { Lease } from '../../../src/kube/index.ts';
import { runOperator } from '../../../src/operator/operator.ts';
import { LEASE_GVR } from '../../../src/runtime/leader-election.ts';
import { freePort } from '../../../tools/controlplane/harness.ts';
import { deferrer, kubeconfigFor, testCluster, testNamespace } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';

const main = fileURLToPath(new URL('../../../src/operator/main.ts', import.meta.url));

function runCommand(args: string[]): Promise<{ code: number | null; stderr: string; elapsedMs: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [main, ...args],
      {
        encoding: 'utf8',
        timeout: 120_000,
        env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', ELASTI_OPERATOR_PORT: '0' },
      },
      (error, _stdout, stderr) =>
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
          stderr,
          elapsedMs: Date.now() - started,
        }),
    );
  });
}

test('start-up without access exits 1 after the cache sync timeout, one line naming the cause', async (t) => {
  const defer = deferrer(t);
  const cluster = await testCluster();
  const otherCa = rootCertificates[0];
  assert.ok(otherCa);
  const cases: Array<{ what: string; kubeconfig: string; cause: RegExp }> = [
    {
      what: 'no RBAC (403)',
      kubeconfig: cluster.restrictedKubeconfigPath,
      cause:
        /403 Forbidden: elastiservices\.elasti\.truefoundry\.com is forbidden: User "restricted" cannot list resource "elastiservices"/,
    },
    {
      what: 'a bad token (401)',
      kubeconfig: kubeconfigFor(defer, cluster.apiserverUrl, cluster.caPem, 'not-a-token'),
      cause: /401 Unauthorized/,
    },
    {
      what: 'a closed port',
      kubeconfig: kubeconfigFor(defer, `https://127.0.0.1:${await freePort()}`, cluster.caPem, cluster.token),
      cause: /ECONNREFUSED/,
    },
    {
      what: 'a wrong CA',
      kubeconfig: kubeconfigFor(defer, cluster.apiserverUrl, otherCa, cluster.token),
      cause: /certificate|CERT/i,
    },
  ];
  // Together: each waits out its own timeout, and the machine is shared.
  const results = await Promise.all(
    cases.map((c) =>
      runCommand([
        `--kubeconfig=${c.kubeconfig}`,
        '--cache-sync-timeout=3s',
        '--bind-address=127.0.0.1:0',
        '--health-probe-bind-address=127.0.0.1:0',
      ]),
    ),
  );
  for (const [i, c] of cases.entries()) {
    const { code, stderr } = results[i] ?? assert.fail('no result');
    assert.equal(code, 1, `${c.what}: ${stderr}`);
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${c.what}: one line, got:\n${stderr}`);
    const [line = ''] = lines;
    assert.match(
      line,
      /^elasti-operator: ControllerStartError: ElastiService cache did not sync within 3000 ms: /,
    );
    assert.match(line, c.cause, c.what);
    assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
  }
});

test('in-process: runOperator rejects with ControllerStartError naming the 403, and frees its port', async (t) => {
  const cluster = await testCluster();
  const ns = await testNamespace(t, 'op-403');
  const port = await freePort();
  const error = await runOperator({
    kubeconfig: cluster.restrictedKubeconfigPath,
    httpBindAddress: `127.0.0.1:${port}`,
    config: { watchNamespace: ns, cacheSyncTimeoutMs: 2_000 },
  }).then(
    (op) => {
      void op.stop();
      assert.fail('started without RBAC');
    },
    (e: unknown) => e,
  );
  assert.ok(error instanceof ControllerStartError, String(error));
  assert.equal(error.status, 403);
  assert.match(error.message, /cannot list resource "elastiservices".* in the namespace "op-403-/);
  await assert.rejects(request(`http://127.0.0.1:${port}/healthz`), 'the endpoints were closed');
});

test('a replica refused the Lease (403) is not ready, and /readyz says it cannot take the lease', async (t) => {
  const cluster = await testCluster();
  const ns = await testNamespace(t, 'op-lease');
  const operator = await runOperator({
    kubeconfig: cluster.restrictedKubeconfigPath,
    httpBindAddress: '127.0.0.1:0',
    leaderElection: { namespace: ns, name: 'elasti-operator-lock', identity: 'r', leaseDurationMs: 1_500 },
    config: { watchNamespace: ns },
  });
  t.after(() => operator.stop());
  const port = operator.httpPort ?? assert.fail('no port');
  const readyz = await waitFor(
    async () => {
      const res = await request(`http://127.0.0.1:${port}/readyz`);
      const text = await res.body.text();
      return res.statusCode === 503 ? text : undefined;
    },
    { message: '/readyz 503' },
  );
  assert.match(
    readyz,
    new RegExp(`^leader-election: cannot take the lease ${ns}/elasti-operator-lock: `, 'm'),
  );
  assert.match(readyz, /403 Forbidden.*leases\.coordination\.k8s\.io "elasti-operator-lock" is forbidden/);
  assert.equal((await request(`http://127.0.0.1:${port}/healthz`)).statusCode, 200, 'alive all the same');
});

test('endpoints: an IPv6 bind address serves, 0 serves nothing', async (t) => {
  const cluster = await testCluster();
  const ns = await testNamespace(t, 'op-v6');
  const v6 = await runOperator({
    kubeconfig: cluster.kubeconfigPath,
    httpBindAddress: '[::1]:0',
    leaderElection: { namespace: ns, name: 'lock', identity: 'v6', leaseDurationMs: 3_000 },
    config: { watchNamespace: ns },
  });
  t.after(() => v6.stop());
  const port = v6.httpPort ?? assert.fail('no port');
  const res = await request(`http://[::1]:${port}/healthz`);
  assert.equal(res.statusCode, 200);
  await res.body.text();

  const off = await runOperator({
    kubeconfig: cluster.kubeconfigPath,
    httpBindAddress: '0',
    leaderElection: { namespace: ns, name: 'lock', identity: 'off', leaseDurationMs: 3_000 },
    config: { watchNamespace: ns },
  });
  t.after(() => off.stop());
  assert.equal(off.httpPort, undefined, 'no endpoint server');
});

test('leading without access to ElastiServices: done resolves failed with the cause (the process exits 1)', async (t) => {
  const defer = deferrer(t);
  const cluster = await testCluster();
  const ns = await testNamespace(t, 'op-lead-403');
  const admin = await KubeClient.create(cluster.kubeconfigPath);
  defer(() => admin.close());
  // A user allowed the Lease and nothing else.
  const user = `lease-only-${ns}`;
  await admin.create(resources.roles.gvr, ns, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'lease' },
    rules: [
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    ],
  });
  await admin.create(resources.roleBindings.gvr, ns, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'lease' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'lease' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
  });
  const kubeconfig = kubeconfigFor(defer, cluster.apiserverUrl, cluster.caPem, cluster.token, user);
  const operator = await runOperator({
    kubeconfig,
    leaderElection: { namespace: ns, name: 'lock', identity: 'x', leaseDurationMs: 3_000 },
    config: { watchNamespace: ns, cacheSyncTimeoutMs: 2_000 },
  });
  defer(() => operator.stop());
  assert.equal(await operator.done, 'failed');
  const failure = operator.failure();
  assert.ok(failure instanceof ControllerStartError, String(failure));
  assert.match(failure.message, /403 Forbidden: elastiservices\.elasti\.truefoundry\.com is forbidden/);
  const lease = await admin.get<Lease>(LEASE_GVR, ns, 'lock');
  assert.equal(lease.spec?.holderIdentity ?? '', '', 'the lease was released for another replica');
});
