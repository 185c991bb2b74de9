/** `insecure-skip-tls-verify: true` works against the real apiserver, and is warned about once at start. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeClient } from '../../../src/kube/client/client.ts';
import { resources } from '../../../src/kube/core/resources.ts';
import { deferrer, kubeconfigFor, testCluster } from '../../support/cluster.ts';
import { captureLogs, LEVELS } from '../../support/log-capture.ts';

test('insecure-skip-tls-verify: one warning when the connection is made, none per request', async (t) => {
  const defer = deferrer(t);
  const cluster = await testCluster();
  const kubeconfig = kubeconfigFor(defer, cluster.apiserverUrl, '', cluster.token, undefined, {
    insecureSkipTlsVerify: true,
  });
  const logs = captureLogs();
  const client = await KubeClient.create(kubeconfig, { logger: logs.logger });
  defer(() => client.close());
  await client.list({ gvr: resources.namespaces.gvr });
  await client.list({ gvr: resources.namespaces.gvr });
  const warnings = logs.lines().filter((l) => l.level === LEVELS.warn);
  assert.equal(warnings.length, 1, warnings.map((w) => w.raw).join('\n'));
  assert.match(warnings[0]?.msg ?? '', /insecure-skip-tls-verify is set/);
  assert.equal(warnings[0]?.fields.server, cluster.apiserverUrl);

  // A verified connection warns about nothing.
  const quiet = captureLogs();
  const verified = await KubeClient.create(cluster.kubeconfigPath, { logger: quiet.logger });
  defer(() => verified.close());
  await verified.list({ gvr: resources.namespaces.gvr });
  assert.equal(quiet.lines().filter((l) => l.level >= LEVELS.warn).length, 0);
});
