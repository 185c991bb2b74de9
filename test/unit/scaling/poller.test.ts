/**
 * The polling loop over in-memory fakes of its own interfaces: the decision end to end (queries,
 * gates, writes, KEDA, status, Events), the never-scale-to-zero cases, query de-duplication,
 * spreading and bounded concurrency.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ElastiService } from '../../../src/api/v1alpha1/types.ts';
import { StaticResolverEndpoints } from '../../../src/controller/resolver-endpoints.ts';
import { KubeApiError } from '../../../src/kube/core/errors.ts';
import { silentLogger } from '../../../src/kube/core/types.ts';
import { ScalingActions, TrafficMemory } from '../../../src/scaling/actions.ts';
import {
  KEDA_PAUSE_PATCH,
  KEDA_UNPAUSE_PATCH,
  kedaScaledObject,
  unpauseKedaOnFinalize,
} from '../../../src/scaling/keda.ts';
import { offsetOf, ScalePoller } from '../../../src/scaling/poller.ts';
import { PrometheusQueryError, type QueryOutcome } from '../../../src/scaling/prometheus.ts';
import { TargetScaler } from '../../../src/scaling/scale.ts';
import { FakeEvents } from '../controller/fakes.ts';
import { FakePatcher, FakeQuerier, FakeScaleApi, scalingEs, TRAFFIC_QUERY, UPTIME_300 } from './fakes.ts';

const NOW = new Date('2030-01-10T12:00:00Z');
const sample = (value: number): QueryOutcome => ({ kind: 'sample', value });

function setup(
  items: ElastiService[],
  options: { resolver?: readonly string[] | undefined; trafficSince?: number } = {},
) {
  const api = new FakeScaleApi();
  const patcher = new FakePatcher();
  const events = new FakeEvents();
  const querier = new FakeQuerier();
  querier.answers.set(UPTIME_300, sample(1));
  const resolver = new StaticResolverEndpoints('resolver' in options ? options.resolver : ['10.0.0.9']);
  const traffic = new TrafficMemory(options.trafficSince ?? NOW.getTime() - 3_600_000);
  const actions = new ScalingActions({
    client: patcher,
    scaler: new TargetScaler(api),
    events,
    fieldManager: 'test',
    logger: silentLogger,
    traffic,
    now: () => NOW,
  });
  const poller = new ScalePoller({
    source: { list: () => items },
    resolver,
    actions,
    prometheus: querier,
    defaults: { serverAddress: 'http://default:9090' },
    logger: silentLogger,
    intervalMs: 30_000,
    spread: 0,
    now: () => NOW,
  });
  for (const es of items) api.set(es.metadata.namespace ?? '', es.spec.scaleTargetRef.name, 2);
  return { api, patcher, events, querier, resolver, traffic, poller };
}

describe('ScalePoller.runCycle', () => {
  it('below threshold, cooldown passed, resolver ready: scaled to zero with a SuccessToScale Event on the ElastiService', async () => {
    const env = setup([scalingEs('web')]);
    env.querier.answers.set(TRAFFIC_QUERY, sample(0));
    const report = await env.poller.runCycle();
    assert.equal(report.decisions.get('shop/web')?.action, 'scale-down');
    assert.equal(env.api.replicas.get('shop/web'), 0);
    assert.deepEqual(
      env.events.events.map((e) => [e.object, e.type, e.reason]),
      [['shop/web', 'Normal', 'SuccessToScale']],
    );
    assert.match(
      env.events.events[0]?.message ?? '',
      /Successfully scaled 0 replicas for Deployment\/web \(from 2\)/,
    );
    assert.deepEqual(
      env.querier.calls.map((c) => c.query),
      [UPTIME_300, TRAFFIC_QUERY],
      'uptime check first, then the trigger',
    );
  });

  it('above threshold: scale up to minTargetReplicas from zero, stamping lastScaledUpTime', async () => {
    const env = setup([scalingEs('web')]);
    env.api.set('shop', 'web', 0);
    env.querier.answers.set(TRAFFIC_QUERY, sample(3));
    const report = await env.poller.runCycle();
    assert.equal(report.decisions.get('shop/web')?.action, 'scale-up');
    assert.equal(env.api.replicas.get('shop/web'), 2);
    assert.deepEqual(env.patcher.statusPatches, [
      { name: 'web', body: { status: { lastScaledUpTime: NOW.toISOString() } } },
    ]);
  });

  it('above threshold while up: no write; the status stamp only when it is older than half a cooldown', async () => {
    const fresh = setup([
      scalingEs('web', {}, { lastScaledUpTime: new Date(NOW.getTime() - 60_000).toISOString() }),
    ]);
    fresh.querier.answers.set(TRAFFIC_QUERY, sample(3));
    await fresh.poller.runCycle();
    assert.deepEqual(fresh.api.puts, []);
    assert.deepEqual(fresh.patcher.statusPatches, []);
    const stale = setup([
      scalingEs('web', {}, { lastScaledUpTime: new Date(NOW.getTime() - 200_000).toISOString() }),
    ]);
    stale.querier.answers.set(TRAFFIC_QUERY, sample(3));
    await stale.poller.runCycle();
    assert.equal(stale.patcher.statusPatches.length, 1);
  });

  it('never scales to zero on a failed query, unreachable Prometheus, empty result, several series or NaN', async () => {
    const failures: (QueryOutcome | Error)[] = [
      new PrometheusQueryError({
        status: 400,
        errorType: 'bad_data',
        address: 'a',
        query: 'q',
        detail: 'parse error',
      }),
      new PrometheusQueryError({
        errorType: 'unreachable',
        address: 'a',
        query: 'q',
        detail: 'ECONNREFUSED',
      }),
      { kind: 'empty' },
      { kind: 'multiple', count: 2 },
      { kind: 'not-a-number', raw: 'NaN' },
    ];
    for (const answer of failures) {
      const env = setup([scalingEs('web')]);
      env.querier.answers.set(TRAFFIC_QUERY, answer);
      const report = await env.poller.runCycle();
      assert.equal(report.decisions.get('shop/web')?.action, 'hold', String(answer));
      assert.deepEqual(env.api.puts, [], `no write for ${JSON.stringify(answer)}`);
      assert.deepEqual(env.patcher.statusPatches, []);
    }
  });

  it('a Prometheus that was down during the cooldown (uptime < 1) or an uptime query failure: hold', async () => {
    for (const uptime of [sample(0), new Error('down')]) {
      const env = setup([scalingEs('web')]);
      env.querier.answers.set(UPTIME_300, uptime);
      env.querier.answers.set(TRAFFIC_QUERY, sample(0));
      const report = await env.poller.runCycle();
      assert.equal(report.decisions.get('shop/web')?.action, 'hold');
      assert.deepEqual(env.api.puts, []);
      assert.deepEqual(
        env.querier.calls.map((c) => c.query),
        [UPTIME_300],
        'the trigger is not even queried',
      );
    }
  });

  it('never scales to zero while the resolver has no ready endpoint (or they are unknown)', async () => {
    for (const resolver of [[], undefined]) {
      const env = setup([scalingEs('web')], { resolver });
      env.querier.answers.set(TRAFFIC_QUERY, sample(0));
      const decision = (await env.poller.runCycle()).decisions.get('shop/web');
      assert.equal(decision?.action === 'hold' && decision.reason, 'resolver-not-ready');
      assert.deepEqual(env.api.puts, []);
    }
  });

  it('not within one cooldown of status.lastScaledUpTime, of traffic seen, or of the operator start', async () => {
    const recent = new Date(NOW.getTime() - 100_000).toISOString();
    const stamped = setup([scalingEs('web', {}, { lastScaledUpTime: recent })]);
    stamped.querier.answers.set(TRAFFIC_QUERY, sample(0));
    assert.equal((await stamped.poller.runCycle()).decisions.get('shop/web')?.action, 'hold');
    const justStarted = setup([scalingEs('web')], { trafficSince: NOW.getTime() - 10_000 });
    justStarted.querier.answers.set(TRAFFIC_QUERY, sample(0));
    assert.equal((await justStarted.poller.runCycle()).decisions.get('shop/web')?.action, 'hold');
    assert.deepEqual([...stamped.api.puts, ...justStarted.api.puts], []);
  });

  it('a scale-up seen in one cycle blocks the scale-down of the next for one cooldown', async () => {
    const env = setup([scalingEs('web')]);
    env.querier.answers.set(TRAFFIC_QUERY, sample(5));
    await env.poller.runCycle();
    env.querier.answers.set(TRAFFIC_QUERY, sample(0));
    assert.equal((await env.poller.runCycle()).decisions.get('shop/web')?.action, 'hold');
    assert.deepEqual(env.api.puts, []);
  });

  it('traffic memory of deleted ElastiServices is dropped', async () => {
    const items = [scalingEs('web'), scalingEs('api')];
    const env = setup(items);
    env.querier.answers.set(TRAFFIC_QUERY, sample(5));
    await env.poller.runCycle();
    assert.equal(env.traffic.size, 2);
    items.pop();
    await env.poller.runCycle();
    assert.equal(env.traffic.size, 1);
  });

  it('created less than a cooldown ago: no query at all', async () => {
    const env = setup([scalingEs('web', {}, { createdAt: new Date(NOW.getTime() - 10_000).toISOString() })]);
    await env.poller.runCycle();
    assert.deepEqual(env.querier.calls, []);
  });

  it('outside enabledPeriod: scaled up even with no traffic, no query sent', async () => {
    const env = setup([scalingEs('web', { enabledPeriod: { schedule: '0 0 * * *', duration: '1h' } })]);
    env.api.set('shop', 'web', 0);
    const decision = (await env.poller.runCycle()).decisions.get('shop/web');
    assert.equal(decision?.action === 'scale-up' && decision.reason, 'outside-enabled-period');
    assert.equal(env.api.replicas.get('shop/web'), 2);
    assert.deepEqual(env.querier.calls, []);
  });

  it('the first trigger with traffic decides; later triggers are not queried', async () => {
    const second = 'sum(other)';
    const env = setup([
      scalingEs('web', {
        triggers: [
          {
            type: 'prometheus',
            metadata: { serverAddress: 'http://prom:9090', query: TRAFFIC_QUERY, threshold: '1' },
          },
          {
            type: 'prometheus',
            metadata: { serverAddress: 'http://prom:9090', query: second, threshold: '1' },
          },
        ],
      }),
    ]);
    env.querier.answers.set(TRAFFIC_QUERY, sample(2));
    await env.poller.runCycle();
    assert.ok(!env.querier.calls.some((c) => c.query === second));
  });

  it('serverAddress defaults to the operator setting', async () => {
    const env = setup([
      scalingEs('web', {
        triggers: [{ type: 'prometheus', metadata: { query: TRAFFIC_QUERY, threshold: '1' } }],
      }),
    ]);
    env.querier.answers.set(TRAFFIC_QUERY, sample(2));
    await env.poller.runCycle();
    assert.deepEqual(new Set(env.querier.calls.map((c) => c.address)), new Set(['http://default:9090']));
  });

  it('identical queries of one cycle are sent once', async () => {
    const items = Array.from({ length: 50 }, (_, i) => scalingEs(`web-${i}`));
    const env = setup(items);
    env.querier.answers.set(TRAFFIC_QUERY, sample(3));
    const report = await env.poller.runCycle();
    assert.equal(report.evaluated, 50);
    assert.equal(env.querier.calls.length, 2, 'one uptime check and one trigger query for all 50');
    assert.equal(report.queriesSent, 2);
  });

  it('KEDA: paused before the scale-down, unpaused before a scale-up', async () => {
    const env = setup([scalingEs('web', { autoscaler: { type: 'keda', name: 'web-so' } })]);
    env.querier.answers.set(TRAFFIC_QUERY, sample(0));
    await env.poller.runCycle();
    assert.deepEqual(env.patcher.patches, [
      { resource: 'scaledobjects', namespace: 'shop', name: 'web-so', body: KEDA_PAUSE_PATCH },
    ]);
    assert.equal(env.api.replicas.get('shop/web'), 0);
    env.querier.answers.set(TRAFFIC_QUERY, sample(9));
    await env.poller.runCycle();
    assert.deepEqual(env.patcher.patches.at(-1), {
      resource: 'scaledobjects',
      namespace: 'shop',
      name: 'web-so',
      body: KEDA_UNPAUSE_PATCH,
    });
    assert.equal(env.api.replicas.get('shop/web'), 2);
  });

  it('KEDA pause failure: no scale-down, a FailedToScale Warning', async () => {
    const env = setup([scalingEs('web', { autoscaler: { type: 'keda', name: 'web-so' } })]);
    env.patcher.fail = () => new Error('scaledobjects "web-so" not found');
    env.querier.answers.set(TRAFFIC_QUERY, sample(0));
    const decision = (await env.poller.runCycle()).decisions.get('shop/web');
    assert.equal(decision?.action === 'hold' && decision.reason, 'scale-failed');
    assert.equal(env.api.replicas.get('shop/web'), 2);
    assert.deepEqual(
      env.events.events.map((e) => [e.type, e.reason]),
      [['Warning', 'FailedToScale']],
    );
  });

  it('ElastiServices being deleted or invalid are left alone', async () => {
    const deleting = scalingEs('gone');
    deleting.metadata.deletionTimestamp = '2030-01-10T11:00:00Z';
    const invalid = scalingEs('bad', { service: 'Not_A_Name' });
    const env = setup([deleting, invalid]);
    env.querier.fallback = sample(0);
    const report = await env.poller.runCycle();
    assert.equal(report.evaluated, 0);
    assert.deepEqual(env.querier.calls, []);
  });
});

describe('spreading and concurrency', () => {
  it('offsets are stable per uid and within the spread', () => {
    const es = scalingEs('web');
    assert.equal(offsetOf(es, 24_000), offsetOf(structuredClone(es), 24_000));
    const offsets = Array.from({ length: 200 }, (_, i) => offsetOf(scalingEs(`w${i}`), 24_000));
    assert.ok(offsets.every((o) => o >= 0 && o < 24_000));
    // Spread, not clumped: both halves of the window are used.
    assert.ok(offsets.some((o) => o < 8_000) && offsets.some((o) => o > 16_000));
  });

  it('evaluations start spread over the interval and run at most `concurrency` at a time', async () => {
    const items = Array.from({ length: 40 }, (_, i) =>
      scalingEs(`web-${i}`, {
        triggers: [
          {
            type: 'prometheus',
            metadata: { serverAddress: `http://prom-${i}:9090`, query: 'q', threshold: '1' },
          },
        ],
      }),
    );
    let inFlight = 0;
    let maxInFlight = 0;
    const starts: number[] = [];
    const t0 = performance.now();
    const querier = {
      async query(): Promise<QueryOutcome> {
        starts.push(performance.now() - t0);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 15));
        inFlight--;
        return sample(5);
      },
    };
    const api = new FakeScaleApi();
    for (const es of items) api.set('shop', es.metadata.name ?? '', 2);
    const poller = new ScalePoller({
      source: { list: () => items },
      resolver: new StaticResolverEndpoints(['10.0.0.1']),
      actions: new ScalingActions({
        client: new FakePatcher(),
        scaler: new TargetScaler(api),
        events: new FakeEvents(),
        fieldManager: 't',
        logger: silentLogger,
        traffic: new TrafficMemory(0),
        now: () => NOW,
      }),
      prometheus: querier,
      defaults: {},
      logger: silentLogger,
      intervalMs: 1_000,
      spread: 0.5,
      concurrency: 3,
      now: () => NOW,
    });
    const report = await poller.runCycle();
    assert.equal(report.evaluated, 40);
    assert.ok(maxInFlight <= 3, `at most 3 at once, saw ${maxInFlight}`);
    assert.ok(Math.max(...starts) > 200, 'later evaluations start later in the window');
  });

  it('start/stop: the loop runs cycles until stopped', async () => {
    const env = setup([scalingEs('web')]);
    env.querier.answers.set(TRAFFIC_QUERY, sample(5));
    const poller = new ScalePoller({
      source: { list: () => [scalingEs('web')] },
      resolver: env.resolver,
      actions: new ScalingActions({
        client: env.patcher,
        scaler: new TargetScaler(env.api),
        events: env.events,
        fieldManager: 't',
        logger: silentLogger,
        traffic: env.traffic,
        now: () => NOW,
      }),
      prometheus: env.querier,
      defaults: {},
      logger: silentLogger,
      intervalMs: 20,
      spread: 0,
      now: () => NOW,
    });
    poller.start();
    while (env.querier.calls.length < 6) await new Promise((resolve) => setTimeout(resolve, 5));
    await poller.stop();
    const after = env.querier.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(env.querier.calls.length, after, 'no cycle after stop');
  });
});

describe('KEDA helpers', () => {
  it('kedaScaledObject: type compared case-insensitively, as upstream; hpa or malformed → none', () => {
    assert.equal(kedaScaledObject({ type: 'KEDA' as 'keda', name: 'so' }), 'so');
    assert.equal(kedaScaledObject({ type: 'hpa', name: 'h' }), undefined);
    assert.equal(kedaScaledObject(undefined), undefined);
    assert.equal(kedaScaledObject({ type: 'keda', name: '' }), undefined);
  });

  it('unpauseKedaOnFinalize: unpauses a keda ElastiService, treats a missing ScaledObject as done, rethrows others', async () => {
    const patcher = new FakePatcher();
    const hook = unpauseKedaOnFinalize(patcher, 'm');
    await hook(scalingEs('web', { autoscaler: { type: 'keda', name: 'web-so' } }));
    await hook(scalingEs('plain'));
    assert.deepEqual(patcher.patches, [
      { resource: 'scaledobjects', namespace: 'shop', name: 'web-so', body: KEDA_UNPAUSE_PATCH },
    ]);
    patcher.fail = () => new KubeApiError({ status: 404, verb: 'patch', url: 'fake://so' });
    await hook(scalingEs('web', { autoscaler: { type: 'keda', name: 'web-so' } }));
    patcher.fail = () =>
      new KubeApiError({
        status: 403,
        verb: 'patch',
        url: 'fake://so',
        reason: 'Forbidden',
        text: 'forbidden',
      });
    await assert.rejects(hook(scalingEs('web', { autoscaler: { type: 'keda', name: 'web-so' } })), {
      status: 403,
    });
  });
});
