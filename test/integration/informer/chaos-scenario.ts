/**
 * The combined-fault scenario of the informer Manager, as a function of its seed, so that the
 * integration test runs one seed per transport and the soak (`npm run soak`) runs hundreds.
 *
 * A seeded sequence of connection cuts, silent hangs, etcd compactions (watch cache off, so they
 * cause 410s), apiserver restarts and registration churn runs while a writer updates, deletes and
 * recreates the watched Deployments and the group crosses its sharing threshold. Afterwards every
 * registration's handlers must hold exactly the server's state of their object, and no handler
 * may ever have seen an impossible sequence (an update or delete of an object it did not hold, an
 * add of one it did). On a loss the result carries a trace: the lost registration's deliveries
 * and every Manager log line about its object, in time order, to find the interleaving.
 *
 * @module
 */
import { Registry } from 'prom-client';
import { Manager } from '../../../src/informer/manager.ts';
import type { RequestWatch, SharingPolicy } from '../../../src/informer/types.ts';
import { KubeClient } from '../../../src/kube/client/client.ts';
import type { KubeObject, Logger } from '../../../src/kube/core/types.ts';
import { startControlPlane } from '../../../tools/controlplane/harness.ts';
import { startTcpProxy } from '../../../tools/controlplane/tcp-proxy.ts';
import { waitFor } from '../../support/wait.ts';
import { prng } from '../../unit/informer/fakes.ts';
import { createDeployments, DEPLOYMENTS, deployment, watchOf } from './support.ts';

/** What one run varies. */
export interface ChaosOptions {
  readonly seed: number;
  /** Seed of the writer's generator (default derived from `seed`). */
  readonly writerSeed?: number;
  readonly http2: boolean;
  readonly sharing: SharingPolicy['mode'];
  /** Faults in the sequence (default 16). */
  readonly steps?: number;
  /**
   * Health monitor period and target-check interval (ms; default 250 and 1,000). Shorter makes
   * target checks race the writer's deletes and recreations more often.
   */
  readonly monitorPeriodMs?: number;
  readonly targetCheckIntervalMs?: number;
  /** How long handlers may take to converge after the last fault (default 90 s). */
  readonly convergeTimeoutMs?: number;
}

/** What one run found. `mismatches` and `violations` empty = nothing lost. */
export interface ChaosResult {
  readonly seed: number;
  readonly http2: boolean;
  readonly sharing: SharingPolicy['mode'];
  readonly faults: string[];
  readonly writes: number;
  /** Registrations whose handlers' state was compared with the server's. */
  readonly compared: number;
  readonly expectedRegistrations: number;
  /** `id: server <rv>, handlers <rv>` for each registration that did not converge. */
  readonly mismatches: string[];
  /** Impossible sequences a handler saw. */
  readonly violations: string[];
  readonly durationMs: number;
  /** On a loss: the lost registrations' deliveries and the Manager's lines about their objects. */
  readonly trace: string[];
}

/** What one registration's handlers believe about their object, and what they were told. */
interface Belief {
  present: boolean;
  resourceVersion: string | undefined;
  readonly history: string[];
}

const NAMESPACE = 'chaos';
const HISTORY = 40;
const LOG_LINES = 50_000;

/** A Logger that keeps the last lines in memory, as `<ms since start> <level> <msg> <json>`. */
function memoryLogger(start: number, lines: string[], bindings: Record<string, unknown> = {}): Logger {
  const write =
    (level: string) =>
    (obj: object, msg?: string): void => {
      const fields = { ...bindings, ...obj };
      let json: string;
      try {
        json = JSON.stringify(fields, (_k, v: unknown) =>
          v instanceof Error ? `${v.name}: ${v.message}` : v,
        );
      } catch {
        json = '{}';
      }
      lines.push(`${Date.now() - start} ${level} ${msg ?? ''} ${json}`);
      if (lines.length > LOG_LINES) lines.splice(0, lines.length - LOG_LINES);
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => memoryLogger(start, lines, { ...bindings, ...more }),
  };
}

/** Runs the scenario on a control plane of its own (started and stopped here). */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const started = Date.now();
  const cleanups: Array<() => unknown> = [];
  const defer = (fn: () => unknown): void => {
    cleanups.push(fn);
  };
  try {
    return await scenario(options, started, defer);
  } finally {
    while (cleanups.length > 0) {
      try {
        await cleanups.pop()?.();
      } catch {
        // Best-effort teardown: the supervisors remove whatever is left.
      }
    }
  }
}

async function scenario(
  options: ChaosOptions,
  started: number,
  defer: (fn: () => unknown) => void,
): Promise<ChaosResult> {
  const { seed, http2, sharing } = options;
  const plane = await startControlPlane({ apiserverArgs: ['--watch-cache=false'] });
  defer(() => plane.stop());
  const admin = await KubeClient.create(plane.kubeconfigPath);
  defer(() => admin.close());
  await admin.create({ group: '', version: 'v1', resource: 'namespaces' }, undefined, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: NAMESPACE },
  });
  const names = Array.from({ length: 30 }, (_, i) => `d-${String(i).padStart(2, '0')}`);
  await createDeployments(admin, NAMESPACE, names);

  const proxy = await startTcpProxy({ host: '127.0.0.1', port: plane.apiserverPort });
  defer(() => proxy.close());
  const client = await KubeClient.create(plane.writeKubeconfig('chaos', proxy.url), { http2 });
  defer(() => client.close());
  const logLines: string[] = [];
  const manager = new Manager({
    client,
    registry: new Registry(),
    logger: memoryLogger(started, logLines),
    sharing: { mode: sharing, autoThreshold: 10 },
    monitorPeriodMs: options.monitorPeriodMs ?? 250,
    health: { idleBoundMs: 3_000, targetCheckIntervalMs: options.targetCheckIntervalMs ?? 1_000 },
    restartBackoff: { initialMs: 500, capMs: 2_000 },
    handoverTimeoutMs: 2_000,
    reflector: { backoff: { initialMs: 100, capMs: 1_000 }, idleTimeoutMs: 5_000 },
    syncTimeoutMs: 60_000,
  });
  // Stopped before the client closes: a graceful close waits for open watches to end.
  defer(() => manager.stop());
  manager.start();

  const beliefs = new Map<string, Belief>();
  const violations: string[] = [];
  const watchFor = (es: string, name: string): RequestWatch => {
    const id = `${es}->${name}`;
    const belief: Belief = { present: false, resourceVersion: undefined, history: [] };
    beliefs.set(id, belief);
    const saw = (kind: string, obj: KubeObject, ok: boolean, present: boolean): void => {
      belief.history.push(`${Date.now() - started} ${kind} ${obj.metadata.resourceVersion}`);
      if (belief.history.length > HISTORY) belief.history.shift();
      if (!ok) violations.push(`${id}: ${kind} while present=${belief.present}`);
      if (obj.metadata.name !== name) violations.push(`${id}: got ${obj.metadata.name}`);
      belief.present = present;
      belief.resourceVersion = present ? obj.metadata.resourceVersion : undefined;
    };
    return watchOf(es, NAMESPACE, name, {
      onAdd: (obj) => saw('add', obj, !belief.present, true),
      onUpdate: (_old, obj) => saw('update', obj, belief.present, true),
      onDelete: (obj, info) =>
        saw(info.finalStateUnknown ? 'delete(unknown)' : 'delete', obj, belief.present, false),
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
  const random = prng(seed);
  const writerRandom = prng(options.writerSeed ?? seed ^ 0x5eed);
  const pick = <T>(items: readonly T[], rnd = random): T => items[Math.floor(rnd() * items.length)] as T;
  const faults: string[] = [];
  const note = (what: string): void => {
    faults.push(what);
    logLines.push(`${Date.now() - started} fault ${what}`);
  };

  // The writer: updates, and sometimes deletes then recreates, random Deployments.
  let writing = true;
  let writes = 0;
  const deleted = new Set<string>();
  const writer = (async () => {
    while (writing) {
      const name = pick(names, writerRandom);
      try {
        if (deleted.has(name)) {
          await admin.create(DEPLOYMENTS, NAMESPACE, deployment(name));
          deleted.delete(name);
          logLines.push(`${Date.now() - started} writer recreated ${name}`);
        } else if (writerRandom() < 0.1) {
          await admin.delete(DEPLOYMENTS, NAMESPACE, name);
          deleted.add(name);
          logLines.push(`${Date.now() - started} writer deleted ${name}`);
        } else {
          await admin.patch(
            DEPLOYMENTS,
            NAMESPACE,
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
  for (let step = 0; step < (options.steps ?? 16); step++) {
    const roll = random();
    if (roll < 0.3) {
      note('cut');
      proxy.cutAll();
    } else if (roll < 0.5) {
      const ms = 500 + Math.floor(random() * 4_000);
      note(`hang ${ms}ms`);
      proxy.pause();
      await new Promise((resolve) => setTimeout(resolve, ms));
      await plane.compactEtcd();
      proxy.resume();
    } else if (roll < 0.6) {
      note('compact');
      await plane.compactEtcd();
    } else if (roll < 0.7) {
      note('restart apiserver');
      await plane.restartApiserver();
    } else {
      // Churn: a requester leaves and comes back (its add may race any fault above).
      const name = pick(names);
      const key = `es-${name}/${NAMESPACE}/deployments.apps/${name}`;
      note(`churn ${name}`);
      // A requester whose earlier re-add found its target deleted is not registered to stop.
      if (!churned.has(name)) await manager.stopInformer(key);
      churned.add(name);
      if (!deleted.has(name)) {
        try {
          await manager.add(watchFor(`es-${name}`, name));
          churned.delete(name);
        } catch (error) {
          // Expected when the writer deleted the target meanwhile; it is re-added at the end.
          logLines.push(`${Date.now() - started} re-add of ${name} failed: ${(error as Error).name}`);
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
      await admin.create(DEPLOYMENTS, NAMESPACE, deployment(name));
      deleted.delete(name);
    }
    await manager.add(watchFor(`es-${name}`, name));
  }

  const serverState = async (): Promise<Map<string, string>> => {
    const list = await admin.list({ gvr: DEPLOYMENTS, namespace: NAMESPACE });
    return new Map(list.items.map((d) => [d.metadata.name ?? '', d.metadata.resourceVersion ?? '']));
  };
  const active = new Set(manager.list().map((r) => `${r.requester.name}->${r.name}`));
  let mismatches: string[] = [];
  await waitFor(
    async () => {
      const server = await serverState();
      mismatches = [];
      for (const id of active) {
        const name = id.slice(id.indexOf('->') + 2);
        const belief = beliefs.get(id);
        const want = server.get(name);
        const have = belief?.present ? belief.resourceVersion : undefined;
        if (want !== have) mismatches.push(`${id}: server ${want ?? 'absent'}, handlers ${have ?? 'absent'}`);
      }
      return mismatches.length === 0;
    },
    { timeoutMs: options.convergeTimeoutMs ?? 90_000, intervalMs: 500 },
  ).catch(() => undefined); // the result says what still differs

  const trace: string[] = [];
  if (mismatches.length > 0 || violations.length > 0) {
    const lost = new Set([...mismatches, ...violations].map((m) => m.slice(0, m.indexOf(':'))));
    for (const id of lost) {
      const name = id.slice(id.indexOf('->') + 2);
      trace.push(`--- ${id}: deliveries (ms rv): ${beliefs.get(id)?.history.join(' | ') ?? 'none'}`);
      trace.push(`--- ${id}: manager lines about ${name}, faults and writer steps:`);
      // Its own lines, and what every upstream did (relists, restarts, layout changes, faults).
      const own = new RegExp(`\\b${name}\\b`);
      const shared = /fault |relisted|listed|restarts informer|layout|handover|forbidden/;
      for (const line of logLines) if (own.test(line) || shared.test(line)) trace.push(line);
    }
  }
  return {
    seed,
    http2,
    sharing,
    faults,
    writes,
    compared: active.size,
    expectedRegistrations: requests.length,
    mismatches,
    violations,
    durationMs: Date.now() - started,
    trace,
  };
}
