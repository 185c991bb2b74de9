/**
 * A kubeconfig whose server is not an API server but something that redirects (an ingress or a
 * login portal answering 302): the client must say "unexpected redirect", not fail later on a
 * body it cannot decode, and must not follow the redirect with our credentials. The server here
 * is such a redirecting web server (not a stand-in for the Kubernetes API, which never redirects).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { KubeClient } from '../../../../src/kube/client/client.ts';
import { KubeApiError, KubeRedirectError } from '../../../../src/kube/core/errors.ts';
import { resources } from '../../../../src/kube/core/resources.ts';

test('a 3xx answer is a KubeRedirectError naming the location, and is not followed', async (t) => {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    if (req.url?.startsWith('/login')) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>please log in</html>');
      return;
    }
    res.writeHead(302, { location: `http://127.0.0.1:${(server.address() as AddressInfo).port}/login` });
    res.end('<html>moved</html>');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'redirect-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'config');
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: 'http://127.0.0.1:${port}'}}]
users: [{name: u, user: {token: secret-token}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
  );
  const client = await KubeClient.create(path);
  t.after(() => client.close());

  const error = await client
    .list({ gvr: resources.configMaps.gvr, namespace: 'ns' })
    .catch((e: unknown) => e);
  assert.ok(error instanceof KubeRedirectError, `got ${String(error)}`);
  assert.ok(error instanceof KubeApiError, 'a KubeApiError subclass: status-based checks keep working');
  assert.equal(error.status, 302);
  assert.equal(error.reason, 'UnexpectedRedirect');
  assert.equal(error.location, `http://127.0.0.1:${port}/login`);
  assert.match(
    error.message,
    /failed: 302 UnexpectedRedirect: redirected to http:\/\/127\.0\.0\.1:\d+\/login/,
  );
  await assert.rejects(client.get(resources.configMaps.gvr, 'ns', 'x'), KubeRedirectError);
  assert.ok(
    requests.every((r) => !r.startsWith('GET /login')),
    `the redirect was not followed: ${requests.join(', ')}`,
  );
});
