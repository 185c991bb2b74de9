import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import {
  ControllerBuildError,
  ControllerBuilder,
  ControllerStartError,
  controllerReference,
  controllerReferenceTo,
  ExponentialFailureRateLimiter,
  InformerCache,
  labelsChanged,
  type ReconcileRequest,
  TerminalError,
} from '../../../src/runtime/index.ts';
import { waitFor } from '../../support/wait.ts';
import { FakeApi, gvr } from '../kube/watch/reflector-fake.ts';

const configMaps = { gvr, kind: 'ConfigMap' };
const fastRetries = {
  rateLimiter: new ExponentialFailureRateLimiter<string>({ baseDelayMs: 1, maxDelayMs: 5 }),
};

function setup(objects = ['a']) {
  const api = new FakeApi();
  for (const name of objects) api.put(name);
  const cache = new InformerCache({ lw: api });
  return { api, cache };
}

describe('runtime Controller', () => {
  it('reconciles every cached object at start, with the latest cached object in ctx', async () => {
    const { api, cache } = setup(['a', 'b']);
    const seen: string[] = [];
    const controller = new ControllerBuilder('t', { cache }).for(configMaps).build(async (req, ctx) => {
      seen.push(`${req.namespace}/${req.name}:${ctx.object?.metadata?.resourceVersion ?? 'gone'}`);
    });
    await controller.start();
    await waitFor(() => seen.length === 2, { message: 'two reconciles' });
    assert.deepEqual(seen.sort(), ['ns/a:101', 'ns/b:102']);
    api.remove('a');
    await waitFor(() => seen.includes('ns/a:gone'), { message: 'a reconcile of the deleted object' });
    await controller.stop();
  });

  it('retries errors with backoff, never retries a TerminalError, honours requeueAfterMs', async () => {
    const { api, cache } = setup(['flaky', 'broken', 'periodic']);
    const calls = new Map<string, number>();
    const controller = new ControllerBuilder('t', { cache })
      .for(configMaps)
      .withOptions(fastRetries)
      .build(async (req, ctx) => {
        const n = (calls.get(req.name) ?? 0) + 1;
        calls.set(req.name, n);
        if (req.name === 'flaky' && n < 3) {
          assert.equal(ctx.retries, n - 1);
          throw new Error('try again');
        }
        if (req.name === 'broken') throw new TerminalError('bad spec');
        if (req.name === 'periodic' && n < 3) return { requeueAfterMs: 20 };
        return undefined;
      });
    await controller.start();
    await waitFor(() => calls.get('flaky') === 3 && calls.get('periodic') === 3, { message: 'retries' });
    // Give a wrongly retried terminal error time to show.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(calls.get('broken'), 1);
    assert.equal(calls.get('flaky'), 3, 'no retry after success');
    api.put('broken', { fixed: 'yes' });
    await waitFor(() => calls.get('broken') === 2, {
      message: 'the next event reconciles a terminal failure',
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(calls.get('broken'), 2, 'one update event, one reconcile');
    await controller.stop();
  });

  it('runs at most maxConcurrentReconciles at once, and one reconcile per key at a time', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `cm-${i}`);
    const { cache } = setup(names);
    let active = 0;
    let peak = 0;
    const perKey = new Set<string>();
    let overlapPerKey = false;
    let done = 0;
    const controller = new ControllerBuilder('t', { cache })
      .for(configMaps)
      .withOptions({ maxConcurrentReconciles: 3 })
      .build(async (req) => {
        if (perKey.has(req.name)) overlapPerKey = true;
        perKey.add(req.name);
        active++;
        peak = Math.max(peak, active);
        await new Promise((resolve) => setTimeout(resolve, 20));
        active--;
        perKey.delete(req.name);
        done++;
      });
    await controller.start();
    for (const name of names) controller.enqueue({ namespace: 'ns', name });
    await waitFor(() => done >= names.length, { message: 'all reconciled' });
    assert.equal(peak, 3);
    assert.equal(overlapPerKey, false);
    await controller.stop();
  });

  it('applies predicates: an update that does not change labels enqueues nothing', async () => {
    const { api, cache } = setup(['a']);
    const reconciled: string[] = [];
    const controller = new ControllerBuilder('t', { cache })
      .for(configMaps, { predicates: [labelsChanged] })
      .build(async (req) => {
        reconciled.push(req.name);
      });
    await controller.start();
    await waitFor(() => reconciled.length === 1, { message: 'initial add' });
    api.put('a', { changed: 'data only' });
    api.put('b'); // an add passes labelsChanged
    await waitFor(() => reconciled.includes('b'), { message: 'the add of b' });
    assert.deepEqual(reconciled, ['a', 'b'], 'the data-only update of a was filtered');
    await controller.stop();
  });

  it('stop aborts the in-flight reconcile signal and releases the informers', async () => {
    const { api, cache } = setup(['a']);
    let aborted = false;
    const controller = new ControllerBuilder('t', { cache }).for(configMaps).build(
      (_req, ctx) =>
        new Promise<undefined>((resolve) => {
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            resolve(undefined);
          });
        }),
    );
    await controller.start();
    await waitFor(() => controller.activeWorkers === 1, { message: 'a reconcile running' });
    await controller.stop();
    assert.equal(aborted, true);
    assert.equal(cache.size, 0, 'its lease was the only one: the informer is gone');
    await waitFor(() => api.openWatches === 0, { message: 'no watch left' });
  });

  it('fails start with ControllerStartError when the cache does not sync in time', async () => {
    const { api, cache } = setup([]);
    api.injectFault('list', { hang: true });
    const controller = new ControllerBuilder('slow', { cache })
      .for(configMaps)
      .withOptions({ cacheSyncTimeoutMs: 100 })
      .build(async () => undefined);
    await assert.rejects(controller.start(), (e: unknown) => {
      assert.ok(e instanceof ControllerStartError);
      assert.match(e.message, /controller slow did not start: caches did not sync/);
      return true;
    });
    assert.equal(cache.size, 0);
  });

  it('refuses a wrong build with a typed error', () => {
    const cache = new InformerCache({ lw: new FakeApi() });
    assert.throws(
      () => new ControllerBuilder('t', { cache }).build(async () => undefined),
      ControllerBuildError,
    );
    assert.throws(
      () => new ControllerBuilder('t', { cache }).for(configMaps).withOptions({ maxConcurrentReconciles: 0 }),
      /maxConcurrentReconciles must be a positive integer/,
    );
    assert.throws(
      () => new ControllerBuilder('t', { cache }).for(configMaps).for(configMaps),
      /already called/,
    );
  });

  it('reports controller_runtime_* metrics', async () => {
    const { cache } = setup(['a']);
    const registry = new Registry();
    let n = 0;
    const controller = new ControllerBuilder('m', { cache, registry })
      .for(configMaps)
      .withOptions(fastRetries)
      .build(async () => {
        n++;
        if (n === 1) throw new Error('once');
      });
    await controller.start();
    await waitFor(() => n === 2, { message: 'retry' });
    const text = await registry.metrics();
    assert.match(text, /controller_runtime_reconcile_total\{controller="m",result="error"\} 1/);
    assert.match(text, /controller_runtime_reconcile_total\{controller="m",result="success"\} 1/);
    assert.match(text, /controller_runtime_reconcile_errors_total\{controller="m"\} 1/);
    await controller.stop();
  });
});

describe('owner references', () => {
  const widgets = { gvr: { group: 'example.com', version: 'v1', resource: 'widgets' }, kind: 'Widget' };
  const owner = { metadata: { name: 'w', namespace: 'ns', uid: 'u-1' } };

  it('finds the controller reference by group and kind, whatever the version', () => {
    const ref = controllerReference(owner, widgets);
    assert.deepEqual(ref, {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      name: 'w',
      uid: 'u-1',
      controller: true,
      blockOwnerDeletion: true,
    });
    const child = { metadata: { name: 'c', ownerReferences: [{ ...ref, apiVersion: 'example.com/v2' }] } };
    assert.equal(controllerReferenceTo(child, widgets)?.name, 'w');
    const notController = { metadata: { name: 'c', ownerReferences: [{ ...ref, controller: false }] } };
    assert.equal(controllerReferenceTo(notController, widgets), undefined);
    const otherGroup = { metadata: { name: 'c', ownerReferences: [{ ...ref, apiVersion: 'other.io/v1' }] } };
    assert.equal(controllerReferenceTo(otherGroup, widgets), undefined);
    assert.throws(() => controllerReference({ metadata: { name: 'x' } }, widgets), /has no name or uid/);
  });

  it('owns() maps an owned object to its controller owner; unowned objects enqueue nothing', async () => {
    const api = new FakeApi();
    // Labelled so that for()'s selector (a key of its own, apart from owns()) selects both.
    const labels = { never: 'matches' };
    api.put(
      'child',
      {},
      {
        labels,
        ownerReferences: [controllerReference({ metadata: { name: 'parent', uid: 'p' } }, configMaps)],
      },
    );
    api.put('orphan', {}, { labels });
    const cache = new InformerCache({ lw: api });
    const requests: ReconcileRequest[] = [];
    // for() and owns() on the same kind here: owns' events must map to the owner, not the object.
    const controller = new ControllerBuilder('o', { cache })
      .for(configMaps, { labelSelector: 'never=matches' })
      .owns({ gvr })
      .build(async (req) => {
        requests.push(req);
      });
    await controller.start();
    // for() sees child and orphan; "parent" is no object of the fake at all: only owns()
    // mapping child's controller reference can have produced it.
    await waitFor(() => requests.length >= 3, { message: 'the owner reconciled' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(requests.map((r) => `${r.namespace}/${r.name}`).sort(), [
      'ns/child',
      'ns/orphan',
      'ns/parent',
    ]);
    await controller.stop();
  });
});
