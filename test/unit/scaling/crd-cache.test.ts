import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goEscape, metav1Time, renderCrdCache } from '../../../src/scaling/crd-cache.ts';
import { crdCacheEntries } from '../../../src/scaling/scaling.ts';
import { scalingEs } from './fakes.ts';

describe('/crd-cache body', () => {
  it("upstream's shape: keys sorted, spec in Go field order with omitempty, status times in seconds", () => {
    const es = scalingEs('web', {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'deployments', name: 'web-app' },
      autoscaler: { type: 'keda', name: 'web-so' },
      enabledPeriod: { schedule: '0 9 * * 1-5', duration: '8h' },
      probeResponse: [{ path: { type: 'Exact', value: '/healthz' }, response: { status: 200, body: 'ok' } }],
    });
    const text = renderCrdCache([
      {
        key: 'shop/web',
        crdName: 'web-es',
        spec: es.spec,
        status: {
          lastReconciledTime: '2030-01-02T03:04:05Z',
          lastScaledUpTime: '2030-01-02T03:04:06.789Z',
          mode: 'serve',
          conditions: [],
        },
      },
      { key: 'alpha/svc', crdName: 'a', spec: { ...es.spec, service: 'svc', triggers: [] }, status: {} },
    ]);
    assert.ok(text.endsWith('\n'));
    assert.deepEqual(Object.keys(JSON.parse(text).services), ['alpha/svc', 'shop/web']);
    const web = JSON.parse(text).services['shop/web'];
    assert.equal(web.name, 'web-es');
    assert.deepEqual(Object.keys(web.spec), [
      'scaleTargetRef',
      'service',
      'probeResponse',
      'minTargetReplicas',
      'cooldownPeriod',
      'triggers',
      'autoscaler',
      'enabledPeriod',
    ]);
    assert.deepEqual(
      web.spec.scaleTargetRef,
      { apiVersion: 'apps/v1', kind: 'deployments', name: 'web-app' },
      'kind as written',
    );
    assert.deepEqual(web.spec.probeResponse, [
      { path: { type: 'Exact', value: '/healthz' }, response: { status: 200, body: 'ok' } },
    ]);
    assert.deepEqual(web.status, {
      lastReconciledTime: '2030-01-02T03:04:05Z',
      lastScaledUpTime: '2030-01-02T03:04:06Z',
      mode: 'serve',
    });
    const alpha = JSON.parse(text).services['alpha/svc'];
    assert.ok(!('triggers' in alpha.spec), 'empty triggers omitted');
    assert.deepEqual(
      alpha.status,
      { lastReconciledTime: null },
      'zero time is null; unset scaled-up time and mode omitted',
    );
  });

  it('empty directory: {"services":{}}', () => {
    assert.equal(renderCrdCache([]), '{"services":{}}\n');
  });

  it("escapes <, > and & as Go's encoder does", () => {
    assert.equal(goEscape('{"q":"a>0 && b<1"}'), '{"q":"a\\u003e0 \\u0026\\u0026 b\\u003c1"}');
    const text = renderCrdCache([
      { key: 'n/s', crdName: 'x', spec: { ...scalingEs('s').spec, service: 's' }, status: {} },
    ]);
    assert.ok(!text.includes('>') && !text.includes('<'));
    assert.equal(
      JSON.parse(text).services['n/s'].spec.triggers[0].metadata.query,
      'sum(rate(http_requests_total[1m])) or vector(0)',
    );
  });

  it('metav1Time truncates to seconds, UTC', () => {
    assert.equal(metav1Time('2030-01-02T03:04:05.999+02:00'), '2030-01-02T01:04:05Z');
    assert.equal(metav1Time(undefined), null);
    assert.equal(metav1Time('garbage'), null);
  });

  it('status comes from the cache when the ElastiService is there (fresher than the directory)', () => {
    const spec = scalingEs('web').spec;
    const entries = crdCacheEntries(
      [{ key: 'shop/web', details: { crdName: 'web', namespace: 'shop', spec, status: { mode: 'proxy' } } }],
      () => ({ ...scalingEs('web'), status: { mode: 'serve', lastScaledUpTime: '2030-01-01T00:00:00Z' } }),
    );
    assert.deepEqual(entries[0]?.status, { mode: 'serve', lastScaledUpTime: '2030-01-01T00:00:00Z' });
  });
});
