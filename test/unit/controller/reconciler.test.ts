import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ELASTI_FINALIZER } from '../../../src/api/v1alpha1/constants.ts';
import { endpointSliceToResolverName, privateServiceName } from '../../../src/api/v1alpha1/names.ts';
import type { ElastiService } from '../../../src/api/v1alpha1/types.ts';
import { resolveOperatorConfig } from '../../../src/controller/config.ts';
import { NoResolverEndpointsError, ScaleTargetNotFoundError } from '../../../src/controller/errors.ts';
import { InvalidRequestError } from '../../../src/controller/keys.ts';
import { ElastiServiceReconciler } from '../../../src/controller/reconciler.ts';
import { StaticResolverEndpoints } from '../../../src/controller/resolver-endpoints.ts';
import { CRDDirectory } from '../../../src/crddirectory/directory.ts';
import { KubeApiError } from '../../../src/kube/core/errors.ts';
import type { EndpointSlice, Service } from '../../../src/kube/index.ts';
import { resources } from '../../../src/kube/index.ts';
import { requestKey, TerminalError } from '../../../src/runtime/index.ts';
import {
  DEPLOYMENTS,
  deployment,
  ELASTI_GVR,
  elastiService,
  FakeCluster,
  FakeEvents,
  FakeManager,
  pod,
  service,
} from './fakes.ts';

const NS = 'shop';
const KEY = `${NS}/web-es`;
const REQ = { namespace: NS, name: 'web-es' };
const PVT = privateServiceName('web');
const SLICE = endpointSliceToResolverName('web');

function setup(addresses: readonly string[] | undefined = ['10.1.0.7']) {
  const cluster = new FakeCluster();
  const manager = new FakeManager();
  const directory = new CRDDirectory();
  const resolver = new StaticResolverEndpoints(addresses);
  const events = new FakeEvents();
  const enqueued: string[] = [];
  const config = resolveOperatorConfig();
  const make = () =>
    new ElastiServiceReconciler({
      client: cluster,
      manager,
      directory,
      resolver,
      events,
      config,
      enqueue: (request) => enqueued.push(requestKey(request)),
      now: () => new Date('2030-01-02T03:04:05.678Z'),
    });
  const reconciler = make();
  return { cluster, manager, directory, resolver, events, enqueued, config, reconciler, make };
}

/** A target `web` with `ready` of `total` pods ready, its public Service and an ElastiService. */
function world(
  env: ReturnType<typeof setup>,
  {
    ready = 0,
    total = 1,
    es = elastiService(NS, 'web-es'),
  }: { ready?: number; total?: number; es?: ElastiService } = {},
) {
  env.cluster.put(DEPLOYMENTS, deployment(NS, 'web', total));
  for (let i = 0; i < total; i++) env.cluster.put(resources.pods.gvr, pod(NS, `web-${i}`, 'web', i < ready));
  env.cluster.put(resources.services.gvr, service(NS, 'web', { app: 'web' }));
  return env.cluster.put(ELASTI_GVR, es);
}

function getEs(env: ReturnType<typeof setup>, name = 'web-es'): ElastiService {
  const es = env.cluster.peek<ElastiService>(ELASTI_GVR, NS, name);
  assert.ok(es, `ElastiService ${name} exists`);
  return es;
}

function setPodReady(env: ReturnType<typeof setup>, name: string, ready: boolean): void {
  env.cluster.put(resources.pods.gvr, pod(NS, name, 'web', ready));
}

describe('ElastiServiceReconciler: requests', () => {
  it('refuses a request that cannot name an ElastiService, as a terminal error, touching nothing', async () => {
    const env = setup();
    world(env, { ready: 0 });
    const bad = [
      { name: 'web-es' },
      { namespace: '', name: 'web-es' },
      { namespace: NS, name: '' },
      { namespace: NS, name: 'a/b' },
    ];
    for (const request of bad) {
      await assert.rejects(env.reconciler.reconcile(request), (error: unknown) => {
        assert.ok(error instanceof InvalidRequestError, String(error));
        assert.ok(error instanceof TerminalError, 'not retried by the runtime');
        return true;
      });
    }
    assert.deepEqual(getEs(env).metadata.finalizers ?? [], [], 'nothing reconciled');
  });
});

describe('ElastiServiceReconciler: proxy mode', () => {
  it('with no ready pod: finalizer, private Service, EndpointSlice to the resolver, watches, status, event', async () => {
    const env = setup(['10.1.0.9', '10.1.0.7']);
    world(env, { ready: 0 });
    assert.deepEqual(await env.reconciler.reconcile(REQ), {});

    const es = getEs(env);
    assert.deepEqual(es.metadata.finalizers, [ELASTI_FINALIZER]);
    assert.equal(es.status?.mode, 'proxy');
    assert.equal(es.status?.lastReconciledTime, '2030-01-02T03:04:05Z');
    const conditions = Object.fromEntries((es.status?.conditions ?? []).map((c) => [c.type, c]));
    assert.equal(conditions.SpecValid?.status, 'True');
    assert.equal(conditions.ScaleTargetFound?.status, 'True');
    assert.equal(conditions.Ready?.status, 'True');
    assert.equal(conditions.Ready?.reason, 'ProxyMode');

    const pvt = env.cluster.peek<Service>(resources.services.gvr, NS, PVT);
    assert.ok(pvt, 'private service created');
    assert.equal(pvt.spec?.clusterIP, undefined);
    assert.equal(pvt.spec?.clusterIPs, undefined);
    assert.deepEqual(pvt.spec?.selector, { app: 'web' });
    assert.deepEqual(pvt.spec?.ports, [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }]);
    assert.deepEqual(
      pvt.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]),
      [['ElastiService', 'web-es', es.metadata.uid, true]],
    );

    const slice = env.cluster.peek<EndpointSlice>(resources.endpointSlices.gvr, NS, SLICE);
    assert.ok(slice, 'endpointslice created');
    assert.equal(slice.metadata.labels?.['kubernetes.io/service-name'], 'web');
    assert.equal(slice.addressType, 'IPv4');
    assert.deepEqual(
      slice.endpoints?.map((e) => e.addresses),
      [['10.1.0.7'], ['10.1.0.9']],
    );
    assert.deepEqual(slice.ports, [{ name: 'http', protocol: 'TCP', port: 8012 }]);

    assert.deepEqual(env.manager.keys(), ['web-es/shop/deployments.apps/web', 'web-es/shop/services/web']);
    const entry = env.directory.get(`${NS}/web`);
    assert.equal(entry?.crdName, 'web-es');
    assert.equal(entry?.status.mode, 'proxy');
    assert.deepEqual(env.events.reasons(), ['SwitchedToProxyMode']);
    assert.match(env.events.events[0]?.message ?? '', /0\/1 pods ready/);
  });

  it('is idempotent: a second reconcile writes nothing but status and records no event', async () => {
    const env = setup();
    world(env, { ready: 0 });
    await env.reconciler.reconcile(REQ);
    env.cluster.clearCalls();
    await env.reconciler.reconcile(REQ);
    assert.deepEqual(
      env.cluster.writes().map((c) => `${c.verb} ${c.resource}`),
      ['patchStatus elastiservices'],
    );
    assert.deepEqual(env.events.reasons(), ['SwitchedToProxyMode']);
    assert.equal(env.cluster.all(resources.services.gvr, NS).length, 2);
    assert.equal(env.cluster.all(resources.endpointSlices.gvr, NS).length, 1);
  });

  it('a fresh reconciler (controller restart) on proxy-mode state creates nothing and keeps the mode', async () => {
    const env = setup();
    world(env, { ready: 0 });
    await env.reconciler.reconcile(REQ);
    const restarted = env.make();
    env.manager.registrations.clear(); // a new process has a new Manager
    env.cluster.clearCalls();
    await restarted.reconcile(REQ);
    assert.deepEqual(
      env.cluster.writes().map((c) => `${c.verb} ${c.resource}`),
      ['patchStatus elastiservices'],
    );
    assert.equal(getEs(env).status?.mode, 'proxy');
    assert.deepEqual(env.events.reasons(), ['SwitchedToProxyMode']);
    assert.equal(env.manager.keys().length, 2, 'watches registered again');
  });

  it('adopts an existing private Service and EndpointSlice (e.g. made by upstream), fixing their contents', async () => {
    const env = setup(['10.1.0.7']);
    world(env, { ready: 0 });
    env.cluster.put(resources.services.gvr, service(NS, PVT, { app: 'old' }));
    env.cluster.put(resources.endpointSlices.gvr, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: SLICE, namespace: NS, labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.9.9.9'] }],
      ports: [{ name: 'http', protocol: 'TCP', port: 8012 }],
    } as EndpointSlice);
    await env.reconciler.reconcile(REQ);
    assert.deepEqual(env.cluster.peek<Service>(resources.services.gvr, NS, PVT)?.spec?.selector, {
      app: 'web',
    });
    assert.deepEqual(
      env.cluster
        .peek<EndpointSlice>(resources.endpointSlices.gvr, NS, SLICE)
        ?.endpoints?.map((e) => e.addresses),
      [['10.1.0.7']],
    );
  });

  it('the EndpointSlice follows the resolver endpoints exactly (1 → 2 → 1)', async () => {
    const env = setup(['10.1.0.7']);
    world(env, { ready: 0 });
    await env.reconciler.reconcile(REQ);
    const addresses = () =>
      env.cluster
        .peek<EndpointSlice>(resources.endpointSlices.gvr, NS, SLICE)
        ?.endpoints?.flatMap((e) => e.addresses);

    env.resolver.set(['10.1.0.7', '10.1.0.8']);
    env.reconciler.resolverChanged();
    assert.deepEqual(env.enqueued, [KEY], 'proxy-mode ElastiService enqueued');
    await env.reconciler.reconcile(REQ);
    assert.deepEqual(addresses(), ['10.1.0.7', '10.1.0.8']);

    env.resolver.set(['10.1.0.8']);
    await env.reconciler.reconcile(REQ);
    assert.deepEqual(addresses(), ['10.1.0.8']);
  });

  it('without resolver endpoints: throws NoResolverEndpoints, Ready=False, event; retried on a resolver change', async () => {
    const env = setup([]);
    world(env, { ready: 0 });
    await assert.rejects(env.reconciler.reconcile(REQ), NoResolverEndpointsError);
    const es = getEs(env);
    const ready = es.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'NoResolverEndpoints');
    assert.equal(es.status?.mode, undefined, 'mode is only set once applied');
    assert.ok(env.events.reasons().includes('NoResolverEndpoints'));
    assert.equal(env.cluster.peek(resources.endpointSlices.gvr, NS, SLICE), undefined);

    env.resolver.set(['10.1.0.7']);
    env.reconciler.resolverChanged();
    assert.deepEqual(env.enqueued, [KEY]);
    await env.reconciler.reconcile(REQ);
    assert.equal(getEs(env).status?.mode, 'proxy');
    assert.ok(env.cluster.peek(resources.endpointSlices.gvr, NS, SLICE));
  });

  it('resolver endpoints not yet known (cache not synced) is a retryable failure too', async () => {
    const env = setup();
    env.resolver.set(undefined);
    world(env, { ready: 0 });
    await assert.rejects(env.reconciler.reconcile(REQ), (error: unknown) => {
      assert.ok(error instanceof NoResolverEndpointsError);
      assert.match(error.message, /not known yet/);
      return true;
    });
  });

  it('public Service missing in proxy mode: PublicServiceNotFound, retried', async () => {
    const env = setup();
    world(env, { ready: 0 });
    env.cluster.remove(resources.services.gvr, NS, 'web');
    await assert.rejects(env.reconciler.reconcile(REQ), { name: 'PublicServiceNotFoundError' });
    assert.ok(env.events.reasons().includes('PublicServiceNotFound'));
  });

  it('scale to zero (spec and status replicas 0) is proxy even if a stale pod still reports ready', async () => {
    const env = setup();
    world(env, { ready: 1 });
    env.cluster.put(DEPLOYMENTS, {
      ...deployment(NS, 'web', 0),
      status: { replicas: 0, readyReplicas: 0 },
    });
    await env.reconciler.reconcile(REQ);
    assert.equal(getEs(env).status?.mode, 'proxy');
  });
});

describe('ElastiServiceReconciler: serve mode and switches', () => {
  it('with a ready pod: serve mode, no EndpointSlice, no private Service, no public Service watch', async () => {
    const env = setup();
    world(env, { ready: 1 });
    await env.reconciler.reconcile(REQ);
    assert.equal(getEs(env).status?.mode, 'serve');
    assert.equal(env.cluster.peek(resources.endpointSlices.gvr, NS, SLICE), undefined);
    assert.equal(env.cluster.peek(resources.services.gvr, NS, PVT), undefined);
    assert.deepEqual(env.manager.keys(), ['web-es/shop/deployments.apps/web']);
    assert.deepEqual(env.events.reasons(), ['SwitchedToServeMode']);
  });

  it('proxy → serve deletes the EndpointSlice and keeps the private Service; serve → proxy recreates it', async () => {
    const env = setup();
    world(env, { ready: 0 });
    await env.reconciler.reconcile(REQ);
    setPodReady(env, 'web-0', true);
    await env.reconciler.reconcile(REQ);
    assert.equal(getEs(env).status?.mode, 'serve');
    assert.equal(env.cluster.peek(resources.endpointSlices.gvr, NS, SLICE), undefined);
    assert.ok(env.cluster.peek(resources.services.gvr, NS, PVT), 'private service kept');
    setPodReady(env, 'web-0', false);
    await env.reconciler.reconcile(REQ);
    assert.equal(getEs(env).status?.mode, 'proxy');
    assert.ok(env.cluster.peek(resources.endpointSlices.gvr, NS, SLICE));
    assert.deepEqual(env.events.reasons(), [
      'SwitchedToProxyMode',
      'SwitchedToServeMode',
      'SwitchedToProxyMode',
    ]);
    assert.match(env.events.events[1]?.message ?? '', /switched from proxy to serve mode/);
  });

  it('terminating pods do not count as ready', async () => {
    const env = setup();
    world(env, { ready: 1 });
    const p = env.cluster.peek(resources.pods.gvr, NS, 'web-0');
    assert.ok(p);
    p.metadata.deletionTimestamp = '2030-01-01T00:00:00Z';
    env.cluster.put(resources.pods.gvr, p);
    await env.reconciler.reconcile(REQ);
    assert.equal(getEs(env).status?.mode, 'proxy');
  });

  it('a target without selector falls back to status.readyReplicas', async () => {
    const env = setup();
    world(env, { ready: 0 });
    env.cluster.put(DEPLOYMENTS, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
      spec: { replicas: 2 },
      status: { replicas: 2, readyReplicas: 2 },
    });
    await env.reconciler.reconcile(REQ);
    assert.equal(getEs(env).status?.mode, 'serve');
    assert.equal(
      env.cluster.calls.filter((c) => c.verb === 'list' && c.resource === 'pods').length,
      0,
      'no pod list without a selector',
    );
  });
});

describe('ElastiServiceReconciler: public Service changes', () => {
  it('the private Service follows the public selector and ports (node ports dropped)', async () => {
    const env = setup();
    world(env, { ready: 0 });
    await env.reconciler.reconcile(REQ);
    env.cluster.put(
      resources.services.gvr,
      service(NS, 'web', { app: 'web', tier: 'v2' }, [
        { name: 'http', port: 81, targetPort: 9090, nodePort: 30001 },
        { name: 'grpc', port: 90, targetPort: 9091 },
      ]),
    );
    await env.reconciler.reconcile(REQ);
    const pvt = env.cluster.peek<Service>(resources.services.gvr, NS, PVT);
    assert.deepEqual(pvt?.spec?.selector, { app: 'web', tier: 'v2' });
    assert.deepEqual(pvt?.spec?.ports, [
      { name: 'http', port: 81, targetPort: 9090, protocol: 'TCP' },
      { name: 'grpc', port: 90, targetPort: 9091, protocol: 'TCP' },
    ]);
  });

  it('the private Service keeps following in serve mode', async () => {
    const env = setup();
    world(env, { ready: 0 });
    await env.reconciler.reconcile(REQ);
    setPodReady(env, 'web-0', true);
    env.cluster.put(resources.services.gvr, service(NS, 'web', { app: 'web2' }));
    await env.reconciler.reconcile(REQ);
    assert.equal(getEs(env).status?.mode, 'serve');
    assert.deepEqual(env.cluster.peek<Service>(resources.services.gvr, NS, PVT)?.spec?.selector, {
      app: 'web2',
    });
  });
});

describe('ElastiServiceReconciler: spec problems', () => {
  it('invalid spec: SpecValid=False, Ready=False, Warning event, no throw, no watch, no objects', async () => {
    const env = setup();
    world(env, {
      es: elastiService(NS, 'web-es', {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Rollout', name: 'web' } as never,
      }),
    });
    assert.deepEqual(await env.reconciler.reconcile(REQ), {});
    const es = getEs(env);
    const spec = es.status?.conditions?.find((c) => c.type === 'SpecValid');
    assert.equal(spec?.status, 'False');
    assert.equal(spec?.reason, 'InvalidSpec');
    assert.match(spec?.message ?? '', /requires apiVersion argoproj.io\/v1alpha1/);
    assert.equal(es.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
    assert.equal(env.events.events[0]?.type, 'Warning');
    assert.equal(env.events.events[0]?.reason, 'InvalidSpec');
    assert.deepEqual(env.manager.keys(), []);
    assert.equal(env.cluster.peek(resources.services.gvr, NS, PVT), undefined);
    assert.deepEqual(es.metadata.finalizers, [ELASTI_FINALIZER], 'finalizer still added');
  });

  it('target missing: ScaleTargetFound=False + event + throw; recovers once the target exists', async () => {
    const env = setup();
    world(env, { ready: 0 });
    env.cluster.remove(DEPLOYMENTS, NS, 'web');
    await assert.rejects(env.reconciler.reconcile(REQ), ScaleTargetNotFoundError);
    let es = getEs(env);
    const found = es.status?.conditions?.find((c) => c.type === 'ScaleTargetFound');
    assert.equal(found?.status, 'False');
    assert.equal(found?.reason, 'ScaleTargetNotFound');
    assert.equal(es.status?.conditions?.find((c) => c.type === 'SpecValid')?.status, 'True');
    assert.deepEqual(env.events.reasons(), ['ScaleTargetNotFound']);
    assert.equal(env.events.events[0]?.type, 'Warning');

    env.cluster.put(DEPLOYMENTS, deployment(NS, 'web', 1));
    await env.reconciler.reconcile(REQ);
    es = getEs(env);
    assert.equal(es.status?.conditions?.find((c) => c.type === 'ScaleTargetFound')?.status, 'True');
    assert.equal(es.status?.mode, 'proxy');
  });

  it('target missing: its watch is registered anyway, and its creation enqueues the ElastiService', async () => {
    const env = setup();
    world(env, { ready: 0 });
    env.cluster.remove(DEPLOYMENTS, NS, 'web');
    env.manager.missing.add(`deployments/${NS}/web`);
    await assert.rejects(env.reconciler.reconcile(REQ), ScaleTargetNotFoundError);
    const targetKey = 'web-es/shop/deployments.apps/web';
    assert.deepEqual(env.manager.keys(), [targetKey]);
    assert.equal(env.manager.allowMissing.get(targetKey), true);
    env.enqueued.length = 0;
    const created = env.cluster.put(DEPLOYMENTS, deployment(NS, 'web', 1));
    env.manager.missing.clear();
    assert.equal(env.manager.fireAdd('deployments', NS, 'web', created), 1);
    assert.deepEqual(env.enqueued, [KEY]);
  });

  it('legacy kind "deployments" watches deployments.apps', async () => {
    const env = setup();
    world(env, {
      ready: 0,
      es: elastiService(NS, 'web-es', {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'deployments', name: 'web' },
      }),
    });
    await env.reconciler.reconcile(REQ);
    assert.equal(getEs(env).status?.mode, 'proxy');
    assert.ok(env.manager.keys().includes('web-es/shop/deployments.apps/web'));
  });

  it('a changed scaleTargetRef stops the old watch and starts the new one', async () => {
    const env = setup();
    world(env, { ready: 0 });
    env.cluster.put(DEPLOYMENTS, deployment(NS, 'api', 1, 'api'));
    env.cluster.put(resources.pods.gvr, pod(NS, 'api-0', 'api', true));
    await env.reconciler.reconcile(REQ);
    const es = getEs(env);
    es.spec.scaleTargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' };
    env.cluster.put(ELASTI_GVR, es);
    await env.reconciler.reconcile(REQ);
    assert.deepEqual(env.manager.keys(), ['web-es/shop/deployments.apps/api', 'web-es/shop/services/web']);
    assert.equal(getEs(env).status?.mode, 'serve');
  });

  it('a changed spec.service removes the old service objects and fronts the new one', async () => {
    const env = setup();
    world(env, { ready: 0 });
    env.cluster.put(resources.services.gvr, service(NS, 'web2', { app: 'web' }));
    await env.reconciler.reconcile(REQ);
    const es = getEs(env);
    es.spec.service = 'web2';
    env.cluster.put(ELASTI_GVR, es);
    await env.reconciler.reconcile(REQ);
    assert.equal(env.cluster.peek(resources.services.gvr, NS, PVT), undefined);
    assert.equal(env.cluster.peek(resources.endpointSlices.gvr, NS, SLICE), undefined);
    assert.ok(env.cluster.peek(resources.services.gvr, NS, privateServiceName('web2')));
    assert.ok(env.cluster.peek(resources.endpointSlices.gvr, NS, endpointSliceToResolverName('web2')));
    assert.equal(env.directory.get(`${NS}/web`), undefined);
    assert.equal(env.directory.get(`${NS}/web2`)?.crdName, 'web-es');
    assert.deepEqual(env.manager.keys(), ['web-es/shop/deployments.apps/web', 'web-es/shop/services/web2']);
  });

  it('a conflicting finalizer write is thrown (retried by the queue)', async () => {
    const env = setup();
    world(env, { ready: 0 });
    env.cluster.failNext(
      'patch',
      'elastiservices',
      new KubeApiError({ status: 409, verb: 'patch', url: 'fake://', reason: 'Conflict' }),
    );
    await assert.rejects(env.reconciler.reconcile(REQ), { name: 'KubeApiError', status: 409 });
    await env.reconciler.reconcile(REQ);
    assert.equal(getEs(env).status?.mode, 'proxy');
  });
});

describe('ElastiServiceReconciler: deletion', () => {
  it('finalizes: watches stopped, objects deleted, directory entry removed, finalizer removed, object gone', async () => {
    const env = setup();
    world(env, { ready: 0 });
    await env.reconciler.reconcile(REQ);
    await env.cluster.delete(ELASTI_GVR, NS, 'web-es');
    assert.ok(getEs(env).metadata.deletionTimestamp, 'held by the finalizer');
    await env.reconciler.reconcile(REQ);
    assert.equal(env.cluster.peek(ELASTI_GVR, NS, 'web-es'), undefined);
    assert.equal(env.cluster.peek(resources.services.gvr, NS, PVT), undefined);
    assert.equal(env.cluster.peek(resources.endpointSlices.gvr, NS, SLICE), undefined);
    assert.ok(env.cluster.peek(resources.services.gvr, NS, 'web'), 'public service untouched');
    assert.deepEqual(env.manager.keys(), []);
    assert.equal(env.directory.list().length, 0);
    assert.deepEqual(env.reconciler.heldKeys(), []);
    // The deletion event then reconciles a missing object: nothing to do, no error.
    assert.deepEqual(await env.reconciler.reconcile(REQ), {});
  });

  it('keeps other finalizers', async () => {
    const env = setup();
    const es = elastiService(NS, 'web-es');
    es.metadata.finalizers = ['example.com/keep'];
    world(env, { ready: 0, es });
    await env.reconciler.reconcile(REQ);
    await env.cluster.delete(ELASTI_GVR, NS, 'web-es');
    await env.reconciler.reconcile(REQ);
    assert.deepEqual(getEs(env).metadata.finalizers, ['example.com/keep']);
  });

  it('a failed cleanup records an event and throws; the finalizer stays until it succeeds', async () => {
    const env = setup();
    world(env, { ready: 0 });
    await env.reconciler.reconcile(REQ);
    await env.cluster.delete(ELASTI_GVR, NS, 'web-es');
    env.cluster.failNext(
      'delete',
      'services',
      new KubeApiError({ status: 500, verb: 'delete', url: 'fake://' }),
    );
    await assert.rejects(env.reconciler.reconcile(REQ), { status: 500 });
    assert.deepEqual(getEs(env).metadata.finalizers, [ELASTI_FINALIZER]);
    assert.ok(env.events.reasons().includes('FinalizeFailed'));
    await env.reconciler.reconcile(REQ);
    assert.equal(env.cluster.peek(ELASTI_GVR, NS, 'web-es'), undefined);
  });

  it('onFinalize runs on deletion; while it fails the finalizer stays', async () => {
    const env = setup();
    world(env, { ready: 0 });
    const seen: string[] = [];
    let fail = true;
    const reconciler = new ElastiServiceReconciler({
      client: env.cluster,
      manager: env.manager,
      directory: env.directory,
      resolver: env.resolver,
      events: env.events,
      config: env.config,
      enqueue: () => {},
      onFinalize: async (es) => {
        seen.push(es.metadata.name ?? '');
        if (fail) throw new Error('keda unreachable');
      },
    });
    await reconciler.reconcile(REQ);
    assert.deepEqual(seen, [], 'not called while the ElastiService lives');
    await env.cluster.delete(ELASTI_GVR, NS, 'web-es');
    await assert.rejects(reconciler.reconcile(REQ), /keda unreachable/);
    assert.deepEqual(getEs(env).metadata.finalizers, [ELASTI_FINALIZER]);
    fail = false;
    await reconciler.reconcile(REQ);
    assert.deepEqual(seen, ['web-es', 'web-es']);
    assert.equal(env.cluster.peek(ELASTI_GVR, NS, 'web-es'), undefined);
  });

  it('an invalid ElastiService is finalized too', async () => {
    const env = setup();
    world(env, { es: elastiService(NS, 'web-es', { service: 'Not_Valid' }) });
    await env.reconciler.reconcile(REQ);
    await env.cluster.delete(ELASTI_GVR, NS, 'web-es');
    await env.reconciler.reconcile(REQ);
    assert.equal(env.cluster.peek(ELASTI_GVR, NS, 'web-es'), undefined);
  });

  it('two ElastiServices on the same Service: deleting one keeps the objects for the other', async () => {
    const env = setup();
    world(env, { ready: 0 });
    env.cluster.put(ELASTI_GVR, elastiService(NS, 'web-es2'));
    await env.reconciler.reconcile(REQ);
    await env.reconciler.reconcile({ namespace: NS, name: 'web-es2' });
    const uids = [getEs(env).metadata.uid, getEs(env, 'web-es2').metadata.uid];
    assert.deepEqual(
      env.cluster
        .peek<Service>(resources.services.gvr, NS, PVT)
        ?.metadata.ownerReferences?.map((r) => [r.uid, r.controller]),
      [
        [uids[0], true],
        [uids[1], false],
      ],
    );
    env.enqueued.length = 0;
    await env.cluster.delete(ELASTI_GVR, NS, 'web-es');
    await env.reconciler.reconcile(REQ);
    assert.equal(env.cluster.peek(ELASTI_GVR, NS, 'web-es'), undefined);
    const pvt = env.cluster.peek<Service>(resources.services.gvr, NS, PVT);
    assert.deepEqual(
      pvt?.metadata.ownerReferences?.map((r) => r.uid),
      [uids[1]],
    );
    assert.deepEqual(
      env.cluster
        .peek<EndpointSlice>(resources.endpointSlices.gvr, NS, SLICE)
        ?.metadata.ownerReferences?.map((r) => r.uid),
      [uids[1]],
    );
    assert.deepEqual(env.enqueued, [`${NS}/web-es2`], 'the other one is asked to reconcile');
    assert.deepEqual(env.manager.keys(), ['web-es2/shop/deployments.apps/web', 'web-es2/shop/services/web']);
    await env.reconciler.reconcile({ namespace: NS, name: 'web-es2' });
    assert.equal(env.directory.get(`${NS}/web`)?.crdName, 'web-es2');
  });

  it('a recreated ElastiService (new uid, same name) starts afresh', async () => {
    const env = setup();
    world(env, { ready: 0 });
    await env.reconciler.reconcile(REQ);
    env.cluster.remove(ELASTI_GVR, NS, 'web-es');
    env.cluster.put(ELASTI_GVR, elastiService(NS, 'web-es'));
    await env.reconciler.reconcile(REQ);
    const es = getEs(env);
    assert.ok(
      env.cluster
        .peek<Service>(resources.services.gvr, NS, PVT)
        ?.metadata.ownerReferences?.some((r) => r.uid === es.metadata.uid),
      'the new object owns the private service',
    );
  });
});

describe('ElastiServiceReconciler: watch handlers and releaseWatches', () => {
  it('the registered handlers enqueue the ElastiService key', async () => {
    const env = setup();
    world(env, { ready: 0 });
    await env.reconciler.reconcile(REQ);
    env.enqueued.length = 0;
    assert.equal(env.manager.fireUpdate('deployments', NS, 'web', deployment(NS, 'web', 1)), 1);
    assert.equal(env.manager.fireUpdate('services', NS, 'web', service(NS, 'web', {})), 1);
    assert.deepEqual(env.enqueued, [KEY, KEY]);
  });

  it('resolverChanged enqueues every ElastiService not known to be in serve mode', async () => {
    const env = setup();
    world(env, { ready: 1 });
    await env.reconciler.reconcile(REQ);
    env.cluster.put(DEPLOYMENTS, deployment(NS, 'api', 1, 'api'));
    env.cluster.put(
      ELASTI_GVR,
      elastiService(NS, 'api-es', {
        service: 'api',
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' },
      }),
    );
    env.cluster.put(resources.services.gvr, service(NS, 'api', { app: 'api' }));
    await env.reconciler.reconcile({ namespace: NS, name: 'api-es' });
    env.reconciler.resolverChanged();
    assert.deepEqual(env.enqueued, [`${NS}/api-es`]);
  });

  it('releaseWatches stops every registration', async () => {
    const env = setup();
    world(env, { ready: 0 });
    await env.reconciler.reconcile(REQ);
    await env.reconciler.releaseWatches();
    assert.deepEqual(env.manager.keys(), []);
    assert.deepEqual(env.reconciler.heldKeys(), []);
  });
});
