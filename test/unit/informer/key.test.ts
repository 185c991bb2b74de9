import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidRequestWatchError } from '../../../src/informer/errors.ts';
import {
  getKey,
  keyOf,
  legacyKeyOf,
  parseKey,
  resourceTypeOf,
  validateRequestWatch,
} from '../../../src/informer/key.ts';
import type { RequestWatch } from '../../../src/informer/types.ts';

function request(overrides: Partial<RequestWatch> = {}): RequestWatch {
  return {
    req: { name: 'My-ES', namespace: 'team-a' },
    resourceName: 'web',
    resourceNamespace: 'team-a',
    groupVersionResource: { group: 'apps', version: 'v1', resource: 'deployments' },
    handlers: {},
    ...overrides,
  };
}

describe('registration keys', () => {
  it('getKey is upstream format: crdname/namespace/resourcetype/resourcename, lower-cased', () => {
    assert.equal(
      getKey({ crdName: 'My-ES', namespace: 'Team-A', resourceType: 'Services', resourceName: 'Web' }),
      'my-es/team-a/services/web',
    );
  });

  it('core resources keep the bare plural, so core keys equal upstream keys', () => {
    const core = request({ groupVersionResource: { group: '', version: 'v1', resource: 'services' } });
    assert.equal(resourceTypeOf(core.groupVersionResource), 'services');
    assert.equal(keyOf(core), 'my-es/team-a/services/web');
    assert.equal(keyOf(core), legacyKeyOf(core));
  });

  it('named groups are part of the key, so equal plurals in different groups never collide', () => {
    const apps = request();
    const crd = request({
      groupVersionResource: { group: 'example.com', version: 'v1', resource: 'deployments' },
    });
    assert.equal(keyOf(apps), 'my-es/team-a/deployments.apps/web');
    assert.equal(keyOf(crd), 'my-es/team-a/deployments.example.com/web');
    assert.notEqual(keyOf(apps), keyOf(crd));
    // ...while both share the upstream spelling, which is why stopInformer resolves it only when unique.
    assert.equal(legacyKeyOf(apps), legacyKeyOf(crd));
    assert.equal(legacyKeyOf(apps), 'my-es/team-a/deployments/web');
  });

  it('the version is not part of the key', () => {
    const v1 = request();
    const v1beta1 = request({
      groupVersionResource: { group: 'apps', version: 'v1beta1', resource: 'deployments' },
    });
    assert.equal(keyOf(v1), keyOf(v1beta1));
  });

  it('parseKey splits a four-part key and refuses others', () => {
    assert.deepEqual(parseKey('a/b/c.d/e'), {
      crdName: 'a',
      namespace: 'b',
      resourceType: 'c.d',
      resourceName: 'e',
    });
    assert.equal(parseKey('a/b/c'), undefined);
    assert.equal(parseKey('a/b/c/d/e'), undefined);
  });

  it('cluster-scoped targets have an empty namespace part', () => {
    const r = request({
      resourceNamespace: '',
      groupVersionResource: { group: '', version: 'v1', resource: 'nodes' },
    });
    assert.equal(keyOf(r), 'my-es//nodes/web');
  });
});

describe('validateRequestWatch', () => {
  it('accepts a well-formed request', () => {
    assert.doesNotThrow(() => validateRequestWatch(request()));
  });

  const bad: [string, unknown][] = [
    ['requestWatch', null],
    ['req', { ...request(), req: undefined }],
    ['req.name', { ...request(), req: { name: '', namespace: 'a' } }],
    ['req.name', { ...request(), req: { name: 'a/b', namespace: 'a' } }],
    ['req.namespace', { ...request(), req: { name: 'a', namespace: 'Not_A_Namespace' } }],
    ['resourceName', { ...request(), resourceName: '' }],
    ['resourceName', { ...request(), resourceName: 'x/y' }],
    ['resourceName', { ...request(), resourceName: 'a,b' }],
    ['resourceName', { ...request(), resourceName: 'a=b' }],
    ['resourceName', { ...request(), resourceName: '..' }],
    ['resourceNamespace', { ...request(), resourceNamespace: 'UPPER' }],
    ['resourceNamespace', { ...request(), resourceNamespace: undefined }],
    ['groupVersionResource', { ...request(), groupVersionResource: 'apps/v1/deployments' }],
    [
      'groupVersionResource.group',
      { ...request(), groupVersionResource: { group: 'A/B', version: 'v1', resource: 'x' } },
    ],
    [
      'groupVersionResource.version',
      { ...request(), groupVersionResource: { group: '', version: '', resource: 'x' } },
    ],
    [
      'groupVersionResource.resource',
      { ...request(), groupVersionResource: { group: '', version: 'v1', resource: 'a.b' } },
    ],
    ['handlers', { ...request(), handlers: undefined }],
    ['handlers.onAdd', { ...request(), handlers: { onAdd: 'yes' } }],
  ];
  for (const [field, value] of bad) {
    it(`rejects a bad ${field} with a typed error naming it`, () => {
      assert.throws(
        () => validateRequestWatch(value),
        (error: unknown) => error instanceof InvalidRequestWatchError && error.field === field,
      );
    });
  }
});
