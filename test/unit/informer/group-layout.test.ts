/** A watch group's layout and its namespace-wide access, over every transition. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  initialLayout,
  type Layout,
  relaid,
  WIDE_ALLOWED,
  type WideAccess,
  widenedBy,
  wideRefused,
  wideRetryDue,
  wideSynced,
  withoutCause,
} from '../../../src/informer/group-layout.ts';
import type { GroupScope } from '../../../src/informer/group-rules.ts';

const LAYOUTS: Layout[] = [
  { scope: 'name' },
  { scope: 'namespace', upgradedBy: undefined },
  { scope: 'namespace', upgradedBy: 'k1' },
];
const POLICY = { forbiddenRetryMs: 100, forbiddenRetryCapMs: 350 };

describe('layout', () => {
  it('starts namespace-wide only in mode namespace, with no cause', () => {
    assert.deepEqual(initialLayout('namespace'), { scope: 'namespace', upgradedBy: undefined });
    assert.deepEqual(initialLayout('per-name'), { scope: 'name' });
    assert.deepEqual(initialLayout('auto'), { scope: 'name' });
  });

  it('relaid: an unchanged scope keeps the layout; widening remembers the cause; narrowing forgets it', () => {
    for (const layout of LAYOUTS) {
      for (const desired of ['name', 'namespace'] as GroupScope[]) {
        for (const cause of [undefined, 'k2']) {
          const after = relaid(layout, desired, cause);
          if (desired === layout.scope) assert.equal(after, layout);
          else if (desired === 'namespace')
            assert.deepEqual(after, { scope: 'namespace', upgradedBy: cause });
          else assert.deepEqual(after, { scope: 'name' });
        }
      }
    }
  });

  it('widenedBy / withoutCause: only the key that widened the group is its cause, and only until it leaves', () => {
    for (const layout of LAYOUTS) {
      for (const key of ['k1', 'k2']) {
        const cause = layout.scope === 'namespace' && layout.upgradedBy === key;
        assert.equal(widenedBy(layout, key), cause);
        const after = withoutCause(layout, key);
        if (cause) assert.deepEqual(after, { scope: 'namespace', upgradedBy: undefined });
        else assert.equal(after, layout);
        assert.equal(widenedBy(after, key), false);
      }
    }
  });
});

describe('namespace-wide access', () => {
  it('each refusal waits twice as long as the one before, up to the cap', () => {
    let access: WideAccess = WIDE_ALLOWED;
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const refused = wideRefused(access, 1_000, POLICY);
      access = refused.access;
      waits.push(refused.waitMs);
      assert.deepEqual(access, { state: 'refused', refusals: i + 1, retryAt: 1_000 + refused.waitMs });
    }
    assert.deepEqual(waits, [100, 200, 350, 350]);
  });

  it('is allowed again once the wait is over, keeping the count; a sync resets the count only', () => {
    const { access: refused } = wideRefused(WIDE_ALLOWED, 1_000, POLICY);
    assert.equal(wideRetryDue(refused, 1_099), refused);
    const due = wideRetryDue(refused, 1_100);
    assert.deepEqual(due, { state: 'allowed', refusals: 1 });
    assert.equal(wideRetryDue(due, 9_999), due);
    // After a retry the next refusal waits longer (the count was kept) …
    assert.equal(wideRefused(due, 2_000, POLICY).waitMs, 200);
    // … unless the namespace-wide watch synced in between.
    assert.deepEqual(wideSynced(due), WIDE_ALLOWED);
    assert.equal(wideRefused(wideSynced(due), 2_000, POLICY).waitMs, 100);
    // A sync during a wait (an old namespace-wide upstream still finishing) keeps the wait.
    assert.deepEqual(wideSynced(refused), { state: 'refused', refusals: 0, retryAt: 1_100 });
    assert.equal(wideSynced(WIDE_ALLOWED), WIDE_ALLOWED);
  });
});
