/**
 * The reflector's pure transition function, case by case: every protocol rule is asserted on
 * plain values, without I/O or time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeApiError, KubeTransportError, WatchIdleTimeoutError } from '../../../../src/kube/core/errors.ts';
import {
  type Effect,
  initialState,
  type MachineConfig,
  type MachineInput,
  type MachineState,
  type Transition,
  transition,
} from '../../../../src/kube/watch/index.ts';

const paged: MachineConfig = {
  pageSize: 500,
  streamingList: false,
  shortWatchMs: 1000,
  immediateExpiredRetries: 1,
};
const streaming: MachineConfig = { ...paged, streamingList: true };

function err(status: number, reason?: string, retryAfterSeconds?: number): KubeApiError {
  return new KubeApiError({
    status,
    reason,
    verb: 'test',
    url: '/x',
    body: { kind: 'Status', code: status, reason },
    retryAfterSeconds,
  });
}

/** Folds inputs from the initial state; returns every step. */
function run(config: MachineConfig, inputs: MachineInput[], from?: MachineState): Transition[] {
  let state = from ?? initialState(config);
  const steps: Transition[] = [];
  for (const input of inputs) {
    const step = transition(config, state, input);
    steps.push(step);
    state = step.state;
  }
  return steps;
}

function last(steps: Transition[]): Transition {
  const step = steps.at(-1);
  assert.ok(step);
  return step;
}

function kinds(effects: readonly Effect[]): string[] {
  return effects.map((e) => e.kind);
}

const page = (rv: string, continueToken?: string, items = 2): MachineInput => ({
  type: 'listPage',
  resourceVersion: rv,
  continueToken,
  items,
});

/** A state that finished its first list at RV 10 and is watching. */
function watchingAt(rv = '10'): MachineState {
  return last(run(paged, [{ type: 'start' }, page(rv)])).state;
}

describe('reflector transition: listing', () => {
  it('starts with a paged quorum list (resourceVersion "" and limit), never RV=0', () => {
    const step = last(run(paged, [{ type: 'start' }]));
    assert.equal(step.state.phase, 'Listing');
    assert.deepEqual(step.next, { op: 'list', options: { limit: 500, resourceVersion: '' } });
    assert.deepEqual(kinds(step.effects), ['resetBuffer']);
    assert.equal(step.state.lists, 1);
    assert.equal(step.state.relists, 0);
  });

  it('follows continue tokens, buffering each page, then replaces and watches from the list RV', () => {
    const steps = run(paged, [{ type: 'start' }, page('7', 'tok-1'), page('7', 'tok-2'), page('7')]);
    assert.deepEqual(steps[1]?.next, { op: 'list', options: { limit: 500, continue: 'tok-1' } });
    assert.deepEqual(kinds(steps[1]?.effects ?? []), ['buffer']);
    assert.deepEqual(steps[2]?.next, { op: 'list', options: { limit: 500, continue: 'tok-2' } });
    const done = last(steps);
    assert.deepEqual(kinds(done.effects), ['buffer', 'replace']);
    assert.deepEqual(done.effects[1], { kind: 'replace', resourceVersion: '7', streaming: false });
    assert.equal(done.state.phase, 'Watching');
    assert.equal(done.state.synced, true);
    assert.equal(done.state.resourceVersion, '7');
    assert.deepEqual(done.next, {
      op: 'watch',
      streaming: false,
      options: { resourceVersion: '7', allowWatchBookmarks: true },
    });
  });

  it('restarts the list from scratch (quorum) when a continue token expires (410)', () => {
    const steps = run(paged, [
      { type: 'start' },
      page('7', 'tok-1'),
      { type: 'failed', error: err(410, 'Expired') },
    ]);
    const step = last(steps);
    assert.equal(step.state.phase, 'Listing');
    assert.deepEqual(step.next, { op: 'list', options: { limit: 500, resourceVersion: '' } });
    assert.deepEqual(kinds(step.effects), ['error', 'resetBuffer']);
    assert.deepEqual(step.effects[0], {
      kind: 'error',
      error: (step.effects[0] as { error: Error }).error,
      expected: true,
    });
    assert.equal(step.state.lists, 1, 'a restarted list is the same list attempt');
  });

  it('backs off instead of spinning when the restarted list expires again', () => {
    const step = last(
      run(paged, [
        { type: 'start' },
        page('7', 'tok-1'),
        { type: 'failed', error: err(410, 'Expired') },
        page('8', 'tok-2'),
        { type: 'failed', error: err(410, 'Expired') },
      ]),
    );
    assert.equal(step.state.phase, 'Backoff');
    assert.deepEqual(step.next, { op: 'backoff', minDelayMs: 0 });
    const resumed = transition(paged, step.state, { type: 'backoffElapsed' });
    assert.deepEqual(resumed.next, { op: 'list', options: { limit: 500, resourceVersion: '' } });
  });

  it('keeps the continue token across a backoff after a transient list error, and resumes from it', () => {
    const steps = run(paged, [
      { type: 'start' },
      page('7', 'tok-1'),
      { type: 'failed', error: err(503) },
      { type: 'backoffElapsed' },
    ]);
    assert.equal(steps[2]?.state.phase, 'Backoff');
    assert.deepEqual(steps[2]?.next, { op: 'backoff', minDelayMs: 0 });
    assert.deepEqual(last(steps).next, { op: 'list', options: { limit: 500, continue: 'tok-1' } });
    assert.deepEqual(kinds(last(steps).effects), [], 'the buffer with page 1 is kept');
  });

  it('honours Retry-After of a 429 as the minimum backoff', () => {
    const step = last(
      run(paged, [{ type: 'start' }, { type: 'failed', error: err(429, 'TooManyRequests', 7) }]),
    );
    assert.equal(step.state.phase, 'Backoff');
    assert.deepEqual(step.next, { op: 'backoff', minDelayMs: 7000 });
  });

  it('retries a 403 forever, keeping the error visible', () => {
    let state = last(run(paged, [{ type: 'start' }])).state;
    for (let i = 0; i < 20; i++) {
      const failed = transition(paged, state, { type: 'failed', error: err(403, 'Forbidden') });
      assert.equal(failed.state.phase, 'Backoff');
      assert.equal((failed.state.lastError as KubeApiError).status, 403);
      assert.equal(failed.next.op, 'backoff');
      const again = transition(paged, failed.state, { type: 'backoffElapsed' });
      assert.equal(again.state.phase, 'Listing');
      assert.equal(again.next.op, 'list');
      assert.equal((again.state.lastError as KubeApiError).status, 403, 'still visible while retrying');
      state = again.state;
    }
    assert.equal(state.lists, 1, 'retrying the same list is one list attempt');
    const ok = transition(paged, state, page('9'));
    assert.equal(ok.state.synced, true);
    assert.equal(ok.state.lastError, undefined, 'a completed list clears the error');
  });

  it('counts a relist as both a list and a relist', () => {
    const step = transition(paged, watchingAt('10'), { type: 'failed', error: err(410, 'Gone') });
    assert.equal(step.state.lists, 2);
    assert.equal(step.state.relists, 1);
    assert.equal(step.state.listing?.relist, true);
  });
});

describe('reflector transition: watching', () => {
  it('applies events and advances the RV (opaque strings, taken as given)', () => {
    const steps = run(
      paged,
      [
        { type: 'watchEvent', eventType: 'ADDED', resourceVersion: '11' },
        { type: 'watchEvent', eventType: 'MODIFIED', resourceVersion: '9' },
        { type: 'watchEvent', eventType: 'DELETED', resourceVersion: 'abc' },
      ],
      watchingAt('10'),
    );
    assert.deepEqual(
      steps.map((s) => s.effects),
      [
        [{ kind: 'apply', eventType: 'ADDED' }],
        [{ kind: 'apply', eventType: 'MODIFIED' }],
        [{ kind: 'apply', eventType: 'DELETED' }],
      ],
    );
    // Never compared numerically: the last one seen wins, even if it "looks" smaller.
    assert.equal(steps[1]?.state.resourceVersion, '9');
    assert.equal(last(steps).state.resourceVersion, 'abc');
    assert.ok(steps.every((s) => s.next.op === 'consume'));
  });

  it('consumes bookmarks: RV advances, the sink is not involved', () => {
    const step = transition(paged, watchingAt('10'), {
      type: 'bookmark',
      resourceVersion: '42',
      initialEventsEnd: false,
    });
    assert.deepEqual(step.effects, [{ kind: 'bookmark', resourceVersion: '42' }]);
    assert.equal(step.state.resourceVersion, '42');
    assert.deepEqual(step.next, { op: 'consume' });
  });

  it('ignores a bookmark without a resourceVersion', () => {
    const before = watchingAt('10');
    const step = transition(paged, before, {
      type: 'bookmark',
      resourceVersion: undefined,
      initialEventsEnd: false,
    });
    assert.equal(step.state, before);
    assert.deepEqual(step.effects, []);
  });

  it('rewatches immediately from the last RV when the server closes the stream normally', () => {
    const state = last(
      run(
        paged,
        [
          { type: 'bookmark', resourceVersion: '15', initialEventsEnd: false },
          { type: 'watchClosed', events: 3, elapsedMs: 300_000 },
        ],
        watchingAt('10'),
      ),
    );
    assert.deepEqual(state.effects, [{ kind: 'watchEnded', reason: 'closed' }]);
    assert.deepEqual(state.next, {
      op: 'watch',
      streaming: false,
      options: { resourceVersion: '15', allowWatchBookmarks: true },
    });
    assert.equal(state.state.watchRestarts, 1);
    assert.equal(state.state.lists, 1, 'no relist');
  });

  it('treats an immediate empty close as a failure so a broken server cannot make it spin', () => {
    const step = transition(paged, watchingAt(), { type: 'watchClosed', events: 0, elapsedMs: 20 });
    assert.equal(step.state.phase, 'Backoff');
    assert.deepEqual(kinds(step.effects), ['watchEnded', 'error']);
    const resumed = transition(paged, step.state, { type: 'backoffElapsed' });
    assert.equal(resumed.next.op, 'watch');
    assert.equal(resumed.state.lists, 1, 'resumes the watch, no relist');
  });

  it('relists with a quorum read after a watch 410', () => {
    const step = transition(paged, watchingAt('10'), { type: 'failed', error: err(410, 'Expired') });
    assert.equal(step.state.phase, 'Listing');
    assert.deepEqual(step.next, { op: 'list', options: { limit: 500, resourceVersion: '' } });
    assert.deepEqual(kinds(step.effects), ['watchEnded', 'error', 'resetBuffer']);
    assert.equal(step.state.resourceVersionUsable, false);
    assert.equal(step.state.resourceVersion, '10', 'status keeps the last RV');
  });

  it('relists after an in-stream "too large resource version" (504 Timeout, ResourceVersionTooLarge)', () => {
    const tooLarge = new KubeApiError({
      status: 504,
      verb: 'watch',
      url: '/x',
      body: {
        kind: 'Status',
        code: 504,
        reason: 'Timeout',
        message: 'Too large resource version: 20, current: 10',
        details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }] },
      },
    });
    const step = transition(paged, watchingAt('20'), { type: 'failed', error: tooLarge });
    assert.equal(step.state.phase, 'Listing');
    assert.equal(step.state.relists, 1);
  });

  it('replaces a silent (idle) watch at once, from the same RV, without a relist', () => {
    const step = transition(paged, watchingAt('10'), {
      type: 'failed',
      error: new WatchIdleTimeoutError(1000),
    });
    assert.deepEqual(step.effects[0], { kind: 'watchEnded', reason: 'idle' });
    assert.equal(step.state.phase, 'Watching');
    assert.deepEqual(step.next, {
      op: 'watch',
      streaming: false,
      options: { resourceVersion: '10', allowWatchBookmarks: true },
    });
    assert.equal(step.state.watchRestarts, 1);
    assert.equal(step.state.lists, 1);
  });

  it('backs off on transport errors and 5xx, then resumes the watch from the last RV', () => {
    for (const error of [
      new KubeTransportError('watch', '/x', new Error('ECONNRESET')),
      err(500),
      err(503),
    ]) {
      const failed = transition(paged, watchingAt('10'), { type: 'failed', error });
      assert.equal(failed.state.phase, 'Backoff');
      assert.equal(failed.state.lastError, error);
      const resumed = transition(paged, failed.state, { type: 'backoffElapsed' });
      assert.deepEqual(resumed.next, {
        op: 'watch',
        streaming: false,
        options: { resourceVersion: '10', allowWatchBookmarks: true },
      });
      assert.equal(resumed.state.lists, 1);
    }
  });

  it('honours Retry-After on a watch 429', () => {
    const step = transition(paged, watchingAt(), { type: 'failed', error: err(429, 'TooManyRequests', 3) });
    assert.deepEqual(step.next, { op: 'backoff', minDelayMs: 3000 });
  });

  it('relists (after a backoff) when the sink fails, since its contents are in doubt', () => {
    const step = transition(paged, watchingAt(), { type: 'sinkFailed', error: new Error('boom') });
    assert.equal(step.state.phase, 'Backoff');
    assert.equal(step.state.needsList, true);
    const resumed = transition(paged, step.state, { type: 'backoffElapsed' });
    assert.equal(resumed.next.op, 'list');
    assert.equal(resumed.state.relists, 1);
  });
});

describe('reflector transition: restart and stop', () => {
  it('restart while watching resumes from the last RV without relisting', () => {
    const step = transition(paged, watchingAt('33'), { type: 'restart', reason: 'stuck' });
    assert.deepEqual(step.effects, [{ kind: 'watchEnded', reason: 'stopped' }]);
    assert.deepEqual(step.next, {
      op: 'watch',
      streaming: false,
      options: { resourceVersion: '33', allowWatchBookmarks: true },
    });
    assert.equal(step.state.relists, 0);
  });

  it('restart during a backoff cuts it short', () => {
    const backoff = transition(paged, watchingAt('33'), { type: 'failed', error: err(500) }).state;
    const step = transition(paged, backoff, { type: 'restart', reason: 'operator' });
    assert.equal(step.state.phase, 'Watching');
    assert.equal(step.next.op, 'watch');
  });

  it('restart during a paged list re-requests the same page', () => {
    const listing = last(run(paged, [{ type: 'start' }, page('7', 'tok-1')])).state;
    const step = transition(paged, listing, { type: 'restart', reason: 'slow' });
    assert.deepEqual(step.next, { op: 'list', options: { limit: 500, continue: 'tok-1' } });
    assert.equal(step.state.lists, 1);
  });

  it('stop exits from any phase and stays stopped', () => {
    for (const state of [initialState(paged), watchingAt(), last(run(paged, [{ type: 'start' }])).state]) {
      const stopped = transition(paged, state, { type: 'stop' });
      assert.equal(stopped.state.phase, 'Stopped');
      assert.deepEqual(stopped.next, { op: 'exit' });
      const after = transition(paged, stopped.state, { type: 'start' });
      assert.deepEqual(after.next, { op: 'exit' });
    }
    assert.deepEqual(transition(paged, watchingAt(), { type: 'stop' }).effects, [
      { kind: 'watchEnded', reason: 'stopped' },
    ]);
  });

  it('answers inputs that make no sense in the phase with a reported error and a backoff, not a crash', () => {
    const step = transition(paged, watchingAt(), page('1'));
    assert.equal(step.state.phase, 'Backoff');
    assert.match(step.state.lastError?.message ?? '', /unexpected listPage in phase Watching/);
  });
});

describe('reflector transition: streaming list', () => {
  const streamStart = (): Transition => last(run(streaming, [{ type: 'start' }]));

  it('opens a sendInitialEvents watch (NotOlderThan, bookmarks, RV "")', () => {
    const step = streamStart();
    assert.equal(step.state.phase, 'Listing');
    assert.deepEqual(step.next, {
      op: 'watch',
      streaming: true,
      options: {
        sendInitialEvents: true,
        resourceVersionMatch: 'NotOlderThan',
        allowWatchBookmarks: true,
        resourceVersion: '',
      },
    });
  });

  it('collects initial events, replaces at the initial-events-end bookmark, then keeps consuming the same stream', () => {
    const steps = run(
      streaming,
      [
        { type: 'watchEvent', eventType: 'ADDED', resourceVersion: '3' },
        { type: 'bookmark', resourceVersion: '4', initialEventsEnd: false },
        { type: 'watchEvent', eventType: 'ADDED', resourceVersion: '5' },
        { type: 'bookmark', resourceVersion: '9', initialEventsEnd: true },
        { type: 'watchEvent', eventType: 'MODIFIED', resourceVersion: '10' },
      ],
      streamStart().state,
    );
    assert.deepEqual(kinds(steps[0]?.effects ?? []), ['buffer']);
    assert.equal(
      steps[1]?.state.resourceVersion,
      undefined,
      'not synced yet: intermediate bookmarks are not ours',
    );
    assert.deepEqual(steps[3]?.effects, [
      { kind: 'replace', resourceVersion: '9', streaming: true },
      { kind: 'bookmark', resourceVersion: '9' },
    ]);
    assert.equal(steps[3]?.state.phase, 'Watching');
    assert.equal(steps[3]?.state.synced, true);
    assert.deepEqual(steps[3]?.next, { op: 'consume' });
    assert.deepEqual(last(steps).effects, [{ kind: 'apply', eventType: 'MODIFIED' }]);
    assert.equal(last(steps).state.resourceVersion, '10');
  });

  it('falls back to a paged list when the deadline passes before the end bookmark, and remembers it', () => {
    const step = transition(streaming, streamStart().state, { type: 'streamDeadline' });
    assert.equal(step.state.streaming, 'fallenBack');
    assert.equal(step.state.phase, 'Listing');
    assert.deepEqual(step.next, { op: 'list', options: { limit: 500, resourceVersion: '' } });
    assert.deepEqual(kinds(step.effects), ['watchEnded', 'streamingFallback', 'resetBuffer']);
    assert.equal(step.state.lists, 1, 'the fallback continues the same list attempt');
    // Later relists stay paged.
    const synced = transition(streaming, step.state, page('5')).state;
    const relist = transition(streaming, synced, { type: 'failed', error: err(410) });
    assert.equal(relist.next.op, 'list');
  });

  it('falls back at once when the server rejects the parameters (400/422)', () => {
    for (const status of [400, 422]) {
      const step = transition(streaming, streamStart().state, { type: 'failed', error: err(status) });
      assert.equal(step.state.streaming, 'fallenBack');
      assert.equal(step.next.op, 'list');
    }
  });

  it('falls back when the server ends the stream before the initial events ended', () => {
    const step = transition(streaming, streamStart().state, {
      type: 'watchClosed',
      events: 5,
      elapsedMs: 10,
    });
    assert.equal(step.state.streaming, 'fallenBack');
    assert.equal(step.next.op, 'list');
  });

  it('retries the streaming list from scratch after a transient failure (no fallback)', () => {
    const failed = transition(streaming, streamStart().state, { type: 'failed', error: err(503) });
    assert.equal(failed.state.phase, 'Backoff');
    assert.equal(failed.state.streaming, 'on');
    const again = transition(streaming, failed.state, { type: 'backoffElapsed' });
    assert.equal(again.next.op, 'watch');
    assert.deepEqual(kinds(again.effects), ['resetBuffer']);
    assert.equal(again.state.lists, 1);
  });

  it('after sync, resumes with plain watches and relists by streaming with RV "" after a 410', () => {
    const synced = last(
      run(
        streaming,
        [{ type: 'bookmark', resourceVersion: '9', initialEventsEnd: true }],
        streamStart().state,
      ),
    ).state;
    const closed = transition(streaming, synced, { type: 'watchClosed', events: 1, elapsedMs: 400_000 });
    assert.deepEqual(closed.next, {
      op: 'watch',
      streaming: false,
      options: { resourceVersion: '9', allowWatchBookmarks: true },
    });
    const gone = transition(streaming, closed.state, { type: 'failed', error: err(410) });
    assert.equal(gone.next.op, 'watch');
    assert.deepEqual((gone.next as { options: unknown }).options, {
      sendInitialEvents: true,
      resourceVersionMatch: 'NotOlderThan',
      allowWatchBookmarks: true,
      resourceVersion: '',
    });
    assert.equal(gone.state.relists, 1);
  });

  it('a relist for a reason other than an expired RV streams from the last RV (NotOlderThan)', () => {
    const synced = last(
      run(
        streaming,
        [{ type: 'bookmark', resourceVersion: '9', initialEventsEnd: true }],
        streamStart().state,
      ),
    ).state;
    const sinkFailed = transition(streaming, synced, { type: 'sinkFailed', error: new Error('x') }).state;
    const relist = transition(streaming, sinkFailed, { type: 'backoffElapsed' });
    assert.equal((relist.next as { options: { resourceVersion: string } }).options.resourceVersion, '9');
  });
});
