/**
 * The Manager over HTTP/2 (`http2: true`), the transport to choose when most watches are per-name
 * (many namespaces with few watched objects each; see bench/RESULTS.md): its watches share a few
 * connections, and when those connections die every watch comes back with nothing lost.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../src/kube/core/types.ts';
import { startTcpProxy } from '../../../tools/controlplane/tcp-proxy.ts';
import { testCluster, testNamespace } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';
import { adminClient, createDeployments, DEPLOYMENTS, forEachLimit, managerFor, watchOf } from './support.ts';

describe('informer Manager over HTTP/2', () => {
  it('150 per-name watches share a few connections; after every connection is cut, each update still arrives', async (t) => {
    const cluster = await testCluster();
    const ns = await testNamespace(t, 'h2');
    const admin = await adminClient(t);
    const names = Array.from({ length: 150 }, (_, i) => `d-${String(i).padStart(3, '0')}`);
    await createDeployments(admin, ns, names);
    const url = new URL(cluster.apiserverUrl);
    const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    t.after(() => proxy.close());
    const { manager, counting } = await managerFor(t, {
      server: proxy.url,
      http2: true,
      sharing: { mode: 'per-name' },
      reflector: { backoff: { initialMs: 100, capMs: 1_000 } },
    });
    const latest = new Map<string, string | undefined>();
    const annotation = (obj: KubeObject): string | undefined => obj.metadata.annotations?.step;
    await forEachLimit(names, 32, (name) =>
      manager.add(
        watchOf(`es-${name}`, ns, name, {
          onAdd: (obj) => void latest.set(name, annotation(obj)),
          onUpdate: (_old, obj) => {
            if (obj.metadata.name !== name) throw new Error(`${name} got ${obj.metadata.name}`);
            latest.set(name, annotation(obj));
          },
        }),
      ),
    );
    assert.equal(counting.open, 150, '150 watch streams');
    assert.ok(proxy.open <= 5, `multiplexed over ${proxy.open} connections`);

    proxy.cutAll();
    await waitFor(
      () => counting.open === 150 && manager.upstreams().every((u) => u.status.phase === 'Watching'),
      {
        message: 'every watch reopened',
        timeoutMs: 60_000,
      },
    );
    await forEachLimit(names, 16, (name) =>
      admin.patch(DEPLOYMENTS, ns, name, { metadata: { annotations: { step: 'after-cut' } } }, 'merge'),
    );
    await waitFor(() => names.every((n) => latest.get(n) === 'after-cut'), {
      message: 'every update after the cut arrived',
      timeoutMs: 60_000,
    });
    assert.ok(proxy.open <= 5, `still multiplexed (${proxy.open} connections)`);
  });
});
