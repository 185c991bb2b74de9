/** Leader election on a real Lease: one leader at a time, hand-over on release and on loss. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeClient } from '../../../src/kube/client/client.ts';
import type { Lease } from '../../../src/kube/index.ts';
import { LEASE_GVR, LeaderElector } from '../../../src/runtime/leader-election.ts';
import { startTcpProxy } from '../../../tools/controlplane/harness.ts';
import { testCluster, testNamespace } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';

const fast = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 250 };

test('one leader at a time; a released lease is taken over at once', async (t) => {
  const cluster = await testCluster();
  const ns = await testNamespace(t, 'le');
  const client = await KubeClient.create(cluster.kubeconfigPath);
  t.after(() => client.close());
  const leading = new Set<string>();
  const maxConcurrent = { value: 0 };
  const candidate = (identity: string) => {
    const abort = new AbortController();
    const elector = new LeaderElector({ client, namespace: ns, name: 'op', identity, ...fast });
    const result = elector.run(
      {
        onStartedLeading() {
          leading.add(identity);
          maxConcurrent.value = Math.max(maxConcurrent.value, leading.size);
        },
        onStoppedLeading() {
          leading.delete(identity);
        },
      },
      abort.signal,
    );
    return { abort, elector, result };
  };
  const a = candidate('a');
  await waitFor(() => a.elector.isLeader, { message: 'a leads' });
  const b = candidate('b');
  t.after(() => {
    a.abort.abort();
    b.abort.abort();
  });
  // b must keep waiting while a renews: observe several renew periods.
  const lease = await waitFor(
    async () => {
      const l = await client.get<Lease>(LEASE_GVR, ns, 'op');
      return l.metadata.resourceVersion !== undefined &&
        Date.parse(l.spec?.renewTime ?? '') > Date.now() - 1000
        ? l
        : undefined;
    },
    { message: 'a renews' },
  );
  assert.equal(lease.spec?.holderIdentity, 'a');
  assert.equal(b.elector.isLeader, false);

  const releasedAt = Date.now();
  a.abort.abort();
  assert.equal(await a.result, 'released');
  await waitFor(() => b.elector.isLeader, { message: 'b takes over' });
  // Taken over on release, long before a 3 s lease could have expired... or at least not after it.
  assert.ok(Date.now() - releasedAt < fast.leaseDurationMs + 2_000);
  assert.equal(maxConcurrent.value, 1, 'never two leaders at once');
  const final = await client.get<Lease>(LEASE_GVR, ns, 'op');
  assert.equal(final.spec?.holderIdentity, 'b');
  assert.equal(final.spec?.leaseTransitions, 1);
});

test('a leader that cannot renew (network cut) stops leading; another takes over after expiry', async (t) => {
  const cluster = await testCluster();
  const ns = await testNamespace(t, 'le');
  const url = new URL(cluster.apiserverUrl);
  const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
  t.after(() => proxy.close());
  const { writeFileSync, readFileSync } = await import('node:fs');
  const proxied = `${cluster.kubeconfigPath}.proxy-${ns}`;
  writeFileSync(
    proxied,
    readFileSync(cluster.kubeconfigPath, 'utf8').replace(cluster.apiserverUrl, proxy.url),
  );
  const isolated = await KubeClient.create(proxied, { headersTimeoutMs: 1_000, bodyTimeoutMs: 1_000 });
  const direct = await KubeClient.create(cluster.kubeconfigPath);
  t.after(() => Promise.all([isolated.close(), direct.close()]));

  const abortA = new AbortController();
  const abortB = new AbortController();
  t.after(() => {
    abortA.abort();
    abortB.abort();
  });
  let aLost = false;
  const a = new LeaderElector({ client: isolated, namespace: ns, name: 'op', identity: 'a', ...fast });
  const aDone = a.run(
    {
      onStartedLeading() {},
      onStoppedLeading(reason) {
        aLost = reason === 'lost';
      },
    },
    abortA.signal,
  );
  await waitFor(() => a.isLeader, { message: 'a leads' });
  const b = new LeaderElector({ client: direct, namespace: ns, name: 'op', identity: 'b', ...fast });
  void b.run({ onStartedLeading() {} }, abortB.signal);

  proxy.pause(); // a's requests now hang: it cannot renew
  assert.equal(await aDone, 'lost');
  assert.ok(aLost);
  await waitFor(() => b.isLeader, { timeoutMs: 15_000, message: 'b takes over after expiry' });
  proxy.resume();
});
