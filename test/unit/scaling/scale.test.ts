import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type TargetRef, TargetScaler } from '../../../src/scaling/scale.ts';
import { DEPLOYMENTS, FakeScaleApi } from './fakes.ts';

const WEB: TargetRef = { gvr: DEPLOYMENTS, kind: 'Deployment', namespace: 'shop', name: 'web' };

describe('TargetScaler', () => {
  it('scales up from 0, and skips a target already at or above the wanted count (never lowers it)', async () => {
    const api = new FakeScaleApi();
    const scaler = new TargetScaler(api);
    api.set('shop', 'web', 0);
    assert.deepEqual(await scaler.scale(WEB, { direction: 'up', replicas: 2 }), {
      action: 'scaled',
      from: 0,
      to: 2,
    });
    assert.equal(api.replicas.get('shop/web'), 2);
    api.set('shop', 'web', 5);
    const skipped = await scaler.scale(WEB, { direction: 'up', replicas: 2 });
    assert.equal(skipped.action, 'skipped');
    assert.equal(api.replicas.get('shop/web'), 5, 'an up target is never scaled down by a scale-up');
    assert.deepEqual(api.puts, ['PUT shop/web 2']);
  });

  it('scales down to 0, skipping a target already there', async () => {
    const api = new FakeScaleApi();
    const scaler = new TargetScaler(api);
    api.set('shop', 'web', 3);
    assert.deepEqual(await scaler.scale(WEB, { direction: 'down', replicas: 0 }), {
      action: 'scaled',
      from: 3,
      to: 0,
    });
    assert.equal((await scaler.scale(WEB, { direction: 'down', replicas: 0 })).action, 'skipped');
    assert.deepEqual(api.puts, ['PUT shop/web 0']);
  });

  it('100 simultaneous identical scale-ups are one GET and one PUT', async () => {
    const api = new FakeScaleApi();
    api.delayMs = 5;
    const writes: number[] = [];
    const scaler = new TargetScaler(api, { onWrite: (_t, _f, to) => writes.push(to) });
    api.set('shop', 'web', 0);
    const results = await Promise.all(
      Array.from({ length: 100 }, () => scaler.scale(WEB, { direction: 'up', replicas: 1 })),
    );
    assert.ok(results.every((r) => r.action === 'scaled'));
    assert.deepEqual(api.calls, ['GET shop/web', 'PUT shop/web 1']);
    assert.deepEqual(writes, [1]);
    assert.equal(scaler.pending, 0);
  });

  it('operations on one target never overlap; a scale-up queued behind a scale-down runs after it', async () => {
    const api = new FakeScaleApi();
    api.delayMs = 10;
    const scaler = new TargetScaler(api);
    api.set('shop', 'web', 2);
    const down = scaler.scale(WEB, { direction: 'down', replicas: 0 });
    const up = scaler.scale(WEB, { direction: 'up', replicas: 1 });
    assert.deepEqual(await down, { action: 'scaled', from: 2, to: 0 });
    assert.deepEqual(await up, { action: 'scaled', from: 0, to: 1 });
    assert.deepEqual(api.calls, ['GET shop/web', 'PUT shop/web 0', 'GET shop/web', 'PUT shop/web 1']);
  });

  it('other targets do not wait for each other', async () => {
    const api = new FakeScaleApi();
    api.delayMs = 20;
    const scaler = new TargetScaler(api);
    api.set('shop', 'a', 0);
    api.set('shop', 'b', 0);
    const started = performance.now();
    await Promise.all([
      scaler.scale({ ...WEB, name: 'a' }, { direction: 'up', replicas: 1 }),
      scaler.scale({ ...WEB, name: 'b' }, { direction: 'up', replicas: 1 }),
    ]);
    assert.deepEqual(api.calls.slice(0, 2).sort(), ['GET shop/a', 'GET shop/b'], 'both GETs before any PUT');
    assert.ok(performance.now() - started < 400);
  });

  it('a veto at write time cancels the write; beforeWrite runs only when a write is due', async () => {
    const api = new FakeScaleApi();
    const scaler = new TargetScaler(api);
    let hooks = 0;
    api.set('shop', 'web', 1);
    const vetoed = await scaler.scale(WEB, {
      direction: 'down',
      replicas: 0,
      veto: () => 'woken meanwhile',
      beforeWrite: async () => {
        hooks++;
      },
    });
    assert.deepEqual(vetoed, { action: 'skipped', reason: 'vetoed', current: 1, detail: 'woken meanwhile' });
    api.set('shop', 'web', 0);
    await scaler.scale(WEB, { direction: 'down', replicas: 0, beforeWrite: async () => void hooks++ });
    assert.equal(hooks, 0);
    assert.deepEqual(api.puts, []);
  });

  it('a failing beforeWrite (e.g. the KEDA pause) cancels the write', async () => {
    const api = new FakeScaleApi();
    const scaler = new TargetScaler(api);
    api.set('shop', 'web', 1);
    await assert.rejects(
      scaler.scale(WEB, {
        direction: 'down',
        replicas: 0,
        beforeWrite: async () => {
          throw new Error('scaledobject not found');
        },
      }),
      /scaledobject not found/,
    );
    assert.deepEqual(api.puts, []);
    assert.equal(api.replicas.get('shop/web'), 1);
  });

  it('conflicts are retried with a fresh read, a bounded number of times', async () => {
    const api = new FakeScaleApi();
    const scaler = new TargetScaler(api);
    api.set('shop', 'web', 0);
    api.conflicts = 2;
    assert.equal((await scaler.scale(WEB, { direction: 'up', replicas: 1 })).action, 'scaled');
    assert.equal(api.calls.filter((c) => c.startsWith('GET')).length, 3);
    api.set('shop', 'web', 0);
    api.conflicts = 10;
    await assert.rejects(scaler.scale(WEB, { direction: 'up', replicas: 1 }), { status: 409 });
  });

  it('a failed operation does not poison the next one', async () => {
    const api = new FakeScaleApi();
    const scaler = new TargetScaler(api);
    api.set('shop', 'web', 0);
    api.getError = new Error('apiserver down');
    await assert.rejects(scaler.scale(WEB, { direction: 'up', replicas: 1 }), /apiserver down/);
    assert.equal((await scaler.scale(WEB, { direction: 'up', replicas: 1 })).action, 'scaled');
  });

  it('rejects nonsense requests', () => {
    const scaler = new TargetScaler(new FakeScaleApi());
    assert.throws(() => scaler.scale(WEB, { direction: 'down', replicas: 1 }), RangeError);
    assert.throws(() => scaler.scale(WEB, { direction: 'up', replicas: 0 }), RangeError);
  });
});
