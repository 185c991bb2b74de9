/**
 * The client's pure parts (paths, queries, decoding) and the kubeconfig → connection step.
 * Behaviour on the wire is covered by the integration tests against a real apiserver.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import {
  decodeWatchEvent,
  LineSplitter,
  queryString,
  resourcePath,
  toListPage,
} from '../../../../src/kube/client/index.ts';
import { connect } from '../../../../src/kube/config/connection.ts';
import { KubeApiError, KubeConfigError, KubeDecodeError } from '../../../../src/kube/core/errors.ts';

const deployments = { group: 'apps', version: 'v1', resource: 'deployments' };
const pods = { group: '', version: 'v1', resource: 'pods' };

describe('resourcePath', () => {
  it('builds core and named-group paths, namespaced or not, with subresources', () => {
    assert.equal(resourcePath(pods), '/api/v1/pods');
    assert.equal(resourcePath(pods, 'ns'), '/api/v1/namespaces/ns/pods');
    assert.equal(resourcePath(pods, 'ns', 'p'), '/api/v1/namespaces/ns/pods/p');
    assert.equal(
      resourcePath(deployments, 'ns', 'd', 'status'),
      '/apis/apps/v1/namespaces/ns/deployments/d/status',
    );
    assert.equal(
      resourcePath({ group: '', version: 'v1', resource: 'namespaces' }, undefined, 'x'),
      '/api/v1/namespaces/x',
    );
  });

  it('encodes path segments so names cannot escape their segment', () => {
    assert.equal(resourcePath(pods, 'ns', 'a/b?c'), '/api/v1/namespaces/ns/pods/a%2Fb%3Fc');
  });

  it('rejects an empty name', () => {
    assert.throws(() => resourcePath(pods, 'ns', ''), TypeError);
  });
});

describe('queryString', () => {
  it('skips undefined and empty values and encodes the rest', () => {
    assert.equal(queryString({}), '');
    assert.equal(queryString({ a: undefined, b: '' }), '');
    assert.equal(
      queryString({ labelSelector: 'app=x,tier in (a,b)', limit: 500, watch: 'true' }),
      '?labelSelector=app%3Dx%2Ctier+in+%28a%2Cb%29&limit=500&watch=true',
    );
  });
});

describe('decodeWatchEvent', () => {
  it('decodes events', () => {
    const ev = decodeWatchEvent(
      '{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}}',
      'u',
    );
    assert.equal(ev.type, 'ADDED');
    assert.equal(ev.object.metadata.name, 'a');
  });

  it('turns an ERROR event into a KubeApiError carrying the Status', () => {
    const line = JSON.stringify({
      type: 'ERROR',
      object: {
        kind: 'Status',
        status: 'Failure',
        code: 410,
        reason: 'Expired',
        message: 'too old resource version',
      },
    });
    assert.throws(
      () => decodeWatchEvent(line, 'u'),
      (err: unknown) => err instanceof KubeApiError && err.status === 410 && err.reason === 'Expired',
    );
  });

  it('rejects garbage with a KubeDecodeError', () => {
    for (const line of [
      '{not json',
      '42',
      '{"type":"WHAT","object":{"metadata":{}}}',
      '{"type":"ADDED","object":{}}',
    ]) {
      assert.throws(() => decodeWatchEvent(line, 'u'), KubeDecodeError, line);
    }
  });
});

describe('toListPage', () => {
  it('returns items, RV and continue, filling in kind and apiVersion', () => {
    const page = toListPage(
      {
        kind: 'ConfigMapList',
        apiVersion: 'v1',
        metadata: { resourceVersion: '12', continue: 'tok' },
        items: [
          { metadata: { name: 'a' } },
          { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'b' } },
        ],
      },
      'u',
    );
    assert.equal(page.resourceVersion, '12');
    assert.equal(page.continue, 'tok');
    assert.deepEqual(
      page.items.map((i) => [i.kind, i.apiVersion, i.metadata.name]),
      [
        ['ConfigMap', 'v1', 'a'],
        ['ConfigMap', 'v1', 'b'],
      ],
    );
  });

  it('accepts null items and an empty continue', () => {
    const page = toListPage(
      { kind: 'PodList', metadata: { resourceVersion: '1', continue: '' }, items: null },
      'u',
    );
    assert.deepEqual(page.items, []);
    assert.equal(page.continue, undefined);
  });

  it('rejects malformed lists', () => {
    assert.throws(() => toListPage('x', 'u'), KubeDecodeError);
    assert.throws(() => toListPage({ metadata: {}, items: [] }, 'u'), KubeDecodeError);
    assert.throws(() => toListPage({ metadata: { resourceVersion: '1' }, items: {} }, 'u'), KubeDecodeError);
    assert.throws(
      () => toListPage({ metadata: { resourceVersion: '1' }, items: [{}] }, 'u'),
      KubeDecodeError,
    );
  });
});

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'kcfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function kubeconfig(server: string, user: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: c',
    '  cluster:',
    `    server: ${server}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: u',
    '  user:',
    ...user.split('\n').map((l) => `    ${l}`),
    'contexts:',
    '- name: x',
    '  context: {cluster: c, user: u}',
    'current-context: x',
    '',
  ].join('\n');
}

describe('connect (kubeconfig → connection)', () => {
  it('serves the bearer token and re-reads it on refreshCredentials()', async (t) => {
    const path = join(tempDir(t), 'config');
    writeFileSync(path, kubeconfig('https://127.0.0.1:6443/prefix/', 'token: first'));
    const conn = await connect(path);
    t.after(() => conn.close());
    assert.equal(conn.server, 'https://127.0.0.1:6443/prefix');
    assert.equal((await conn.headers()).authorization, 'Bearer first');
    writeFileSync(path, kubeconfig('https://127.0.0.1:6443', 'token: second'));
    assert.equal((await conn.headers()).authorization, 'Bearer first', 'cached until refresh or TTL');
    await conn.refreshCredentials();
    assert.equal((await conn.headers()).authorization, 'Bearer second');
    await conn.close();
    await conn.close(); // idempotent
  });

  it('re-asks for credentials after the header TTL', async (t) => {
    const path = join(tempDir(t), 'config');
    writeFileSync(path, kubeconfig('https://127.0.0.1:6443', 'token: t1'));
    let now = 0;
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    const conn = await connect(kc, { headerTtlMs: 1000, now: () => now });
    t.after(() => conn.close());
    assert.equal((await conn.headers()).authorization, 'Bearer t1');
    // Mutate the loaded config's user token the way an auth provider would rotate it.
    (kc.users[0] as { token?: string }).token = 't2';
    now = 999;
    assert.equal((await conn.headers()).authorization, 'Bearer t1');
    now = 1000;
    assert.equal((await conn.headers()).authorization, 'Bearer t2');
    assert.equal((await conn.headers())['user-agent'], 'elasti-informer');
  });

  it('maps basic auth and impersonation to headers', async (t) => {
    const path = join(tempDir(t), 'config');
    writeFileSync(path, kubeconfig('https://127.0.0.1:6443', 'username: alice\npassword: s3cret\nas: bob'));
    const conn = await connect(path);
    t.after(() => conn.close());
    const headers = await conn.headers();
    assert.equal(headers.authorization, `Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
    assert.equal(headers['impersonate-user'], 'bob');
  });

  it('accepts a KubeConfig object and still refreshes with fresh authenticators', async (t) => {
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfig('https://10.0.0.1:443', 'token: obj'));
    const conn = await connect(kc);
    t.after(() => conn.close());
    assert.equal((await conn.headers()).authorization, 'Bearer obj');
    await conn.refreshCredentials();
    assert.equal((await conn.headers()).authorization, 'Bearer obj');
  });

  it('fails with KubeConfigError for a missing file, no current cluster, or a bad server URL', async (t) => {
    const dir = tempDir(t);
    await assert.rejects(connect(join(dir, 'missing')), KubeConfigError);
    const noContext = join(dir, 'nocontext');
    writeFileSync(noContext, 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n');
    await assert.rejects(connect(noContext), KubeConfigError);
    const badUrl = join(dir, 'badurl');
    writeFileSync(badUrl, kubeconfig('ftp://example', 'token: x'));
    await assert.rejects(connect(badUrl), KubeConfigError);
  });
});

describe('LineSplitter', () => {
  it('splits lines across chunk boundaries, including multi-byte characters, skipping blank lines', () => {
    const splitter = new LineSplitter();
    const bytes = Buffer.from('{"a":"é"}\n\n{"b":1}\n{"c":', 'utf8');
    const out: string[] = [];
    // Feed one byte at a time: every boundary, including inside "é", is exercised.
    for (let i = 0; i < bytes.length; i++) out.push(...splitter.push(bytes.subarray(i, i + 1)));
    assert.deepEqual(out, ['{"a":"é"}', '{"b":1}']);
    assert.deepEqual(splitter.push(Buffer.from('2}\n')), ['{"c":2}']);
    assert.equal(splitter.end(), undefined);
  });

  it('returns an unterminated last line at the end', () => {
    const splitter = new LineSplitter();
    assert.deepEqual(splitter.push(Buffer.from('{"x":1}\n{"y"')), ['{"x":1}']);
    assert.deepEqual(splitter.push(Buffer.from(':2}')), []);
    assert.equal(splitter.end(), '{"y":2}');
  });
});
