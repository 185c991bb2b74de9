import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  defaultControllerRateLimiter,
  ExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  type RateLimiter,
  RateLimitingQueue,
  TokenBucketRateLimiter,
} from '../../../src/runtime/workqueue.ts';
import { FakeClock } from './fake-clock.ts';

/** A limiter that always answers `delay` and counts calls. */
function fixedLimiter(delay: number): RateLimiter<string> & { calls: number; forgotten: string[] } {
  return {
    calls: 0,
    forgotten: [],
    when() {
      this.calls++;
      return delay;
    },
    forget(item) {
      this.forgotten.push(item);
    },
    numRequeues() {
      return this.calls;
    },
  };
}

/** Resolves to 'pending' if the promise has not settled after the microtask queue drained. */
async function state<T>(promise: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);
}

describe('ExponentialFailureRateLimiter', () => {
  it('doubles from 5 ms per failure of the same key, independently per key', () => {
    const limiter = new ExponentialFailureRateLimiter<string>();
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => limiter.when('a')),
      [5, 10, 20, 40, 80],
    );
    assert.equal(limiter.when('b'), 5);
    assert.equal(limiter.numRequeues('a'), 5);
    assert.equal(limiter.numRequeues('b'), 1);
  });

  it('caps at 1000 s and never overflows', () => {
    const limiter = new ExponentialFailureRateLimiter<string>();
    let last = 0;
    for (let i = 0; i < 2000; i++) last = limiter.when('k');
    assert.equal(last, 1_000_000);
    // 5 * 2^17 = 655 360 < cap < 5 * 2^18: the 19th delay is the first capped one.
    const fresh = new ExponentialFailureRateLimiter<string>();
    const delays = Array.from({ length: 19 }, () => fresh.when('k'));
    assert.equal(delays[17], 655_360);
    assert.equal(delays[18], 1_000_000);
  });

  it('forget resets the backoff of that key only', () => {
    const limiter = new ExponentialFailureRateLimiter<string>();
    limiter.when('a');
    limiter.when('a');
    limiter.when('b');
    limiter.forget('a');
    assert.equal(limiter.numRequeues('a'), 0);
    assert.equal(limiter.when('a'), 5);
    assert.equal(limiter.when('b'), 10);
  });

  it('rejects nonsensical settings', () => {
    assert.throws(() => new ExponentialFailureRateLimiter({ baseDelayMs: 0 }), RangeError);
    assert.throws(() => new ExponentialFailureRateLimiter({ baseDelayMs: 10, maxDelayMs: 5 }), RangeError);
    assert.throws(
      () => new ExponentialFailureRateLimiter({ maxDelayMs: Number.POSITIVE_INFINITY }),
      RangeError,
    );
  });
});

describe('TokenBucketRateLimiter', () => {
  it('lets a burst of 100 through, then spaces retries at 10 per second', () => {
    const clock = new FakeClock();
    const limiter = new TokenBucketRateLimiter<string>({ now: () => clock.now() });
    for (let i = 0; i < 100; i++) assert.equal(limiter.when(`k${i}`), 0, `burst item ${i}`);
    assert.equal(limiter.when('x'), 100);
    assert.equal(limiter.when('y'), 200);
    assert.equal(limiter.when('z'), 300);
  });

  it('refills with time, up to the burst size', () => {
    const clock = new FakeClock();
    const limiter = new TokenBucketRateLimiter<string>({ qps: 10, burst: 2, now: () => clock.now() });
    assert.equal(limiter.when('a'), 0);
    assert.equal(limiter.when('a'), 0);
    assert.equal(limiter.when('a'), 100);
    clock.advance(10_000); // far more than needed: the bucket holds at most 2
    assert.equal(limiter.when('a'), 0);
    assert.equal(limiter.when('a'), 0);
    assert.equal(limiter.when('a'), 100);
  });

  it('rejects nonsensical settings', () => {
    assert.throws(() => new TokenBucketRateLimiter({ qps: 0 }), RangeError);
    assert.throws(() => new TokenBucketRateLimiter({ burst: 0 }), RangeError);
    assert.throws(() => new TokenBucketRateLimiter({ burst: 1.5 }), RangeError);
  });
});

describe('MaxOfRateLimiter / defaultControllerRateLimiter', () => {
  it('answers the longest delay and records the attempt in every limiter', () => {
    const short = fixedLimiter(3);
    const long = fixedLimiter(7);
    const limiter = new MaxOfRateLimiter(short, long);
    assert.equal(limiter.when('a'), 7);
    assert.equal(short.calls, 1);
    assert.equal(long.calls, 1);
    limiter.forget('a');
    assert.deepEqual(short.forgotten, ['a']);
    assert.deepEqual(long.forgotten, ['a']);
    assert.equal(limiter.numRequeues('a'), 1);
    assert.throws(() => new MaxOfRateLimiter(), RangeError);
  });

  it('default: per-key backoff while the bucket has tokens, bucket delay once it is empty', () => {
    const clock = new FakeClock();
    const limiter = defaultControllerRateLimiter<string>({ now: () => clock.now() });
    assert.equal(limiter.when('a'), 5);
    assert.equal(limiter.when('a'), 10);
    // 98 more distinct keys empty the bucket (100 tokens in all).
    for (let i = 0; i < 98; i++) assert.equal(limiter.when(`k${i}`), 5);
    // Now the bucket dominates a fresh key's 5 ms backoff.
    assert.equal(limiter.when('fresh'), 100);
    limiter.forget('a');
    assert.equal(limiter.numRequeues('a'), 0);
  });
});

describe('RateLimitingQueue', () => {
  it('hands out keys in FIFO order and dedupes a key queued twice', async () => {
    const queue = new RateLimitingQueue<string>({ clock: new FakeClock() });
    queue.add('a');
    queue.add('b');
    queue.add('a');
    assert.equal(queue.length, 2);
    assert.equal(await queue.get(), 'a');
    assert.equal(await queue.get(), 'b');
    assert.equal(queue.length, 0);
    assert.equal(queue.processingCount, 2);
  });

  it('never hands a key to two workers: re-added while processing, it comes back after done', async () => {
    const queue = new RateLimitingQueue<string>({ clock: new FakeClock() });
    queue.add('a');
    assert.equal(await queue.get(), 'a');
    queue.add('a');
    queue.add('a');
    assert.equal(queue.length, 0, 'not queued while in flight');
    const second = queue.get();
    assert.equal(await state(second), 'pending');
    queue.done('a');
    assert.equal(await second, 'a');
    queue.done('a');
    assert.equal(queue.processingCount, 0);
    assert.equal(await state(queue.get()), 'pending', 'processed once more, not twice');
  });

  it('done without a re-add does not requeue; done for an unknown key is ignored', async () => {
    const queue = new RateLimitingQueue<string>({ clock: new FakeClock() });
    queue.add('a');
    await queue.get();
    queue.done('a');
    queue.done('zzz');
    assert.equal(queue.length, 0);
    assert.equal(queue.processingCount, 0);
  });

  it('wakes waiting getters in order as keys arrive', async () => {
    const queue = new RateLimitingQueue<string>({ clock: new FakeClock() });
    const first = queue.get();
    const second = queue.get();
    queue.add('x');
    assert.equal(await first, 'x');
    assert.equal(await state(second), 'pending');
    queue.add('y');
    assert.equal(await second, 'y');
  });

  it('addAfter queues when the delay has passed, and the earlier of two due times wins', async () => {
    const clock = new FakeClock();
    const queue = new RateLimitingQueue<string>({ clock });
    queue.addAfter('a', 1000);
    queue.addAfter('a', 300);
    queue.addAfter('a', 5000);
    assert.equal(queue.waitingCount, 1);
    assert.equal(clock.pending, 1, 'the replaced timer was cancelled');
    clock.advance(299);
    assert.equal(queue.length, 0);
    clock.advance(1);
    assert.equal(queue.length, 1);
    assert.equal(queue.waitingCount, 0);
    assert.equal(await queue.get(), 'a');
    clock.advance(10_000);
    assert.equal(queue.length, 0, 'the later requests did not fire separately');
  });

  it('addAfter with a non-positive delay is an immediate add', () => {
    const clock = new FakeClock();
    const queue = new RateLimitingQueue<string>({ clock });
    queue.addAfter('a', 0);
    queue.addAfter('b', -5);
    assert.equal(queue.length, 2);
    assert.equal(clock.pending, 0);
  });

  it('a delayed key that is already queued is not duplicated when its timer fires', async () => {
    const clock = new FakeClock();
    const queue = new RateLimitingQueue<string>({ clock });
    queue.addAfter('a', 50);
    queue.add('a');
    clock.advance(50);
    assert.equal(queue.length, 1);
    assert.equal(await queue.get(), 'a');
  });

  it('addRateLimited backs off exponentially per key and forget resets it', () => {
    const clock = new FakeClock();
    const queue = new RateLimitingQueue<string>({ clock });
    assert.equal(queue.addRateLimited('a'), 5);
    clock.advance(5);
    assert.equal(queue.length, 1);
    assert.equal(queue.addRateLimited('a'), 10);
    assert.equal(queue.addRateLimited('a'), 20);
    assert.equal(queue.numRequeues('a'), 3);
    queue.forget('a');
    assert.equal(queue.numRequeues('a'), 0);
    assert.equal(queue.addRateLimited('a'), 5);
  });

  it('addRateLimited uses the injected limiter', () => {
    const clock = new FakeClock();
    const limiter = fixedLimiter(42);
    const queue = new RateLimitingQueue<string>({ clock, rateLimiter: limiter });
    assert.equal(queue.addRateLimited('a'), 42);
    clock.advance(41);
    assert.equal(queue.length, 0);
    clock.advance(1);
    assert.equal(queue.length, 1);
    queue.forget('a');
    assert.deepEqual(limiter.forgotten, ['a']);
  });

  it('shutDown: refuses new keys, cancels delays, still hands out queued keys, then undefined', async () => {
    const clock = new FakeClock();
    const queue = new RateLimitingQueue<string>({ clock });
    queue.add('a');
    queue.addAfter('later', 100);
    queue.shutDown();
    assert.equal(queue.shuttingDown, true);
    assert.equal(clock.pending, 0, 'delay timers cancelled');
    queue.add('b');
    queue.addAfter('c', 10);
    queue.addRateLimited('d');
    assert.equal(queue.length, 1);
    assert.equal(await queue.get(), 'a');
    assert.equal(await queue.get(), undefined);
    queue.shutDown(); // idempotent
  });

  it('shutDown releases getters that were waiting on an empty queue', async () => {
    const queue = new RateLimitingQueue<string>({ clock: new FakeClock() });
    const waiting = [queue.get(), queue.get()];
    queue.shutDown();
    assert.deepEqual(await Promise.all(waiting), [undefined, undefined]);
  });

  it('shutDownWithDrain waits for in-flight and queued keys, including a re-add made before shutdown', async () => {
    const queue = new RateLimitingQueue<string>({ clock: new FakeClock() });
    queue.add('a');
    queue.add('b');
    assert.equal(await queue.get(), 'a');
    queue.add('a'); // dirty while processing
    const drained = queue.shutDownWithDrain();
    assert.equal(await state(drained), 'pending');
    assert.equal(await queue.get(), 'b');
    queue.done('b');
    assert.equal(await state(drained), 'pending', 'a is still in flight');
    queue.done('a');
    assert.equal(await state(drained), 'pending', 'a was re-added before shutdown: it runs again');
    assert.equal(await queue.get(), 'a');
    queue.done('a');
    assert.equal(await drained, undefined);
    assert.equal(await queue.get(), undefined);
  });

  it('shutDownWithDrain on an idle queue resolves at once', async () => {
    const queue = new RateLimitingQueue<string>({ clock: new FakeClock() });
    assert.equal(await queue.shutDownWithDrain(), undefined);
  });

  it('keeps FIFO order across many adds (compaction of the consumed prefix)', async () => {
    const queue = new RateLimitingQueue<number>({ clock: new FakeClock() });
    const got: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 100; i++) queue.add(round * 100 + i);
      for (let i = 0; i < 70; i++) got.push((await queue.get()) as number);
    }
    while (queue.length > 0) got.push((await queue.get()) as number);
    assert.deepEqual(
      got,
      Array.from({ length: 500 }, (_, i) => i),
    );
  });
});
