import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type Delta,
  IndexerConflictError,
  NAMESPACE_INDEX,
  Store,
  type StoreInputError,
  stripManagedFields,
  UnknownIndexError,
} from '../../../../src/kube/cache/store.ts';
import type { KubeObject } from '../../../../src/kube/core/types.ts';

function pod(
  ns: string | undefined,
  name: string,
  rv: string,
  extra: Partial<KubeObject['metadata']> = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      ...(ns ? { namespace: ns } : {}),
      resourceVersion: rv,
      uid: `uid-${ns}-${name}`,
      ...extra,
    },
  };
}

/** Deltas as comparable tuples: [type, key, rv, flag]. */
function summary(deltas: Delta<KubeObject>[]): string[] {
  return deltas
    .map((d) => {
      switch (d.type) {
        case 'add':
          return `add ${d.obj.metadata.namespace}/${d.obj.metadata.name}@${d.obj.metadata.resourceVersion} initial=${d.isInInitialList}`;
        case 'update':
          return `update ${d.newObj.metadata.namespace}/${d.newObj.metadata.name}@${d.oldObj.metadata.resourceVersion}->${d.newObj.metadata.resourceVersion}`;
        default:
          return `delete ${d.obj.metadata.namespace}/${d.obj.metadata.name}@${d.obj.metadata.resourceVersion} unknown=${d.finalStateUnknown}`;
      }
    })
    .sort();
}

describe('Store basics', () => {
  test('keys objects by namespace/name, or name when cluster-scoped', () => {
    const store = new Store<KubeObject>();
    store.replace([pod('a', 'x', '1'), pod(undefined, 'node-1', '2')], '2');
    assert.equal(store.size, 2);
    assert.deepEqual(store.keys().sort(), ['a/x', 'node-1']);
    assert.equal(store.get('a/x')?.metadata.name, 'x');
    assert.equal(store.getByName('a', 'x')?.metadata.resourceVersion, '1');
    assert.equal(store.getByName(undefined, 'node-1')?.metadata.name, 'node-1');
    assert.equal(store.getByName('', 'node-1')?.metadata.name, 'node-1');
    assert.equal(store.get('b/x'), undefined);
    assert.equal(store.list().length, 2);
  });

  test('list() and keys() return fresh arrays the caller may mutate', () => {
    const store = new Store<KubeObject>();
    store.replace([pod('a', 'x', '1')], '1');
    store.list().pop();
    store.keys().pop();
    assert.equal(store.list().length, 1);
    assert.equal(store.keys().length, 1);
  });
});

describe('Store.replace diffs', () => {
  test('first replace yields initial-list adds', () => {
    const store = new Store<KubeObject>();
    const deltas = store.replace([pod('a', 'x', '1'), pod('a', 'y', '2')], '2');
    assert.deepEqual(summary(deltas), ['add a/x@1 initial=true', 'add a/y@2 initial=true']);
  });

  test('updates only where resourceVersion differs; final-state-unknown deletes carry the last cached object', () => {
    const store = new Store<KubeObject>();
    const lastKnownGone = pod('a', 'gone', '3', { labels: { last: 'known' } });
    store.replace([pod('a', 'same', '1'), pod('a', 'changed', '2'), lastKnownGone], '3');

    const deltas = store.replace(
      [pod('a', 'same', '1'), pod('a', 'changed', '7'), pod('a', 'new', '8')],
      '9',
    );
    assert.deepEqual(summary(deltas), [
      'add a/new@8 initial=true',
      'delete a/gone@3 unknown=true',
      'update a/changed@2->7',
    ]);
    const del = deltas.find((d) => d.type === 'delete');
    assert.ok(del && del.type === 'delete');
    assert.equal(del.obj, lastKnownGone, 'the delete carries the exact object the cache held');
    assert.deepEqual(store.keys().sort(), ['a/changed', 'a/new', 'a/same']);
    assert.equal(store.get('a/changed')?.metadata.resourceVersion, '7');
  });

  test('an unchanged relist yields no deltas at all', () => {
    const store = new Store<KubeObject>();
    const items = [pod('a', 'x', '1'), pod('b', 'y', '2')];
    store.replace(items, '2');
    assert.deepEqual(
      store.replace(
        items.map((o) => structuredClone(o)),
        '2',
      ),
      [],
    );
  });

  test('a changed uid under the same key is a delete of the old object then an add of the new one', () => {
    const store = new Store<KubeObject>();
    store.replace([pod('a', 'x', '1', { uid: 'old' })], '1');
    const deltas = store.replace([pod('a', 'x', '5', { uid: 'new' })], '5');
    assert.deepEqual(
      deltas.map((d) => d.type),
      ['delete', 'add'],
    );
    assert.equal(deltas[0]?.type === 'delete' && deltas[0].obj.metadata.uid, 'old');
    assert.equal(deltas[0]?.type === 'delete' && deltas[0].finalStateUnknown, true);
    assert.equal(deltas[1]?.type === 'add' && deltas[1].obj.metadata.uid, 'new');
  });

  test('replace with an empty list deletes everything as final-state-unknown', () => {
    const store = new Store<KubeObject>();
    store.replace([pod('a', 'x', '1'), pod('a', 'y', '1')], '1');
    const deltas = store.replace([], '2');
    assert.deepEqual(summary(deltas), ['delete a/x@1 unknown=true', 'delete a/y@1 unknown=true']);
    assert.equal(store.size, 0);
    assert.deepEqual(store.byIndex(NAMESPACE_INDEX, 'a'), []);
  });

  test('a repeated key within one list: the later item wins', () => {
    const store = new Store<KubeObject>();
    store.replace([pod('a', 'x', '1'), pod('a', 'x', '2')], '2');
    assert.equal(store.size, 1);
    assert.equal(store.get('a/x')?.metadata.resourceVersion, '2');
  });
});

describe('Store.apply', () => {
  test('ADDED for a new key is a live add', () => {
    const store = new Store<KubeObject>();
    assert.deepEqual(summary([store.apply('ADDED', pod('a', 'x', '1')) as Delta<KubeObject>]), [
      'add a/x@1 initial=false',
    ]);
    assert.equal(store.size, 1);
  });

  test('ADDED for an existing key becomes an update', () => {
    const store = new Store<KubeObject>();
    store.replace([pod('a', 'x', '1')], '1');
    const d = store.apply('ADDED', pod('a', 'x', '2'));
    assert.deepEqual(summary([d as Delta<KubeObject>]), ['update a/x@1->2']);
  });

  test('MODIFIED for an unknown key becomes an add', () => {
    const store = new Store<KubeObject>();
    const d = store.apply('MODIFIED', pod('a', 'x', '4'));
    assert.deepEqual(summary([d as Delta<KubeObject>]), ['add a/x@4 initial=false']);
    assert.equal(store.get('a/x')?.metadata.resourceVersion, '4');
  });

  test('MODIFIED for a known key is an update with the previous object', () => {
    const store = new Store<KubeObject>();
    const before = pod('a', 'x', '1');
    store.replace([before], '1');
    const d = store.apply('MODIFIED', pod('a', 'x', '2'));
    assert.ok(d?.type === 'update');
    assert.equal(d.oldObj, before);
    assert.equal(d.newObj.metadata.resourceVersion, '2');
  });

  test('DELETED removes a known key and reports the object the server sent', () => {
    const store = new Store<KubeObject>();
    store.replace([pod('a', 'x', '1')], '1');
    const d = store.apply('DELETED', pod('a', 'x', '9'));
    assert.deepEqual(summary([d as Delta<KubeObject>]), ['delete a/x@9 unknown=false']);
    assert.equal(store.size, 0);
    assert.deepEqual(store.byIndex(NAMESPACE_INDEX, 'a'), []);
  });

  test('DELETED for an unknown key still emits a delete with the given object', () => {
    const store = new Store<KubeObject>();
    const d = store.apply('DELETED', pod('a', 'ghost', '3'));
    assert.deepEqual(summary([d as Delta<KubeObject>]), ['delete a/ghost@3 unknown=false']);
    assert.equal(store.size, 0);
  });
});

describe('Store transform', () => {
  test('default transform strips managedFields without mutating the input', () => {
    const store = new Store<KubeObject>();
    const input = pod('a', 'x', '1', { managedFields: [{ manager: 'kubectl' }], labels: { app: 'web' } });
    const d = store.apply('ADDED', input);
    assert.ok(d?.type === 'add');
    assert.equal('managedFields' in d.obj.metadata, false);
    assert.deepEqual(d.obj.metadata.labels, { app: 'web' });
    assert.deepEqual(input.metadata.managedFields, [{ manager: 'kubectl' }], 'caller object untouched');
    assert.equal('managedFields' in (store.get('a/x')?.metadata ?? {}), false);
  });

  test('an object without managedFields is stored as is (no copy)', () => {
    const input = pod('a', 'x', '1');
    assert.equal(stripManagedFields(input), input);
    const store = new Store<KubeObject>();
    store.apply('ADDED', input);
    assert.equal(store.get('a/x'), input);
  });

  test('a custom transform replaces the default', () => {
    interface Slim extends KubeObject {
      slim: true;
    }
    const store = new Store<Slim>({
      transform: (obj) => ({ metadata: { ...obj.metadata, annotations: {} }, slim: true }),
    });
    store.apply('ADDED', pod('a', 'x', '1', { managedFields: [1], annotations: { big: 'x'.repeat(100) } }));
    const stored = store.get('a/x');
    assert.equal(stored?.slim, true);
    assert.deepEqual(stored?.metadata.annotations, {});
    assert.deepEqual(
      stored?.metadata.managedFields,
      [1],
      'custom transform did not strip, and nothing else did',
    );
  });

  test('a throwing transform skips the object and reports a typed error; the store stays usable', () => {
    const errors: StoreInputError[] = [];
    const store = new Store<KubeObject>({
      transform: (obj) => {
        if (obj.metadata.name === 'bad') throw new Error('boom');
        return obj;
      },
      onInputError: (e) => errors.push(e),
    });
    const deltas = store.replace([pod('a', 'good', '1'), pod('a', 'bad', '1')], '1');
    assert.deepEqual(summary(deltas), ['add a/good@1 initial=true']);
    assert.equal(store.apply('MODIFIED', pod('a', 'bad', '2')), undefined);
    assert.equal(errors.length, 2);
    assert.equal(errors[0]?.name, 'StoreInputError');
    assert.equal(errors[0]?.key, 'a/bad');
    assert.equal((errors[0]?.cause as Error | undefined)?.message, 'boom');
    assert.deepEqual(store.keys(), ['a/good']);
  });

  test('malformed objects are rejected with a typed error, never a crash', () => {
    const errors: StoreInputError[] = [];
    const store = new Store<KubeObject>({ onInputError: (e) => errors.push(e) });
    const junk = [null, 42, {}, { metadata: null }, { metadata: { name: '' } }, { metadata: { name: 5 } }];
    const deltas = store.replace(junk as unknown as KubeObject[], '1');
    assert.deepEqual(deltas, []);
    assert.equal(store.apply('ADDED', { metadata: {} }), undefined);
    assert.equal(errors.length, junk.length + 1);
    assert.ok(errors.every((e) => e.name === 'StoreInputError'));
  });
});

describe('Store indexes', () => {
  const byApp = (o: KubeObject) => (o.metadata.labels?.app ? [o.metadata.labels.app] : []);
  const byOwners = (o: KubeObject) => (o.metadata.ownerReferences ?? []).map((r) => r.name);

  test('the namespace index is built in', () => {
    const store = new Store<KubeObject>();
    store.replace(
      [pod('a', 'x', '1'), pod('a', 'y', '1'), pod('b', 'z', '1'), pod(undefined, 'n', '1')],
      '1',
    );
    assert.deepEqual(store.indexNames(), [NAMESPACE_INDEX]);
    assert.deepEqual(
      store
        .byIndex(NAMESPACE_INDEX, 'a')
        .map((o) => o.metadata.name)
        .sort(),
      ['x', 'y'],
    );
    assert.deepEqual(store.indexKeys(NAMESPACE_INDEX, ''), ['n']);
    assert.deepEqual(store.indexValues(NAMESPACE_INDEX).sort(), ['', 'a', 'b']);
  });

  test('custom indexes follow adds, updates and deletes', () => {
    const store = new Store<KubeObject>({ indexers: { app: byApp, owner: byOwners } });
    store.apply('ADDED', pod('a', 'x', '1', { labels: { app: 'web' } }));
    store.apply('ADDED', pod('a', 'y', '1', { labels: { app: 'web' } }));
    assert.deepEqual(store.indexKeys('app', 'web').sort(), ['a/x', 'a/y']);

    store.apply('MODIFIED', pod('a', 'x', '2', { labels: { app: 'db' } }));
    assert.deepEqual(store.indexKeys('app', 'web'), ['a/y']);
    assert.deepEqual(store.indexKeys('app', 'db'), ['a/x']);

    store.apply('DELETED', pod('a', 'y', '3', { labels: { app: 'web' } }));
    assert.deepEqual(store.indexKeys('app', 'web'), []);
    assert.deepEqual(store.indexValues('app'), ['db'], 'empty buckets are dropped');

    const owners = [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs1', uid: '1' },
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs2', uid: '2' },
    ];
    store.apply('ADDED', pod('a', 'multi', '1', { ownerReferences: owners }));
    assert.deepEqual(store.indexKeys('owner', 'rs1'), ['a/multi']);
    assert.deepEqual(store.indexKeys('owner', 'rs2'), ['a/multi']);
  });

  test('replace rebuilds indexes from the new content', () => {
    const store = new Store<KubeObject>({ indexers: { app: byApp } });
    store.replace([pod('a', 'x', '1', { labels: { app: 'web' } })], '1');
    store.replace(
      [pod('a', 'x', '2', { labels: { app: 'db' } }), pod('a', 'y', '1', { labels: { app: 'db' } })],
      '2',
    );
    assert.deepEqual(store.indexKeys('app', 'web'), []);
    assert.deepEqual(store.indexKeys('app', 'db').sort(), ['a/x', 'a/y']);
  });

  test('addIndexers indexes existing content; name clashes and unknown indexes are typed errors', () => {
    const store = new Store<KubeObject>();
    store.replace([pod('a', 'x', '1', { labels: { app: 'web' } })], '1');
    store.addIndexers({ app: byApp });
    assert.deepEqual(store.indexKeys('app', 'web'), ['a/x']);
    assert.throws(() => store.addIndexers({ app: byApp }), IndexerConflictError);
    assert.throws(() => store.addIndexers({ [NAMESPACE_INDEX]: byApp }), IndexerConflictError);
    assert.throws(() => new Store<KubeObject>({ indexers: { namespace: byApp } }), IndexerConflictError);
    assert.throws(() => store.byIndex('nope', 'x'), UnknownIndexError);
    assert.throws(() => store.indexKeys('nope', 'x'), UnknownIndexError);
    assert.throws(() => store.indexValues('nope'), UnknownIndexError);
  });

  test('a throwing index function indexes the object under nothing and reports it; the object is still cached', () => {
    const errors: StoreInputError[] = [];
    const store = new Store<KubeObject>({
      indexers: {
        fragile: (o) => {
          if (o.metadata.name === 'bad') throw new Error('index boom');
          return [o.metadata.name ?? ''];
        },
      },
      onInputError: (e) => errors.push(e),
    });
    store.replace([pod('a', 'bad', '1'), pod('a', 'ok', '1')], '1');
    assert.equal(store.size, 2);
    assert.deepEqual(store.indexValues('fragile'), ['ok']);
    assert.equal(errors.length, 1);
    store.apply('DELETED', pod('a', 'bad', '2'));
    assert.equal(store.size, 1);
  });

  test('duplicate values from an index function do not corrupt removal', () => {
    const store = new Store<KubeObject>({ indexers: { dup: () => ['v', 'v'] } });
    store.apply('ADDED', pod('a', 'x', '1'));
    assert.deepEqual(store.indexKeys('dup', 'v'), ['a/x']);
    store.apply('DELETED', pod('a', 'x', '2'));
    assert.deepEqual(store.indexValues('dup'), []);
  });

  test('removal uses the values a user indexer gave at insertion, never a second call; indexers added later line up', () => {
    let calls = 0;
    const store = new Store<KubeObject>({ indexers: { impure: () => [`v${++calls}`] } });
    store.apply('ADDED', pod('a', 'x', '1'));
    store.apply('ADDED', pod('b', 'y', '1'));
    assert.deepEqual(store.indexValues('impure').sort(), ['v1', 'v2']);
    store.addIndexers({ app: byApp });
    store.addIndexers({ owner: byOwners });
    assert.equal(calls, 2, 'adding other indexers re-runs none of the earlier ones');
    store.apply('MODIFIED', pod('a', 'x', '2', { labels: { app: 'web' } }));
    assert.deepEqual(store.indexValues('impure').sort(), ['v2', 'v3'], 'v1 removed without asking again');
    assert.deepEqual(store.indexKeys('app', 'web'), ['a/x']);
    store.apply('DELETED', pod('a', 'x', '3'));
    store.apply('DELETED', pod('b', 'y', '2'));
    assert.deepEqual(store.indexValues('impure'), []);
    assert.deepEqual(store.indexValues('app'), []);
    assert.deepEqual(
      store.indexValues(NAMESPACE_INDEX),
      [],
      'namespace buckets follow from the stored objects',
    );
    assert.equal(calls, 3);
  });
});
