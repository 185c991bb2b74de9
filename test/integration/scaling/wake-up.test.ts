/**
 * Scale-from-zero through the resolver API, KEDA's annotations and `/crd-cache`, on the full
 * cluster (the target's Pods really become Ready on kwok Nodes).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ElastiService } from '../../../src/api/v1alpha1/types.ts';
import {
  KEDA_PAUSED_ANNOTATION,
  KEDA_PAUSED_REPLICAS_ANNOTATION,
  SCALEDOBJECT_GVR,
} from '../../../src/scaling/keda.ts';
import { createScaledObject, installScaledObjectCrd } from '../../support/keda.ts';
import { waitFor } from '../../support/wait.ts';
import {
  ELASTI_GVR,
  eventsFor,
  getOrUndefined,
  waitForMode,
  waitForReadyPods,
} from '../controller/support.ts';
import {
  deploymentOf,
  getEs,
  postIncoming,
  setUpScaling,
  startScalingOperator,
  waitCycles,
  workload,
} from './support.ts';

async function scrapeCounter(port: number | undefined, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('scale from zero', () => {
  it('POST /informer/incoming-request → minTargetReplicas, Pods Ready, serve mode; 100 concurrent → one /scale write', async (t) => {
    const s = await setUpScaling(t);
    // A long creation cooldown keeps the loop out of this test.
    const operator = await startScalingOperator(s, { pollingIntervalMs: 60_000 });
    await workload(s, 'web', 0, { minTargetReplicas: 2, cooldownPeriod: 600 });
    await waitForMode(s.env, 'web-es', 'proxy');
    const before = await deploymentOf(s, 'web');
    const port = operator.scaling.resolverApiPort;

    const body = JSON.stringify({ count: 1, svc: 'web', namespace: s.env.ns });
    const answers = await Promise.all(Array.from({ length: 100 }, () => postIncoming(operator, body)));
    for (const a of answers) {
      assert.equal(a.status, 200, a.text);
      assert.equal(a.text, '{"message":"Request received successfully!"}');
    }
    const after = await deploymentOf(s, 'web');
    assert.equal(after.replicas, 2, 'scaled to minTargetReplicas when the answer came');
    assert.equal(after.generation, before.generation + 1, 'one change of the Deployment spec');
    assert.equal(
      await scrapeCounter(port, 'elasti_operator_scale_writes_total', 'direction="up"'),
      1,
      'one /scale write',
    );
    await waitForReadyPods(s.env, 'web', 2);
    await waitForMode(s.env, 'web-es', 'serve');

    const es = await getEs(s, 'web-es');
    assert.ok(es.status?.lastScaledUpTime, 'status.lastScaledUpTime written');
    assert.ok(Date.parse(es.status.lastScaledUpTime) >= Date.now() - 120_000);
    assert.equal(
      await scrapeCounter(
        port,
        'elasti_operator_scale_counter',
        `service_name="web",namespace="${s.env.ns}"`,
      ),
      1,
      'the burst was one operation',
    );
    const success = (await eventsFor(s.env, 'web-es')).find((e) => e.reason === 'SuccessToScale');
    assert.equal(success?.involvedObject.name, 'web-es');

    // Another request now: the target is up, nothing is written.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    assert.equal((await postIncoming(operator, body)).status, 200);
    assert.equal((await deploymentOf(s, 'web')).generation, after.generation);
  });

  it('bad bodies → 400 with a message, unknown service → 404, wrong method → 405; nothing scaled', async (t) => {
    const s = await setUpScaling(t);
    const operator = await startScalingOperator(s, { pollingIntervalMs: 60_000 });
    await workload(s, 'web', 0, { cooldownPeriod: 600 });
    await waitForMode(s.env, 'web-es', 'proxy');
    for (const [body, message] of [
      ['', /empty/],
      ['not json', /not JSON/],
      ['{"count":1,"namespace":"x"}', /"svc" must be a non-empty string/],
      ['{"count":"one","svc":"web","namespace":"x"}', /"count" must be an integer/],
    ] as const) {
      const res = await postIncoming(operator, body);
      assert.equal(res.status, 400, body);
      assert.match(JSON.parse(res.text).error, message);
    }
    const unknown = await postIncoming(
      operator,
      JSON.stringify({ count: 1, svc: 'nope', namespace: s.env.ns }),
    );
    assert.equal(unknown.status, 404);
    assert.match(
      JSON.parse(unknown.text).error,
      new RegExp(`no ElastiService fronts service ${s.env.ns}/nope`),
    );
    const huge = await postIncoming(
      operator,
      JSON.stringify({ svc: 'web', namespace: s.env.ns, pad: 'x'.repeat(100_000) }),
    );
    assert.equal(huge.status, 413);
    const get = await fetch(`http://127.0.0.1:${operator.scaling.resolverApiPort}/informer/incoming-request`);
    assert.equal(get.status, 405);
    assert.equal((await deploymentOf(s, 'web')).replicas, 0);
  });
});

describe('KEDA', () => {
  it('paused before the scale-down, unpaused on wake-up and when the ElastiService is deleted, as upstream', async (t) => {
    const s = await setUpScaling(t);
    await installScaledObjectCrd(s.env.client);
    s.rps.set({ service: 'web' }, 0);
    const operator = await startScalingOperator(s);
    await createScaledObject(s.env.client, s.env.ns, 'web-so', 'web');
    await workload(s, 'web', 1, { autoscaler: { type: 'keda', name: 'web-so' } });
    await waitFor(async () => (await deploymentOf(s, 'web')).replicas === 0, {
      timeoutMs: 60_000,
      message: 'scaled to zero',
    });
    const paused = await s.env.client.get(SCALEDOBJECT_GVR, s.env.ns, 'web-so');
    assert.equal(paused.metadata.annotations?.[KEDA_PAUSED_ANNOTATION], 'true');
    assert.equal(paused.metadata.annotations?.[KEDA_PAUSED_REPLICAS_ANNOTATION], '0');

    s.rps.set({ service: 'web' }, 10);
    const res = await postIncoming(operator, JSON.stringify({ count: 1, svc: 'web', namespace: s.env.ns }));
    assert.equal(res.status, 200, res.text);
    const unpaused = await s.env.client.get(SCALEDOBJECT_GVR, s.env.ns, 'web-so');
    assert.equal(
      unpaused.metadata.annotations?.[KEDA_PAUSED_ANNOTATION],
      'false',
      'left as "false", as upstream',
    );
    assert.equal(unpaused.metadata.annotations?.[KEDA_PAUSED_REPLICAS_ANNOTATION], undefined, 'removed');
    assert.equal((await deploymentOf(s, 'web')).replicas, 1);

    // Paused by someone else; deleting the ElastiService unpauses it (PR #283).
    await s.env.client.patch(
      SCALEDOBJECT_GVR,
      s.env.ns,
      'web-so',
      {
        metadata: {
          annotations: { [KEDA_PAUSED_ANNOTATION]: 'true', [KEDA_PAUSED_REPLICAS_ANNOTATION]: '0' },
        },
      },
      'merge',
    );
    await s.env.client.delete(ELASTI_GVR, s.env.ns, 'web-es');
    await waitFor(async () => !(await getOrUndefined<ElastiService>(s.env, ELASTI_GVR, 'web-es')), {
      timeoutMs: 30_000,
      message: 'finalized',
    });
    const released = await s.env.client.get(SCALEDOBJECT_GVR, s.env.ns, 'web-so');
    assert.equal(released.metadata.annotations?.[KEDA_PAUSED_ANNOTATION], 'false');
    assert.equal(released.metadata.annotations?.[KEDA_PAUSED_REPLICAS_ANNOTATION], undefined);
    await waitCycles(operator, 1);
  });
});

describe('/crd-cache', () => {
  it("serves the directory in upstream's shape", async (t) => {
    const s = await setUpScaling(t);
    const operator = await startScalingOperator(s, { pollingIntervalMs: 60_000 });
    const es = await workload(s, 'web', 1, { cooldownPeriod: 600 });
    await waitForMode(s.env, 'web-es', 'serve');
    const res = await fetch(`http://127.0.0.1:${operator.scaling.resolverApiPort}/crd-cache`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const text = await res.text();
    assert.ok(text.endsWith('}\n'));
    const body = JSON.parse(text) as {
      services: Record<string, { name: string; spec: unknown; status: unknown }>;
    };
    const entry = body.services[`${s.env.ns}/web`];
    assert.ok(entry, `keyed by namespace/spec.service: ${Object.keys(body.services).join(', ')}`);
    assert.equal(entry.name, 'web-es');
    assert.deepEqual(Object.keys(entry), ['name', 'spec', 'status']);
    assert.deepEqual(entry.spec, {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      service: 'web',
      minTargetReplicas: 1,
      cooldownPeriod: 600,
      triggers: es.spec.triggers,
    });
    const status = entry.status as Record<string, unknown>;
    assert.deepEqual(Object.keys(status), ['lastReconciledTime', 'mode']);
    assert.equal(status.mode, 'serve');
    assert.match(String(status.lastReconciledTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });
});
