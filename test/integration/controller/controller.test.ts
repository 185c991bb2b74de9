/**
 * The ElastiService controller on the full cluster (real kube-controller-manager, kube-scheduler
 * and kwok Nodes), with the real informer Manager, engine and CRD: targets are Deployments whose
 * Pods the cluster creates, schedules, readies and removes by itself when they are scaled; the
 * resolver is a Deployment whose EndpointSlice the real EndpointSlice controller writes. Mode
 * switches and the objects they create, following the public Service and the resolver, deletion,
 * sharing a target, a missing target, legacy kinds, invalid specs and a controller restart. No
 * status is set by hand here. (Namespace deletion and garbage collection: `lifecycle.test.ts`.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ELASTI_FINALIZER } from '../../../src/api/v1alpha1/constants.ts';
import { endpointSliceToResolverName, privateServiceName } from '../../../src/api/v1alpha1/names.ts';
import type { ElastiService } from '../../../src/api/v1alpha1/types.ts';
import { resolveOperatorConfig } from '../../../src/controller/config.ts';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../../src/controller/types.ts';
import { SharedInformer } from '../../../src/kube/cache/informer.ts';
import type { EndpointSlice, Service } from '../../../src/kube/index.ts';
import { resources } from '../../../src/kube/index.ts';
import { testNamespace } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';
import {
  createElastiService,
  createService,
  deploy,
  ELASTI_GVR,
  type Env,
  eventsFor,
  getOrUndefined,
  privateSvc,
  RESOLVER_APP,
  resolverIps,
  scale,
  scaleAndWait,
  setUpCluster,
  slice,
  sliceAddresses,
  startOperator,
  TARGET,
  waitForMode,
  waitForReadyPods,
} from './support.ts';

describe('ElastiService controller on the full cluster', () => {
  it('scaled to 0 → proxy (private Service + EndpointSlice to the resolver); scaled up, Pods Ready → serve (slice gone); scaled to 0, Pods gone → proxy', async (t) => {
    const env = await setUpCluster(t);
    const resolver = await resolverIps(env);
    await deploy(env, 'web', 0);
    await createService(env, 'web', 'web');
    const op = await startOperator(env);
    await createElastiService(env, 'web-es', { service: 'web', scaleTargetRef: TARGET });

    const es = await waitForMode(env, 'web-es', 'proxy');
    assert.deepEqual(es.metadata.finalizers, [ELASTI_FINALIZER]);
    assert.ok(es.status?.lastReconciledTime);
    assert.equal(es.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'ProxyMode');

    const pvtName = privateServiceName('web');
    assert.match(pvtName, /^elasti-web-pvt-[0-9a-f]{10}$/);
    const pvt = await privateSvc(env, 'web');
    assert.ok(pvt, `${pvtName} exists`);
    const pub = await env.client.get<Service>(resources.services.gvr, env.ns, 'web');
    assert.notEqual(pvt.spec?.clusterIP, pub.spec?.clusterIP, 'own cluster IP, not a copy');
    assert.deepEqual(pvt.spec?.selector, { app: 'web' });
    assert.deepEqual(
      pvt.spec?.ports?.map((p) => [p.name, p.port, p.targetPort, p.protocol]),
      [['http', 80, 8080, 'TCP']],
    );
    assert.deepEqual(pvt.metadata.labels, { team: 'shop' });
    assert.deepEqual(
      pvt.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]),
      [['ElastiService', 'web-es', es.metadata.uid, true]],
    );

    const sliceName = endpointSliceToResolverName('web');
    assert.match(sliceName, /^elasti-web-endpointslice-to-resolver-[0-9a-f]{10}$/);
    assert.equal(sliceName.slice(-10), pvtName.slice(-10), 'same hash');
    const toResolver = await slice(env, 'web');
    assert.ok(toResolver, `${sliceName} exists`);
    assert.equal(toResolver.metadata.labels?.['kubernetes.io/service-name'], 'web');
    assert.equal(toResolver.addressType, 'IPv4');
    assert.deepEqual(
      sliceAddresses(toResolver),
      resolver,
      'the resolver Pod IP the EndpointSlice controller lists',
    );
    assert.deepEqual(toResolver.ports, [{ name: 'http', protocol: 'TCP', port: 8012 }]);

    assert.equal(op.directory.get(`${env.ns}/web`)?.status.mode, 'proxy');
    assert.deepEqual(
      op.manager
        .list()
        .map((r) => r.key)
        .sort(),
      [`web-es/${env.ns}/deployments.apps/web`, `web-es/${env.ns}/services/web`],
    );
    await waitFor(
      async () => (await eventsFor(env, 'web-es')).some((e) => e.reason === 'SwitchedToProxyMode'),
      {
        message: 'SwitchedToProxyMode event',
      },
    );

    await scaleAndWait(env, 'web', 1);
    await waitForMode(env, 'web-es', 'serve');
    await waitFor(async () => (await slice(env, 'web')) === undefined, { message: 'slice deleted' });
    assert.ok(await privateSvc(env, 'web'), 'private service kept in serve mode');
    await waitFor(
      async () => (await eventsFor(env, 'web-es')).some((e) => e.reason === 'SwitchedToServeMode'),
      {
        message: 'SwitchedToServeMode event',
      },
    );

    await scale(env, 'web', 0);
    await waitForMode(env, 'web-es', 'proxy');
    await waitForReadyPods(env, 'web', 0);
    assert.deepEqual(sliceAddresses(await slice(env, 'web')), resolver);
  });

  it('in proxy mode the private Service follows the public Service selector and ports', async (t) => {
    const env = await setUpCluster(t);
    await deploy(env, 'web', 0);
    await createService(env, 'web', 'web');
    await startOperator(env);
    await createElastiService(env, 'web-es', { service: 'web', scaleTargetRef: TARGET });
    await waitForMode(env, 'web-es', 'proxy');

    const pub = await env.client.get<Service>(resources.services.gvr, env.ns, 'web');
    assert.ok(pub.spec);
    pub.spec.selector = { app: 'web', track: 'stable' };
    pub.spec.ports = [
      { name: 'http', port: 81, targetPort: 9090, protocol: 'TCP' },
      { name: 'metrics', port: 9100, targetPort: 9100, protocol: 'TCP' },
    ];
    await env.client.replace(resources.services.gvr, env.ns, 'web', pub);

    const pvt = await waitFor(
      async () => {
        const s = await privateSvc(env, 'web');
        return s?.spec?.ports?.length === 2 ? s : undefined;
      },
      { message: 'private service ports follow' },
    );
    assert.deepEqual(pvt.spec?.selector, { app: 'web', track: 'stable' });
    assert.deepEqual(
      pvt.spec?.ports?.map((p) => [p.name, p.port, p.targetPort]),
      [
        ['http', 81, 9090],
        ['metrics', 9100, 9100],
      ],
    );
  });

  it('the EndpointSlice follows the resolver exactly as the EndpointSlice controller lists it: scaled 1 → 2 → 1', async (t) => {
    const env = await setUpCluster(t, 1);
    const one = await resolverIps(env);
    await deploy(env, 'web', 0);
    await createService(env, 'web', 'web');
    await startOperator(env);
    await createElastiService(env, 'web-es', { service: 'web', scaleTargetRef: TARGET });
    await waitForMode(env, 'web-es', 'proxy');
    assert.deepEqual(sliceAddresses(await slice(env, 'web')), one);

    await scale(env, RESOLVER_APP, 2, env.resolverNs);
    const two = await waitFor(
      async () => ((await resolverIps(env)).length === 2 ? resolverIps(env) : undefined),
      {
        timeoutMs: 60_000,
        message: 'two ready resolver endpoints',
      },
    );
    await waitFor(
      async () =>
        sliceAddresses(await slice(env, 'web'))
          ?.sort()
          .join() === two.join(),
      {
        message: `the slice to list ${two.join()}`,
      },
    );
    await scale(env, RESOLVER_APP, 1, env.resolverNs);
    const back = await waitFor(
      async () => {
        const ips = await resolverIps(env);
        return ips.length === 1 ? ips : undefined;
      },
      { timeoutMs: 60_000, message: 'back to one ready resolver endpoint' },
    );
    await waitFor(async () => sliceAddresses(await slice(env, 'web'))?.join() === back.join(), {
      message: `the slice to list only ${back.join()}`,
    });
  });

  it('deleting the ElastiService removes its objects, watches, finalizer and then the object', async (t) => {
    const env = await setUpCluster(t);
    await deploy(env, 'web', 0);
    await createService(env, 'web', 'web');
    const op = await startOperator(env);
    await createElastiService(env, 'web-es', { service: 'web', scaleTargetRef: TARGET });
    await waitForMode(env, 'web-es', 'proxy');
    assert.ok(await slice(env, 'web'));

    await env.client.delete(ELASTI_GVR, env.ns, 'web-es');
    await waitFor(async () => (await getOrUndefined(env, ELASTI_GVR, 'web-es')) === undefined, {
      message: 'ElastiService gone',
    });
    assert.equal(await privateSvc(env, 'web'), undefined);
    assert.equal(await slice(env, 'web'), undefined);
    assert.ok(await getOrUndefined(env, resources.services.gvr, 'web'), 'public service untouched');
    assert.deepEqual(
      op.manager.list().filter((r) => r.requester.name === 'web-es'),
      [],
    );
    assert.equal(op.directory.list().length, 0);
  });

  it('two ElastiServices on the same target: deleting one leaves the other working', async (t) => {
    const env = await setUpCluster(t);
    await deploy(env, 'web', 0);
    await createService(env, 'web-a', 'web');
    await createService(env, 'web-b', 'web');
    const op = await startOperator(env);
    await createElastiService(env, 'es-a', { service: 'web-a', scaleTargetRef: TARGET });
    await createElastiService(env, 'es-b', { service: 'web-b', scaleTargetRef: TARGET });
    await waitForMode(env, 'es-a', 'proxy');
    await waitForMode(env, 'es-b', 'proxy');

    await env.client.delete(ELASTI_GVR, env.ns, 'es-a');
    await waitFor(async () => (await getOrUndefined(env, ELASTI_GVR, 'es-a')) === undefined, {
      message: 'es-a gone',
    });
    assert.equal(await slice(env, 'web-a'), undefined);
    assert.equal(await privateSvc(env, 'web-a'), undefined);
    assert.ok(await slice(env, 'web-b'), 'es-b keeps its slice');
    assert.ok(await privateSvc(env, 'web-b'), 'es-b keeps its private service');
    assert.deepEqual(
      op.manager
        .list()
        .map((r) => r.requester.name)
        .sort(),
      ['es-b', 'es-b'],
    );

    // es-b still follows its target, through the watch the two shared.
    await scaleAndWait(env, 'web', 1);
    await waitForMode(env, 'es-b', 'serve');
    await waitFor(async () => (await slice(env, 'web-b')) === undefined, { message: 'es-b slice deleted' });
    await scale(env, 'web', 0);
    await waitForMode(env, 'es-b', 'proxy');
  });

  it('two ElastiServices on the same Service: deleting one keeps the shared objects for the other', async (t) => {
    const env = await setUpCluster(t);
    await deploy(env, 'web', 0);
    await createService(env, 'web', 'web');
    await startOperator(env);
    await createElastiService(env, 'es-a', { service: 'web', scaleTargetRef: TARGET });
    await waitForMode(env, 'es-a', 'proxy');
    await createElastiService(env, 'es-b', { service: 'web', scaleTargetRef: TARGET });
    const b = await waitForMode(env, 'es-b', 'proxy');

    await env.client.delete(ELASTI_GVR, env.ns, 'es-a');
    await waitFor(async () => (await getOrUndefined(env, ELASTI_GVR, 'es-a')) === undefined, {
      message: 'es-a gone',
    });
    const pvt = await privateSvc(env, 'web');
    assert.ok(pvt, 'shared private service kept');
    assert.deepEqual(
      pvt.metadata.ownerReferences?.map((r) => r.uid),
      [b.metadata.uid],
    );
    assert.ok(await slice(env, 'web'), 'shared slice kept');
    await scaleAndWait(env, 'web', 1);
    await waitForMode(env, 'es-b', 'serve');
  });

  it('a valid ElastiService whose target does not exist: condition + Event, recovers once it is created', async (t) => {
    const env = await setUpCluster(t);
    await createService(env, 'web', 'web');
    await startOperator(env);
    await createElastiService(env, 'web-es', { service: 'web', scaleTargetRef: TARGET });

    const es = await waitFor(
      async () => {
        const e = await env.client.get<ElastiService>(ELASTI_GVR, env.ns, 'web-es');
        return e.status?.conditions?.some((c) => c.type === 'ScaleTargetFound' && c.status === 'False')
          ? e
          : undefined;
      },
      { message: 'ScaleTargetFound=False' },
    );
    assert.equal(
      es.status?.conditions?.find((c) => c.type === 'ScaleTargetFound')?.reason,
      'ScaleTargetNotFound',
    );
    assert.equal(es.status?.conditions?.find((c) => c.type === 'SpecValid')?.status, 'True');
    const warning = await waitFor(
      async () => (await eventsFor(env, 'web-es')).find((e) => e.reason === 'ScaleTargetNotFound'),
      { message: 'ScaleTargetNotFound event' },
    );
    assert.equal(warning.type, 'Warning');
    assert.match(warning.message, /Deployment .*\/web not found/);

    await deploy(env, 'web', 0);
    const recovered = await waitForMode(env, 'web-es', 'proxy');
    assert.equal(recovered.status?.conditions?.find((c) => c.type === 'ScaleTargetFound')?.status, 'True');
    // Retries were aggregated into one Event rather than one per attempt.
    const notFound = (await eventsFor(env, 'web-es')).filter((e) => e.reason === 'ScaleTargetNotFound');
    assert.equal(notFound.length, 1);
  });

  it('an ElastiService created before its target converges on the creation event, not the retry backoff', async (t) => {
    const base = await setUpCluster(t);
    // First retry a minute away: only the target's creation event can reconcile it sooner.
    const env: Env = {
      ...base,
      config: resolveOperatorConfig({
        watchNamespace: base.ns,
        resolver: { namespace: base.resolverNs },
        drainTimeoutMs: 5_000,
        queue: { baseDelayMs: 60_000 },
      }),
    };
    await createService(env, 'web', 'web');
    const running = await startOperator(env);
    await createElastiService(env, 'web-es', { service: 'web', scaleTargetRef: TARGET });
    await waitFor(
      async () => {
        const e = await env.client.get<ElastiService>(ELASTI_GVR, env.ns, 'web-es');
        return e.status?.conditions?.some((c) => c.type === 'ScaleTargetFound' && c.status === 'False');
      },
      { message: 'ScaleTargetFound=False' },
    );
    assert.ok(
      running.manager.list().some((r) => r.name === 'web' && r.requester.name === 'web-es'),
      'the target is watched although it does not exist',
    );
    const created = Date.now();
    await deploy(env, 'web', 0);
    await waitFor(
      async () =>
        (await env.client.get<ElastiService>(ELASTI_GVR, env.ns, 'web-es')).status?.mode === 'proxy',
      { timeoutMs: 20_000, message: 'proxy mode well before the one-minute retry' },
    );
    assert.ok(Date.now() - created < 20_000);
  });

  it('legacy kind "deployments" works', async (t) => {
    const env = await setUpCluster(t);
    await deploy(env, 'web', 0);
    await createService(env, 'web', 'web');
    const op = await startOperator(env);
    await createElastiService(env, 'web-es', {
      service: 'web',
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'deployments', name: 'web' },
    });
    await waitForMode(env, 'web-es', 'proxy');
    assert.ok(op.manager.list().some((r) => r.key === `web-es/${env.ns}/deployments.apps/web`));
    await scaleAndWait(env, 'web', 1);
    await waitForMode(env, 'web-es', 'serve');
  });

  it('a 60-character spec.service converges with the derived names cut as upstream v0.1.30 (PR #295); probeResponse is kept', async (t) => {
    const env = await setUpCluster(t);
    const longName = `web-${'x'.repeat(52)}-end`; // 60 characters: whole, it would not fit elasti-…-pvt-<hash>
    assert.equal(longName.length, 60);
    await deploy(env, 'web', 0);
    await createService(env, longName, 'web');
    const op = await startOperator(env);
    const probeResponse = [
      {
        path: { type: 'Exact' as const, value: '/healthz' },
        method: 'GET' as const,
        response: { status: 200 as const, body: 'ok' },
      },
    ];
    await createElastiService(env, 'long-es', { service: longName, scaleTargetRef: TARGET, probeResponse });

    const es = await waitForMode(env, 'long-es', 'proxy');
    assert.equal(es.status?.conditions?.find((c) => c.type === 'SpecValid')?.status, 'True');
    assert.deepEqual(
      es.spec.probeResponse,
      probeResponse,
      'the API server keeps probeResponse (in the schema)',
    );
    const pvtName = privateServiceName(longName);
    assert.equal(pvtName.length, 63);
    assert.match(pvtName, new RegExp(`^elasti-${longName.slice(0, 41)}-pvt-[0-9a-f]{10}$`));
    const pvt = await privateSvc(env, longName);
    assert.ok(pvt, `${pvtName} exists`);
    assert.deepEqual(pvt.spec?.selector, { app: 'web' });
    const toResolver = await slice(env, longName);
    assert.ok(toResolver, `${endpointSliceToResolverName(longName)} exists`);
    assert.equal(toResolver.metadata.labels?.['kubernetes.io/service-name'], longName);

    await scaleAndWait(env, 'web', 1);
    await waitForMode(env, 'long-es', 'serve');
    await waitFor(async () => (await slice(env, longName)) === undefined, { message: 'slice deleted' });
    assert.equal(op.directory.get(`${env.ns}/${longName}`)?.status.mode, 'serve');
  });

  it('an invalid spec the CRD schema lets through: SpecValid=False + Warning Event, no objects', async (t) => {
    const env = await setUpCluster(t);
    await createService(env, 'web', 'web');
    const op = await startOperator(env);
    await createElastiService(env, 'web-es', {
      service: 'web',
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Rollout', name: 'web' },
    });
    const es = await waitFor(
      async () => {
        const e = await env.client.get<ElastiService>(ELASTI_GVR, env.ns, 'web-es');
        return e.status?.conditions?.some((c) => c.type === 'SpecValid' && c.status === 'False')
          ? e
          : undefined;
      },
      { message: 'SpecValid=False' },
    );
    assert.match(es.status?.conditions?.find((c) => c.type === 'SpecValid')?.message ?? '', /argoproj\.io/);
    const event = await waitFor(
      async () => (await eventsFor(env, 'web-es')).find((e) => e.reason === 'InvalidSpec'),
      {
        message: 'InvalidSpec event',
      },
    );
    assert.equal(event.type, 'Warning');
    assert.equal(await privateSvc(env, 'web'), undefined);
    assert.deepEqual(op.manager.list(), []);
    assert.equal(op.controller.ready, true, 'controller still running');
  });

  it('restart with ElastiServices in proxy and serve modes: no duplicate objects, no mode flapping', async (t) => {
    const env = await setUpCluster(t);
    await deploy(env, 'idle', 0);
    // Ready before its ElastiService exists, so serve is the first and only mode it reports.
    await deploy(env, 'busy', 1);
    await waitForReadyPods(env, 'busy', 1);
    await createService(env, 'idle', 'idle');
    await createService(env, 'busy', 'busy');
    const first = await startOperator(env);
    await createElastiService(env, 'idle-es', {
      service: 'idle',
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'idle' },
    });
    await createElastiService(env, 'busy-es', {
      service: 'busy',
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'busy' },
    });
    await waitForMode(env, 'idle-es', 'proxy');
    await waitForMode(env, 'busy-es', 'serve');
    const pvtBefore = await privateSvc(env, 'idle');
    const sliceBefore = await slice(env, 'idle');
    assert.ok(pvtBefore && sliceBefore);
    await first.stop();

    // Every mode the ElastiServices report from now on.
    const modes: string[] = [];
    const watcher = new SharedInformer<ElastiService>({
      lw: env.client,
      target: { gvr: ELASTI_GVR, namespace: env.ns },
    });
    watcher.addEventHandler({
      onUpdate: (_old, es) => void modes.push(`${es.metadata.name}:${es.status?.mode ?? 'none'}`),
    });
    watcher.start();
    env.teardown.push(() => watcher.stop());
    await watcher.waitForSync();

    // Reconciles stamp lastReconciledTime at second precision: wait until the clock is past the
    // stamps already written (as the watcher holds them: the first operator may have reconciled
    // again after the modes were reached), so the restart's reconciles are visible as changes.
    const stampsBefore = new Map(
      watcher.store.list().map((es) => [es.metadata.name ?? '', es.status?.lastReconciledTime ?? '']),
    );
    const latestStamp = [...stampsBefore.values()].sort().at(-1);
    await waitFor(() => `${new Date().toISOString().slice(0, 19)}Z` > (latestStamp ?? ''), {
      timeoutMs: 5_000,
      message: 'clock past the last status stamp',
    });
    const second = await startOperator(env);
    for (const name of ['idle-es', 'busy-es']) {
      await waitFor(
        async () => {
          const es = await env.client.get<ElastiService>(ELASTI_GVR, env.ns, name);
          return es.status?.lastReconciledTime !== stampsBefore.get(name);
        },
        { message: `${name} reconciled after restart` },
      );
    }
    assert.equal((await env.client.get<ElastiService>(ELASTI_GVR, env.ns, 'idle-es')).status?.mode, 'proxy');
    assert.equal((await env.client.get<ElastiService>(ELASTI_GVR, env.ns, 'busy-es')).status?.mode, 'serve');
    // The GETs above can see a status before the watcher's event for it is delivered.
    await waitFor(() => ['idle-es:', 'busy-es:'].every((p) => modes.some((m) => m.startsWith(p))), {
      message: 'the watcher saw both status updates',
    });
    assert.deepEqual(
      [...new Set(modes)].sort(),
      ['busy-es:serve', 'idle-es:proxy'],
      'no other mode was ever reported',
    );

    const pvtAfter = await privateSvc(env, 'idle');
    const sliceAfter = await slice(env, 'idle');
    assert.equal(pvtAfter?.metadata.uid, pvtBefore.metadata.uid, 'private service not recreated');
    assert.equal(
      pvtAfter?.metadata.resourceVersion,
      pvtBefore.metadata.resourceVersion,
      'private service not rewritten',
    );
    assert.equal(sliceAfter?.metadata.uid, sliceBefore.metadata.uid, 'slice not recreated');
    assert.equal(
      sliceAfter?.metadata.resourceVersion,
      sliceBefore.metadata.resourceVersion,
      'slice not rewritten',
    );
    assert.equal(await privateSvc(env, 'busy'), undefined);
    assert.equal(await slice(env, 'busy'), undefined);
    const services = await env.client.list<Service>({ gvr: resources.services.gvr, namespace: env.ns });
    assert.deepEqual(
      services.items.map((s) => s.metadata.name).sort(),
      ['busy', 'idle', privateServiceName('idle')].sort(),
    );
    // The operator's slices (the EndpointSlice controller keeps its own for each Service too).
    const slices = await env.client.list<EndpointSlice>({
      gvr: resources.endpointSlices.gvr,
      namespace: env.ns,
      labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
    });
    assert.deepEqual(
      slices.items.map((s) => s.metadata.name),
      [endpointSliceToResolverName('idle')],
    );
    for (const name of ['idle-es', 'busy-es']) {
      const switches = (await eventsFor(env, name)).filter((e) => e.reason.startsWith('SwitchedTo'));
      assert.equal(switches.length, 1, `${name}: one mode-switch event, none for the restart`);
      assert.equal(switches[0]?.count ?? 1, 1);
    }
    assert.equal(second.controller.ready, true);
  });

  it('several watch namespaces: ElastiServices in each are reconciled, one in another namespace is left alone', async (t) => {
    const env = await setUpCluster(t);
    const second: Env = { ...env, ns: await testNamespace(t, 'ctl2', env.cluster) };
    const outside: Env = { ...env, ns: await testNamespace(t, 'ctl3', env.cluster) };
    const config = resolveOperatorConfig({
      ...env.config,
      watchNamespace: `${second.ns},${env.ns}`,
    });
    for (const e of [env, second, outside]) {
      await deploy(e, 'web', 0);
      await createService(e, 'web', 'web');
    }
    await startOperator({ ...env, config });
    for (const e of [env, second, outside]) {
      await createElastiService(e, 'web-es', { service: 'web', scaleTargetRef: TARGET });
    }
    await waitForMode(env, 'web-es', 'proxy');
    await waitForMode(second, 'web-es', 'proxy');
    assert.ok(await slice(second, 'web'), 'the EndpointSlice to the resolver exists in the second namespace');
    // Both watched ElastiServices were reconciled after the unwatched one was created, so any
    // reconcile of it would have happened by now.
    const ignored = await outside.client.get<ElastiService>(ELASTI_GVR, outside.ns, 'web-es');
    assert.equal(ignored.status, undefined, 'no status on the unwatched ElastiService');
    assert.deepEqual(ignored.metadata.finalizers ?? [], [], 'no finalizer on the unwatched ElastiService');
    assert.equal(await privateSvc(outside, 'web'), undefined);
  });
});
