import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ELASTI_CRD_NAME } from '../../../src/api/v1alpha1/constants.ts';
import {
  type CrdClient,
  CrdNotEstablishedError,
  installElastiServiceCrd,
  type ServedCrd,
} from '../../../src/api/v1alpha1/install.ts';
import { elastiServiceCrd } from '../../../src/api/v1alpha1/schema.ts';
import { KubeApiError } from '../../../src/kube/core/errors.ts';
import { FakeApiServer } from '../../support/fake-api-server.ts';

const ITEM = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${ELASTI_CRD_NAME}`;
const COLLECTION = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

function apiError(status: number, reason: string): KubeApiError {
  return new KubeApiError({ status, verb: 'x', url: 'u', body: { reason, code: status } });
}

const CRDS = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' };

/** The CRD endpoints as paths over the one fake API server (a CRD turns Established after some GETs). */
class FakeCrds implements CrdClient {
  readonly server = new FakeApiServer();
  calls: string[] = [];
  /** GETs of the item left before the CRD reports Established. */
  establishAfterGets = 0;

  get stored(): ServedCrd | undefined {
    return this.server.peek<ServedCrd>(CRDS, undefined, ELASTI_CRD_NAME);
  }

  set stored(crd: ServedCrd) {
    this.server.upsert(CRDS, crd);
  }

  /** Errors to throw on the next writes, in order. */
  set writeErrors(errors: KubeApiError[]) {
    for (const error of errors) this.server.injectFault(['create', 'replace'], { error });
  }

  async request<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    this.calls.push(`${method} ${path}`);
    if (method === 'GET' && path === ITEM) {
      const crd = await this.server.get<ServedCrd>(CRDS, undefined, ELASTI_CRD_NAME);
      const established = this.establishAfterGets-- <= 0;
      const status = established
        ? {
            conditions: [
              { type: 'NamesAccepted', status: 'True' },
              { type: 'Established', status: 'True' },
            ],
          }
        : {
            conditions: [
              { type: 'NamesAccepted', status: 'True' },
              { type: 'Established', status: 'False', message: 'installing' },
            ],
          };
      return { ...crd, status } as T;
    }
    const obj = body as ServedCrd;
    if (method === 'POST' && path === COLLECTION)
      return (await this.server.create(CRDS, undefined, obj)) as T;
    if (method === 'PUT' && path === ITEM) {
      // The installer always sends the resourceVersion it read; without one it would not be a safe update.
      if (!obj.metadata.resourceVersion) throw new Error('PUT without a resourceVersion');
      return (await this.server.replace(CRDS, undefined, ELASTI_CRD_NAME, obj)) as T;
    }
    throw new Error(`unexpected ${method} ${path}`);
  }
}

describe('installElastiServiceCrd', () => {
  it('creates the CRD when absent and waits until it is Established', async () => {
    const fake = new FakeCrds();
    fake.establishAfterGets = 3;
    const served = await installElastiServiceCrd(fake, { pollIntervalMs: 1 });
    assert.deepEqual(served.spec, elastiServiceCrd.spec);
    assert.ok(served.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'));
    assert.deepEqual(fake.calls.slice(0, 2), [`GET ${ITEM}`, `POST ${COLLECTION}`]);
    assert.equal(fake.calls.filter((c) => c === `GET ${ITEM}`).length, 1 + 4);
  });

  it('replaces an existing CRD, keeping its metadata and using its resourceVersion', async () => {
    const fake = new FakeCrds();
    fake.stored = {
      ...structuredClone(elastiServiceCrd),
      metadata: { name: ELASTI_CRD_NAME, resourceVersion: '41', labels: { owner: 'helm' } },
      spec: { ...structuredClone(elastiServiceCrd.spec), versions: [] },
    } as ServedCrd;
    await installElastiServiceCrd(fake, { pollIntervalMs: 1 });
    assert.ok(fake.calls.includes(`PUT ${ITEM}`));
    assert.deepEqual(fake.stored?.spec, elastiServiceCrd.spec);
    assert.deepEqual(fake.stored?.metadata.labels, { owner: 'helm' });
  });

  it('retries when another writer gets in between', async () => {
    const fake = new FakeCrds();
    fake.writeErrors = [apiError(409, 'AlreadyExists'), apiError(409, 'Conflict')];
    await installElastiServiceCrd(fake, { pollIntervalMs: 1 });
    assert.deepEqual(fake.stored?.spec, elastiServiceCrd.spec);
    assert.equal(fake.calls.filter((c) => c.startsWith('POST')).length, 3);
  });

  it('passes other errors through and gives up on persistent conflicts', async () => {
    const forbidden = new FakeCrds();
    forbidden.writeErrors = [apiError(403, 'Forbidden')];
    await assert.rejects(
      installElastiServiceCrd(forbidden),
      (e: unknown) => e instanceof KubeApiError && e.status === 403,
    );
    const contended = new FakeCrds();
    contended.writeErrors = Array.from({ length: 10 }, () => apiError(409, 'Conflict'));
    await assert.rejects(
      installElastiServiceCrd(contended),
      (e: unknown) => e instanceof KubeApiError && e.status === 409,
    );
    assert.equal(contended.calls.filter((c) => c.startsWith('POST')).length, 5);
  });

  it('fails with a typed error naming the conditions when not Established in time', async () => {
    const fake = new FakeCrds();
    fake.establishAfterGets = Number.POSITIVE_INFINITY;
    await assert.rejects(
      installElastiServiceCrd(fake, { timeoutMs: 30, pollIntervalMs: 5 }),
      (e: unknown) =>
        e instanceof CrdNotEstablishedError && /Established=False \(installing\)/.test(e.message),
    );
  });

  it('stops waiting when aborted', async () => {
    const fake = new FakeCrds();
    fake.establishAfterGets = Number.POSITIVE_INFINITY;
    const controller = new AbortController();
    const pending = installElastiServiceCrd(fake, { pollIntervalMs: 5, signal: controller.signal });
    controller.abort(new Error('shutting down'));
    await assert.rejects(pending, /shutting down/);
  });
});
