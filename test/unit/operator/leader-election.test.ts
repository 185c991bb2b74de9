/**
 * The candidate's view of its campaign, over an in-memory Lease client (our own
 * `get/create/replace` interface): a refused Lease makes readiness fail with the reason, a
 * standby that can read the Lease held by another replica stays ready, and a repeating failure
 * warns once. The protocol against the real apiserver is in test/integration/operator.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeApiError } from '../../../src/kube/core/errors.ts';
import type {
  GroupVersionResource,
  KubeObject,
  KubeObjectLike,
  Logger,
} from '../../../src/kube/core/types.ts';
import type { Lease } from '../../../src/kube/index.ts';
import { leaseReadiness } from '../../../src/operator/operator.ts';
import {
  LEASE_GVR,
  LeaderElectionConfigError,
  type LeaderElectionOptions,
  LeaderElector,
} from '../../../src/runtime/leader-election.ts';
import { FakeApiServer } from '../../support/fake-api-server.ts';
import { waitFor } from '../../support/wait.ts';

function forbidden(verb: string): KubeApiError {
  return new KubeApiError({
    status: 403,
    verb,
    url: 'https://apiserver/apis/coordination.k8s.io/v1/namespaces/elasti/leases/lock',
    body: {
      kind: 'Status',
      code: 403,
      reason: 'Forbidden',
      message: `leases.coordination.k8s.io "lock" is forbidden: User "restricted" cannot ${verb} resource "leases"`,
    },
  });
}

/** The Lease lives in the one fake API server; `refuse` makes every call fail with 403 (no RBAC yet). */
class LeaseStore extends FakeApiServer {
  refuse = true;
  override get<T extends KubeObjectLike = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    signal?: AbortSignal,
  ): Promise<T> {
    if (this.refuse) return Promise.reject(forbidden('get'));
    return super.get<T>(gvr, namespace, name, signal);
  }
  override create<T extends KubeObjectLike = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    obj: T,
  ): Promise<T> {
    if (this.refuse) return Promise.reject(forbidden('create'));
    return super.create(gvr, namespace, obj);
  }
  override replace<T extends KubeObjectLike = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    obj: T,
  ): Promise<T> {
    if (this.refuse) return Promise.reject(forbidden('update'));
    return super.replace(gvr, namespace, name, obj);
  }
}

function capturingLogger(): { logger: Logger; lines: Array<{ level: string; msg: string | undefined }> } {
  const lines: Array<{ level: string; msg: string | undefined }> = [];
  const make = (): Logger => ({
    debug: (_o, msg) => lines.push({ level: 'debug', msg }),
    info: (_o, msg) => lines.push({ level: 'info', msg }),
    warn: (_o, msg) => lines.push({ level: 'warn', msg }),
    error: (_o, msg) => lines.push({ level: 'error', msg }),
    child: () => make(),
  });
  return { logger: make(), lines };
}

function elector(store: LeaseStore, extra: Partial<LeaderElectionOptions> = {}): LeaderElector {
  return new LeaderElector({
    client: store,
    namespace: 'elasti',
    name: 'lock',
    identity: 'me',
    leaseDurationMs: 1_500,
    renewDeadlineMs: 1_000,
    retryPeriodMs: 20,
    ...extra,
  });
}

describe('leader election status and readiness', () => {
  it('a refused Lease (403) makes readiness say it cannot take the lease; warned once, not every retry', async () => {
    const store = new LeaseStore();
    const { logger, lines } = capturingLogger();
    const candidate = elector(store, { logger });
    const ready = leaseReadiness(candidate);
    assert.equal(ready(), true, 'nothing known yet');
    const stop = new AbortController();
    const campaign = candidate.run({ onStartedLeading: () => {} }, stop.signal);
    await waitFor(() => lines.filter((l) => l.msg?.startsWith('reading the lease failed')).length >= 5, {
      message: 'several refused attempts',
    });
    const why = ready();
    assert.equal(typeof why, 'string');
    assert.match(
      String(why),
      /^cannot take the lease elasti\/lock: .*403 Forbidden: leases\.coordination\.k8s\.io "lock" is forbidden/,
    );
    assert.equal(lines.filter((l) => l.level === 'warn').length, 1, 'one warning for a repeating failure');

    // Access granted: the candidate takes the lease and readiness recovers.
    store.refuse = false;
    await waitFor(() => candidate.isLeader, { message: 'leads once allowed' });
    assert.equal(ready(), true);
    assert.equal(candidate.status().lastError, undefined);
    stop.abort();
    assert.equal(await campaign, 'released');
  });

  it('a standby that reads a lease held by another replica is ready', async () => {
    const store = new LeaseStore();
    store.refuse = false;
    const now = new Date().toISOString();
    store.upsert<Lease>(LEASE_GVR, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'lock', namespace: 'elasti', resourceVersion: '1' },
      spec: { holderIdentity: 'other', leaseDurationSeconds: 60, renewTime: now },
    });
    const candidate = elector(store);
    const stop = new AbortController();
    const campaign = candidate.run({ onStartedLeading: () => assert.fail('must not lead') }, stop.signal);
    await waitFor(() => candidate.status().holder === 'other', { message: 'sees the other holder' });
    assert.equal(leaseReadiness(candidate)(), true);
    stop.abort();
    await campaign;
  });

  it('refuses an empty lease name, namespace or identity with a typed error', () => {
    const store = new LeaseStore();
    for (const field of ['name', 'namespace', 'identity'] as const) {
      assert.throws(() => elector(store, { [field]: '' }), LeaderElectionConfigError, field);
    }
  });
});
