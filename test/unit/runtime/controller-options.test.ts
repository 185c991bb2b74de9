/**
 * The runtime controller's options that the ElastiService controller needs: several namespaces
 * for one kind, an informer factory, optional sync per watch, a drain timeout on stop, the
 * per-reconcile hook and the failure log level. Informers here are test doubles built through
 * the cache's `informerFactory`, so sync and events are under the test's control.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  HandlerOptions,
  HandlerRegistration,
  KubeObject,
  KubeObjectLike,
  ListWatchTarget,
  Logger,
  ResourceEventHandler,
  SharedInformerOptions,
} from '../../../src/kube/index.ts';
import { HeapReleaser, Store } from '../../../src/kube/index.ts';
import {
  type CacheInformer,
  ControllerBuilder,
  ControllerStartError,
  InformerCache,
  type ReconcileReport,
} from '../../../src/runtime/index.ts';
import { waitFor } from '../../support/wait.ts';
import { FakeApi, gvr } from '../kube/watch/reflector-fake.ts';

const configMaps = { gvr, kind: 'ConfigMap' };
const secrets = { gvr: { group: '', version: 'v1', resource: 'secrets' } };

/** An informer whose sync and events the test drives. */
class DrivenInformer implements CacheInformer<KubeObjectLike> {
  readonly name: string;
  readonly target: ListWatchTarget;
  readonly store = new Store<KubeObjectLike>();
  readonly handlers: ResourceEventHandler<KubeObjectLike>[] = [];
  synced = false;
  stopped = false;
  #waiters: (() => void)[] = [];

  constructor(options: SharedInformerOptions<KubeObjectLike>, syncs: boolean) {
    this.name = options.name ?? '';
    this.target = options.target;
    this.synced = syncs;
  }
  start(): void {}
  async stop(): Promise<void> {
    this.stopped = true;
  }
  hasSynced(): boolean {
    return this.synced;
  }
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#waiters.push(resolve);
      signal?.addEventListener('abort', () => reject(new Error(`informer ${this.name} did not sync`)), {
        once: true,
      });
    });
  }
  addEventHandler(
    handler: ResourceEventHandler<KubeObjectLike>,
    _options?: HandlerOptions,
  ): HandlerRegistration {
    this.handlers.push(handler);
    return { remove() {}, hasSynced: () => true, queueDepth: 0 };
  }
  add(namespace: string, name: string): void {
    const obj: KubeObject = { metadata: { namespace, name } };
    this.store.apply('ADDED', obj);
    for (const h of this.handlers) void h.onAdd?.(obj, false);
  }
}

function setup(syncs: (target: ListWatchTarget) => boolean = () => true) {
  const informers: DrivenInformer[] = [];
  const cache = new InformerCache({
    lw: new FakeApi(),
    informerFactory: (options) => {
      const informer = new DrivenInformer(options, syncs(options.target));
      informers.push(informer);
      return informer;
    },
  });
  return { cache, informers };
}

/** A logger that records `level msg` per line. */
function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: (_o, msg) => lines.push(`debug ${msg}`),
    info: (_o, msg) => lines.push(`info ${msg}`),
    warn: (_o, msg) => lines.push(`warn ${msg}`),
    error: (_o, msg) => lines.push(`error ${msg}`),
    child: () => logger,
  };
  return logger;
}

describe('runtime Controller options', () => {
  it('for() over several namespaces: one named informer each, events of any reconciled, reads from all', async () => {
    const { cache, informers } = setup();
    const seen: string[] = [];
    const controller = new ControllerBuilder('t', { cache })
      .for(configMaps, { namespaces: ['b', 'a', 'b'], name: 'cms' })
      .build(async (req) => {
        seen.push(`${req.namespace}/${req.name}`);
      });
    assert.deepEqual(
      informers.map((i) => [i.target.namespace, i.name]),
      [
        ['b', 'cms/b'],
        ['a', 'cms/a'],
      ],
    );
    await controller.start();
    informers[0]?.add('b', 'x');
    informers[1]?.add('a', 'y');
    await waitFor(() => seen.length === 2, { message: 'both reconciled' });
    assert.deepEqual(seen.sort(), ['a/y', 'b/x']);
    assert.equal(controller.primaryObject('a', 'y')?.metadata?.name, 'y');
    assert.deepEqual(
      controller
        .primaryObjects()
        .map((o) => o.metadata?.name)
        .sort(),
      ['x', 'y'],
    );
    await controller.stop();
    assert.ok(informers.every((i) => i.stopped));
  });

  it('an optional watch that does not sync does not fail start; a required one does, saying it timed out', async () => {
    const { cache } = setup((target) => target.gvr.resource !== 'secrets');
    const controller = new ControllerBuilder('t', { cache })
      .for(configMaps)
      .watches(secrets, () => [], { syncRequired: false })
      .withOptions({ cacheSyncTimeoutMs: 50 })
      .build(async () => undefined);
    await controller.start();
    assert.equal(controller.hasSynced(), true);
    await controller.stop();

    const other = setup((target) => target.gvr.resource !== 'secrets');
    const strict = new ControllerBuilder('strict', { cache: other.cache })
      .for(configMaps)
      .watches(secrets, () => [])
      .withOptions({ cacheSyncTimeoutMs: 50 })
      .build(async () => undefined);
    await assert.rejects(strict.start(), (e: unknown) => {
      assert.ok(e instanceof ControllerStartError);
      assert.equal(e.timedOut, true);
      assert.deepEqual(
        e.causes.map((c) => (c as Error).message),
        [`informer ${other.informers[1]?.name} did not sync`],
      );
      return true;
    });
  });

  it('stopping while starting is a start error that did not time out', async () => {
    const { cache } = setup(() => false);
    const controller = new ControllerBuilder('t', { cache }).for(configMaps).build(async () => undefined);
    const started = controller.start();
    await controller.stop();
    await assert.rejects(started, (e: unknown) => e instanceof ControllerStartError && !e.timedOut);
  });

  it('drainTimeoutMs lets an in-flight reconcile finish before its signal aborts', async () => {
    const { cache, informers } = setup();
    let release: () => void = () => {};
    let abortedBeforeEnd: boolean | undefined;
    const controller = new ControllerBuilder('t', { cache })
      .for(configMaps)
      .withOptions({ drainTimeoutMs: 10_000 })
      .build(async (_req, { signal }) => {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        abortedBeforeEnd = signal.aborted;
      });
    await controller.start();
    informers[0]?.add('ns', 'a');
    await waitFor(() => controller.activeWorkers === 1, { message: 'in flight' });
    const stopped = controller.stop();
    release();
    await stopped;
    assert.equal(abortedBeforeEnd, false, 'finished during the drain, not aborted');
  });

  it('past drainTimeoutMs the in-flight reconcile is aborted', async () => {
    const { cache, informers } = setup();
    const lines: string[] = [];
    let aborted = false;
    const controller = new ControllerBuilder('t', { cache, logger: recordingLogger(lines) })
      .for(configMaps)
      .withOptions({ drainTimeoutMs: 30 })
      .build(
        (_req, { signal }) =>
          new Promise<undefined>((resolve) => {
            signal.addEventListener('abort', () => {
              aborted = true;
              resolve(undefined);
            });
          }),
      );
    await controller.start();
    informers[0]?.add('ns', 'a');
    await waitFor(() => controller.activeWorkers === 1, { message: 'in flight' });
    await controller.stop();
    assert.equal(aborted, true);
    assert.ok(lines.includes('warn drain timed out; aborting reconciles'));
  });

  it('onReconciled reports each outcome; failureLogLevel picks the level, the stack goes to debug', async () => {
    const { cache, informers } = setup();
    const reports: ReconcileReport[] = [];
    const lines: string[] = [];
    let n = 0;
    const controller = new ControllerBuilder('t', { cache, logger: recordingLogger(lines) })
      .for(configMaps)
      .withOptions({
        failureLogLevel: (error) => ((error as Error).message === 'expected' ? 'info' : 'warn'),
        onReconciled: (report) => reports.push(report),
      })
      .build(async () => {
        n++;
        if (n === 1) throw new Error('expected');
        if (n === 2) throw new Error('surprise');
      });
    await controller.start();
    informers[0]?.add('ns', 'a');
    await waitFor(() => reports.length === 3, { message: 'two failures and a success' });
    assert.deepEqual(
      reports.map((r) => [r.request.name, r.outcome, (r.error as Error | undefined)?.message]),
      [
        ['a', 'error', 'expected'],
        ['a', 'error', 'surprise'],
        ['a', 'success', undefined],
      ],
    );
    assert.deepEqual(
      lines.filter((l) => l.includes('reconcile fail')),
      [
        'info reconcile failed; retrying with backoff',
        'debug reconcile failure detail',
        'warn reconcile failed; retrying with backoff',
        'debug reconcile failure detail',
      ],
    );
    assert.equal(controller.queue.numRequeues('ns/a'), 0, 'forgotten after success');
    await controller.stop();
  });

  it('heapRelease: one collection when the queue drains after a burst, none for a trickle or when off', async () => {
    const { cache, informers } = setup();
    let collections = 0;
    const heapReleaser = new HeapReleaser({ collector: () => void collections++, minIntervalMs: 0 });
    let gate: () => void = () => {};
    const opened = new Promise<void>((resolve) => {
      gate = resolve;
    });
    let reconciles = 0;
    const controller = new ControllerBuilder('t', { cache })
      .for(configMaps)
      .withOptions({
        heapRelease: { afterReconciles: 5, idleMs: 20 },
        heapReleaser,
        maxConcurrentReconciles: 2,
      })
      .build(async () => {
        await opened;
        reconciles++;
      });
    await controller.start();
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f']) informers[0]?.add('ns', name);
    gate();
    await waitFor(() => reconciles === 6 && controller.activeWorkers === 0, { message: 'burst done' });
    await waitFor(() => collections === 1, { message: 'one collection after the drained burst' });
    informers[0]?.add('ns', 'g');
    await waitFor(() => reconciles === 7 && controller.queue.processingCount === 0, { message: 'trickle' });
    // A window for a wrong collection to show (idleMs is 20): a negative check needs one.
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(collections, 1, 'one reconcile after the release is not a burst');
    await controller.stop();

    const off = setup();
    let offCollections = 0;
    const offReleaser = new HeapReleaser({ collector: () => void offCollections++, minIntervalMs: 0 });
    let offReconciles = 0;
    const quiet = new ControllerBuilder('off', { cache: off.cache })
      .for(configMaps)
      .withOptions({ heapRelease: false, heapReleaser: offReleaser })
      .build(async () => {
        offReconciles++;
      });
    await quiet.start();
    for (let i = 0; i < 150; i++) off.informers[0]?.add('ns', `o${i}`);
    await waitFor(() => offReconciles === 150 && quiet.queue.processingCount === 0, { message: 'all done' });
    assert.equal(offCollections, 0);
    await quiet.stop();
  });
});
