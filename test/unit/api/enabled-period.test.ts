import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isInEnabledPeriod } from '../../../src/api/v1alpha1/enabled-period.ts';
import { type ResolvedEnabledPeriod, validateElastiServiceSpec } from '../../../src/api/v1alpha1/validate.ts';

function period(enabledPeriod: Record<string, unknown>): ResolvedEnabledPeriod {
  const result = validateElastiServiceSpec({
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    service: 'web',
    enabledPeriod,
  });
  assert.ok(result.valid, JSON.stringify(result.errors));
  assert.ok(result.spec.enabledPeriod);
  return result.spec.enabledPeriod;
}

describe('isInEnabledPeriod', () => {
  it('is always true without an enabled period', () => {
    assert.equal(isInEnabledPeriod(undefined, new Date('2025-01-01T00:00:00Z')), true);
  });

  it('opens a window of `duration` at each firing (weekday office hours)', () => {
    const office = period({ schedule: '0 9 * * 1-5', duration: '8h' });
    assert.equal(isInEnabledPeriod(office, new Date('2025-06-10T08:59:59Z')), false); // Tue, before
    assert.equal(isInEnabledPeriod(office, new Date('2025-06-10T09:00:00Z')), true); // opens
    assert.equal(isInEnabledPeriod(office, new Date('2025-06-10T16:59:59Z')), true);
    assert.equal(isInEnabledPeriod(office, new Date('2025-06-10T17:00:00Z')), false); // closed (end exclusive)
    assert.equal(isInEnabledPeriod(office, new Date('2025-06-14T12:00:00Z')), false); // Saturday
  });

  it('keeps a window open across midnight', () => {
    const nightly = period({ schedule: '0 22 * * *', duration: '4h' });
    assert.equal(isInEnabledPeriod(nightly, new Date('2025-06-11T01:30:00Z')), true);
    assert.equal(isInEnabledPeriod(nightly, new Date('2025-06-11T02:00:00Z')), false);
  });

  it('uses the defaults (daily at 00:00 for 24h): always inside', () => {
    const always = period({});
    assert.equal(always.schedule, '0 0 * * *');
    assert.equal(always.duration, '24h');
    assert.equal(isInEnabledPeriod(always, new Date('2025-06-11T23:59:59Z')), true);
    assert.equal(isInEnabledPeriod(always, new Date('2025-06-11T00:00:00Z')), true);
  });

  it('handles windows longer than the gap between firings', () => {
    const weekly = period({ schedule: '0 0 * * mon', duration: '48h' });
    assert.equal(isInEnabledPeriod(weekly, new Date('2025-06-10T23:59:00Z')), true); // Tuesday
    assert.equal(isInEnabledPeriod(weekly, new Date('2025-06-11T00:00:00Z')), false); // Wednesday
  });
});
