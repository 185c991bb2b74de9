/**
 * Errors a user of the informer can see: `waitForSync` rejects with the cause the reflector
 * knows, and the lifecycle hooks report errors, phases and the first sync. Over the in-memory
 * FakeApi (our ListerWatcher interface); the same against the real apiserver is in
 * test/integration/kube/informer-errors.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InformerStoppedError, InformerSyncError, SharedInformer } from '../../../../src/kube/cache/index.ts';
import { KubeApiError, KubeTransportError } from '../../../../src/kube/core/errors.ts';
import type { ReflectorPhase } from '../../../../src/kube/core/types.ts';
import { refTimeout, waitFor } from '../../../support/wait.ts';
import { FakeApi, target } from '../watch/reflector-fake.ts';

function forbidden(): KubeApiError {
  return new KubeApiError({
    status: 403,
    verb: 'list',
    url: 'https://apiserver/api/v1/namespaces/ns/configmaps',
    body: {
      kind: 'Status',
      code: 403,
      reason: 'Forbidden',
      message: 'configmaps is forbidden: User "restricted" cannot list resource "configmaps"',
    },
    gvr: target.gvr,
    namespace: target.namespace,
  });
}

/** An informer whose lists fail with `error` until `grant()` is called. */
function failingInformer(error: () => Error) {
  const api = new FakeApi();
  let granted = false;
  api.beforeList = () => {
    if (!granted) throw error();
  };
  const informer = new SharedInformer({
    lw: api,
    target,
    reflector: { backoff: { initialMs: 5, capMs: 20 } },
  });
  return { api, informer, grant: () => (granted = true) };
}

describe('waitForSync names the cause', () => {
  test('a timeout rejects with InformerSyncError carrying the 403: status, server message, GVR', async (t) => {
    const { informer } = failingInformer(forbidden);
    t.after(() => informer.stop());
    informer.start();
    await waitFor(() => informer.status().consecutiveFailures >= 1, { message: 'a failed list' });
    const error = await informer.waitForSync(refTimeout(50)).then(
      () => assert.fail('synced unexpectedly'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof InformerSyncError, `got ${String(error)}`);
    assert.equal(error.status, 403);
    assert.equal(error.timedOut, true);
    assert.ok(error.failures >= 1);
    assert.ok(error.cause instanceof KubeApiError, 'the reflector error is the cause');
    assert.match(error.message, /^informer configmaps\.v1@ns did not sync: timed out; last error/);
    assert.match(error.message, /403 Forbidden: configmaps is forbidden: User "restricted" cannot list/);
  });

  test('a transport failure is named by its code', async (t) => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const { informer } = failingInformer(
      () => new KubeTransportError('list', 'https://127.0.0.1:1/api', refused),
    );
    t.after(() => informer.stop());
    informer.start();
    await waitFor(() => informer.status().consecutiveFailures >= 1, { message: 'a failed list' });
    const error = await informer.waitForSync(refTimeout(20)).catch((e: unknown) => e);
    assert.ok(error instanceof InformerSyncError);
    assert.equal(error.status, undefined);
    assert.match(error.message, /ECONNREFUSED/);
  });

  test("the caller's own abort says aborted, with its reason, and the last error", async (t) => {
    const { informer } = failingInformer(forbidden);
    t.after(() => informer.stop());
    informer.start();
    await waitFor(() => informer.status().consecutiveFailures >= 1, { message: 'a failed list' });
    const controller = new AbortController();
    const waiting = informer.waitForSync(controller.signal);
    controller.abort(new Error('shutting down'));
    const error = await waiting.catch((e: unknown) => e);
    assert.ok(error instanceof InformerSyncError);
    assert.equal(error.timedOut, false);
    assert.match(error.message, /aborted \(shutting down\); last error .*403/);
  });

  test('without any failure the rejection says so, with the phase', async (t) => {
    const api = new FakeApi();
    api.injectFault('list', { hang: true });
    const informer = new SharedInformer({ lw: api, target });
    t.after(() => informer.stop());
    informer.start();
    const error = await informer.waitForSync(refTimeout(20)).catch((e: unknown) => e);
    assert.ok(error instanceof InformerSyncError);
    assert.equal(error.lastError, undefined);
    assert.match(error.message, /no list\/watch error so far \(phase Listing\)/);
  });

  test('stop before sync still rejects with InformerStoppedError; a synced informer resolves', async (t) => {
    const { informer, grant } = failingInformer(forbidden);
    t.after(() => informer.stop());
    informer.start();
    grant();
    await informer.waitForSync(refTimeout(10_000));
    await informer.waitForSync(refTimeout(1)); // already synced: no rejection
    const other = failingInformer(forbidden).informer;
    other.start();
    const pending = other.waitForSync();
    await other.stop();
    await assert.rejects(pending, InformerStoppedError);
  });
});

describe('lifecycle listener', () => {
  test('onError sees each failure with its status, onPhase the phases, onSynced the first sync', async (t) => {
    const { informer, grant } = failingInformer(forbidden);
    t.after(() => informer.stop());
    const errors: Array<{ status: number | undefined; informer: string; synced: boolean }> = [];
    const phases: ReflectorPhase[] = [];
    let synced = 0;
    informer.addLifecycleListener({
      onError: (_error, info) =>
        errors.push({ status: info.status, informer: info.informer, synced: info.synced }),
      onPhase: (status) => phases.push(status.phase),
      onSynced: () => synced++,
    });
    const throwing = informer.addLifecycleListener({
      onError: () => {
        throw new Error('a broken hook');
      },
    });
    informer.start();
    await waitFor(() => errors.length >= 2, { message: 'two failures reported' });
    throwing.remove();
    grant();
    await informer.waitForSync(refTimeout(10_000));
    await waitFor(() => phases.includes('Watching'), { message: 'the watching phase reported' });
    assert.deepEqual(errors[0], { status: 403, informer: 'configmaps.v1@ns', synced: false });
    assert.ok(phases.includes('Backoff'), `phases: ${phases.join(',')}`);
    assert.equal(synced, 1);
  });

  test('a removed listener hears nothing more', async (t) => {
    const { informer } = failingInformer(forbidden);
    t.after(() => informer.stop());
    let calls = 0;
    const registration = informer.addLifecycleListener({ onError: () => calls++ });
    registration.remove();
    registration.remove();
    informer.start();
    await waitFor(() => informer.status().consecutiveFailures >= 2, { message: 'failures' });
    assert.equal(calls, 0);
    assert.throws(() => informer.addLifecycleListener(null as never), TypeError);
  });
});
