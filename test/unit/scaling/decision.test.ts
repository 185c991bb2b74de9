import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateElastiService } from '../../../src/api/v1alpha1/validate.ts';
import {
  type Decision,
  judgeTrigger,
  judgeUptime,
  preGate,
  scaleDownGate,
} from '../../../src/scaling/decision.ts';
import { resolveTrigger, TriggerConfigError, uptimeQuery } from '../../../src/scaling/triggers.ts';
import { scalingEs } from './fakes.ts';

function spec(overrides: Parameters<typeof scalingEs>[1] = {}) {
  const v = validateElastiService(scalingEs('web', overrides));
  assert.ok(v.valid, JSON.stringify(v.errors));
  return v.spec;
}

const CREATED = new Date('2030-01-01T00:00:00Z');

function holdReason(d: Decision | undefined): string | undefined {
  return d?.action === 'hold' ? d.reason : undefined;
}

describe('preGate', () => {
  it('no triggers: hold, never scaled', () => {
    const d = preGate({
      spec: spec({ triggers: undefined }),
      createdAt: CREATED,
      now: new Date('2030-02-01T00:00:00Z'),
    });
    assert.equal(d?.action, 'hold');
    assert.equal(d?.action === 'hold' && d.reason, 'no-triggers');
  });

  it('creation gate: hold until one cooldown after creation; equality passes', () => {
    const s = spec(); // cooldown 300 s
    const before = preGate({ spec: s, createdAt: CREATED, now: new Date(CREATED.getTime() + 299_999) });
    assert.equal(before?.action === 'hold' && before.reason, 'creation-cooldown');
    assert.equal(
      preGate({ spec: s, createdAt: CREATED, now: new Date(CREATED.getTime() + 300_000) }),
      undefined,
    );
  });

  it('cooldownPeriod 0 means the default 900 s, as upstream', () => {
    const s = spec({ cooldownPeriod: 0 });
    const d = preGate({ spec: s, createdAt: CREATED, now: new Date(CREATED.getTime() + 600_000) });
    assert.equal(d?.action === 'hold' && d.reason, 'creation-cooldown');
  });

  it('outside enabledPeriod: scale up; inside: go on', () => {
    const s = spec({ enabledPeriod: { schedule: '0 9 * * *', duration: '8h' } });
    const outside = preGate({ spec: s, createdAt: CREATED, now: new Date('2030-01-05T18:00:00Z') });
    assert.equal(outside?.action, 'scale-up');
    assert.equal(outside?.action === 'scale-up' && outside.reason, 'outside-enabled-period');
    assert.equal(preGate({ spec: s, createdAt: CREATED, now: new Date('2030-01-05T16:59:59Z') }), undefined);
    // The window end is exclusive.
    assert.equal(
      preGate({ spec: s, createdAt: CREATED, now: new Date('2030-01-05T17:00:00Z') })?.action,
      'scale-up',
    );
  });

  it('the creation gate comes before enabledPeriod (nothing at all right after creation)', () => {
    const s = spec({ enabledPeriod: { schedule: '0 9 * * *', duration: '1h' } });
    const now = new Date(CREATED.getTime() + 1000);
    assert.equal(preGate({ spec: s, createdAt: CREATED, now })?.action, 'hold');
  });
});

describe('judgeUptime / judgeTrigger', () => {
  const ok = (value: number) => ({ ok: true as const, outcome: { kind: 'sample' as const, value } });

  it('uptime 1 is healthy; anything else, including an error, holds', () => {
    assert.equal(judgeUptime(ok(1), 0), undefined);
    assert.equal(holdReason(judgeUptime(ok(0), 0)), 'prometheus-unhealthy');
    assert.equal(judgeUptime(ok(0.99), 0)?.action, 'hold');
    assert.equal(judgeUptime({ ok: true, outcome: { kind: 'empty' } }, 0)?.action, 'hold');
    const failed = judgeUptime({ ok: false, error: new Error('connection refused') }, 0);
    assert.equal(failed?.action === 'hold' && failed.reason, 'query-failed');
  });

  it('value < threshold is below (strict); >= is traffic', () => {
    assert.equal(judgeTrigger(ok(0.49), 0.5, 0), 'below');
    assert.equal(judgeTrigger(ok(0.5), 0.5, 0), 'not-below');
    assert.equal(judgeTrigger(ok(7), 0.5, 0), 'not-below');
  });

  it('empty, several series, NaN, null or an error never count as "below" (no scale to zero)', () => {
    for (const outcome of [
      { kind: 'empty' as const },
      { kind: 'multiple' as const, count: 2 },
      { kind: 'not-a-number' as const, raw: 'NaN' },
      { kind: 'not-a-number' as const, raw: null },
    ]) {
      const verdict = judgeTrigger({ ok: true, outcome }, 0.5, 0);
      assert.ok(typeof verdict === 'object' && verdict.action === 'hold', JSON.stringify(outcome));
      assert.equal(holdReason(verdict), 'no-usable-sample');
    }
    const failed = judgeTrigger({ ok: false, error: new Error('bad_data') }, 0.5, 0);
    assert.ok(typeof failed === 'object' && holdReason(failed) === 'query-failed');
  });
});

describe('scaleDownGate', () => {
  const now = new Date('2030-01-10T00:00:00Z');
  const base = {
    cooldownSeconds: 300,
    lastScaledUpAt: undefined,
    lastTrafficAt: undefined,
    resolverEndpoints: 1,
    now,
  };

  it('passes with no scale-up ever, a ready resolver', () => {
    assert.equal(scaleDownGate(base), undefined);
  });

  it('holds within one cooldown of status.lastScaledUpTime or of traffic seen', () => {
    const recent = new Date(now.getTime() - 299_000);
    assert.equal(scaleDownGate({ ...base, lastScaledUpAt: recent })?.action, 'hold');
    assert.equal(scaleDownGate({ ...base, lastTrafficAt: recent })?.action, 'hold');
    const old = new Date(now.getTime() - 300_000);
    assert.equal(scaleDownGate({ ...base, lastScaledUpAt: old, lastTrafficAt: old }), undefined);
  });

  it('holds while the resolver has no ready endpoint, or its endpoints are unknown', () => {
    const none = scaleDownGate({ ...base, resolverEndpoints: 0 });
    assert.equal(none?.action === 'hold' && none.reason, 'resolver-not-ready');
    assert.match(none?.detail ?? '', /no ready endpoint/);
    assert.equal(scaleDownGate({ ...base, resolverEndpoints: undefined })?.action, 'hold');
  });
});

describe('triggers', () => {
  it('serverAddress: own, else the default; neither is a TriggerConfigError', () => {
    const t = { type: 'prometheus' as const, metadata: { query: 'up', threshold: '1' } };
    assert.equal(
      resolveTrigger(t, 0, { serverAddress: 'http://default:9090' }).serverAddress,
      'http://default:9090',
    );
    assert.equal(
      resolveTrigger({ ...t, metadata: { ...t.metadata, serverAddress: 'http://own' } }, 0, {
        serverAddress: 'http://default:9090',
      }).serverAddress,
      'http://own',
    );
    assert.throws(
      () => resolveTrigger(t, 2, {}),
      (e: unknown) => e instanceof TriggerConfigError && e.index === 2,
    );
  });

  it('Authorization from the operator; trigger headers set on top (case-insensitively)', () => {
    const t = resolveTrigger(
      {
        type: 'prometheus',
        metadata: {
          query: 'up',
          threshold: 1,
          headers: { 'X-Scope-OrgID': 'a', authorization: 'Bearer own' },
        },
      },
      0,
      { serverAddress: 'http://p', authorizationHeader: 'Basic xyz' },
    );
    assert.deepEqual(t.headers, { authorization: 'Bearer own', 'x-scope-orgid': 'a' });
    assert.equal(t.threshold, 1);
    assert.equal(t.uptimeFilter, 'container="prometheus"');
  });

  it("the uptime query is upstream's, with the cooldown rounded up", () => {
    assert.equal(uptimeQuery('job="x"', 12.2), 'min_over_time((max(up{job="x"}) or vector(0))[13s:])');
  });
});
