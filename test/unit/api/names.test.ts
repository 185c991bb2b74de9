import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  endpointSliceToResolverName,
  MAX_SERVICE_NAME_FOR_PRIVATE_SERVICE,
  privateServiceName,
  serviceNameHash,
} from '../../../src/api/v1alpha1/names.ts';

// Published SHA-256 test vectors: sha256("abc") = ba7816bf8f01cfea..., sha256("hello") = 2cf24dba5fb0a30e...
describe('derived names', () => {
  it('hashes the service name with SHA-256 and keeps 10 lower-case hex characters', () => {
    assert.equal(serviceNameHash('abc'), 'ba7816bf8f');
    assert.equal(serviceNameHash('hello'), '2cf24dba5f');
  });

  it('builds the private service name as elasti-<svc>-pvt-<hash>', () => {
    assert.equal(privateServiceName('abc'), 'elasti-abc-pvt-ba7816bf8f');
    assert.equal(privateServiceName('hello'), 'elasti-hello-pvt-2cf24dba5f');
  });

  it('builds the endpoint slice name as elasti-<svc>-endpointslice-to-resolver-<hash>', () => {
    assert.equal(endpointSliceToResolverName('abc'), 'elasti-abc-endpointslice-to-resolver-ba7816bf8f');
  });

  it('keeps the private name within 63 characters exactly up to the documented service length', () => {
    assert.equal(MAX_SERVICE_NAME_FOR_PRIVATE_SERVICE, 41);
    assert.equal(privateServiceName('a'.repeat(41)).length, 63);
    assert.equal(privateServiceName('a'.repeat(42)).length, 64);
  });
});
