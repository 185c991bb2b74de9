import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import type { ReflectorPhase, ReflectorStatus } from '../../../../src/kube/core/types.ts';
import { EngineMetrics, type InformerMetricsSource } from '../../../../src/kube/metrics/metrics.ts';
import { reflectorStatus } from '../../../support/reflector-status.ts';

const status = (phase: ReflectorPhase): ReflectorStatus => reflectorStatus(phase);

/** Value of one series in the exposition text, or undefined if absent. */
function value(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

function source(over: Partial<InformerMetricsSource> = {}): InformerMetricsSource {
  return {
    storeSize: () => 0,
    queueDepth: () => 0,
    queueHighWater: () => 0,
    lastEventAt: () => undefined,
    ...over,
  };
}

describe('EngineMetrics', () => {
  test('observer hooks feed the counters, labelled by informer', async () => {
    const registry = new Registry();
    const m = new EngineMetrics(registry, { prefix: 'x_' });
    const o = m.observerFor('pods');
    o.onListStart?.(false);
    o.onListStart?.(true);
    o.onWatchStart?.('5');
    o.onWatchEnd?.('closed');
    o.onWatchEnd?.('idle');
    o.onWatchEnd?.('stopped');
    o.onEvent?.('ADDED');
    o.onEvent?.('ADDED');
    o.onEvent?.('DELETED');
    o.onBookmark?.('9');
    o.onError?.(new Error('gone'), 410);
    o.onError?.(new Error('reset'), undefined);
    o.onError?.(new Error('reset'), undefined);
    const t = await registry.metrics();
    assert.equal(value(t, 'x_lists_total{informer="pods"}'), 2);
    assert.equal(value(t, 'x_relists_total{informer="pods"}'), 1);
    assert.equal(value(t, 'x_watch_restarts_total{informer="pods"}'), 2, 'a stop is not a restart');
    assert.equal(value(t, 'x_watch_ends_total{informer="pods",reason="stopped"}'), 1);
    assert.equal(value(t, 'x_events_total{informer="pods",type="ADDED"}'), 2);
    assert.equal(value(t, 'x_events_total{informer="pods",type="DELETED"}'), 1);
    assert.equal(value(t, 'x_bookmarks_total{informer="pods"}'), 1);
    assert.equal(value(t, 'x_errors_total{informer="pods",status="410"}'), 1);
    assert.equal(value(t, 'x_errors_total{informer="pods",status="transport"}'), 2);
  });

  test('active watches counts reflectors in the Watching phase', async () => {
    const registry = new Registry();
    const m = new EngineMetrics(registry);
    const a = m.register('a');
    const b = m.register('b');
    const read = async () => value(await registry.metrics(), 'elasti_kube_active_watches');
    assert.equal(await read(), 0);
    a.observer.onPhase?.(status('Watching'));
    b.observer.onPhase?.(status('Watching'));
    assert.equal(await read(), 2);
    b.observer.onPhase?.(status('Backoff'));
    assert.equal(await read(), 1);
    a.release();
    assert.equal(await read(), 0, 'a released informer no longer counts');
  });

  test('scrape-time gauges come from the live sources', async () => {
    const registry = new Registry();
    let now = 100_000;
    const m = new EngineMetrics(registry, { now: () => now });
    let size = 3;
    const h = m.register(
      'cms',
      source({
        storeSize: () => size,
        queueDepth: () => 4,
        queueHighWater: () => 9,
        lastEventAt: () => 95_000,
      }),
    );
    let t = await registry.metrics();
    assert.equal(value(t, 'elasti_kube_store_objects{informer="cms"}'), 3);
    assert.equal(value(t, 'elasti_kube_handler_queue_depth{informer="cms"}'), 4);
    assert.equal(value(t, 'elasti_kube_handler_queue_depth_high_water{informer="cms"}'), 9);
    assert.equal(value(t, 'elasti_kube_seconds_since_last_event{informer="cms"}'), 5);
    size = 7;
    now = 110_000;
    h.observer.onEvent?.('MODIFIED');
    now = 112_000;
    t = await registry.metrics();
    assert.equal(value(t, 'elasti_kube_store_objects{informer="cms"}'), 7);
    assert.equal(
      value(t, 'elasti_kube_seconds_since_last_event{informer="cms"}'),
      2,
      'observer saw a newer event',
    );
  });

  test('no last event yet: the seconds-since gauge has no series rather than a made-up value', async () => {
    const registry = new Registry();
    const m = new EngineMetrics(registry);
    m.register('quiet', source());
    const t = await registry.metrics();
    assert.equal(value(t, 'elasti_kube_seconds_since_last_event{informer="quiet"}'), undefined);
    assert.equal(value(t, 'elasti_kube_store_objects{informer="quiet"}'), 0);
  });

  test('releasing the last handle for a name removes every series of that name', async () => {
    const registry = new Registry();
    const m = new EngineMetrics(registry);
    const first = m.register('shared', source({ storeSize: () => 1 }));
    const second = m.register('shared', source({ storeSize: () => 2 }));
    const other = m.register('other', source());
    first.observer.onEvent?.('ADDED');
    first.observer.onError?.(new Error('x'), 500);
    first.handlerError();
    second.inputError();
    other.observer.onEvent?.('ADDED');

    let t = await registry.metrics();
    assert.equal(value(t, 'elasti_kube_store_objects{informer="shared"}'), 3, 'same-name informers add up');
    first.release();
    first.release();
    t = await registry.metrics();
    assert.match(t, /informer="shared"/, 'still one live informer named shared');
    assert.equal(value(t, 'elasti_kube_store_objects{informer="shared"}'), 2);

    second.release();
    t = await registry.metrics();
    assert.doesNotMatch(t, /informer="shared"/);
    assert.match(t, /elasti_kube_events_total\{informer="other",type="ADDED"\} 1/);
    assert.deepEqual(m.informerNames(), ['other']);

    // A stale observer of a released informer must not resurrect its series.
    first.observer.onEvent?.('ADDED');
    second.handlerError();
    assert.doesNotMatch(await registry.metrics(), /informer="shared"/);
  });

  test('label series do not grow with informer churn', async () => {
    const registry = new Registry();
    const m = new EngineMetrics(registry);
    for (let i = 0; i < 200; i++) {
      const h = m.register(`churn-${i}`, source());
      h.observer.onListStart?.(false);
      h.observer.onEvent?.('ADDED');
      h.observer.onError?.(new Error('x'), 503);
      h.observer.onPhase?.(status('Watching'));
      h.release();
    }
    const t = await registry.metrics();
    assert.doesNotMatch(t, /churn-/);
    assert.deepEqual(m.informerNames(), []);
  });

  test('removeInformer drops series even with handles outstanding', async () => {
    const registry = new Registry();
    const m = new EngineMetrics(registry);
    const o = m.observerFor('standalone');
    o.onEvent?.('ADDED');
    assert.match(await registry.metrics(), /informer="standalone"/);
    m.removeInformer('standalone');
    assert.doesNotMatch(await registry.metrics(), /informer="standalone"/);

    // A handle from before the forced removal must not remove a newer informer of that name.
    const old = m.register('reused');
    m.removeInformer('reused');
    const fresh = m.register('reused');
    fresh.observer.onEvent?.('ADDED');
    old.release();
    assert.match(await registry.metrics(), /informer="reused"/);
  });

  test('two instances on one registry with the same prefix collide loudly', () => {
    const registry = new Registry();
    new EngineMetrics(registry);
    assert.throws(() => new EngineMetrics(registry));
    new EngineMetrics(registry, { prefix: 'other_' });
  });
});
