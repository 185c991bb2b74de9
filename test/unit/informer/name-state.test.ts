/** A watched name's serving state and its transitions, over every state of three upstreams. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  afterSourceEvent,
  cutOver,
  declaredGone,
  detached,
  type GoneKind,
  handoverRestarted,
  heldUpstreams,
  type NameState,
  retargeted,
  served,
  targetFound,
  UNATTACHED,
} from '../../../src/informer/name-state.ts';

type U = 'a' | 'b' | 'c';
const UPSTREAMS: U[] = ['a', 'b', 'c'];
const T0 = 1_000;
const NOW = 5_000;

/** Every state: serving and hand-over over all upstreams and verdicts, and each released verdict. */
function allStates(): NameState<U>[] {
  const states: NameState<U>[] = [];
  for (const source of UPSTREAMS) {
    for (const gone of [undefined, 'object'] as const) {
      for (const syntheticDelete of [false, true]) {
        states.push({ phase: 'serving', source, gone, syntheticDelete });
        for (const next of UPSTREAMS) {
          if (next !== source)
            states.push({ phase: 'handover', source, next, since: T0, gone, syntheticDelete });
        }
      }
    }
  }
  for (const gone of [undefined, 'object', 'final'] as const) states.push({ phase: 'released', gone });
  return states;
}

/** What the union promises: `next`/`since` only in a hand-over (next ≠ source), no source once released, `final` only released. */
function assertWellFormed(state: NameState<U>): void {
  const keys = Object.keys(state).sort();
  if (state.phase === 'released') {
    assert.deepEqual(keys, ['gone', 'phase']);
    return;
  }
  assert.notEqual(state.gone, 'final');
  if (state.phase === 'serving') assert.deepEqual(keys, ['gone', 'phase', 'source', 'syntheticDelete']);
  else {
    assert.deepEqual(keys, ['gone', 'next', 'phase', 'since', 'source', 'syntheticDelete']);
    assert.notEqual(state.next, state.source);
  }
}

/** The verdict fields, whatever the phase. */
const verdictOf = (s: NameState<U>) => ({
  gone: s.gone,
  syntheticDelete: s.phase === 'released' ? undefined : s.syntheticDelete,
});

describe('name state', () => {
  it('the states enumerated are well formed, and a name starts released without a verdict', () => {
    const states = allStates();
    assert.equal(states.length, 3 * 2 * 2 * 3 + 3);
    for (const s of states) assertWellFormed(s);
    assert.deepEqual(UNATTACHED, { phase: 'released', gone: undefined });
  });

  it('served: a fresh watch on the source, no verdict, no synthesised delete', () => {
    for (const u of UPSTREAMS) {
      assert.deepEqual(served(u), { phase: 'serving', source: u, gone: undefined, syntheticDelete: false });
    }
  });

  it('retargeted: back to serving on the source, unchanged on the next, else a hand-over from now; verdict kept', () => {
    for (const state of allStates()) {
      for (const target of UPSTREAMS) {
        const after = retargeted(state, target, NOW);
        assertWellFormed(after);
        if (state.phase === 'released') {
          assert.equal(after, state);
          continue;
        }
        assert.deepEqual(verdictOf(after), verdictOf(state));
        if (target === state.source) {
          assert.equal(after.phase, 'serving');
          assert.equal(after.phase === 'serving' && after.source, target);
          if (state.phase === 'serving') assert.equal(after, state);
        } else if (state.phase === 'handover' && state.next === target) {
          assert.equal(after, state);
        } else {
          assert.deepEqual(after, {
            ...verdictOf(state),
            phase: 'handover',
            source: state.source,
            next: target,
            since: NOW,
          });
        }
        // Nothing but the target is newly held: the group acquired only that one.
        const newlyHeld = heldUpstreams(after).filter((u) => !heldUpstreams(state).includes(u));
        assert.ok(newlyHeld.every((u) => u === target));
      }
    }
  });

  it('cutOver: the next becomes the source and the old source is let go; other phases unchanged', () => {
    for (const state of allStates()) {
      const after = cutOver(state);
      assertWellFormed(after);
      if (state.phase !== 'handover') {
        assert.equal(after, state);
        continue;
      }
      assert.deepEqual(after, { ...verdictOf(state), phase: 'serving', source: state.next });
      assert.deepEqual(heldUpstreams(state), [state.next, state.source]);
      assert.deepEqual(heldUpstreams(after), [state.next]);
    }
  });

  it('handoverRestarted: only a hand-over restarts its timeout', () => {
    for (const state of allStates()) {
      const after = handoverRestarted(state, NOW);
      assertWellFormed(after);
      if (state.phase === 'handover') assert.deepEqual(after, { ...state, since: NOW });
      else assert.equal(after, state);
    }
  });

  it('detached: no watch held, every upstream let go, the verdict kept', () => {
    for (const state of allStates()) {
      const after = detached(state);
      assertWellFormed(after);
      assert.deepEqual(after, { phase: 'released', gone: state.gone });
      assert.deepEqual(heldUpstreams(after), []);
    }
  });

  it('declaredGone: a delete is synthesised once while the handlers hold the object; final releases; final never weakens', () => {
    for (const state of allStates()) {
      for (const kind of ['object', 'final'] as GoneKind[]) {
        for (const handlersHaveObject of [false, true]) {
          const { state: after, synthesizeDelete } = declaredGone(state, kind, handlersHaveObject);
          assertWellFormed(after);
          if (state.phase === 'released') {
            assert.equal(synthesizeDelete, false);
            assert.deepEqual(after, { phase: 'released', gone: state.gone === 'final' ? 'final' : kind });
            continue;
          }
          assert.equal(synthesizeDelete, handlersHaveObject && !state.syntheticDelete);
          if (kind === 'final') {
            assert.deepEqual(after, { phase: 'released', gone: 'final' });
          } else {
            assert.deepEqual(after, {
              ...state,
              gone: 'object',
              syntheticDelete: state.syntheticDelete || handlersHaveObject,
            });
          }
        }
      }
    }
  });

  it('afterSourceEvent: records the outstanding synthesised delete; an object back clears an object verdict', () => {
    for (const state of allStates()) {
      for (const syntheticDelete of [false, true]) {
        for (const objectBack of [false, true]) {
          const after = afterSourceEvent(state, { syntheticDelete, objectBack });
          assertWellFormed(after);
          if (state.phase === 'released') {
            assert.equal(after, state);
            continue;
          }
          const expected = { ...state, syntheticDelete, gone: objectBack ? undefined : state.gone };
          assert.deepEqual(after, expected);
          // Unchanged states are the same object (no allocation per event).
          if (expected.gone === state.gone && syntheticDelete === state.syntheticDelete)
            assert.equal(after, state);
        }
      }
    }
  });

  it('targetFound: clears an object verdict while a watch is held; nothing else', () => {
    for (const state of allStates()) {
      const after = targetFound(state);
      assertWellFormed(after);
      if (state.phase !== 'released' && state.gone === 'object')
        assert.deepEqual(after, { ...state, gone: undefined });
      else assert.equal(after, state);
    }
  });

  it('heldUpstreams: the next before the source in a hand-over, the source when serving, none released', () => {
    for (const state of allStates()) {
      const held = heldUpstreams(state);
      if (state.phase === 'released') assert.deepEqual(held, []);
      else if (state.phase === 'serving') assert.deepEqual(held, [state.source]);
      else assert.deepEqual(held, [state.next, state.source]);
    }
  });
});
