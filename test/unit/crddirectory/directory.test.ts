import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ElastiServiceSpec } from '../../../src/api/v1alpha1/types.ts';
import {
  type CRDDetails,
  CRDDirectory,
  CRDDirectoryError,
  type DirectoryChange,
  parseServiceKey,
  serviceKey,
} from '../../../src/crddirectory/directory.ts';
import type { Logger } from '../../../src/kube/core/types.ts';

function details(namespace: string, crdName: string, service: string): CRDDetails {
  const spec: ElastiServiceSpec = {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: service },
    service,
    triggers: [{ type: 'prometheus', metadata: { query: 'up', serverAddress: 'http://p', threshold: '1' } }],
  };
  return { crdName, namespace, spec, status: { mode: 'serve' } };
}

describe('service keys', () => {
  it('joins and splits namespace/service', () => {
    assert.equal(serviceKey('shop', 'web'), 'shop/web');
    assert.deepEqual(parseServiceKey('shop/web'), { namespace: 'shop', service: 'web' });
  });

  it('rejects malformed keys with a typed error', () => {
    for (const key of ['web', '/web', 'shop/', 'a/b/c', '']) {
      assert.throws(() => parseServiceKey(key), CRDDirectoryError, key);
    }
  });
});

describe('CRDDirectory', () => {
  it('stores, finds, lists and deletes entries', () => {
    const dir = new CRDDirectory();
    assert.equal(dir.size, 0);
    dir.set('shop/web', details('shop', 'web-es', 'web'));
    dir.set('shop/api', details('shop', 'api-es', 'api'));
    dir.set('blog/web', details('blog', 'web-es', 'web'));
    assert.equal(dir.size, 3);
    assert.equal(dir.get('shop/web')?.crdName, 'web-es');
    assert.equal(dir.has('blog/web'), true);
    assert.equal(dir.get('shop/missing'), undefined);
    assert.deepEqual(
      dir.list().map((e) => e.key),
      ['blog/web', 'shop/api', 'shop/web'],
    );
    assert.deepEqual(dir.findByCRD('shop', 'api-es')?.key, 'shop/api');
    assert.equal(dir.findByCRD('blog', 'web-es')?.details.namespace, 'blog');
    assert.equal(dir.findByCRD('other', 'web-es'), undefined);

    assert.equal(dir.delete('shop/web'), true);
    assert.equal(dir.delete('shop/web'), false);
    assert.equal(dir.size, 2);
    assert.equal(dir.findByCRD('shop', 'web-es'), undefined);
  });

  it('keeps its own copy: later changes to the input do not leak in', () => {
    const dir = new CRDDirectory();
    const input = details('shop', 'web-es', 'web');
    dir.set('shop/web', input);
    input.spec.minTargetReplicas = 7;
    input.status.mode = 'proxy';
    (input.spec.triggers?.[0]?.metadata as Record<string, unknown>).query = 'changed';
    const stored = dir.get('shop/web');
    assert.equal(stored?.spec.minTargetReplicas, undefined);
    assert.equal(stored?.status.mode, 'serve');
    assert.equal(stored?.spec.triggers?.[0]?.metadata?.query, 'up');
  });

  it('hands out deeply frozen snapshots that callers cannot modify', () => {
    const dir = new CRDDirectory();
    dir.set('shop/web', details('shop', 'web-es', 'web'));
    const entry = dir.get('shop/web');
    assert.ok(entry);
    assert.throws(() => {
      (entry.status as { mode: string }).mode = 'proxy';
    }, TypeError);
    assert.throws(() => {
      (entry.spec.scaleTargetRef as { name: string }).name = 'x';
    }, TypeError);
    assert.throws(() => {
      (entry.spec.triggers as unknown[]).push({});
    }, TypeError);
    // A snapshot stays as it was after the entry is replaced.
    dir.set('shop/web', { ...details('shop', 'web-es', 'web'), status: { mode: 'proxy' } });
    assert.equal(entry.status.mode, 'serve');
    assert.equal(dir.get('shop/web')?.status.mode, 'proxy');
    // list() returns a new array each time.
    const list = dir.list();
    list.pop();
    assert.equal(dir.list().length, 1);
  });

  it('rejects a malformed key or details inconsistent with the key', () => {
    const dir = new CRDDirectory();
    assert.throws(() => dir.set('web', details('shop', 'web-es', 'web')), CRDDirectoryError);
    assert.throws(() => dir.set('blog/web', details('shop', 'web-es', 'web')), /namespace "shop"/);
    assert.throws(() => dir.set('shop/api', details('shop', 'web-es', 'web')), /service "web"/);
    assert.throws(() => dir.set('shop/web', details('shop', '', 'web')), /no crdName/);
    assert.throws(() => dir.set('shop/web', null as unknown as CRDDetails), CRDDirectoryError);
    assert.equal(dir.size, 0);
  });

  it('moves an ElastiService whose service changed instead of listing it twice', () => {
    const dir = new CRDDirectory();
    dir.set('shop/web', details('shop', 'es', 'web'));
    dir.set('shop/web2', details('shop', 'es', 'web2'));
    assert.deepEqual(
      dir.list().map((e) => e.key),
      ['shop/web2'],
    );
    assert.equal(dir.findByCRD('shop', 'es')?.key, 'shop/web2');
  });

  it('lets a second ElastiService claim a service; the first then has no entry', () => {
    const dir = new CRDDirectory();
    dir.set('shop/web', details('shop', 'first', 'web'));
    dir.set('shop/web', details('shop', 'second', 'web'));
    assert.equal(dir.size, 1);
    assert.equal(dir.get('shop/web')?.crdName, 'second');
    assert.equal(dir.findByCRD('shop', 'first'), undefined);
    assert.equal(dir.findByCRD('shop', 'second')?.key, 'shop/web');
    // Deleting by the displaced ElastiService must not remove the new owner's entry.
    assert.equal(dir.deleteByCRD('shop', 'first'), undefined);
    assert.equal(dir.size, 1);
  });

  it('deletes by ElastiService', () => {
    const dir = new CRDDirectory();
    dir.set('shop/web', details('shop', 'es', 'web'));
    assert.equal(dir.deleteByCRD('shop', 'es'), 'shop/web');
    assert.equal(dir.size, 0);
    assert.equal(dir.deleteByCRD('shop', 'es'), undefined);
  });

  it('tells listeners about every change, in order, and stops after unsubscribe', () => {
    const dir = new CRDDirectory();
    const changes: string[] = [];
    const off = dir.onChange((c: DirectoryChange) => {
      changes.push(
        c.type === 'set'
          ? `set ${c.key} ${c.previous?.crdName ?? '-'}→${c.current.crdName}`
          : `delete ${c.key} ${c.previous.crdName}`,
      );
    });
    dir.set('shop/web', details('shop', 'a', 'web'));
    dir.set('shop/web', details('shop', 'a', 'web'));
    dir.set('shop/web2', details('shop', 'a', 'web2'));
    dir.set('shop/x', details('shop', 'b', 'x'));
    dir.clear();
    off();
    dir.set('shop/y', details('shop', 'c', 'y'));
    assert.deepEqual(changes, [
      'set shop/web -→a',
      'set shop/web a→a',
      'delete shop/web a',
      'set shop/web2 -→a',
      'set shop/x -→b',
      'delete shop/web2 a',
      'delete shop/x b',
    ]);
  });

  it('isolates a throwing listener: the change applies, other listeners run, the error is logged', () => {
    const logged: object[] = [];
    const logger: Logger = {
      debug() {},
      info() {},
      warn() {},
      error(obj: object) {
        logged.push(obj);
      },
      child() {
        return logger;
      },
    };
    const dir = new CRDDirectory({ logger });
    let seen = 0;
    dir.onChange(() => {
      throw new Error('boom');
    });
    dir.onChange(() => {
      seen += 1;
    });
    dir.set('shop/web', details('shop', 'a', 'web'));
    assert.equal(dir.size, 1);
    assert.equal(seen, 1);
    assert.equal(logged.length, 1);
    assert.match(String((logged[0] as { err: Error }).err), /boom/);
  });

  it('keeps separate instances independent', () => {
    const a = new CRDDirectory();
    const b = new CRDDirectory();
    a.set('shop/web', details('shop', 'a', 'web'));
    assert.equal(b.size, 0);
  });
});
