import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { ELASTI_FINALIZER } from '../../../src/api/v1alpha1/constants.ts';
import { endpointSliceToResolverName } from '../../../src/api/v1alpha1/names.ts';
import type { ElastiService } from '../../../src/api/v1alpha1/types.ts';
import type { OperatorConfigInput } from '../../../src/controller/config.ts';
import {
  type ControllerInformer,
  type ControllerInformerFactory,
  ControllerStartError,
  ElastiServiceController,
  shouldEnqueueUpdate,
  startController,
} from '../../../src/controller/controller.ts';
import { CRDDirectory } from '../../../src/crddirectory/directory.ts';
import { SharedInformer } from '../../../src/kube/cache/informer.ts';
import type { ListerWatcher } from '../../../src/kube/core/contracts.ts';
import { KubeApiError } from '../../../src/kube/core/errors.ts';
import type {
  HandlerOptions,
  HandlerRegistration,
  KubeObject,
  ListWatchTarget,
  ResourceEventHandler,
} from '../../../src/kube/core/types.ts';
import type { EndpointSlice } from '../../../src/kube/index.ts';
import { resources } from '../../../src/kube/index.ts';
import { FakeApiServer } from '../../support/fake-api-server.ts';
import { waitFor } from '../../support/wait.ts';
import {
  DEPLOYMENTS,
  deployment,
  ELASTI_GVR,
  elastiService,
  FakeCluster,
  FakeManager,
  pod,
  service,
} from './fakes.ts';

/** An informer whose events the test emits by hand. */
class FakeInformer<T extends KubeObject> implements ControllerInformer<T> {
  readonly target: ListWatchTarget;
  readonly handlers: { handler: ResourceEventHandler<T>; options: HandlerOptions | undefined }[] = [];
  readonly objects = new Map<string, T>();
  started = false;
  stopped = false;
  #synced = false;
  #waiters: (() => void)[] = [];
  readonly store = { list: (): T[] => [...this.objects.values()] };

  readonly syncOnStart: boolean;

  constructor(target: ListWatchTarget, syncOnStart: boolean) {
    this.target = target;
    this.syncOnStart = syncOnStart;
  }

  start(): void {
    this.started = true;
    if (this.syncOnStart) this.markSynced();
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  markSynced(): void {
    this.#synced = true;
    for (const w of this.#waiters.splice(0)) w();
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#waiters.push(resolve);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }

  addEventHandler(handler: ResourceEventHandler<T>, options?: HandlerOptions): HandlerRegistration {
    this.handlers.push({ handler, options });
    return { remove() {}, hasSynced: () => true, queueDepth: 0 };
  }

  emitAdd(obj: T): void {
    this.objects.set(`${obj.metadata.namespace}/${obj.metadata.name}`, obj);
    for (const { handler } of this.handlers) void handler.onAdd?.(obj, false);
  }

  emitUpdate(oldObj: T, newObj: T): void {
    this.objects.set(`${newObj.metadata.namespace}/${newObj.metadata.name}`, newObj);
    for (const { handler } of this.handlers) void handler.onUpdate?.(oldObj, newObj);
  }
}

const NS = 'shop';

function setup(options: { esSyncs?: boolean; addresses?: string[] } = {}) {
  const cluster = new FakeCluster();
  const manager = new FakeManager();
  const directory = new CRDDirectory();
  const informers: FakeInformer<KubeObject>[] = [];
  const factory: ControllerInformerFactory = <T extends KubeObject>(target: ListWatchTarget) => {
    const isEs = target.gvr.resource === 'elastiservices';
    const informer = new FakeInformer<T>(target, isEs ? (options.esSyncs ?? true) : true);
    if (!isEs) {
      informer.objects.set('r/slice', {
        metadata: { name: 'slice', namespace: 'r' },
        addressType: 'IPv4',
        endpoints: (options.addresses ?? ['10.1.0.1']).map((ip) => ({ addresses: [ip] })),
      } as unknown as T);
    }
    informers.push(informer as unknown as FakeInformer<KubeObject>);
    return informer;
  };
  const esInformers = (): FakeInformer<ElastiService>[] =>
    informers.filter(
      (i) => i.target.gvr.resource === 'elastiservices',
    ) as unknown as FakeInformer<ElastiService>[];
  const esInformer = (): FakeInformer<ElastiService> => esInformers()[0] as FakeInformer<ElastiService>;
  const sliceInformer = (): FakeInformer<EndpointSlice> =>
    informers.find(
      (i) => i.target.gvr.resource !== 'elastiservices',
    ) as unknown as FakeInformer<EndpointSlice>;
  const registry = new Registry();
  const client = cluster as FakeCluster & ListerWatcher;
  /** Starts a controller on this environment's fakes with `config`. */
  const start = (config: OperatorConfigInput) =>
    startController({ client, manager, directory, config, informerFactory: factory, registry });
  return {
    cluster,
    manager,
    directory,
    factory,
    esInformer,
    esInformers,
    sliceInformer,
    registry,
    client,
    start,
  };
}

function world(cluster: FakeCluster, ready: boolean): ElastiService {
  cluster.put(DEPLOYMENTS, deployment(NS, 'web', 1));
  cluster.put(resources.pods.gvr, pod(NS, 'web-0', 'web', ready));
  cluster.put(resources.services.gvr, service(NS, 'web', { app: 'web' }));
  return cluster.put(ELASTI_GVR, elastiService(NS, 'web-es'));
}

async function metric(registry: Registry, name: string): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
}

describe('shouldEnqueueUpdate', () => {
  const base = elastiService(NS, 'x');
  base.metadata = { ...base.metadata, generation: 1, uid: 'u', finalizers: [ELASTI_FINALIZER] };
  const withMeta = (meta: Partial<ElastiService['metadata']>): ElastiService => ({
    ...base,
    metadata: { ...base.metadata, ...meta },
  });

  it('ignores status-only and metadata-only changes (our own writes)', () => {
    assert.equal(shouldEnqueueUpdate(base, { ...base, status: { mode: 'proxy' } }), false);
    assert.equal(shouldEnqueueUpdate(base, withMeta({ labels: { a: 'b' } })), false);
  });

  it('enqueues resyncs, spec changes, deletion, recreation and a removed finalizer', () => {
    assert.equal(shouldEnqueueUpdate(base, base), true);
    assert.equal(shouldEnqueueUpdate(base, withMeta({ generation: 2 })), true);
    assert.equal(shouldEnqueueUpdate(base, withMeta({ deletionTimestamp: 'now' })), true);
    assert.equal(shouldEnqueueUpdate(base, withMeta({ uid: 'other' })), true);
    assert.equal(shouldEnqueueUpdate(base, withMeta({ finalizers: [] })), true);
  });
});

describe('ElastiServiceController (fake informers)', () => {
  it('several watch namespaces: one ElastiService watch each; events from any of them are reconciled', async () => {
    const env = setup();
    const es = world(env.cluster, false);
    const controller = await env.start({ watchNamespace: `zz-other,${NS}`, resolver: { namespace: 'r' } });
    assert.deepEqual(
      env.esInformers().map((i) => i.target),
      [
        { gvr: ELASTI_GVR, namespace: NS },
        { gvr: ELASTI_GVR, namespace: 'zz-other' },
      ].sort((a, b) => a.namespace.localeCompare(b.namespace)),
    );
    const own = env.esInformers().find((i) => i.target.namespace === NS);
    own?.emitAdd(es);
    await waitFor(() => env.cluster.peek<ElastiService>(ELASTI_GVR, NS, 'web-es')?.status?.mode === 'proxy', {
      message: 'proxy mode',
      timeoutMs: 5000,
    });
    await controller.stop();
    assert.ok(
      env.esInformers().every((i) => i.stopped),
      'every ElastiService watch stopped',
    );
  });

  it('reconciles an added ElastiService through the queue and registers the handlers it needs', async () => {
    const env = setup();
    const es = world(env.cluster, false);
    const controller = await env.start({
      watchNamespace: NS,
      resolver: { namespace: 'r' },
      resyncPeriodMs: 1234,
    });
    assert.equal(controller.ready, true);
    assert.deepEqual(env.esInformer().target, { gvr: ELASTI_GVR, namespace: NS });
    assert.deepEqual(env.sliceInformer().target, {
      gvr: resources.endpointSlices.gvr,
      namespace: 'r',
      labelSelector: 'kubernetes.io/service-name=elasti-resolver-service',
    });
    assert.equal(env.esInformer().handlers[0]?.options?.resyncPeriodMs, 1234);
    assert.ok(env.manager.resolverHandlers, 'resolver deployment informer hooked');

    env.esInformer().emitAdd(es);
    await waitFor(() => env.cluster.peek<ElastiService>(ELASTI_GVR, NS, 'web-es')?.status?.mode === 'proxy', {
      message: 'proxy mode',
      timeoutMs: 5000,
    });
    const slice = env.cluster.peek<EndpointSlice>(
      resources.endpointSlices.gvr,
      NS,
      endpointSliceToResolverName('web'),
    );
    assert.deepEqual(
      slice?.endpoints?.map((e) => e.addresses[0]),
      ['10.1.0.1'],
      'addresses from the slice cache',
    );
    assert.equal(await metric(env.registry, 'elasti_operator_mode'), 1);
    await controller.stop();
    assert.equal(controller.ready, false);
    assert.equal(env.esInformer().stopped, true);
    assert.equal(env.sliceInformer().stopped, true);
    assert.deepEqual(env.manager.keys(), [], 'watches released on stop');
  });

  it('status-only updates do not cause reconciles; a resolver change reconciles proxy-mode ElastiServices', async () => {
    const env = setup();
    const es = world(env.cluster, false);
    const controller = await env.start({ resolver: { namespace: 'r' } });
    env.esInformer().emitAdd(es);
    await waitFor(() => env.cluster.peek<ElastiService>(ELASTI_GVR, NS, 'web-es')?.status?.mode === 'proxy', {
      message: 'proxy mode',
      timeoutMs: 5000,
    });
    await waitFor(() => controller.queue.processingCount === 0 && controller.queue.length === 0, {
      message: 'queue idle',
      timeoutMs: 5000,
    });
    const esGets = () =>
      env.cluster.calls.filter((c) => c.verb === 'get' && c.resource === 'elastiservices').length;
    const before = esGets();
    const current = env.cluster.peek<ElastiService>(ELASTI_GVR, NS, 'web-es');
    assert.ok(current);
    env.esInformer().emitUpdate(es, current); // finalizer + status: no generation change (enqueueing is synchronous)
    assert.equal(controller.queue.length + controller.queue.processingCount, 0);
    assert.equal(esGets(), before);

    env.sliceInformer().objects.set('r/slice', {
      metadata: { name: 'slice', namespace: 'r' },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.1.0.1'] }, { addresses: ['10.1.0.2'] }],
    });
    env
      .sliceInformer()
      .emitUpdate(
        env.sliceInformer().store.list()[0] as EndpointSlice,
        env.sliceInformer().store.list()[0] as EndpointSlice,
      );
    await waitFor(
      () =>
        env.cluster
          .peek<EndpointSlice>(resources.endpointSlices.gvr, NS, endpointSliceToResolverName('web'))
          ?.endpoints?.map((e) => e.addresses[0])
          .join() === '10.1.0.1,10.1.0.2',
      { message: 'slice follows the resolver', timeoutMs: 5000 },
    );
    await controller.stop();
  });

  it('a failing reconcile is retried with backoff until it succeeds', async () => {
    const env = setup();
    const es = world(env.cluster, true);
    env.cluster.failNext(
      'get',
      'elastiservices',
      new KubeApiError({ status: 500, verb: 'get', url: 'fake://', reason: 'InternalError' }),
      3,
    );
    const controller = await env.start({ resolver: { namespace: 'r' } });
    env.esInformer().emitAdd(es);
    await waitFor(() => env.cluster.peek<ElastiService>(ELASTI_GVR, NS, 'web-es')?.status?.mode === 'serve', {
      message: 'serve mode after retries',
      timeoutMs: 5000,
    });
    assert.equal(await metric(env.registry, 'elasti_operator_workqueue_retries_total'), 3);
    assert.equal(controller.queue.numRequeues(`${NS}/web-es`), 0, 'forgotten after success');
    await controller.stop();
  });

  it('throws ControllerStartError when the ElastiService cache does not sync in time, leaving nothing running', async () => {
    const env = setup({ esSyncs: false });
    await assert.rejects(
      env.start({ resolver: { namespace: 'r' }, cacheSyncTimeoutMs: 50 }),
      (error: unknown) =>
        error instanceof ControllerStartError && /did not sync within 50 ms/.test(error.message),
    );
    assert.equal(env.esInformer().stopped, true);
    assert.equal(env.sliceInformer().stopped, true);
  });

  it('the ControllerStartError names the cause the ElastiService informer saw (a 403 from listing)', async () => {
    const env = setup();
    const forbidden = new KubeApiError({
      status: 403,
      verb: 'list',
      url: 'https://apiserver/apis/elasti.truefoundry.com/v1alpha1/elastiservices',
      body: {
        kind: 'Status',
        code: 403,
        reason: 'Forbidden',
        message: 'elastiservices.elasti.truefoundry.com is forbidden: User "restricted" cannot list resource',
      },
    });
    const refusing = new FakeApiServer();
    refusing.injectFault(['list', 'watch'], { error: forbidden }, { times: Number.POSITIVE_INFINITY });
    const error = await startController({
      client: env.cluster as FakeCluster & ListerWatcher,
      manager: env.manager,
      directory: env.directory,
      config: { resolver: { namespace: 'r' }, cacheSyncTimeoutMs: 300 },
      informerFactory: <T extends KubeObject>(target: ListWatchTarget, name: string) =>
        new SharedInformer<T>({ lw: refusing, target, name }),
    }).then(
      () => assert.fail('started without being able to list'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ControllerStartError, String(error));
    assert.equal(error.status, 403);
    assert.match(
      error.message,
      /^ElastiService cache did not sync within 300 ms: informer elastiservices did not sync: timed out; last error .*403 Forbidden: elastiservices\.elasti\.truefoundry\.com is forbidden/,
    );
  });

  it('aborting the signal stops the controller (even during start); done resolves', async () => {
    const env = setup({ esSyncs: false });
    const abort = new AbortController();
    const controller = new ElastiServiceController({
      client: env.client,
      manager: env.manager,
      directory: env.directory,
      config: { resolver: { namespace: 'r' } },
      informerFactory: env.factory,
      signal: abort.signal,
    });
    const started = controller.start();
    abort.abort();
    await started; // resolves quietly: stopping is not a start failure
    await controller.done;
    assert.equal(controller.ready, false);
    assert.equal(env.esInformer().stopped, true);
  });

  it('stop lets an in-flight reconcile finish (drain)', async () => {
    const env = setup();
    const es = world(env.cluster, true);
    const controller = await env.start({ resolver: { namespace: 'r' }, drainTimeoutMs: 5000 });
    env.esInformer().emitAdd(es);
    await waitFor(() => controller.queue.processingCount === 1, { message: 'in flight', timeoutMs: 5000 });
    await controller.stop();
    assert.equal(env.cluster.peek<ElastiService>(ELASTI_GVR, NS, 'web-es')?.status?.mode, 'serve');
  });
});
