import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endpointSliceToResolverName, privateServiceName } from '../../../src/api/v1alpha1/names.ts';
import {
  buildResolverSlice,
  compareIPv4,
  deleteResolverSlice,
  ensureResolverSlice,
  readyAddresses,
  updatedSlice,
} from '../../../src/controller/endpointslice.ts';
import { PublicServiceInvalidError } from '../../../src/controller/errors.ts';
import { jsonEqual } from '../../../src/controller/json.ts';
import { hasOwner, ownerReferenceTo, withOwner, withoutOwner } from '../../../src/controller/owners.ts';
import {
  buildPrivateService,
  deletePrivateService,
  ensurePrivateService,
  privatePorts,
  syncedPrivateService,
  syncPrivateServiceIfExists,
} from '../../../src/controller/private-service.ts';
import {
  decideMode,
  describeReadiness,
  evaluateTarget,
  InvalidSelectorError,
  isPodReady,
  selectorToQuery,
} from '../../../src/controller/readiness.ts';
import { releaseOwnedObject } from '../../../src/controller/release.ts';
import { CachedResolverEndpoints } from '../../../src/controller/resolver-endpoints.ts';
import { KubeApiError } from '../../../src/kube/core/errors.ts';
import type { KubeObject } from '../../../src/kube/core/types.ts';
import type { EndpointSlice, Pod, Service } from '../../../src/kube/index.ts';
import { resources } from '../../../src/kube/index.ts';
import { FakeCluster, pod, service } from './fakes.ts';

const owner: KubeObject = {
  apiVersion: 'elasti.truefoundry.com/v1alpha1',
  kind: 'ElastiService',
  metadata: { name: 'es', namespace: 'ns', uid: 'uid-1' },
};
const other: KubeObject = { ...owner, metadata: { name: 'es2', namespace: 'ns', uid: 'uid-2' } };

function slice(addressType: string, endpoints: { addresses: string[]; ready?: boolean }[]): EndpointSlice {
  return {
    metadata: { name: 'x', namespace: 'r' },
    addressType,
    endpoints: endpoints.map((e) => ({
      addresses: e.addresses,
      ...(e.ready === undefined ? {} : { conditions: { ready: e.ready } }),
    })),
  };
}

describe('readiness', () => {
  it('selectorToQuery spells matchLabels and every expression operator', () => {
    assert.equal(
      selectorToQuery({
        matchLabels: { app: 'web', tier: 'fe' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['a', 'b'] },
          { key: 'x', operator: 'NotIn', values: ['c'] },
          { key: 'y', operator: 'Exists' },
          { key: 'z', operator: 'DoesNotExist' },
        ],
      }),
      'app=web,tier=fe,env in (a,b),x notin (c),y,!z',
    );
    assert.equal(selectorToQuery(undefined), undefined);
    assert.equal(selectorToQuery({}), undefined);
    assert.equal(selectorToQuery({ matchLabels: {} }), undefined);
  });

  it('selectorToQuery rejects unknown operators and In without values', () => {
    assert.throws(
      () => selectorToQuery({ matchExpressions: [{ key: 'a', operator: 'Gt' }] }),
      InvalidSelectorError,
    );
    assert.throws(
      () => selectorToQuery({ matchExpressions: [{ key: 'a', operator: 'In' }] }),
      InvalidSelectorError,
    );
  });

  it('isPodReady: Ready=True and not terminating', () => {
    assert.equal(isPodReady(pod('n', 'p', 'a', true) as Pod), true);
    assert.equal(isPodReady(pod('n', 'p', 'a', false) as Pod), false);
    const terminating = pod('n', 'p', 'a', true) as Pod;
    terminating.metadata.deletionTimestamp = '2030-01-01T00:00:00Z';
    assert.equal(isPodReady(terminating), false);
    assert.equal(isPodReady({ metadata: { name: 'p' } }), false, 'no status at all');
  });

  it('decideMode: proxy with no ready pod or when scaled to zero, serve otherwise', () => {
    const target = { metadata: {}, spec: { replicas: 2 }, status: { replicas: 2 } };
    const ready = [pod('n', 'a', 'x', true), pod('n', 'b', 'x', false)] as Pod[];
    const r = evaluateTarget(target, ready);
    assert.deepEqual(r, { specReplicas: 2, statusReplicas: 2, source: 'pods', readyPods: 1, pods: 2 });
    assert.equal(decideMode(r), 'serve');
    assert.equal(decideMode(evaluateTarget(target, [pod('n', 'b', 'x', false) as Pod])), 'proxy');
    assert.equal(decideMode(evaluateTarget(target, [])), 'proxy');
    assert.equal(
      decideMode(evaluateTarget({ metadata: {}, spec: { replicas: 0 }, status: { replicas: 0 } }, ready)),
      'proxy',
    );
    assert.equal(
      decideMode(evaluateTarget({ metadata: {}, spec: { replicas: 0 }, status: { replicas: 1 } }, ready)),
      'serve',
      'scaling down, a pod still serves',
    );
    assert.match(describeReadiness(r), /^1\/2 pods ready \(spec\.replicas 2, status\.replicas 2\)$/);
  });

  it('evaluateTarget without pods uses status.readyReplicas', () => {
    const r = evaluateTarget({ metadata: {}, status: { replicas: 3, readyReplicas: 2 } }, undefined);
    assert.equal(r.source, 'status');
    assert.equal(r.readyPods, 2);
    assert.equal(r.specReplicas, undefined);
    assert.equal(decideMode(r), 'serve');
    assert.equal(decideMode(evaluateTarget({ metadata: {} }, undefined)), 'proxy');
  });
});

describe('owners', () => {
  it('adds an owner once, as controller only if none controls yet; removes by uid', () => {
    const first = withOwner(undefined, owner);
    assert.deepEqual(first, [
      {
        apiVersion: 'elasti.truefoundry.com/v1alpha1',
        kind: 'ElastiService',
        name: 'es',
        uid: 'uid-1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    assert.deepEqual(withOwner(first, owner), first);
    const both = withOwner(first, other);
    assert.deepEqual(
      both.map((r) => [r.uid, r.controller]),
      [
        ['uid-1', true],
        ['uid-2', false],
      ],
    );
    assert.equal(hasOwner(both, other), true);
    assert.deepEqual(
      withoutOwner(both, 'uid-1').map((r) => r.uid),
      ['uid-2'],
    );
    assert.equal(ownerReferenceTo(owner, false).controller, false);
  });
});

describe('private Service', () => {
  it('is a ClusterIP copy of the public Service without allocated fields, owned by the ElastiService', () => {
    const pub = service(
      'ns',
      'web',
      { app: 'web' },
      [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }],
      {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 31000,
        loadBalancerSourceRanges: ['1.2.3.0/24'],
        sessionAffinity: 'ClientIP',
      },
    );
    pub.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': '{}', keep: 'me' };
    const pvt = buildPrivateService(pub as Service, owner);
    assert.equal(pvt.metadata.name, privateServiceName('web'));
    assert.equal(pvt.metadata.namespace, 'ns');
    assert.deepEqual(pvt.metadata.labels, { app: 'web' });
    assert.deepEqual(pvt.metadata.annotations, { keep: 'me' });
    assert.deepEqual(
      pvt.metadata.ownerReferences?.map((r) => r.uid),
      ['uid-1'],
    );
    assert.deepEqual(pvt.spec, {
      type: 'ClusterIP',
      selector: { app: 'web' },
      ports: [{ protocol: 'TCP', name: 'http', port: 80, targetPort: 8080 }],
      sessionAffinity: 'ClientIP',
    });
    assert.equal((pub as Service).spec?.clusterIP, '10.96.0.10', 'the public object is not modified');
  });

  it('privatePorts drops node ports only', () => {
    assert.deepEqual(privatePorts([{ name: 'a', port: 1, nodePort: 30000, appProtocol: 'http' }]), [
      { name: 'a', port: 1, appProtocol: 'http' },
    ]);
    assert.equal(privatePorts(undefined), undefined);
  });

  it('syncedPrivateService: undefined when in line; otherwise selector, ports and owner updated', () => {
    const pub = service('ns', 'web', { app: 'web' }) as Service;
    const pvt = buildPrivateService(pub, owner);
    assert.equal(syncedPrivateService(pvt, pub, owner), undefined);
    const changed = service('ns', 'web', { app: 'v2' }, [{ name: 'http', port: 81 }]) as Service;
    const next = syncedPrivateService(pvt, changed, other);
    assert.deepEqual(next?.spec?.selector, { app: 'v2' });
    assert.deepEqual(next?.spec?.ports, [{ protocol: 'TCP', name: 'http', port: 81 }]);
    assert.deepEqual(
      next?.metadata.ownerReferences?.map((r) => r.uid),
      ['uid-1', 'uid-2'],
    );
    const noSelector = service('ns', 'web', {}) as Service;
    assert.equal(syncedPrivateService(pvt, noSelector, owner)?.spec?.selector, undefined);
  });

  it('ensure creates, then leaves alone, then updates; an AlreadyExists race is synced instead', async () => {
    const cluster = new FakeCluster();
    const pub = cluster.put(resources.services.gvr, service('ns', 'web', { app: 'web' })) as Service;
    assert.equal((await ensurePrivateService(cluster, pub, owner, 'm')).action, 'created');
    assert.equal((await ensurePrivateService(cluster, pub, owner, 'm')).action, 'unchanged');
    const changed = service('ns', 'web', { app: 'v2' }) as Service;
    assert.equal((await ensurePrivateService(cluster, changed, owner, 'm')).action, 'updated');

    const racing = new FakeCluster();
    racing.put(resources.services.gvr, buildPrivateService(pub, other));
    // The first GET misses (as if the other writer had not created it yet), then create collides.
    racing.failNext('get', 'services', new KubeApiError({ status: 404, verb: 'get', url: 'fake://' }));
    const result = await ensurePrivateService(racing, pub, owner, 'm');
    assert.equal(result.action, 'updated', 'adds itself as an owner');
    assert.deepEqual(
      result.service.metadata.ownerReferences?.map((r) => r.uid),
      ['uid-2', 'uid-1'],
    );
  });

  it('syncIfExists does nothing without a private Service; delete reports existence', async () => {
    const cluster = new FakeCluster();
    const pub = service('ns', 'web', { app: 'web' }) as Service;
    assert.equal(await syncPrivateServiceIfExists(cluster, pub, owner, 'm'), undefined);
    assert.equal(cluster.writes().length, 0);
    assert.equal(await deletePrivateService(cluster, 'ns', 'web'), false);
    await ensurePrivateService(cluster, pub, owner, 'm');
    assert.equal(await deletePrivateService(cluster, 'ns', 'web'), true);
    assert.equal(cluster.peek(resources.services.gvr, 'ns', privateServiceName('web')), undefined);
  });
});

describe('EndpointSlice to the resolver', () => {
  it('readyAddresses: IPv4 only, ready unless false, unique, numerically sorted', () => {
    assert.deepEqual(
      readyAddresses([
        slice('IPv4', [
          { addresses: ['10.0.0.10'] },
          { addresses: ['10.0.0.9'], ready: true },
          { addresses: ['10.0.0.8'], ready: false },
        ]),
        slice('IPv4', [{ addresses: ['10.0.0.9', 'not-an-ip'] }]),
        slice('IPv6', [{ addresses: ['fd00::1'] }]),
        slice('FQDN', [{ addresses: ['resolver.example'] }]),
      ]),
      ['10.0.0.9', '10.0.0.10'],
    );
    assert.ok(compareIPv4('9.0.0.1', '10.0.0.0') < 0);
    assert.equal(compareIPv4('1.2.3.4', '1.2.3.4'), 0);
  });

  it('build: name, service-name label, IPv4, one endpoint per IP, first port name on the proxy port', () => {
    const pub = service('ns', 'web', { app: 'web' }, [
      { name: 'http', port: 80 },
      { name: 'grpc', port: 90 },
    ]) as Service;
    const s = buildResolverSlice(pub, owner, ['10.0.0.10', '10.0.0.9'], 8012);
    assert.equal(s.metadata.name, endpointSliceToResolverName('web'));
    assert.equal(s.metadata.labels?.['kubernetes.io/service-name'], 'web');
    assert.equal(s.metadata.labels?.['endpointslice.kubernetes.io/managed-by'], 'elasti.truefoundry.com');
    assert.equal(s.addressType, 'IPv4');
    assert.deepEqual(s.endpoints, [
      { addresses: ['10.0.0.9'], conditions: { ready: true } },
      { addresses: ['10.0.0.10'], conditions: { ready: true } },
    ]);
    assert.deepEqual(s.ports, [{ name: 'http', protocol: 'TCP', port: 8012 }]);
    const unnamed = service('ns', 'web', {}, [{ port: 80 }]) as Service;
    assert.equal(buildResolverSlice(unnamed, owner, [], 8012).ports?.[0]?.name, '');
    const portless = service('ns', 'web', {}, []) as Service;
    assert.throws(() => buildResolverSlice(portless, owner, [], 8012), PublicServiceInvalidError);
  });

  it('updatedSlice: undefined when equal (endpoint order ignored); keeps foreign labels and owners', () => {
    const pub = service('ns', 'web', {}) as Service;
    const desired = buildResolverSlice(pub, owner, ['10.0.0.1', '10.0.0.2'], 8012);
    const existing: EndpointSlice = structuredClone(desired);
    existing.endpoints = [...(existing.endpoints ?? [])].reverse();
    assert.equal(updatedSlice(existing, desired, owner), undefined);
    existing.metadata.labels = { ...existing.metadata.labels, extra: 'x' };
    assert.equal(updatedSlice(existing, desired, owner), undefined, 'extra labels are fine');
    const fewer = buildResolverSlice(pub, owner, ['10.0.0.2'], 8012);
    const next = updatedSlice(existing, fewer, owner);
    assert.deepEqual(
      next?.endpoints?.map((e) => e.addresses[0]),
      ['10.0.0.2'],
    );
    assert.equal(next?.metadata.labels?.extra, 'x');
    assert.ok(updatedSlice(existing, desired, other), 'a missing owner is a change');
    const otherPort = buildResolverSlice(pub, owner, ['10.0.0.1', '10.0.0.2'], 9000);
    assert.ok(updatedSlice(existing, otherPort, owner), 'a port change is a change');
  });

  it('ensure creates, leaves alone, updates; recreates a slice of another address type; delete', async () => {
    const cluster = new FakeCluster();
    const pub = service('ns', 'web', {}) as Service;
    assert.equal((await ensureResolverSlice(cluster, pub, owner, ['10.0.0.1'], 8012, 'm')).action, 'created');
    assert.equal(
      (await ensureResolverSlice(cluster, pub, owner, ['10.0.0.1'], 8012, 'm')).action,
      'unchanged',
    );
    assert.equal((await ensureResolverSlice(cluster, pub, owner, ['10.0.0.2'], 8012, 'm')).action, 'updated');
    const name = endpointSliceToResolverName('web');
    const current = cluster.peek<EndpointSlice>(resources.endpointSlices.gvr, 'ns', name);
    assert.ok(current);
    cluster.put(resources.endpointSlices.gvr, { ...current, addressType: 'IPv6' });
    assert.equal((await ensureResolverSlice(cluster, pub, owner, ['10.0.0.2'], 8012, 'm')).action, 'created');
    assert.equal(cluster.peek<EndpointSlice>(resources.endpointSlices.gvr, 'ns', name)?.addressType, 'IPv4');
    assert.equal(await deleteResolverSlice(cluster, 'ns', 'web'), true);
    assert.equal(await deleteResolverSlice(cluster, 'ns', 'web'), false);
  });
});

describe('releaseOwnedObject', () => {
  it('removes only the given owner; no write when absent or not owned', async () => {
    const cluster = new FakeCluster();
    const pub = service('ns', 'web', {}) as Service;
    const pvt = buildPrivateService(pub, owner);
    pvt.metadata.ownerReferences = withOwner(pvt.metadata.ownerReferences, other);
    cluster.put(resources.services.gvr, pvt);
    const name = privateServiceName('web');
    assert.equal(await releaseOwnedObject(cluster, resources.services.gvr, 'ns', name, 'uid-1', 'm'), true);
    assert.deepEqual(
      cluster.peek<Service>(resources.services.gvr, 'ns', name)?.metadata.ownerReferences?.map((r) => r.uid),
      ['uid-2'],
    );
    cluster.clearCalls();
    assert.equal(await releaseOwnedObject(cluster, resources.services.gvr, 'ns', name, 'uid-1', 'm'), false);
    assert.equal(
      await releaseOwnedObject(cluster, resources.services.gvr, 'ns', 'missing', 'uid-1', 'm'),
      false,
    );
    assert.equal(cluster.writes().length, 0);
  });
});

describe('CachedResolverEndpoints', () => {
  it('undefined until the cache synced, then the ready addresses', () => {
    let synced = false;
    const slices = [slice('IPv4', [{ addresses: ['10.0.0.2'] }, { addresses: ['10.0.0.1'] }])];
    const endpoints = new CachedResolverEndpoints({ hasSynced: () => synced, store: { list: () => slices } });
    assert.equal(endpoints.addresses(), undefined);
    synced = true;
    assert.deepEqual(endpoints.addresses(), ['10.0.0.1', '10.0.0.2']);
  });
});

describe('jsonEqual', () => {
  it('ignores key order and undefined-valued keys, not array order', () => {
    assert.equal(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }), true);
    assert.equal(jsonEqual({ a: 1, x: undefined }, { a: 1 }), true);
    assert.equal(jsonEqual([1, 2], [2, 1]), false);
    assert.equal(jsonEqual({ a: 1 }, { a: 1, b: 2 }), false);
    assert.equal(jsonEqual({ a: [] }, { a: {} }), false);
    assert.equal(jsonEqual(null, {}), false);
    assert.equal(jsonEqual('x', 'x'), true);
  });
});
