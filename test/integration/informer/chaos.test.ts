/**
 * "Nothing lost", at the Manager's level, under every fault at once: a seeded sequence of
 * connection cuts, silent hangs, etcd compactions (watch cache off, so they cause 410s),
 * apiserver restarts and registration churn, while a writer updates, deletes and recreates the
 * watched Deployments and the group crosses its sharing threshold. Afterwards every registration's
 * handlers must hold exactly the server's state of their object, and no handler may ever have seen
 * an impossible sequence (an update or delete of an object it did not hold, an add of one it did).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestWatch } from '../../../src/informer/types.ts';
import { KubeClient } from '../../../src/kube/client.ts';
import type { KubeObject } from '../../../src/kube/types.ts';
import { startTcpProxy } from '../../../tools/controlplane/tcp-proxy.ts';
import { deferrer, privateControlPlane } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';
import { prng } from '../../unit/informer/fakes.ts';
import { createDeployments, DEPLOYMENTS, deployment, managerFor, watchOf } from './support.ts';

/** What one registration's handlers believe about their object. */
interface Belief {
  present: boolean;
  resourceVersion: string | undefined;
  events: number;
}

describe('informer Manager under combined faults', () => {
  for (const http2 of [false, true]) {
    it(`after cuts, hangs, compactions, apiserver restarts and churn, every handler holds the server state (${http2 ? 'HTTP/2' : 'HTTP/1.1'})`, async (t) => {
      const defer = deferrer(t);
      const plane = await privateControlPlane(t, ['--watch-cache=false']);
      const admin = await KubeClient.create(plane.kubeconfigPath);
      defer(() => admin.close());
      const ns = 'chaos';
      await admin.create({ group: '', version: 'v1', resource: 'namespaces' }, undefined, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: ns },
      });
      const names = Array.from({ length: 30 }, (_, i) => `d-${String(i).padStart(2, '0')}`);
      await createDeployments(admin, ns, names);

      const proxy = await startTcpProxy({ host: '127.0.0.1', port: plane.apiserverPort });
      defer(() => proxy.close());
      const { manager } = await managerFor(t, {
        kubeconfigPath: plane.writeKubeconfig('chaos', proxy.url),
        http2,
        sharing: { mode: 'auto', autoThreshold: 10 },
        monitorPeriodMs: 250,
        health: { idleBoundMs: 3_000, targetCheckIntervalMs: 1_000 },
        restartBackoff: { initialMs: 500, capMs: 2_000 },
        handoverTimeoutMs: 2_000,
        reflector: { backoff: { initialMs: 100, capMs: 1_000 }, idleTimeoutMs: 5_000 },
        syncTimeoutMs: 60_000,
      });
      manager.start();

      const beliefs = new Map<string, Belief>();
      const violations: string[] = [];
      const watchFor = (es: string, name: string): RequestWatch => {
        const id = `${es}->${name}`;
        const belief: Belief = { present: false, resourceVersion: undefined, events: 0 };
        beliefs.set(id, belief);
        const saw = (kind: string, obj: KubeObject, ok: boolean, present: boolean): void => {
          belief.events++;
          if (!ok) violations.push(`${id}: ${kind} while present=${belief.present}`);
          if (obj.metadata.name !== name) violations.push(`${id}: got ${obj.metadata.name}`);
          belief.present = present;
          belief.resourceVersion = present ? obj.metadata.resourceVersion : undefined;
        };
        return watchOf(es, ns, name, {
          onAdd: (obj) => saw('add', obj, !belief.present, true),
          onUpdate: (_old, obj) => saw('update', obj, belief.present, true),
          onDelete: (obj) => saw('delete', obj, belief.present, false),
        });
      };
      // Every Deployment watched by its own requester; every third by a second one too.
      const requests = names.flatMap((name, i) =>
        i % 3 === 0
          ? [watchFor(`es-${name}`, name), watchFor(`extra-${name}`, name)]
          : [watchFor(`es-${name}`, name)],
      );
      await Promise.all(requests.map((r) => manager.add(r)));

      // Two generators, so the writer's pace cannot change the fault sequence.
      const random = prng(20261127);
      const writerRandom = prng(1127);
      const pick = <T>(items: readonly T[], rnd = random): T => items[Math.floor(rnd() * items.length)] as T;
      const log: string[] = [];

      // The writer: updates, and sometimes deletes then recreates, random Deployments.
      let writing = true;
      let writes = 0;
      const deleted = new Set<string>();
      const writer = (async () => {
        while (writing) {
          const name = pick(names, writerRandom);
          try {
            if (deleted.has(name)) {
              await admin.create(DEPLOYMENTS, ns, deployment(name));
              deleted.delete(name);
            } else if (writerRandom() < 0.1) {
              await admin.delete(DEPLOYMENTS, ns, name);
              deleted.add(name);
            } else {
              await admin.patch(
                DEPLOYMENTS,
                ns,
                name,
                { metadata: { annotations: { w: String(writes) } } },
                'merge',
              );
            }
            writes++;
          } catch {
            // A write racing its own delete/recreate: the next one sorts it out.
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      defer(async () => {
        writing = false;
        await writer;
      });

      // The faults, one at a time: a fixed, seeded sequence.
      const churned = new Set<string>();
      for (let step = 0; step < 16; step++) {
        const roll = random();
        if (roll < 0.3) {
          log.push('cut');
          proxy.cutAll();
        } else if (roll < 0.5) {
          const ms = 500 + Math.floor(random() * 4_000);
          log.push(`hang ${ms}ms`);
          proxy.pause();
          await new Promise((resolve) => setTimeout(resolve, ms));
          await plane.compactEtcd();
          proxy.resume();
        } else if (roll < 0.6) {
          log.push('compact');
          await plane.compactEtcd();
        } else if (roll < 0.7) {
          log.push('restart apiserver');
          await plane.restartApiserver();
        } else {
          // Churn: a requester leaves and comes back (its add may race any fault above).
          const name = pick(names);
          const key = `es-${name}/${ns}/deployments.apps/${name}`;
          log.push(`churn ${name}`);
          await manager.stopInformer(key);
          churned.add(name);
          if (!deleted.has(name)) {
            try {
              await manager.add(watchFor(`es-${name}`, name));
              churned.delete(name);
            } catch (error) {
              log.push(`  re-add failed: ${(error as Error).name}`);
            }
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 200 + Math.floor(random() * 600)));
      }
      writing = false;
      await writer;
      proxy.resume();
      // Requesters whose target was deleted when they tried to come back: the object exists again now.
      for (const name of churned) {
        if (deleted.has(name)) {
          await admin.create(DEPLOYMENTS, ns, deployment(name));
          deleted.delete(name);
        }
        await manager.add(watchFor(`es-${name}`, name));
      }
      t.diagnostic(`faults: ${log.join(', ')}; ${writes} writes`);

      const serverState = async (): Promise<Map<string, string>> => {
        const list = await admin.list({ gvr: DEPLOYMENTS, namespace: ns });
        return new Map(list.items.map((d) => [d.metadata.name ?? '', d.metadata.resourceVersion ?? '']));
      };
      const active = new Set(manager.list().map((r) => `${r.requester.name}->${r.name}`));
      let mismatch: string[] = [];
      await waitFor(
        async () => {
          const server = await serverState();
          mismatch = [];
          for (const id of active) {
            const name = id.slice(id.indexOf('->') + 2);
            const belief = beliefs.get(id);
            const want = server.get(name);
            const have = belief?.present ? belief.resourceVersion : undefined;
            if (want !== have)
              mismatch.push(`${id}: server ${want ?? 'absent'}, handlers ${have ?? 'absent'}`);
          }
          return mismatch.length === 0;
        },
        { timeoutMs: 90_000, intervalMs: 500 },
      ).catch(() => undefined); // the assertion below says what still differs
      assert.deepEqual(mismatch, [], 'every handler converges to the server state');
      assert.deepEqual(violations, [], 'no handler saw an impossible sequence');
      assert.equal(active.size, requests.length, 'every requester is registered at the end');
    });
  }
});
