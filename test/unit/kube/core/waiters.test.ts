import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Waiters } from '../../../../src/kube/core/waiters.ts';

describe('Waiters', () => {
  it('resolves every waiter at once and forgets them', async () => {
    const waiters = new Waiters();
    const a = waiters.wait();
    const b = waiters.wait();
    assert.equal(waiters.size, 2);
    waiters.resolveAll();
    await Promise.all([a, b]);
    assert.equal(waiters.size, 0);
  });

  it('rejects every waiter with the given error', async () => {
    const waiters = new Waiters();
    const a = waiters.wait();
    waiters.rejectAll(new Error('stopped'));
    await assert.rejects(a, /stopped/);
    assert.equal(waiters.size, 0);
  });

  it('an aborted wait rejects with the reason, stops counting, and is not settled again', async () => {
    const waiters = new Waiters();
    const abort = new AbortController();
    const a = waiters.wait(abort.signal);
    const b = waiters.wait();
    abort.abort(new Error('gave up'));
    await assert.rejects(a, /gave up/);
    assert.equal(waiters.size, 1);
    waiters.resolveAll();
    await b;
  });

  it('an already aborted signal rejects at once without waiting', async () => {
    const waiters = new Waiters();
    await assert.rejects(waiters.wait(AbortSignal.abort(new Error('late'))), /late/);
    assert.equal(waiters.size, 0);
  });
});
