import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  expectedApiVersion,
  normalizeScaleTargetRef,
  ScaleTargetMismatchError,
  scaleTargetGvr,
} from '../../../src/api/v1alpha1/scale-target.ts';
import type { ScaleTargetRef } from '../../../src/api/v1alpha1/types.ts';

describe('normalizeScaleTargetRef', () => {
  it('maps legacy plural spellings to canonical kinds, without touching the input', () => {
    const legacy: ScaleTargetRef = { apiVersion: 'apps/v1', kind: 'deployments', name: 'web' };
    assert.deepEqual(normalizeScaleTargetRef(legacy), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'web',
    });
    assert.equal(legacy.kind, 'deployments');
    assert.equal(
      normalizeScaleTargetRef({ apiVersion: 'argoproj.io/v1alpha1', kind: 'rollouts', name: 'r' }).kind,
      'Rollout',
    );
  });

  it('leaves canonical kinds alone', () => {
    for (const kind of ['Deployment', 'StatefulSet', 'Rollout'] as const) {
      assert.equal(normalizeScaleTargetRef({ apiVersion: 'apps/v1', kind, name: 'x' }).kind, kind);
    }
  });
});

describe('scaleTargetGvr', () => {
  it('resolves each kind to its resource', () => {
    assert.deepEqual(scaleTargetGvr({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'a' }), {
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
    });
    assert.deepEqual(scaleTargetGvr({ apiVersion: 'apps/v1', kind: 'deployments', name: 'a' }), {
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
    });
    assert.deepEqual(scaleTargetGvr({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'a' }), {
      group: 'apps',
      version: 'v1',
      resource: 'statefulsets',
    });
    assert.deepEqual(scaleTargetGvr({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'a' }), {
      group: 'argoproj.io',
      version: 'v1alpha1',
      resource: 'rollouts',
    });
  });

  it('rejects kinds in the wrong apiVersion with a typed error', () => {
    assert.throws(
      () => scaleTargetGvr({ apiVersion: 'apps/v1', kind: 'Rollout', name: 'a' }),
      (e: unknown) =>
        e instanceof ScaleTargetMismatchError && /requires apiVersion argoproj.io\/v1alpha1/.test(e.message),
    );
    assert.throws(
      () => scaleTargetGvr({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Deployment', name: 'a' }),
      ScaleTargetMismatchError,
    );
  });

  it('rejects unknown kinds with a typed error', () => {
    const bogus = { apiVersion: 'apps/v1', kind: 'Pod', name: 'a' } as unknown as ScaleTargetRef;
    assert.throws(
      () => scaleTargetGvr(bogus),
      (e: unknown) => e instanceof ScaleTargetMismatchError && /Pod/.test(e.message),
    );
    assert.equal(expectedApiVersion('Pod'), undefined);
    assert.equal(expectedApiVersion('rollouts'), 'argoproj.io/v1alpha1');
  });

  it('returns a fresh object each call', () => {
    const ref: ScaleTargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'a' };
    const first = scaleTargetGvr(ref) as { resource: string };
    first.resource = 'corrupted';
    assert.equal(scaleTargetGvr(ref).resource, 'deployments');
  });
});
