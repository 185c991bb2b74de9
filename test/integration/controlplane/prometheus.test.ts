/**
 * The full cluster's Prometheus is a real one: it scrapes a metric this test process exposes and
 * its HTTP API returns the value the test set, within a deadline, and then the value it changed to.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Gauge, Registry } from 'prom-client';
import { request } from 'undici';
import { PROMETHEUS_TEST_JOB } from '../../../tools/controlplane/harness.ts';
import { fullCluster } from '../../support/cluster.ts';
import { serveMetrics } from '../../support/metrics-endpoint.ts';
import { waitFor } from '../../support/wait.ts';

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}
interface QueryResponse {
  status: string;
  data: { resultType: string; result: VectorSample[] };
}

async function instantQuery(url: string, promql: string): Promise<VectorSample[]> {
  const res = await request(`${url}/api/v1/query?${new URLSearchParams({ query: promql })}`);
  const body = (await res.body.json()) as QueryResponse;
  assert.equal(res.statusCode, 200, JSON.stringify(body));
  assert.equal(body.status, 'success');
  assert.equal(body.data.resultType, 'vector');
  return body.data.result;
}

test('Prometheus scrapes a test-exposed metric; GET /api/v1/query returns the value set, then the new one', async (t) => {
  const { prometheus } = await fullCluster();
  assert.ok(prometheus.scrapeIntervalMs <= 1000, 'scrape interval at most 1 s');
  const run = randomBytes(4).toString('hex');
  const registry = new Registry();
  const gauge = new Gauge({
    name: 'elasti_test_requests_per_second',
    help: 'A value the test sets',
    labelNames: ['service'],
    registers: [registry],
  });
  gauge.set({ service: 'web' }, 42);
  const endpoint = await serveMetrics(t, registry);
  t.after(
    prometheus.addTarget({ name: `prometheus-test-${run}`, address: endpoint.address, labels: { run } }),
  );

  const promql = `elasti_test_requests_per_second{run="${run}",service="web"}`;
  const valueNow = async (): Promise<number | undefined> => {
    const [sample, ...more] = await instantQuery(prometheus.url, promql);
    assert.equal(more.length, 0, 'one series');
    return sample ? Number(sample.value[1]) : undefined;
  };
  // Service discovery picks the file up within ~1 s and the first scrape follows within an interval;
  // 20 s leaves room for a busy machine.
  const started = Date.now();
  await waitFor(async () => (await valueNow()) === 42, {
    timeoutMs: 20_000,
    intervalMs: 200,
    message: 'value 42',
  });
  const firstMs = Date.now() - started;
  const [sample] = await instantQuery(prometheus.url, promql);
  assert.equal(sample?.metric.job, PROMETHEUS_TEST_JOB);
  assert.equal(sample?.metric.instance, endpoint.address);
  assert.ok(endpoint.scrapes >= 1, 'Prometheus scraped our endpoint');

  gauge.set({ service: 'web' }, 7.5);
  const changed = Date.now();
  await waitFor(async () => (await valueNow()) === 7.5, {
    timeoutMs: 10_000,
    intervalMs: 200,
    message: 'value 7.5',
  });
  t.diagnostic(`first value after ${firstMs} ms, changed value after ${Date.now() - changed} ms`);

  // A PromQL function over the scraped series works too (what a scaling trigger's query does).
  const [rate] = await instantQuery(prometheus.url, `max_over_time(${promql}[1m])`);
  assert.equal(Number(rate?.value[1]), 42);
});
