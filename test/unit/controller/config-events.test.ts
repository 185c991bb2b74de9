import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_OPERATOR_CONFIG,
  managerResolverConfig,
  OperatorConfigError,
  resolveOperatorConfig,
} from '../../../src/controller/config.ts';
import { KubeApiError } from '../../../src/kube/core/errors.ts';
import type { KubeObject, Logger } from '../../../src/kube/core/types.ts';
import { resources } from '../../../src/kube/index.ts';
import { type CoreEvent, KubeEventRecorder, MAX_EVENT_MESSAGE } from '../../../src/runtime/events.ts';
import { FakeCluster } from './fakes.ts';

describe('OperatorConfig', () => {
  it('defaults match the upstream chart (release elasti in namespace elasti)', () => {
    const config = resolveOperatorConfig();
    assert.deepEqual(config.resolver, {
      namespace: 'elasti',
      deploymentName: 'elasti-resolver',
      serviceName: 'elasti-resolver-service',
      port: 8013,
      reverseProxyPort: 8012,
    });
    assert.deepEqual(config.watchNamespaces, []);
    assert.deepEqual(config.queue, { baseDelayMs: 5, maxDelayMs: 1_000_000, qps: 10, burst: 100 });
    assert.deepEqual(config, DEFAULT_OPERATOR_CONFIG);
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.resolver));
  });

  it('merges partial input; undefined keeps defaults; "" namespace means all; re-resolving is stable', () => {
    const config = resolveOperatorConfig({
      resolver: { namespace: 'infra', reverseProxyPort: 9000, serviceName: undefined },
      watchNamespace: '',
      workers: 4,
      queue: { qps: 50 },
    });
    assert.equal(config.resolver.namespace, 'infra');
    assert.equal(config.resolver.reverseProxyPort, 9000);
    assert.equal(config.resolver.serviceName, 'elasti-resolver-service');
    assert.deepEqual(config.watchNamespaces, []);
    assert.equal(config.workers, 4);
    assert.equal(config.queue.qps, 50);
    assert.equal(config.queue.burst, 100);
    assert.deepEqual(resolveOperatorConfig(config), config);
    assert.deepEqual(resolveOperatorConfig({ watchNamespace: 'shop' }).watchNamespaces, ['shop']);
    // Several namespaces: comma-separated (operator-sdk's WATCH_NAMESPACE form) and/or a list.
    assert.deepEqual(
      resolveOperatorConfig({ watchNamespace: 'b, a,,b', watchNamespaces: ['c', 'a'] }).watchNamespaces,
      ['a', 'b', 'c'],
    );
  });

  it('reports every bad value at once', () => {
    assert.throws(
      () =>
        resolveOperatorConfig({
          resolver: { namespace: 'Bad_NS', reverseProxyPort: 70000, port: 1.5, serviceName: '9svc' },
          watchNamespace: 'UPPER',
          workers: 0,
          queue: { baseDelayMs: 0, maxDelayMs: Number.NaN, qps: -1, burst: 0 },
          resyncPeriodMs: -1,
          eventComponent: '',
        }),
      (error: unknown) => {
        assert.ok(error instanceof OperatorConfigError);
        const fields = error.problems.map((p) => p.slice(0, p.indexOf(':')));
        assert.deepEqual(fields, [
          'resolver.namespace',
          'resolver.serviceName',
          'resolver.port',
          'resolver.reverseProxyPort',
          'watchNamespaces',
          'workers',
          'queue.baseDelayMs',
          'queue.maxDelayMs',
          'queue.qps',
          'queue.burst',
          'resyncPeriodMs',
          'eventComponent',
        ]);
        return true;
      },
    );
  });

  it('managerResolverConfig gives the Manager the same resolver Deployment', () => {
    const config = resolveOperatorConfig({ resolver: { namespace: 'infra', deploymentName: 'res' } });
    assert.deepEqual(managerResolverConfig(config), { namespace: 'infra', deploymentName: 'res' });
  });
});

const es: KubeObject = {
  apiVersion: 'elasti.truefoundry.com/v1alpha1',
  kind: 'ElastiService',
  metadata: { name: 'web-es', namespace: 'shop', uid: 'u-1', resourceVersion: '7' },
};

function capturingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const logger: Logger & { warnings: string[] } = {
    warnings,
    debug() {},
    info() {},
    warn(_obj, msg) {
      warnings.push(msg ?? '');
    },
    error() {},
    child() {
      return logger;
    },
  };
  return logger;
}

describe('KubeEventRecorder', () => {
  it('creates a core/v1 Event about the object', async () => {
    const cluster = new FakeCluster();
    const recorder = new KubeEventRecorder(cluster, {
      component: 'elasti-operator',
      instance: 'pod-1',
      now: () => Date.parse('2030-05-06T07:08:09.5Z'),
    });
    recorder.record(es, 'Warning', 'ScaleTargetNotFound', 'scale target missing');
    await recorder.flush();
    const [event] = cluster.all<CoreEvent>(resources.events.gvr, 'shop');
    assert.ok(event);
    assert.match(event.metadata.name ?? '', /^web-es\.[0-9a-f]{16}$/);
    assert.deepEqual(event.involvedObject, {
      apiVersion: 'elasti.truefoundry.com/v1alpha1',
      kind: 'ElastiService',
      name: 'web-es',
      namespace: 'shop',
      uid: 'u-1',
      resourceVersion: '7',
    });
    assert.equal(event.type, 'Warning');
    assert.equal(event.reason, 'ScaleTargetNotFound');
    assert.equal(event.message, 'scale target missing');
    assert.equal(event.count, 1);
    assert.equal(event.firstTimestamp, '2030-05-06T07:08:09Z');
    assert.deepEqual(event.source, { component: 'elasti-operator' });
    assert.equal(event.reportingInstance, 'pod-1');
  });

  it('aggregates repeats within the window into one Event with a count; a new message is a new Event', async () => {
    const cluster = new FakeCluster();
    let now = 0;
    const recorder = new KubeEventRecorder(cluster, {
      component: 'c',
      now: () => now,
      aggregateWindowMs: 1000,
    });
    for (let i = 0; i < 5; i++) recorder.record(es, 'Warning', 'R', 'same');
    recorder.record(es, 'Warning', 'R', 'different');
    await recorder.flush();
    let events = cluster.all<CoreEvent>(resources.events.gvr, 'shop');
    assert.deepEqual(events.map((e) => [e.message, e.count]).sort(), [
      ['different', 1],
      ['same', 5],
    ]);
    now = 5000; // past the window: a fresh Event
    recorder.record(es, 'Warning', 'R', 'same');
    await recorder.flush();
    events = cluster.all<CoreEvent>(resources.events.gvr, 'shop');
    assert.equal(events.filter((e) => e.message === 'same').length, 2);
  });

  it('starts a new Event when the aggregated one expired (404 on the count update)', async () => {
    const cluster = new FakeCluster();
    const recorder = new KubeEventRecorder(cluster, { component: 'c' });
    recorder.record(es, 'Normal', 'R', 'm');
    await recorder.flush();
    const [first] = cluster.all<CoreEvent>(resources.events.gvr, 'shop');
    assert.ok(first);
    cluster.remove(resources.events.gvr, 'shop', first.metadata.name ?? '');
    recorder.record(es, 'Normal', 'R', 'm');
    await recorder.flush();
    const events = cluster.all<CoreEvent>(resources.events.gvr, 'shop');
    assert.equal(events.length, 1);
    assert.notEqual(events[0]?.metadata.name, first.metadata.name);
    assert.equal(events[0]?.count, 1);
  });

  it('never throws: a failed write is logged; an object without namespace is dropped with a warning', async () => {
    const cluster = new FakeCluster();
    const logger = capturingLogger();
    const recorder = new KubeEventRecorder(cluster, { component: 'c', logger });
    cluster.failNext('create', 'events', new KubeApiError({ status: 403, verb: 'create', url: 'fake://' }));
    recorder.record(es, 'Normal', 'R', 'm');
    recorder.record({ metadata: { name: 'x' } }, 'Normal', 'R', 'm');
    await recorder.flush();
    assert.deepEqual(logger.warnings.sort(), [
      'event about an object without namespace/name dropped',
      'failed to record event',
    ]);
    assert.equal(cluster.all(resources.events.gvr).length, 0);
  });

  it('truncates long messages', async () => {
    const cluster = new FakeCluster();
    const recorder = new KubeEventRecorder(cluster, { component: 'c' });
    recorder.record(es, 'Normal', 'R', 'x'.repeat(5000));
    await recorder.flush();
    const [event] = cluster.all<CoreEvent>(resources.events.gvr, 'shop');
    assert.equal(event?.message.length, MAX_EVENT_MESSAGE);
    assert.ok(event?.message.endsWith('…'));
  });

  it('forgets the oldest aggregation entries beyond maxTracked', async () => {
    const cluster = new FakeCluster();
    const recorder = new KubeEventRecorder(cluster, { component: 'c', maxTracked: 2 });
    for (const m of ['a', 'b', 'c']) recorder.record(es, 'Normal', 'R', m);
    await recorder.flush();
    recorder.record(es, 'Normal', 'R', 'a'); // 'a' was evicted: a new Event, not a count bump
    recorder.record(es, 'Normal', 'R', 'c'); // 'c' is still tracked: count 2
    await recorder.flush();
    const events = cluster.all<CoreEvent>(resources.events.gvr, 'shop');
    assert.deepEqual(events.map((e) => `${e.message}:${e.count}`).sort(), ['a:1', 'a:1', 'b:1', 'c:2']);
  });
});
