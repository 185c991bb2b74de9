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

  it('keeps names of up to 41 characters whole in the private name (63 characters at most)', () => {
    assert.equal(MAX_SERVICE_NAME_FOR_PRIVATE_SERVICE, 41);
    assert.equal(
      privateServiceName('a'.repeat(41)),
      `elasti-${'a'.repeat(41)}-pvt-${serviceNameHash('a'.repeat(41))}`,
    );
    assert.equal(privateServiceName('a'.repeat(41)).length, 63);
  });

  // Expected hashes from `printf %s NAME | sha256sum` (independent of our code); rule of upstream PR #295.
  it('cuts longer names to 41 characters and hashes the FULL name (upstream v0.1.30)', () => {
    const sixty = 'a'.repeat(60);
    assert.equal(privateServiceName(sixty), `elasti-${'a'.repeat(41)}-pvt-11ee391211`);
    assert.equal(privateServiceName(sixty).length, 63);
    const long = 'checkout-api-frontend-service-in-the-shop-namespace-with-longs';
    assert.equal(privateServiceName(long), 'elasti-checkout-api-frontend-service-in-the-shop-pvt-f296ce36f6');
  });

  it('trims hyphens left at the cut, so the name stays a valid DNS label', () => {
    const name = 'abcdefghijklmnopqrstuvwxyz-abcdefghijklm-xyz'; // 41st character is '-'
    assert.equal(privateServiceName(name), 'elasti-abcdefghijklmnopqrstuvwxyz-abcdefghijklm-pvt-b0bdd606d2');
    assert.match(privateServiceName(name), /^[a-z]([-a-z0-9]*[a-z0-9])?$/);
  });

  it('keeps two long names sharing their first 41 characters apart', () => {
    const a = `${'a'.repeat(41)}-one`;
    const b = `${'a'.repeat(41)}-two`;
    assert.notEqual(privateServiceName(a), privateServiceName(b));
    assert.notEqual(endpointSliceToResolverName(a), endpointSliceToResolverName(b));
  });

  it('does not cut the endpoint slice name of any valid Service name (limit 253)', () => {
    const sixty = 'a'.repeat(60);
    assert.equal(endpointSliceToResolverName(sixty), `elasti-${sixty}-endpointslice-to-resolver-11ee391211`);
    const huge = 'b'.repeat(300); // beyond any Service name, but the rule still bounds it
    assert.equal(endpointSliceToResolverName(huge).length, 253);
    assert.ok(endpointSliceToResolverName(huge).startsWith(`elasti-${'b'.repeat(209)}-endpointslice`));
  });
});
