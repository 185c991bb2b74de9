import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CONDITION_SPEC_VALID,
  MAX_CONDITION_MESSAGE_LENGTH,
  toCondition,
} from '../../../src/api/v1alpha1/condition.ts';
import { validateElastiService } from '../../../src/api/v1alpha1/validate.ts';
import {
  type Condition,
  findCondition,
  formatConditionTime,
  isConditionStatus,
  setStatusCondition,
} from '../../../src/kube/core/conditions.ts';

const now = new Date('2025-06-10T12:34:56.789Z');

describe('toCondition', () => {
  it('reports a valid spec as SpecValid=True', () => {
    assert.deepEqual(toCondition([], { now, observedGeneration: 3 }), {
      type: 'SpecValid',
      status: 'True',
      reason: 'ValidSpec',
      message: '',
      lastTransitionTime: '2025-06-10T12:34:56Z',
      observedGeneration: 3,
    });
  });

  it('reports field errors as SpecValid=False/InvalidSpec naming each field', () => {
    const result = validateElastiService({
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Pod', name: 'x' } },
    });
    assert.equal(result.valid, false);
    const condition = toCondition(result.errors, { now });
    assert.equal(condition.type, CONDITION_SPEC_VALID);
    assert.equal(condition.status, 'False');
    assert.equal(condition.reason, 'InvalidSpec');
    assert.match(condition.message, /spec\.scaleTargetRef\.kind: Unsupported value: "Pod"/);
    assert.match(condition.message, /; spec\.service: Required value/);
    assert.equal('observedGeneration' in condition, false);
  });

  it('keeps the message within the apiserver limit', () => {
    const errors = Array.from({ length: 2000 }, (_, i) => ({
      type: 'Invalid' as const,
      field: `spec.triggers[${i}].metadata.query`,
      message: 'x'.repeat(40),
    }));
    const { message } = toCondition(errors, { now });
    assert.equal(message.length, MAX_CONDITION_MESSAGE_LENGTH);
    assert.ok(message.endsWith('(truncated)'));
  });

  it('formats times at second precision', () => {
    assert.equal(formatConditionTime(new Date('2025-01-02T03:04:05.999Z')), '2025-01-02T03:04:05Z');
  });
});

describe('setStatusCondition', () => {
  const base: Condition = {
    type: 'SpecValid',
    status: 'True',
    reason: 'ValidSpec',
    message: '',
    lastTransitionTime: '2025-01-01T00:00:00Z',
  };

  it('appends a new type and leaves the input untouched', () => {
    const input: Condition[] = [base];
    const out = setStatusCondition(input, {
      ...base,
      type: 'Ready',
      lastTransitionTime: '2025-02-02T00:00:00Z',
    });
    assert.equal(out.length, 2);
    assert.equal(input.length, 1);
    assert.equal(findCondition(out, 'Ready')?.lastTransitionTime, '2025-02-02T00:00:00Z');
  });

  it('keeps lastTransitionTime when the status did not change', () => {
    const out = setStatusCondition([base], {
      ...base,
      message: 'again',
      lastTransitionTime: '2025-03-03T00:00:00Z',
    });
    assert.equal(out.length, 1);
    assert.equal(out[0]?.message, 'again');
    assert.equal(out[0]?.lastTransitionTime, '2025-01-01T00:00:00Z');
  });

  it('moves lastTransitionTime when the status changes', () => {
    const out = setStatusCondition([base], {
      ...base,
      status: 'False',
      reason: 'InvalidSpec',
      lastTransitionTime: '2025-03-03T00:00:00Z',
    });
    assert.equal(out[0]?.lastTransitionTime, '2025-03-03T00:00:00Z');
    assert.equal(isConditionStatus(out, 'SpecValid', 'False'), true);
    assert.equal(isConditionStatus(out, 'SpecValid', 'True'), false);
  });

  it('accepts an absent list', () => {
    assert.deepEqual(setStatusCondition(undefined, base), [base]);
  });
});
