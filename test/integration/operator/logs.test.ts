/**
 * Log hygiene, read from a real pino logger's output while the operator runs on the real
 * apiserver: one `component` key per line, one warning per failed reconcile (its stack only at
 * debug), and expected conditions — an Event refused because its namespace is being deleted —
 * below warn.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeClient } from '../../../src/kube/client/client.ts';
import { isNamespaceTerminating } from '../../../src/kube/core/errors.ts';
import { resources } from '../../../src/kube/core/resources.ts';
import type { KubeObject } from '../../../src/kube/core/types.ts';
import { runOperator } from '../../../src/operator/operator.ts';
import { KubeEventRecorder } from '../../../src/runtime/events.ts';
import { rawApi, testCluster, testNamespace } from '../../support/cluster.ts';
import { captureLogs, keyCount, LEVELS } from '../../support/log-capture.ts';
import { waitFor } from '../../support/wait.ts';
import { createElastiService, createService, setUp } from '../controller/support.ts';

test('a failing reconcile: one warn line per attempt without a stack, one component key per line', async (t) => {
  const env = await setUp(t);
  const logs = captureLogs('debug');
  const operator = await runOperator({
    kubeconfig: (await testCluster()).kubeconfigPath,
    httpBindAddress: '127.0.0.1:0',
    leaderElection: { namespace: env.ns, name: 'lock', identity: 'logs', leaseDurationMs: 3_000 },
    config: { watchNamespace: env.ns, resolver: { namespace: env.resolverNs } },
    logger: logs.logger,
  });
  env.teardown.push(() => operator.stop());
  await waitFor(() => operator.controller()?.ready, { message: 'the controller runs' });
  await createService(env, 'web', 'web');
  // The scale target does not exist: every reconcile fails and is retried with backoff.
  await createElastiService(env, 'es', {
    service: 'web',
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'missing' },
  });
  const failures = (): number => logs.lines().filter((l) => l.msg === 'reconcile failure detail').length;
  await waitFor(() => failures() >= 3, { message: 'three failed reconciles', timeoutMs: 60_000 });
  await operator.stop();

  const lines = logs.lines();
  const repeated = lines.filter((l) => keyCount(l.raw, 'component') > 1);
  assert.deepEqual(
    repeated.map((l) => l.raw),
    [],
    'no line repeats the component key',
  );
  assert.ok(lines.some((l) => l.fields.component === 'elastiservice-reconciler'));
  assert.ok(lines.some((l) => l.fields.component === 'elastiservice-controller'));

  const details = lines.filter((l) => l.msg === 'reconcile failure detail');
  const warned = lines.filter((l) => l.level === LEVELS.warn && /reconcile failed/.test(l.msg ?? ''));
  assert.equal(warned.length, details.length, 'one warn line per failed reconcile');
  assert.ok(
    details.every((l) => l.level === LEVELS.debug && /"stack":/.test(l.raw)),
    'the stack is at debug',
  );
  const warnsWithStack = lines.filter((l) => l.level >= LEVELS.warn && /"stack":/.test(l.raw));
  assert.deepEqual(
    warnsWithStack.map((l) => l.raw.slice(0, 200)),
    [],
    'no warn or error line carries a stack',
  );
  assert.match(String(warned[0]?.fields.error), /missing/);
});

test('an Event refused because its namespace is being deleted is logged at debug, not warn', async (t) => {
  const cluster = await testCluster();
  const client = await KubeClient.create(cluster.kubeconfigPath);
  t.after(() => client.close());
  const ns = await testNamespace(t, 'term');
  const cm = await client.create<KubeObject>(resources.configMaps.gvr, ns, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'about' },
  });
  // No namespace controller runs here: a deleted namespace stays Terminating.
  const api = await rawApi(t);
  await api.ok('DELETE', `/api/v1/namespaces/${ns}`);
  const refused = await client
    .create(resources.configMaps.gvr, ns, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'new' } })
    .catch((e: unknown) => e);
  assert.ok(isNamespaceTerminating(refused), `the apiserver's answer: ${String(refused)}`);

  const logs = captureLogs('debug');
  const recorder = new KubeEventRecorder(client, { component: 'test', logger: logs.logger });
  recorder.record(cm, 'Warning', 'Something', 'happened');
  await recorder.flush();
  const lines = logs.lines();
  assert.equal(lines.filter((l) => l.level >= LEVELS.warn).length, 0, lines.map((l) => l.raw).join('\n'));
  assert.ok(lines.some((l) => l.level === LEVELS.debug && /namespace is being deleted/.test(l.msg ?? '')));
});
