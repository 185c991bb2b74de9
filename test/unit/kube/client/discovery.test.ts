/** Discovery caching and well-known resources, with an in-memory DiscoveryClient. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Discovery,
  type DiscoveryClient,
  parseApiVersion,
  UnknownKindError,
} from '../../../../src/kube/client/discovery.ts';
import { KubeApiError } from '../../../../src/kube/core/errors.ts';
import { isCrdEstablished, resources, wellKnown } from '../../../../src/kube/core/resources.ts';

class FakeDiscovery implements DiscoveryClient {
  readonly docs = new Map<string, unknown>();
  readonly calls: string[] = [];
  async request<T>(_method: 'GET', path: string): Promise<T> {
    this.calls.push(path);
    const doc = this.docs.get(path);
    if (!doc) throw new KubeApiError({ status: 404, verb: 'get', url: path, body: { reason: 'NotFound' } });
    return structuredClone(doc) as T;
  }
}

const appsV1 = {
  kind: 'APIResourceList',
  groupVersion: 'apps/v1',
  resources: [
    {
      name: 'deployments',
      namespaced: true,
      kind: 'Deployment',
      verbs: ['get', 'list', 'watch'],
      shortNames: ['deploy'],
    },
    { name: 'deployments/scale', namespaced: true, kind: 'Scale', verbs: ['get'] },
    { name: 'deployments/status', namespaced: true, kind: 'Deployment', verbs: ['get'] },
  ],
};
const coreV1 = {
  kind: 'APIResourceList',
  groupVersion: 'v1',
  resources: [{ name: 'namespaces', namespaced: false, kind: 'Namespace', verbs: ['list'] }],
};

describe('Discovery', () => {
  it('resolves kinds to GVR and scope, skipping subresources', async () => {
    const client = new FakeDiscovery();
    client.docs.set('/apis/apps/v1', appsV1);
    client.docs.set('/api/v1', coreV1);
    const discovery = new Discovery(client);
    const deploy = await discovery.resolve('apps/v1', 'Deployment');
    assert.deepEqual(deploy.gvr, { group: 'apps', version: 'v1', resource: 'deployments' });
    assert.equal(deploy.namespaced, true);
    assert.deepEqual(deploy.shortNames, ['deploy']);
    assert.deepEqual(await discovery.gvrFor('v1', 'Namespace'), {
      group: '',
      version: 'v1',
      resource: 'namespaces',
    });
    assert.equal((await discovery.resolve('v1', 'Namespace')).namespaced, false);
    await assert.rejects(discovery.resolve('apps/v1', 'Scale'), UnknownKindError);
  });

  it('caches per group-version for the TTL', async () => {
    let now = 0;
    const client = new FakeDiscovery();
    client.docs.set('/apis/apps/v1', appsV1);
    const discovery = new Discovery(client, { ttlMs: 1000, now: () => now });
    await Promise.all([discovery.gvrFor('apps/v1', 'Deployment'), discovery.gvrFor('apps/v1', 'Deployment')]);
    assert.equal(client.calls.length, 1, 'concurrent lookups share one fetch');
    now = 999;
    await discovery.gvrFor('apps/v1', 'Deployment');
    assert.equal(client.calls.length, 1);
    now = 1000;
    await discovery.gvrFor('apps/v1', 'Deployment');
    assert.equal(client.calls.length, 2);
  });

  it('refetches on a miss (a CRD installed later), but not more often than minRefreshMs', async () => {
    let now = 0;
    const client = new FakeDiscovery();
    client.docs.set('/apis/example.com/v1', { resources: [] });
    const discovery = new Discovery(client, { minRefreshMs: 100, now: () => now });
    await assert.rejects(discovery.resolve('example.com/v1', 'Widget'), UnknownKindError);
    assert.equal(client.calls.length, 1, 'just fetched: no immediate refetch');
    client.docs.set('/apis/example.com/v1', {
      resources: [{ name: 'widgets', namespaced: true, kind: 'Widget', verbs: [] }],
    });
    await assert.rejects(discovery.resolve('example.com/v1', 'Widget'), UnknownKindError);
    assert.equal(client.calls.length, 1);
    now = 100;
    assert.equal((await discovery.gvrFor('example.com/v1', 'Widget')).resource, 'widgets');
    assert.equal(client.calls.length, 2);
  });

  it('reports a group-version that is not served', async () => {
    const discovery = new Discovery(new FakeDiscovery());
    await assert.rejects(discovery.resolve('nope.io/v9', 'X'), /group-version not served/);
    assert.deepEqual(await discovery.resources('nope.io/v9'), []);
  });

  it('propagates other errors unchanged', async () => {
    const failing: DiscoveryClient = {
      request: async () => {
        throw new KubeApiError({ status: 503, verb: 'get', url: '/apis/x/v1' });
      },
    };
    await assert.rejects(
      new Discovery(failing).resolve('x/v1', 'Y'),
      (e: unknown) => e instanceof KubeApiError && e.status === 503,
    );
  });

  it('parses apiVersions and rejects malformed ones', () => {
    assert.deepEqual(parseApiVersion('v1'), { group: '', version: 'v1' });
    assert.deepEqual(parseApiVersion('apps/v1'), { group: 'apps', version: 'v1' });
    for (const bad of ['', '/v1', 'a/b/c', 'apps/'])
      assert.throws(() => parseApiVersion(bad), TypeError, bad);
  });
});

describe('well-known resources', () => {
  it('maps apiVersion+kind without discovery', () => {
    assert.equal(wellKnown('apps/v1', 'Deployment'), resources.deployments);
    assert.equal(wellKnown('v1', 'ConfigMap')?.gvr.resource, 'configmaps');
    assert.equal(wellKnown('coordination.k8s.io/v1', 'Lease')?.namespaced, true);
    assert.equal(wellKnown('v1', 'Deployment'), undefined);
  });

  it('tells an established CRD', () => {
    assert.ok(
      isCrdEstablished({ metadata: {}, status: { conditions: [{ type: 'Established', status: 'True' }] } }),
    );
    assert.ok(
      !isCrdEstablished({ metadata: {}, status: { conditions: [{ type: 'Established', status: 'False' }] } }),
    );
    assert.ok(!isCrdEstablished({ metadata: {} }));
  });
});
