/**
 * The reflector driver against an in-memory ListerWatcher (our interface, no HTTP): real
 * timers, short injected timeouts, conditions awaited with deadlines.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { ReflectorObserver } from '../../../../src/kube/core/contracts.ts';
import { type KubeApiError, KubeTransportError } from '../../../../src/kube/core/errors.ts';
import type { KubeObject } from '../../../../src/kube/core/types.ts';
import { Reflector, type ReflectorOptions } from '../../../../src/kube/watch/reflector.ts';
import { apiError } from '../../../support/fake-api-rules.ts';
import { waitFor } from '../../../support/wait.ts';
import { CapturingLogger, FakeApi, RecordingSink, target } from './reflector-fake.ts';

interface Harness {
  api: FakeApi;
  sink: RecordingSink;
  reflector: Reflector<KubeObject>;
  logger: CapturingLogger;
  hooks: string[];
}

function setup(
  t: TestContext,
  options: Partial<ReflectorOptions<KubeObject>> = {},
  api = new FakeApi(),
): Harness {
  const sink = new RecordingSink();
  const logger = new CapturingLogger();
  const hooks: string[] = [];
  const observer: ReflectorObserver = {
    onListStart: (relist) => hooks.push(`listStart:${relist}`),
    onListPage: (n) => hooks.push(`page:${n}`),
    onListDone: (n, rv, streaming) => hooks.push(`listDone:${n}:${rv}:${streaming}`),
    onWatchStart: (rv) => hooks.push(`watchStart:${rv}`),
    onWatchEnd: (reason) => hooks.push(`watchEnd:${reason}`),
    onEvent: (type) => hooks.push(`event:${type}`),
    onBookmark: (rv) => hooks.push(`bookmark:${rv}`),
    onError: (_e, status) => hooks.push(`error:${status ?? 'transport'}`),
    onPhase: (s) => hooks.push(`phase:${s.phase}`),
  };
  const reflector = new Reflector<KubeObject>({
    lw: api,
    target,
    sink,
    logger,
    observer,
    pageSize: 100,
    // Small backoffs keep the tests fast; random 0.5 makes the jitter predictable.
    backoff: { initialMs: 20, capMs: 100 },
    random: () => 0.5,
    ...options,
  });
  t.after(() => reflector.stop());
  return { api, sink, reflector, logger, hooks };
}

const watching = (r: Reflector<KubeObject>) => () => r.status().phase === 'Watching';

describe('Reflector driver', () => {
  it('syncs a large collection with paged quorum lists and then watches from the list RV', async (t) => {
    const api = new FakeApi();
    api.seed(1234);
    const { sink, reflector, hooks } = setup(t, {}, api);
    reflector.start();
    reflector.start(); // idempotent
    await waitFor(watching(reflector), { message: 'watching' });
    assert.equal(api.listCalls.length, 13, '1234 objects in pages of 100');
    assert.equal(api.listCalls[0]?.resourceVersion, '', 'first page is a quorum read');
    assert.equal(api.listCalls[0]?.limit, 100);
    assert.ok(api.listCalls.slice(1).every((c) => c.continue && c.resourceVersion === undefined));
    assert.equal(sink.state.size, 1234);
    assert.deepEqual(sink.calls, [{ op: 'replace', count: 1234, resourceVersion: String(api.revision) }]);
    const status = reflector.status();
    assert.equal(status.synced, true);
    assert.equal(status.lastSyncResourceVersion, String(api.revision));
    assert.equal(status.lists, 1);
    assert.equal(status.relists, 0);
    assert.equal(api.watchCalls[0]?.resourceVersion, String(api.revision));
    assert.equal(api.watchCalls[0]?.allowWatchBookmarks, true);
    assert.equal(hooks[0], 'phase:Listing');
    assert.equal(hooks[1], 'listStart:false');
    assert.equal(hooks.filter((h) => h.startsWith('page:')).length, 13);
    assert.ok(hooks.includes(`listDone:1234:${api.revision}:false`));
  });

  it('applies watch events in order, tracks bookmarks without telling the sink', async (t) => {
    const { api, sink, reflector, hooks } = setup(t);
    api.put('a');
    reflector.start();
    await waitFor(() => api.openWatches === 1, { message: 'watch open' });
    api.put('b', { x: '1' });
    api.put('a', { x: '2' });
    api.remove('b');
    api.bookmark();
    await waitFor(() => reflector.status().lastSyncResourceVersion === String(api.revision), {
      message: 'rv',
    });
    assert.deepEqual(
      sink.calls.slice(1),
      [
        { op: 'apply', type: 'ADDED', key: 'ns/b' },
        { op: 'apply', type: 'MODIFIED', key: 'ns/a' },
        { op: 'apply', type: 'DELETED', key: 'ns/b' },
      ],
      'the bookmark never reaches the sink',
    );
    assert.deepEqual([...sink.state.keys()], ['ns/a']);
    assert.ok(hooks.includes(`bookmark:${api.revision}`));
    assert.ok(reflector.status().lastEventAt !== undefined);
  });

  it('rewatches from the last RV when the server closes the stream, without relisting', async (t) => {
    const { api, sink, reflector, hooks } = setup(t);
    reflector.start();
    await waitFor(() => api.openWatches === 1);
    api.put('a');
    await waitFor(() => sink.state.has('ns/a'));
    const rv = String(api.revision);
    api.closeWatches();
    await waitFor(() => api.watchCalls.length === 2 && api.openWatches === 1, { message: 'rewatch' });
    assert.equal(api.watchCalls[1]?.resourceVersion, rv);
    assert.equal(reflector.status().watchRestarts, 1);
    assert.equal(reflector.status().relists, 0);
    assert.equal(api.listCalls.length, 1);
    assert.ok(hooks.includes('watchEnd:closed'));
    assert.ok(!hooks.some((h) => h.startsWith('phase:Backoff')), 'a normal close is not a failure');
  });

  it('relists with a quorum read after a watch 410, and the sink sees the state it missed', async (t) => {
    const { api, sink, reflector } = setup(t);
    api.put('a');
    api.put('b');
    reflector.start();
    await waitFor(() => api.openWatches === 1);
    // While "disconnected": changes happen and history is compacted.
    api.failWatches(new KubeTransportError('watch', '/x', new Error('ECONNRESET')));
    api.injectFault('watch', { error: apiError(410, 'Expired') });
    api.remove('a');
    api.put('c');
    api.compact();
    await waitFor(() => reflector.status().relists === 1 && reflector.status().phase === 'Watching', {
      message: 'relisted',
    });
    assert.deepEqual([...sink.state.keys()].sort(), ['ns/b', 'ns/c']);
    assert.equal(api.listCalls.at(-1)?.resourceVersion, '');
    assert.equal(sink.replaces, 2);
  });

  it('restarts the list from scratch when its continue token expires mid-pagination', async (t) => {
    const api = new FakeApi();
    api.seed(350);
    const { sink, reflector } = setup(t, {}, api);
    // Expire the tokens right after the second page is served.
    api.afterList = (served) => {
      if (served === 2) {
        api.snapshots.clear();
        api.put('late-arrival');
      }
    };
    reflector.start();
    await waitFor(watching(reflector), { message: 'watching' });
    // Pages: 1, 2, then the 3rd fails with 410, then 4 fresh pages (351 objects).
    assert.equal(api.listCalls.length, 7);
    assert.equal(api.listCalls[3]?.resourceVersion, '', 'restarted as a quorum read');
    assert.equal(api.listCalls[3]?.continue, undefined);
    assert.equal(sink.replaces, 1, 'no partial state was ever handed over');
    assert.equal(sink.state.size, 351);
    assert.ok(sink.state.has('ns/late-arrival'));
    assert.equal(reflector.status().lists, 1);
  });

  it('retries a 403 forever with growing backoff, and syncs once access is granted, without a restart', async (t) => {
    const { api, sink, reflector, hooks } = setup(t, { backoff: { initialMs: 5, capMs: 40 } });
    api.put('a');
    let forbidden = true;
    api.beforeList = () => {
      if (forbidden) throw apiError(403, 'Forbidden');
    };
    reflector.start();
    await waitFor(() => api.listCalls.length >= 6, { message: 'several retries' });
    const status = reflector.status();
    assert.ok(['Backoff', 'Listing'].includes(status.phase));
    assert.equal(status.synced, false);
    assert.equal((status.lastError as KubeApiError).status, 403);
    assert.ok(status.consecutiveFailures >= 5);
    assert.ok(hooks.filter((h) => h === 'error:403').length >= 5);
    forbidden = false;
    await waitFor(watching(reflector), { message: 'synced after grant' });
    assert.equal(sink.state.size, 1);
    assert.equal(reflector.status().lastError, undefined);
    assert.equal(reflector.status().lists, 1, 'the same list attempt, retried');
  });

  it('waits at least Retry-After on a 429 (full jitter below it)', async (t) => {
    const { api, reflector, logger } = setup(t, { random: () => 0 });
    api.injectFault('list', { error: apiError(429, 'TooManyRequests', { retryAfterSeconds: 1 }) });
    reflector.start();
    await waitFor(() => logger.records.some((r) => r.msg === 'backing off'), { message: 'backoff logged' });
    const record = logger.records.find((r) => r.msg === 'backing off');
    assert.equal(record?.fields.delayMs, 1000, 'jitter drew 0, Retry-After sets the floor');
    assert.equal(record?.fields.reflector, 'configmaps.v1@ns', 'structured fields carry the reflector name');
    await waitFor(watching(reflector), { message: 'recovered', timeoutMs: 5000 });
  });

  it('replaces a silent watch after the idle timeout without relisting', async (t) => {
    const { api, reflector, hooks } = setup(t, { idleTimeoutMs: 80 });
    reflector.start();
    await waitFor(() => api.openWatches === 1);
    api.freezeWatches();
    await waitFor(() => hooks.includes('watchEnd:idle'), { message: 'idle detected' });
    await waitFor(() => api.watchCalls.length >= 2);
    assert.equal(reflector.status().relists, 0);
    assert.equal(api.listCalls.length, 1);
  });

  it('streams the initial state (sendInitialEvents) and keeps consuming the same stream', async (t) => {
    const { api, sink, reflector, hooks } = setup(t, { streamingList: { enabled: true } });
    api.put('a');
    api.put('b');
    reflector.start();
    await waitFor(() => reflector.status().synced, { message: 'synced' });
    assert.equal(api.listCalls.length, 0);
    assert.deepEqual(
      { ...api.watchCalls[0], idleTimeoutMs: undefined, timeoutSeconds: undefined },
      {
        sendInitialEvents: true,
        resourceVersionMatch: 'NotOlderThan',
        allowWatchBookmarks: true,
        resourceVersion: '',
        idleTimeoutMs: undefined,
        timeoutSeconds: undefined,
        signal: undefined,
      },
    );
    assert.deepEqual(sink.calls, [{ op: 'replace', count: 2, resourceVersion: String(api.revision) }]);
    assert.ok(hooks.includes(`listDone:2:${api.revision}:true`));
    api.put('c');
    await waitFor(() => sink.state.has('ns/c'));
    assert.equal(api.watchCalls.length, 1, 'the same stream carries live events');
    assert.equal(reflector.status().phase, 'Watching');
  });

  it('falls back to paged lists when the streaming deadline passes, and stays with them', async (t) => {
    const { api, sink, reflector, logger } = setup(t, { streamingList: { enabled: true, deadlineMs: 100 } });
    api.sendInitialEventsEnd = false;
    api.put('a');
    reflector.start();
    await waitFor(watching(reflector), { message: 'watching after fallback' });
    assert.equal(reflector.machineState().streaming, 'fallenBack');
    assert.equal(api.listCalls.length, 1);
    assert.equal(sink.state.size, 1);
    assert.ok(
      logger.records.some((r) => r.level === 'warn' && /streaming list unavailable/.test(r.msg ?? '')),
    );
    // A later relist is paged, not streamed.
    api.failWatches(apiError(410, 'Expired'));
    await waitFor(() => reflector.status().relists === 1 && reflector.status().phase === 'Watching');
    assert.equal(api.listCalls.length, 2);
    assert.equal(api.watchCalls.filter((c) => c.sendInitialEvents).length, 1);
  });

  it('falls back at once when the server rejects streaming parameters', async (t) => {
    const { api, reflector } = setup(t, { streamingList: { enabled: true } });
    api.rejectStreaming = apiError(422, 'Invalid');
    reflector.start();
    await waitFor(watching(reflector));
    assert.equal(reflector.machineState().streaming, 'fallenBack');
    assert.equal(reflector.status().consecutiveFailures, 0, 'a rejected option is not a failure');
  });

  it('restart() drops the watch and resumes from the last RV; during a backoff it retries at once', async (t) => {
    const { api, reflector } = setup(t, {
      backoff: { initialMs: 60_000, capMs: 60_000 },
      random: () => 0.99,
    });
    reflector.start();
    await waitFor(() => api.openWatches === 1);
    const rv = reflector.status().lastSyncResourceVersion;
    reflector.restart('test');
    await waitFor(() => api.watchCalls.length === 2 && api.openWatches === 1);
    assert.equal(api.watchCalls[1]?.resourceVersion, rv);
    assert.equal(reflector.status().relists, 0);
    api.failWatches(apiError(500, 'InternalError'));
    await waitFor(() => reflector.status().phase === 'Backoff');
    reflector.restart('operator says go');
    await waitFor(() => api.watchCalls.length === 3 && api.openWatches === 1, { timeoutMs: 2000 });
  });

  it('an immediate empty close backs off instead of spinning', async (t) => {
    const { api, reflector } = setup(t, {
      backoff: { initialMs: 60_000, capMs: 60_000 },
      random: () => 0.99,
    });
    reflector.start();
    await waitFor(() => api.openWatches === 1);
    api.closeWatches();
    await waitFor(() => reflector.status().phase === 'Backoff');
    assert.equal(api.watchCalls.length, 1);
    assert.match(reflector.status().lastError?.message ?? '', /without any event/);
  });

  it('relists after a backoff when the sink throws', async (t) => {
    const { api, sink, reflector } = setup(t);
    reflector.start();
    await waitFor(() => api.openWatches === 1);
    sink.failNext = new Error('sink exploded');
    api.put('a');
    await waitFor(() => reflector.status().relists === 1 && reflector.status().phase === 'Watching');
    assert.ok(sink.state.has('ns/a'), 'the relist recovered the event the sink dropped');
  });

  it('survives a throwing observer', async (t) => {
    const api = new FakeApi();
    const reflector = new Reflector<KubeObject>({
      lw: api,
      target,
      sink: new RecordingSink(),
      observer: {
        onPhase() {
          throw new Error('bad hook');
        },
        onListDone() {
          throw new Error('bad hook');
        },
      },
    });
    t.after(() => reflector.stop());
    reflector.start();
    await waitFor(watching(reflector));
  });

  it('survives a throwing logger', async (t) => {
    const throwing = {
      debug() {
        throw new Error('log sink down');
      },
      info() {
        throw new Error('log sink down');
      },
      warn() {
        throw new Error('log sink down');
      },
      error() {
        throw new Error('log sink down');
      },
      child() {
        return throwing;
      },
    };
    const { api, reflector } = setup(t, { logger: throwing });
    api.injectFault('list', { error: apiError(500) }); // exercises the warn + backoff paths too
    reflector.start();
    await waitFor(watching(reflector));
    assert.equal(reflector.status().synced, true);
  });

  it('stop() aborts in-flight work and leaves no timers, streams or listeners', async (t) => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const { api, reflector } = setup(t, { idleTimeoutMs: 60_000 });
    reflector.start();
    await waitFor(() => api.openWatches === 1);
    await reflector.stop();
    assert.equal(reflector.status().phase, 'Stopped');
    assert.equal(api.openWatches, 0);
    assert.ok(timers() <= before, `timers left: ${timers()} > ${before}`);
    await reflector.stop(); // idempotent
    reflector.start(); // a stopped reflector stays stopped
    assert.equal(reflector.status().phase, 'Stopped');

    // Stopping during a hung list and during a long backoff.
    const hung = setup(t);
    hung.api.injectFault('list', { hang: true });
    hung.reflector.start();
    await waitFor(() => hung.api.listCalls.length === 1);
    await hung.reflector.stop();
    assert.equal(hung.reflector.status().phase, 'Stopped');

    const sleeping = setup(t, { backoff: { initialMs: 600_000, capMs: 600_000 }, random: () => 0.99 });
    sleeping.api.injectFault('list', { error: apiError(500) });
    sleeping.reflector.start();
    await waitFor(() => sleeping.reflector.status().phase === 'Backoff');
    await sleeping.reflector.stop();
    assert.ok(timers() <= before, 'the backoff timer was cleared');
  });

  it('stop() before start() is fine', async (t) => {
    const { reflector, api } = setup(t);
    await reflector.stop();
    reflector.start();
    assert.equal(reflector.status().phase, 'Stopped');
    assert.equal(api.listCalls.length, 0);
  });

  it('rejects bad options with typed errors', () => {
    const api = new FakeApi();
    const sink = new RecordingSink();
    assert.throws(() => new Reflector({ lw: api, target, sink, pageSize: 0 }), RangeError);
    assert.throws(
      () => new Reflector({ lw: api, target, sink, watchTimeoutSeconds: { min: 10, max: 5 } }),
      RangeError,
    );
    assert.throws(() => new Reflector({ lw: api, target, sink, idleTimeoutMs: -1 }), RangeError);
    assert.throws(
      () => new Reflector({ lw: api, target: undefined as unknown as typeof target, sink }),
      TypeError,
    );
  });

  it('draws the server watch timeout within [min, max] and defaults idle to it + 30 s', async (t) => {
    const { api, reflector } = setup(t, { watchTimeoutSeconds: { min: 100, max: 200 }, random: () => 0.999 });
    reflector.start();
    await waitFor(() => api.watchCalls.length === 1);
    assert.equal(api.watchCalls[0]?.timeoutSeconds, 200);
    assert.equal(api.watchCalls[0]?.idleTimeoutMs, 230_000);
  });
});
