/** The watch group's decisions, exhaustively over their inputs (the state lives in group.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cutoverDecision,
  desiredScope,
  type GroupScope,
  reconcilingDelta,
  sourceEvent,
} from '../../../src/informer/group-rules.ts';
import type { Delta, KubeObject } from '../../../src/kube/index.ts';

const obj = (rv: string): KubeObject => ({ metadata: { name: 'web', resourceVersion: rv } });
const auto = { mode: 'auto' as const, autoThreshold: 3, autoDowngradeBelow: 2 };

describe('desiredScope', () => {
  it('fixed modes ignore the count; a blocked namespace-wide watch means per-name', () => {
    for (const current of ['name', 'namespace'] as GroupScope[]) {
      for (const activeNames of [0, 1, 5]) {
        for (const strict of [false, true]) {
          const base = { current, activeNames, strict, wideBlocked: false };
          assert.equal(desiredScope({ ...base, policy: { ...auto, mode: 'per-name' } }), 'name');
          assert.equal(desiredScope({ ...base, policy: { ...auto, mode: 'namespace' } }), 'namespace');
          assert.equal(
            desiredScope({ ...base, policy: { ...auto, mode: 'namespace' }, wideBlocked: true }),
            'name',
          );
        }
      }
    }
  });

  it('auto: widens at the threshold, narrows only below the lower bound (hysteresis), keeps an empty layout', () => {
    const at = (current: GroupScope, activeNames: number, strict = false) =>
      desiredScope({ policy: auto, current, activeNames, strict, wideBlocked: false });
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((n) => at('name', n)),
      ['name', 'name', 'name', 'namespace', 'namespace'],
    );
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((n) => at('namespace', n)),
      ['namespace', 'name', 'namespace', 'namespace', 'namespace'],
    );
    // strict: the upgrade threshold applies even when namespace-wide (rollback of a failed add)
    assert.deepEqual(
      [1, 2, 3].map((n) => at('namespace', n, true)),
      ['name', 'name', 'namespace'],
    );
  });
});

describe('cutoverDecision', () => {
  it('waits for the new upstream, forces past an unsynced old one, cuts cleanly when both agree', () => {
    const synced = (state: KubeObject | undefined) => ({ synced: true, state });
    assert.equal(
      cutoverDecision({ nextSynced: false, source: synced(obj('1')), nextState: obj('1') }),
      'wait',
    );
    assert.equal(cutoverDecision({ nextSynced: false, source: undefined, nextState: undefined }), 'wait');
    assert.equal(
      cutoverDecision({ nextSynced: true, source: { synced: false, state: obj('1') }, nextState: obj('2') }),
      'forced',
    );
    assert.equal(
      cutoverDecision({ nextSynced: true, source: synced(obj('1')), nextState: obj('2') }),
      'wait',
    );
    assert.equal(
      cutoverDecision({ nextSynced: true, source: synced(obj('1')), nextState: undefined }),
      'wait',
    );
    assert.equal(
      cutoverDecision({ nextSynced: true, source: synced(obj('2')), nextState: obj('2') }),
      'clean',
    );
    assert.equal(
      cutoverDecision({ nextSynced: true, source: synced(undefined), nextState: undefined }),
      'clean',
    );
    assert.equal(cutoverDecision({ nextSynced: true, source: undefined, nextState: obj('1') }), 'clean');
  });
});

describe('reconcilingDelta', () => {
  it('is the one event from the old state to the new', () => {
    assert.deepEqual(reconcilingDelta(obj('1'), obj('2')), {
      type: 'update',
      oldObj: obj('1'),
      newObj: obj('2'),
    });
    assert.equal(reconcilingDelta(obj('2'), obj('2')), undefined);
    assert.deepEqual(reconcilingDelta(undefined, obj('2')), {
      type: 'add',
      obj: obj('2'),
      isInInitialList: false,
    });
    assert.deepEqual(reconcilingDelta(obj('1'), undefined), {
      type: 'delete',
      obj: obj('1'),
      finalStateUnknown: true,
    });
    assert.equal(reconcilingDelta(undefined, undefined), undefined);
  });
});

describe('sourceEvent', () => {
  const add: Delta = { type: 'add', obj: obj('3'), isInInitialList: false };
  const update: Delta = { type: 'update', oldObj: obj('2'), newObj: obj('3') };
  const del: Delta = { type: 'delete', obj: obj('2'), finalStateUnknown: false };

  it('passes every event through when no delete was synthesised', () => {
    assert.deepEqual(sourceEvent(add, false), { deliver: add, syntheticDelete: false, objectBack: true });
    assert.deepEqual(sourceEvent(update, false), {
      deliver: update,
      syntheticDelete: false,
      objectBack: true,
    });
    assert.deepEqual(sourceEvent(del, false), { deliver: del, syntheticDelete: false, objectBack: false });
  });

  it('after a synthesised delete: swallows the real delete, turns the next update into an add', () => {
    assert.deepEqual(sourceEvent(del, true), {
      deliver: undefined,
      syntheticDelete: false,
      objectBack: false,
    });
    assert.deepEqual(sourceEvent(update, true), {
      deliver: { type: 'add', obj: obj('3'), isInInitialList: false },
      syntheticDelete: false,
      objectBack: true,
    });
    assert.deepEqual(sourceEvent(add, true), { deliver: add, syntheticDelete: false, objectBack: true });
  });
});
