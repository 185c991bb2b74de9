import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../../../../src/kube/core/backoff.ts';

describe('Backoff', () => {
  it('doubles the ceiling per failure from 800 ms up to the 30 s cap (defaults)', () => {
    // random just below 1 shows the ceiling itself (minus the floor).
    const backoff = new Backoff({ random: () => 0.999999, now: () => 0 });
    const delays = Array.from({ length: 8 }, () => backoff.next(0));
    assert.deepEqual(delays, [799, 1599, 3199, 6399, 12799, 25599, 29999, 29999]);
    assert.equal(backoff.failures, 8);
  });

  it('draws full jitter: uniformly in [0, ceiling)', () => {
    const draws = [0, 0.25, 0.5];
    const backoff = new Backoff({ initialMs: 1000, random: () => draws.shift() ?? 0 });
    assert.equal(backoff.next(0), 0);
    assert.equal(backoff.next(0), 500);
    assert.equal(backoff.next(0), 2000);
  });

  it('treats a broken random source as 0 instead of producing NaN or overshooting', () => {
    const backoff = new Backoff({ random: () => Number.NaN });
    assert.equal(backoff.next(0), 0);
    const big = new Backoff({ random: () => 7 });
    assert.equal(big.next(0), 0);
  });

  it('resets the failure count after a continuous healthy period of resetAfterMs', () => {
    let now = 0;
    const backoff = new Backoff({
      initialMs: 100,
      resetAfterMs: 1000,
      random: () => 0.999999,
      now: () => now,
    });
    backoff.next();
    backoff.next();
    backoff.next();
    assert.equal(backoff.failures, 3);
    backoff.succeeded(); // healthy from t=0
    now = 999;
    assert.equal(backoff.failures, 3, 'not long enough yet');
    now = 1000;
    assert.equal(backoff.failures, 0, 'healthy long enough');
    assert.equal(backoff.next(), 99, 'next delay starts from the initial ceiling again');
  });

  it('does not reset when health keeps breaking down quickly', () => {
    let now = 0;
    const backoff = new Backoff({
      initialMs: 100,
      resetAfterMs: 1000,
      random: () => 0.999999,
      now: () => now,
    });
    for (let i = 0; i < 5; i++) {
      backoff.succeeded();
      now += 10; // fails 10 ms after each "success"
      backoff.next();
    }
    assert.equal(backoff.failures, 5);
    assert.equal(backoff.ceilingMs(), 3200);
  });

  it('succeeded() keeps the start of the healthy period', () => {
    let now = 0;
    const backoff = new Backoff({ resetAfterMs: 1000, now: () => now });
    backoff.next();
    backoff.succeeded();
    now = 600;
    backoff.succeeded(); // must not move the start to 600
    now = 1000;
    assert.equal(backoff.failures, 0);
  });

  it('reset() forgets failures immediately', () => {
    const backoff = new Backoff();
    backoff.next(0);
    backoff.next(0);
    backoff.reset();
    assert.equal(backoff.failures, 0);
  });

  it('rejects nonsensical options', () => {
    assert.throws(() => new Backoff({ initialMs: 0 }), RangeError);
    assert.throws(() => new Backoff({ factor: -1 }), RangeError);
    assert.throws(() => new Backoff({ capMs: Number.NaN }), RangeError);
    assert.doesNotThrow(() => new Backoff({ resetAfterMs: 0 }));
  });
});
