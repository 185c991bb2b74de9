import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Delta, KubeObject } from '../../../src/kube/index.ts';
import {
  and,
  annotationsChanged,
  generationChanged,
  LabelSelectorError,
  labelsChanged,
  not,
  or,
  parseLabelSelector,
  predicateFor,
  resourceVersionChanged,
  updateChanged,
} from '../../../src/runtime/index.ts';

const obj = (meta: KubeObject['metadata'], rest: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: 'a', namespace: 'ns', ...meta },
  ...rest,
});
const update = (oldObj: KubeObject, newObj: KubeObject): Delta => ({ type: 'update', oldObj, newObj });
const add: Delta = { type: 'add', obj: obj({}), isInInitialList: false };
const del: Delta = { type: 'delete', obj: obj({}), finalStateUnknown: false };

describe('predicates', () => {
  it('generationChanged passes spec edits, not status writes, resyncs or kinds without a generation', () => {
    const v1 = obj({ generation: 1, resourceVersion: '10' });
    assert.equal(generationChanged(update(v1, obj({ generation: 2, resourceVersion: '11' }))), true);
    assert.equal(generationChanged(update(v1, obj({ generation: 1, resourceVersion: '12' }))), false);
    assert.equal(generationChanged(update(v1, v1)), false, 'a resync');
    assert.equal(generationChanged(update(obj({}), obj({ resourceVersion: '2' }))), false, 'no generation');
    assert.equal(generationChanged(add), true);
    assert.equal(generationChanged(del), true);
  });

  it('labelsChanged and annotationsChanged compare the maps, not their key order', () => {
    const a = obj({ labels: { x: '1', y: '2' }, annotations: { n: 'a' } });
    const sameLabelsOtherOrder = obj({ labels: { y: '2', x: '1' }, annotations: { n: 'b' } });
    assert.equal(labelsChanged(update(a, sameLabelsOtherOrder)), false);
    assert.equal(annotationsChanged(update(a, sameLabelsOtherOrder)), true);
    assert.equal(labelsChanged(update(a, obj({ labels: { x: '1' } }))), true);
    assert.equal(labelsChanged(update(obj({}), obj({ labels: {} }))), false, 'absent = empty');
  });

  it('resourceVersionChanged drops resyncs only', () => {
    const a = obj({ resourceVersion: '1' });
    assert.equal(resourceVersionChanged(update(a, a)), false);
    assert.equal(resourceVersionChanged(update(a, obj({ resourceVersion: '2' }))), true);
  });

  it('updateChanged compares a picked part; predicateFor decides per event type; and/or/not compose', () => {
    const replicas = updateChanged(
      (o: KubeObject) => (o.spec as { replicas?: number } | undefined)?.replicas,
    );
    assert.equal(
      replicas(update(obj({}, { spec: { replicas: 1 } }), obj({}, { spec: { replicas: 1 } }))),
      false,
    );
    assert.equal(
      replicas(update(obj({}, { spec: { replicas: 1 } }), obj({}, { spec: { replicas: 2 } }))),
      true,
    );
    const noDeletes = predicateFor<KubeObject>({ delete: () => false });
    assert.equal(noDeletes(del), false);
    assert.equal(noDeletes(add), true);
    const both = and(noDeletes, resourceVersionChanged);
    const either = or(noDeletes, resourceVersionChanged);
    assert.equal(both(del), false);
    assert.equal(either(del), true);
    assert.equal(not(noDeletes)(del), true);
  });
});

describe('label selectors', () => {
  it('matches equality, set, existence and negation requirements', () => {
    const s = parseLabelSelector('app in (web, api),tier!=db,!canary,team');
    assert.equal(s.matches({ app: 'web', team: 'a' }), true);
    assert.equal(s.matches({ app: 'web', team: 'a', tier: 'db' }), false);
    assert.equal(s.matches({ app: 'web', team: 'a', canary: '' }), false);
    assert.equal(s.matches({ app: 'web' }), false, 'team must exist');
    assert.equal(s.matches({ app: 'job', team: 'a' }), false);
    assert.equal(parseLabelSelector('x notin (a,b)').matches({}), true, 'notin passes when absent');
    assert.equal(parseLabelSelector('').matches(undefined), true);
  });

  it('spells equal selectors one way, string or matchLabels', () => {
    assert.equal(parseLabelSelector('b=2,a==1').text, 'a=1,b=2');
    assert.equal(parseLabelSelector({ b: '2', a: '1' }).text, 'a=1,b=2');
    assert.equal(parseLabelSelector('x in (b,a,b)').text, 'x in (a,b)');
  });

  it('rejects malformed selectors with a message naming them', () => {
    for (const bad of ['a in (', 'a in ()', 'a=b,,c', 'bad key!=x', 'a=has space', 'a in ((b))']) {
      assert.throws(() => parseLabelSelector(bad), LabelSelectorError, bad);
    }
    assert.throws(
      () => parseLabelSelector('a in ('),
      /invalid label selector "a in \(": unbalanced parentheses/,
    );
  });
});
