/**
 * Wake-ups and the resolver API: the HTTP server (real sockets) over fakes of its backend, the
 * body checks, and the wake-up service over in-memory fakes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { CRDDirectory, serviceKey } from '../../../src/crddirectory/directory.ts';
import { silentLogger } from '../../../src/kube/core/types.ts';
import { ScalingActions, TrafficMemory } from '../../../src/scaling/actions.ts';
import { KEDA_UNPAUSE_PATCH } from '../../../src/scaling/keda.ts';
import { ScalingMetrics } from '../../../src/scaling/metrics.ts';
import { TargetScaler } from '../../../src/scaling/scale.ts';
import {
  BadRequestBodyError,
  parseIncomingRequest,
  type ResolverApiBackend,
  startResolverApi,
} from '../../../src/scaling/server.ts';
import { UnknownServiceError, WakeUpService } from '../../../src/scaling/wake.ts';
import { FakeEvents } from '../controller/fakes.ts';
import { FakePatcher, FakeScaleApi, scalingEs } from './fakes.ts';

function wakeSetup(settleMs = 1000) {
  const api = new FakeScaleApi();
  const patcher = new FakePatcher();
  const events = new FakeEvents();
  const directory = new CRDDirectory();
  const es = scalingEs('web', { autoscaler: { type: 'keda', name: 'web-so' } });
  directory.set(serviceKey('shop', 'web'), { crdName: 'web', namespace: 'shop', spec: es.spec, status: {} });
  api.set('shop', 'web', 0);
  const registry = new Registry();
  const metrics = new ScalingMetrics(registry);
  const traffic = new TrafficMemory(0);
  const wake = new WakeUpService({
    lookup: { entry: (key) => directory.get(key), elastiService: () => es },
    actions: new ScalingActions({
      client: patcher,
      scaler: new TargetScaler(api),
      events,
      fieldManager: 't',
      logger: silentLogger,
      traffic,
    }),
    metrics,
    settleMs,
  });
  return { api, patcher, events, directory, es, registry, traffic, wake };
}

describe('WakeUpService', () => {
  it('stamps lastScaledUpTime, unpauses KEDA, scales to minTargetReplicas, records traffic, counts', async () => {
    const env = wakeSetup();
    const before = Date.now();
    const result = await env.wake.wake('shop', 'web');
    assert.deepEqual(result, { action: 'scaled', from: 0, to: 2 });
    assert.equal(env.api.replicas.get('shop/web'), 2);
    assert.equal(env.patcher.statusPatches.length, 1);
    const stamp = (env.patcher.statusPatches[0]!.body as { status: { lastScaledUpTime: string } }).status
      .lastScaledUpTime;
    assert.ok(Date.parse(stamp) >= before - 1);
    assert.deepEqual(env.patcher.patches, [
      { resource: 'scaledobjects', namespace: 'shop', name: 'web-so', body: KEDA_UNPAUSE_PATCH },
    ]);
    assert.ok(env.traffic.lastSeen(env.es) >= before);
    assert.deepEqual(env.events.reasons(), ['SuccessToScale']);
    const text = await env.registry.metrics();
    assert.match(
      text,
      /elasti_operator_scale_counter\{service_name="web",namespace="shop",target="Deployment-web",error="success"\} 1/,
    );
  });

  it('the status stamp runs beside the /scale write, not before it; the answer waits for both', async () => {
    const env = wakeSetup();
    let open: () => void = () => {};
    env.patcher.statusGate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let answered = false;
    const woken = env.wake.wake('shop', 'web').then((r) => {
      answered = true;
      return r;
    });
    const deadline = Date.now() + 5_000;
    while (env.api.puts.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    assert.deepEqual(env.api.puts, ['PUT shop/web 2'], 'scaled while the stamp is in flight');
    assert.equal(env.patcher.statusPatches.length, 1, 'the stamp was sent');
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(answered, false, 'no answer before the stamp is written');
    open();
    assert.deepEqual(await woken, { action: 'scaled', from: 0, to: 2 });
  });

  it('100 concurrent wake-ups of one service: one status write, one /scale write', async () => {
    const env = wakeSetup();
    env.api.delayMs = 5;
    await Promise.all(Array.from({ length: 100 }, () => env.wake.wake('shop', 'web')));
    assert.deepEqual(env.api.puts, ['PUT shop/web 2']);
    assert.equal(env.patcher.statusPatches.length, 1);
  });

  it('after the settle time a new request does new work (and finds the target up: no write)', async () => {
    const env = wakeSetup(10);
    await env.wake.wake('shop', 'web');
    await new Promise((resolve) => setTimeout(resolve, 30));
    const again = await env.wake.wake('shop', 'web');
    assert.equal(again.action, 'skipped');
    assert.deepEqual(env.api.puts, ['PUT shop/web 2']);
  });

  it('unknown service: UnknownServiceError, nothing written', async () => {
    const env = wakeSetup();
    await assert.rejects(env.wake.wake('shop', 'nope'), UnknownServiceError);
    await assert.rejects(
      env.wake.wake('other', 'web'),
      UnknownServiceError,
      'the namespace is part of the key',
    );
    assert.deepEqual(env.api.calls, []);
  });

  it('a failure is reported (FailedToScale, counter) and not reused by the next request', async () => {
    const env = wakeSetup();
    env.api.getError = new Error('apiserver down');
    await assert.rejects(env.wake.wake('shop', 'web'), /apiserver down/);
    assert.ok(env.events.reasons().includes('FailedToScale'));
    assert.match(await env.registry.metrics(), /error="Error"\} 1/);
    assert.equal((await env.wake.wake('shop', 'web')).action, 'scaled');
  });

  it('a KEDA unpause failure does not block the wake-up', async () => {
    const env = wakeSetup();
    env.patcher.fail = (resource) => (resource === 'scaledobjects' ? new Error('forbidden') : undefined);
    assert.equal((await env.wake.wake('shop', 'web')).action, 'scaled');
    assert.ok(env.events.reasons().includes('FailedToUnpauseKeda'));
  });
});

describe('parseIncomingRequest', () => {
  it("accepts upstream's body, ignores unknown fields", () => {
    assert.deepEqual(parseIncomingRequest('{"count":1,"svc":"web","namespace":"shop","extra":true}'), {
      svc: 'web',
      namespace: 'shop',
      count: 1,
    });
  });

  it('rejects with a message naming the problem', () => {
    for (const [body, pattern] of [
      ['', /empty/],
      ['{', /not JSON/],
      ['[1]', /must be a JSON object/],
      ['{"svc":"web"}', /"namespace" must be a non-empty string/],
      ['{"svc":"","namespace":"shop"}', /"svc" must be a non-empty string/],
      ['{"svc":5,"namespace":"shop"}', /"svc"/],
      ['{"svc":"web","namespace":"shop","count":"1"}', /"count" must be an integer/],
    ] as const) {
      assert.throws(
        () => parseIncomingRequest(body),
        (e: unknown) => e instanceof BadRequestBodyError && pattern.test(e.message),
        body,
      );
    }
  });
});

describe('resolver API server', () => {
  async function serve(
    t: { after(fn: () => unknown): void },
    backend: ResolverApiBackend | undefined,
    maxBodyBytes?: number,
  ) {
    const registry = new Registry();
    const server = await startResolverApi({
      port: 0,
      host: '127.0.0.1',
      backend: () => backend,
      registry,
      logger: silentLogger,
      ...(maxBodyBytes ? { maxBodyBytes } : {}),
    });
    t.after(() => server.close());
    const base = `http://127.0.0.1:${server.port}`;
    const call = async (method: 'GET' | 'POST' | 'PUT', path: string, body?: string) => {
      const res = await request(`${base}${path}`, {
        method,
        ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }),
      });
      return {
        status: res.statusCode,
        type: String(res.headers['content-type']),
        text: await res.body.text(),
      };
    };
    return call;
  }

  const woken: string[] = [];
  const backend: ResolverApiBackend = {
    async wake(namespace, service) {
      if (service === 'nope') throw new UnknownServiceError(namespace, service);
      if (service === 'broken') throw new Error('apiserver down');
      woken.push(`${namespace}/${service}`);
    },
    crdCache: () => [],
  };

  it('POST /informer/incoming-request → 200 with upstream body, after the wake-up', async (t) => {
    const call = await serve(t, backend);
    woken.length = 0;
    const res = await call(
      'POST',
      '/informer/incoming-request',
      '{"count":1,"svc":"web","namespace":"shop"}',
    );
    assert.equal(res.status, 200);
    assert.match(res.type, /application\/json/);
    assert.equal(res.text, '{"message":"Request received successfully!"}');
    assert.deepEqual(woken, ['shop/web']);
  });

  it('bad bodies → 400 with a message; unknown service → 404; failure → 500; wrong method → 405', async (t) => {
    const call = await serve(t, backend);
    const bad = await call('POST', '/informer/incoming-request', '{"svc":1}');
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.text).error, /"svc" must be a non-empty string/);
    const unknown = await call('POST', '/informer/incoming-request', '{"svc":"nope","namespace":"shop"}');
    assert.equal(unknown.status, 404);
    assert.match(JSON.parse(unknown.text).error, /no ElastiService fronts service shop\/nope/);
    const failed = await call('POST', '/informer/incoming-request', '{"svc":"broken","namespace":"shop"}');
    assert.equal(failed.status, 500);
    assert.match(JSON.parse(failed.text).error, /apiserver down/);
    const method = await call('GET', '/informer/incoming-request');
    assert.equal(method.status, 405);
    assert.equal(method.text, 'Invalid request method\n');
    assert.equal((await call('POST', '/crd-cache', '{}')).text, 'Method not allowed\n');
    const other = await call('GET', '/nope');
    assert.equal(other.status, 404);
    assert.equal(other.text, '404 page not found\n');
  });

  it('a body over the limit → 413, and the server keeps serving', async (t) => {
    const call = await serve(t, backend, 1024);
    const big = await call(
      'POST',
      '/informer/incoming-request',
      JSON.stringify({ svc: 'web', namespace: 'shop', pad: 'x'.repeat(5000) }),
    );
    assert.equal(big.status, 413);
    assert.match(JSON.parse(big.text).error, /larger than 1024 bytes/);
    assert.equal(
      (await call('POST', '/informer/incoming-request', '{"svc":"web","namespace":"shop"}')).status,
      200,
    );
  });

  it('while not serving (standby): 503 for wake-ups and /crd-cache; /metrics still served', async (t) => {
    const call = await serve(t, undefined);
    const wake = await call('POST', '/informer/incoming-request', '{"svc":"web","namespace":"shop"}');
    assert.equal(wake.status, 503);
    assert.match(JSON.parse(wake.text).error, /not serving/);
    assert.equal((await call('GET', '/crd-cache')).status, 503);
    const metrics = await call('GET', '/metrics');
    assert.equal(metrics.status, 200);
  });

  it('GET /crd-cache → the rendered directory', async (t) => {
    const call = await serve(t, backend);
    const res = await call('GET', '/crd-cache');
    assert.equal(res.status, 200);
    assert.equal(res.text, '{"services":{}}\n');
  });
});
