/**
 * The scale-down loop on the full cluster with a real Prometheus scraping a metric this test
 * sets: to zero after the cooldown when the metric is below threshold (not before), never when
 * the query fails, returns nothing, Prometheus is unreachable or was not scraping, or the
 * resolver has no ready endpoint; enabledPeriod honoured.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../../support/wait.ts';
import {
  eventsFor,
  RESOLVER_APP,
  resolverIps,
  scale,
  waitForMode,
  waitForReadyPods,
} from '../controller/support.ts';
import {
  decisionOf,
  deploymentOf,
  POLL_MS,
  rpsTrigger,
  setUpScaling,
  startScalingOperator,
  waitCycles,
  workload,
} from './support.ts';

describe('scale to zero', () => {
  it('after the cooldown of no traffic, not before; SuccessToScale Event on the ElastiService; then proxy mode', async (t) => {
    const s = await setUpScaling(t);
    s.rps.set({ service: 'web' }, 5);
    const operator = await startScalingOperator(s);
    await workload(s, 'web', 1);
    await waitForMode(s.env, 'web-es', 'serve');
    // Traffic: the loop keeps it up, cycle after cycle (past the 5 s creation cooldown).
    await waitFor(() => decisionOf(s, operator, 'web-es')?.action === 'scale-up', {
      timeoutMs: 30_000,
      message: 'traffic seen by the loop',
    });
    await waitCycles(operator, 3);
    assert.equal((await deploymentOf(s, 'web')).replicas, 1);

    const quiet = Date.now();
    s.rps.set({ service: 'web' }, 0);
    await waitFor(async () => (await deploymentOf(s, 'web')).replicas === 0, {
      timeoutMs: 60_000,
      intervalMs: 100,
      message: 'scaled to zero',
    });
    const after = Date.now() - quiet;
    // The last cycle that saw traffic was at most one interval before the metric dropped.
    assert.ok(
      after >= 5_000 - POLL_MS,
      `scaled to zero ${after} ms after the traffic stopped (cooldown 5 s)`,
    );
    t.diagnostic(`scaled to zero ${after} ms after the metric dropped`);

    const events = await eventsFor(s.env, 'web-es');
    const success = events.find((e) => e.reason === 'SuccessToScale');
    assert.ok(success, 'SuccessToScale Event');
    assert.equal(success.type, 'Normal');
    assert.equal(success.involvedObject.kind, 'ElastiService');
    assert.equal(success.involvedObject.name, 'web-es', 'the ElastiService, not the target');
    assert.match(success.message, /Successfully scaled 0 replicas for Deployment\/web/);
    await waitForMode(s.env, 'web-es', 'proxy');
  });

  it('never on a failed query, an empty result, an unreachable Prometheus, or while Prometheus was not scraping', async (t) => {
    const s = await setUpScaling(t);
    for (const name of ['ok', 'bad', 'empty', 'down', 'unscraped']) s.rps.set({ service: name }, 0);
    const operator = await startScalingOperator(s);
    await workload(s, 'bad', 1, {
      triggers: [
        { type: 'prometheus', metadata: { query: 'sum(', threshold: '1', uptimeFilter: s.uptimeFilter } },
      ],
    });
    await workload(s, 'empty', 1, {
      triggers: [rpsTrigger(s, 'empty', '1', { query: `elasti_test_rps{run="${s.run}",service="absent"}` })],
    });
    await workload(s, 'down', 1, {
      triggers: [rpsTrigger(s, 'down', '1', { serverAddress: 'http://127.0.0.1:1' })],
    });
    await workload(s, 'unscraped', 1, {
      triggers: [rpsTrigger(s, 'unscraped', '1', { uptimeFilter: `job="elasti-test",run="never-${s.run}"` })],
    });
    // A control in the same loop: it does go to zero, so the loop ran long enough to decide.
    await workload(s, 'ok', 1);
    await waitFor(async () => (await deploymentOf(s, 'ok')).replicas === 0, {
      timeoutMs: 60_000,
      message: 'the control scaled to zero',
    });
    await waitCycles(operator, 3);
    const expected = {
      'bad-es': /query-failed/,
      'empty-es': /no-usable-sample/,
      'down-es': /query-failed/,
      'unscraped-es': /prometheus-unhealthy/,
    };
    for (const [es, reason] of Object.entries(expected)) {
      const decision = decisionOf(s, operator, es);
      assert.equal(decision?.action, 'hold', `${es}: ${JSON.stringify(decision)}`);
      assert.match(decision?.action === 'hold' ? decision.reason : '', reason, es);
      assert.equal((await deploymentOf(s, es.replace(/-es$/, ''))).replicas, 1, `${es} still up`);
    }
    const bad = decisionOf(s, operator, 'bad-es');
    assert.match(
      bad?.detail ?? '',
      /bad_data \(HTTP 400\)/,
      "the query error names Prometheus' errorType and status",
    );
    const down = decisionOf(s, operator, 'down-es');
    assert.match(down?.detail ?? '', /unreachable/);
  });

  it('never while the resolver has no ready endpoint; goes ahead once it has one', async (t) => {
    const s = await setUpScaling(t);
    s.rps.set({ service: 'web' }, 0);
    const operator = await startScalingOperator(s);
    await scale(s.env, RESOLVER_APP, 0, s.env.resolverNs);
    await waitFor(async () => (await resolverIps(s.env)).length === 0, {
      timeoutMs: 60_000,
      message: 'no resolver endpoint',
    });
    await workload(s, 'web', 1);
    await waitFor(
      () => {
        const d = decisionOf(s, operator, 'web-es');
        return d?.action === 'hold' && d.reason === 'resolver-not-ready';
      },
      { timeoutMs: 60_000, message: 'held for the resolver' },
    );
    await waitCycles(operator, 3);
    assert.equal(
      (await deploymentOf(s, 'web')).replicas,
      1,
      'not scaled to zero without a resolver endpoint',
    );

    await scale(s.env, RESOLVER_APP, 1, s.env.resolverNs);
    await waitForReadyPods(s.env, RESOLVER_APP, 1, s.env.resolverNs);
    await waitFor(async () => (await deploymentOf(s, 'web')).replicas === 0, {
      timeoutMs: 60_000,
      message: 'scaled to zero once the resolver is ready',
    });
  });

  it('enabledPeriod: outside the window the target is kept at minTargetReplicas; inside, scaled to zero', async (t) => {
    const s = await setUpScaling(t);
    s.rps.set({ service: 'night' }, 0);
    s.rps.set({ service: 'day' }, 0);
    const operator = await startScalingOperator(s);
    // A one-minute window twelve hours from now: now is outside it.
    const later = new Date(Date.now() + 12 * 3_600_000);
    const outside = { schedule: `${later.getUTCMinutes()} ${later.getUTCHours()} * * *`, duration: '1m' };
    await workload(s, 'night', 0, { minTargetReplicas: 2, enabledPeriod: outside });
    await workload(s, 'day', 1, { enabledPeriod: { schedule: '* * * * *', duration: '1h' } });
    await waitForReadyPods(s.env, 'night', 2);
    assert.equal(
      (await deploymentOf(s, 'night')).replicas,
      2,
      'scaled up to minTargetReplicas outside the window',
    );
    const decision = decisionOf(s, operator, 'night-es');
    assert.equal(decision?.action === 'scale-up' && decision.reason, 'outside-enabled-period');
    await waitForMode(s.env, 'night-es', 'serve');
    await waitFor(async () => (await deploymentOf(s, 'day')).replicas === 0, {
      timeoutMs: 60_000,
      message: 'inside the window: scaled to zero',
    });
    await waitCycles(operator, 2);
    assert.equal((await deploymentOf(s, 'night')).replicas, 2, 'still up, no traffic notwithstanding');
  });
});
