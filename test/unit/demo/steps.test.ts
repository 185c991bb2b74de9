/** The demo's step runner: a failing step is named with its number and cause; waits have deadlines. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DemoStepError, DemoTimeoutError, step, until } from '../../../demo/_steps.ts';

describe('demo steps', () => {
  it('a failing step rejects with DemoStepError naming its number, title and cause', async () => {
    const written: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => {
      written.push(chunk);
      return true;
    }) as typeof process.stdout.write;
    try {
      await step('first', async () => 'fine');
      const failure = await step('second', async () => {
        throw new Error('boom');
      }).catch((error: unknown) => error);
      assert.ok(failure instanceof DemoStepError);
      assert.equal(failure.step, '2. second');
      assert.match(failure.message, /^step "2\. second" failed after \d+ ms: boom$/);
    } finally {
      process.stdout.write = write;
    }
    assert.equal(written.length, 1, 'only the passing step printed');
    assert.match(written[0] ?? '', /^1\. first: fine \(\d+ ms\)\n$/);
  });

  it('until returns the first defined value, and times out naming what it waited for and the last error', async () => {
    let calls = 0;
    assert.equal(await until('three calls', () => (++calls >= 3 ? calls : undefined), 5_000), 3);
    const timeout = await until(
      'the impossible',
      () => {
        throw new Error('not there');
      },
      120,
    ).catch((error: unknown) => error);
    assert.ok(timeout instanceof DemoTimeoutError);
    assert.match(
      timeout.message,
      /timed out after 120 ms waiting for the impossible \(last error: not there\)/,
    );
  });
});
