/**
 * The pure parts of the Prometheus client: URL building and reading an answer. (The client
 * itself is tested against a real Prometheus in test/integration/scaling/.)
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import {
  PrometheusClient,
  PrometheusQueryError,
  parseQueryResponse,
  queryUrl,
} from '../../../src/scaling/prometheus.ts';

const CTX = { address: 'http://p:9090', query: 'q' };
const vector = (...values: (string | null)[]) =>
  JSON.stringify({
    status: 'success',
    data: {
      resultType: 'vector',
      result: values.map((v, i) => ({ metric: { i: String(i) }, value: [1.5, v] })),
    },
  });

function errorOf(fn: () => unknown): PrometheusQueryError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof PrometheusQueryError, String(error));
    return error;
  }
  assert.fail('expected a PrometheusQueryError');
}

describe('queryUrl', () => {
  it('escapes the query (spaces as %20), adds time in RFC 3339 seconds, drops a trailing slash', () => {
    const url = queryUrl(
      'http://p:9090/',
      'sum(rate(x{a="b"}[1m])) or vector(0)',
      new Date('2030-01-02T03:04:05.678Z'),
    );
    assert.equal(
      url,
      'http://p:9090/api/v1/query?query=sum(rate(x%7Ba%3D%22b%22%7D%5B1m%5D))%20or%20vector(0)&time=2030-01-02T03%3A04%3A05Z',
    );
    assert.equal(new URL(url).searchParams.get('query'), 'sum(rate(x{a="b"}[1m])) or vector(0)');
  });

  it('keeps a path prefix of the address', () => {
    assert.match(queryUrl('http://h/prom', 'up', new Date(0)), /^http:\/\/h\/prom\/api\/v1\/query\?/);
  });
});

describe('parseQueryResponse', () => {
  it('one sample, empty, several series', () => {
    assert.deepEqual(parseQueryResponse(200, vector('0.25'), CTX), { kind: 'sample', value: 0.25 });
    assert.deepEqual(parseQueryResponse(200, vector('1e+06'), CTX), { kind: 'sample', value: 1e6 });
    assert.deepEqual(parseQueryResponse(200, vector(), CTX), { kind: 'empty' });
    assert.deepEqual(parseQueryResponse(200, vector('1', '2', '3'), CTX), { kind: 'multiple', count: 3 });
  });

  it('NaN, ±Inf and null are not-a-number', () => {
    assert.deepEqual(parseQueryResponse(200, vector('NaN'), CTX), { kind: 'not-a-number', raw: 'NaN' });
    assert.deepEqual(parseQueryResponse(200, vector('+Inf'), CTX), { kind: 'not-a-number', raw: '+Inf' });
    assert.deepEqual(parseQueryResponse(200, vector('-Inf'), CTX), { kind: 'not-a-number', raw: '-Inf' });
    assert.deepEqual(parseQueryResponse(200, vector(null), CTX), { kind: 'not-a-number', raw: null });
  });

  it('a scalar result is one sample', () => {
    const body = JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [1, '3'] } });
    assert.deepEqual(parseQueryResponse(200, body, CTX), { kind: 'sample', value: 3 });
  });

  it("Prometheus' errors keep their status and errorType", () => {
    const e = errorOf(() =>
      parseQueryResponse(
        400,
        JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error at char 4' }),
        CTX,
      ),
    );
    assert.equal(e.status, 400);
    assert.equal(e.errorType, 'bad_data');
    assert.equal(e.address, 'http://p:9090');
    assert.match(e.message, /bad_data \(HTTP 400\): parse error at char 4/);
  });

  it('non-JSON, a matrix, a non-2xx without an error body: typed errors', () => {
    assert.equal(errorOf(() => parseQueryResponse(200, '<html>', CTX)).errorType, 'bad_response');
    const matrix = JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } });
    assert.match(errorOf(() => parseQueryResponse(200, matrix, CTX)).message, /result type matrix/);
    const e = errorOf(() => parseQueryResponse(502, 'Bad Gateway', CTX));
    assert.equal(e.errorType, 'http');
    assert.equal(e.status, 502);
    assert.equal(errorOf(() => parseQueryResponse(200, vector('twelve'), CTX)).errorType, 'bad_response');
  });
});

describe('PrometheusClient transport failures', () => {
  it('nothing listening: unreachable, with the address', async (t) => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const client = new PrometheusClient({ timeoutMs: 2000 });
    t.after(() => client.close());
    const address = `http://127.0.0.1:${port}`;
    const error = await client.query(address, 'up').then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof PrometheusQueryError);
    assert.equal(error.errorType, 'unreachable');
    assert.equal(error.status, undefined);
    assert.equal(error.address, address);
  });

  it('a server that accepts and never answers: client_timeout within the bound', async (t) => {
    const server = createServer(() => {}); // holds every connection open, silent
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      server.close();
    });
    const client = new PrometheusClient({ timeoutMs: 300 });
    t.after(() => client.close());
    const started = performance.now();
    const error = await client
      .query(`http://127.0.0.1:${(server.address() as { port: number }).port}`, 'up')
      .then(
        () => assert.fail('expected a rejection'),
        (e: unknown) => e,
      );
    assert.ok(error instanceof PrometheusQueryError);
    assert.equal(error.errorType, 'client_timeout');
    assert.ok(performance.now() - started < 5000);
  });
});
