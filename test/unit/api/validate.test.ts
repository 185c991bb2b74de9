import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FieldError, ValidationResult } from '../../../src/api/v1alpha1/validate.ts';
import { validateElastiService, validateElastiServiceSpec } from '../../../src/api/v1alpha1/validate.ts';

type Json = Record<string, unknown>;

function validSpec(): Json {
  return {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    service: 'web',
    minTargetReplicas: 2,
    cooldownPeriod: 300,
    triggers: [
      {
        type: 'prometheus',
        metadata: {
          serverAddress: 'http://prometheus.monitoring.svc:9090',
          query: 'sum(rate(http_requests_total[1m]))',
          threshold: '0.5',
        },
      },
    ],
    autoscaler: { type: 'keda', name: 'web-scaledobject' },
    enabledPeriod: { schedule: '0 9 * * 1-5', duration: '8h' },
  };
}

function validObject(spec: Json = validSpec()): Json {
  return {
    apiVersion: 'elasti.truefoundry.com/v1alpha1',
    kind: 'ElastiService',
    metadata: { name: 'web', namespace: 'shop' },
    spec,
  };
}

/** A valid spec with `path` (dotted) set to `value`, or deleted when `value` is undefined. */
function specWith(path: string, value: unknown): Json {
  const spec = validSpec();
  const keys = path.split('.');
  let node: Record<string, unknown> = spec;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = keys.at(-1) ?? '';
  if (value === undefined) delete node[last];
  else node[last] = value;
  return spec;
}

function errorsOf(result: ValidationResult): readonly FieldError[] {
  assert.equal(result.valid, false, 'expected the object to be invalid');
  return result.errors;
}

function assertOnlyError(
  result: ValidationResult,
  field: string,
  type: FieldError['type'],
  message?: RegExp,
): void {
  const errors = errorsOf(result);
  assert.deepEqual(
    errors.map((e) => [e.field, e.type]),
    [[field, type]],
    JSON.stringify(errors),
  );
  if (message) assert.match(errors[0]?.message ?? '', message);
}

describe('validateElastiService: valid objects', () => {
  it('accepts a complete object and resolves its spec', () => {
    const result = validateElastiService(validObject());
    assert.ok(result.valid, JSON.stringify(result));
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' });
    assert.equal(result.spec.service, 'web');
    assert.equal(result.spec.minTargetReplicas, 2);
    assert.equal(result.spec.cooldownPeriodSeconds, 300);
    assert.equal(result.spec.triggers.length, 1);
    assert.deepEqual(result.spec.autoscaler, { type: 'keda', name: 'web-scaledobject' });
    assert.equal(result.spec.enabledPeriod?.durationMs, 8 * 3_600_000);
    assert.equal(result.spec.enabledPeriod?.cron.hours.has(9), true);
    assert.deepEqual(result.warnings, []);
  });

  it('applies defaults for a minimal spec and warns that it has no triggers', () => {
    const result = validateElastiServiceSpec({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db' },
      service: 'db',
    });
    assert.ok(result.valid, JSON.stringify(result));
    assert.equal(result.spec.minTargetReplicas, 1);
    assert.equal(result.spec.cooldownPeriodSeconds, 900);
    assert.deepEqual(result.spec.triggers, []);
    assert.equal(result.spec.autoscaler, undefined);
    assert.equal(result.spec.enabledPeriod, undefined);
    assert.ok(result.warnings.some((w) => w.includes('spec.triggers is absent')));
  });

  it('normalizes legacy kinds and warns about them', () => {
    const result = validateElastiServiceSpec(
      specWith('scaleTargetRef', { apiVersion: 'apps/v1', kind: 'deployments', name: 'web' }),
    );
    assert.ok(result.valid, JSON.stringify(result));
    assert.equal(result.spec.scaleTargetRef.kind, 'Deployment');
    assert.ok(result.warnings.some((w) => w.includes('legacy spelling')));

    const rollout = validateElastiServiceSpec(
      specWith('scaleTargetRef', { apiVersion: 'argoproj.io/v1alpha1', kind: 'rollouts', name: 'web' }),
    );
    assert.ok(rollout.valid);
    assert.equal(rollout.spec.scaleTargetRef.kind, 'Rollout');
  });

  it('treats cooldownPeriod 0 as the 900 s default, like upstream', () => {
    const result = validateElastiServiceSpec(specWith('cooldownPeriod', 0));
    assert.ok(result.valid);
    assert.equal(result.spec.cooldownPeriodSeconds, 900);
    assert.ok(result.warnings.some((w) => w.includes('cooldownPeriod 0')));
  });

  it('accepts the cooldownPeriod bounds and a numeric threshold', () => {
    assert.ok(validateElastiServiceSpec(specWith('cooldownPeriod', 604800)).valid);
    assert.ok(
      validateElastiServiceSpec(
        specWith('triggers', [
          { type: 'prometheus', metadata: { serverAddress: 'https://p:9090', query: 'up', threshold: 1 } },
        ]),
      ).valid,
    );
  });

  it('ignores unknown spec fields with a warning', () => {
    const result = validateElastiServiceSpec({ ...validSpec(), replicas: 3 });
    assert.ok(result.valid);
    assert.ok(result.warnings.includes('unknown field spec.replicas is ignored'));
  });

  it('treats odd status content as warnings only', () => {
    const result = validateElastiService({ ...validObject(), status: { mode: 'sleeping' } });
    assert.ok(result.valid);
    assert.ok(result.warnings.some((w) => w.includes('status.mode')));
  });

  it('fills enabledPeriod defaults', () => {
    const result = validateElastiServiceSpec(specWith('enabledPeriod', {}));
    assert.ok(result.valid);
    assert.equal(result.spec.enabledPeriod?.schedule, '0 0 * * *');
    assert.equal(result.spec.enabledPeriod?.durationMs, 24 * 3_600_000);
  });
});

describe('validateElastiService: invalid objects', () => {
  it('rejects non-objects without throwing', () => {
    for (const value of [null, undefined, 42, 'x', []]) {
      assertOnlyError(validateElastiService(value), '', 'TypeInvalid');
    }
  });

  it('rejects a wrong apiVersion, kind or metadata type', () => {
    const result = validateElastiService({
      ...validObject(),
      apiVersion: 'v1',
      kind: 'Service',
      metadata: 'x',
    });
    assert.deepEqual(
      errorsOf(result).map((e) => e.field),
      ['apiVersion', 'kind', 'metadata'],
    );
  });

  it('requires spec', () => {
    assertOnlyError(validateElastiService({ metadata: {} }), 'spec', 'Required');
    assertOnlyError(validateElastiService({ metadata: {}, spec: [] }), 'spec', 'TypeInvalid');
  });

  const cases: [string, string, unknown, string, FieldError['type'], RegExp?][] = [
    ['missing scaleTargetRef', 'scaleTargetRef', undefined, 'spec.scaleTargetRef', 'Required'],
    [
      'kind Pod',
      'scaleTargetRef.kind',
      'Pod',
      'spec.scaleTargetRef.kind',
      'NotSupported',
      /"Pod".*"Deployment"/,
    ],
    [
      'legacy statefulsets',
      'scaleTargetRef.kind',
      'statefulsets',
      'spec.scaleTargetRef.kind',
      'NotSupported',
    ],
    ['apiVersion v1', 'scaleTargetRef.apiVersion', 'v1', 'spec.scaleTargetRef.apiVersion', 'NotSupported'],
    ['missing target name', 'scaleTargetRef.name', undefined, 'spec.scaleTargetRef.name', 'Required'],
    ['empty target name', 'scaleTargetRef.name', '', 'spec.scaleTargetRef.name', 'Required'],
    ['bad target name', 'scaleTargetRef.name', 'Web_1', 'spec.scaleTargetRef.name', 'Invalid'],
    ['missing service', 'service', undefined, 'spec.service', 'Required'],
    ['empty service', 'service', '', 'spec.service', 'Required'],
    ['numeric service', 'service', 5, 'spec.service', 'TypeInvalid'],
    ['service with dots', 'service', 'web.shop', 'spec.service', 'Invalid'],
    ['service starting with a digit', 'service', '1web', 'spec.service', 'Invalid'],
    [
      'service longer than a Service name can be',
      'service',
      'a'.repeat(64),
      'spec.service',
      'Invalid',
      /at most 63/,
    ],
    ['minTargetReplicas 0', 'minTargetReplicas', 0, 'spec.minTargetReplicas', 'Invalid', /between 1 and/],
    ['minTargetReplicas 1.5', 'minTargetReplicas', 1.5, 'spec.minTargetReplicas', 'TypeInvalid'],
    ['minTargetReplicas "2"', 'minTargetReplicas', '2', 'spec.minTargetReplicas', 'TypeInvalid'],
    ['minTargetReplicas over int32', 'minTargetReplicas', 2 ** 31, 'spec.minTargetReplicas', 'Invalid'],
    ['cooldownPeriod -1', 'cooldownPeriod', -1, 'spec.cooldownPeriod', 'Invalid', /between 0 and 604800/],
    ['cooldownPeriod 604801', 'cooldownPeriod', 604801, 'spec.cooldownPeriod', 'Invalid'],
    ['empty triggers', 'triggers', [], 'spec.triggers', 'Invalid', /at least 1/],
    ['triggers object', 'triggers', {}, 'spec.triggers', 'TypeInvalid'],
    ['trigger not an object', 'triggers', ['prometheus'], 'spec.triggers[0]', 'TypeInvalid'],
    ['trigger type cpu', 'triggers', [{ type: 'cpu' }], 'spec.triggers[0].type', 'NotSupported'],
    ['trigger without type', 'triggers', [{ metadata: {} }], 'spec.triggers[0].type', 'Required'],
    [
      'prometheus without metadata',
      'triggers',
      [{ type: 'prometheus' }],
      'spec.triggers[0].metadata',
      'Required',
    ],
    ['autoscaler type vpa', 'autoscaler.type', 'vpa', 'spec.autoscaler.type', 'NotSupported'],
    ['autoscaler without name', 'autoscaler.name', undefined, 'spec.autoscaler.name', 'Required'],
    ['autoscaler not an object', 'autoscaler', 'keda', 'spec.autoscaler', 'TypeInvalid'],
    [
      'cron with 6 fields',
      'enabledPeriod.schedule',
      '0 0 9 * * 1-5',
      'spec.enabledPeriod.schedule',
      'Invalid',
      /invalid cron expression: expected 5 fields/,
    ],
    [
      'cron out of range',
      'enabledPeriod.schedule',
      '0 25 * * *',
      'spec.enabledPeriod.schedule',
      'Invalid',
      /hour field: 25 is out of range/,
    ],
    ['cron descriptor', 'enabledPeriod.schedule', '@daily', 'spec.enabledPeriod.schedule', 'Invalid'],
    [
      'empty schedule',
      'enabledPeriod.schedule',
      '',
      'spec.enabledPeriod.schedule',
      'Invalid',
      /must not be empty/,
    ],
    ['schedule number', 'enabledPeriod.schedule', 5, 'spec.enabledPeriod.schedule', 'TypeInvalid'],
    [
      'duration without unit',
      'enabledPeriod.duration',
      '8',
      'spec.enabledPeriod.duration',
      'Invalid',
      /missing unit/,
    ],
    [
      'duration in days',
      'enabledPeriod.duration',
      '1d',
      'spec.enabledPeriod.duration',
      'Invalid',
      /unknown unit "d"/,
    ],
    ['zero duration', 'enabledPeriod.duration', '0s', 'spec.enabledPeriod.duration', 'Invalid', /positive/],
    [
      'negative duration',
      'enabledPeriod.duration',
      '-1h',
      'spec.enabledPeriod.duration',
      'Invalid',
      /positive/,
    ],
  ];
  for (const [name, path, value, field, type, message] of cases) {
    it(`rejects ${name} at ${field}`, () => {
      assertOnlyError(validateElastiService(validObject(specWith(path, value))), field, type, message);
    });
  }

  it('rejects kind/apiVersion pairs that do not exist', () => {
    assertOnlyError(
      validateElastiServiceSpec(
        specWith('scaleTargetRef', { apiVersion: 'apps/v1', kind: 'Rollout', name: 'web' }),
      ),
      'spec.scaleTargetRef.apiVersion',
      'Invalid',
      /kind Rollout requires apiVersion argoproj.io\/v1alpha1, got apps\/v1/,
    );
    assertOnlyError(
      validateElastiServiceSpec(
        specWith('scaleTargetRef', { apiVersion: 'argoproj.io/v1alpha1', kind: 'deployments', name: 'web' }),
      ),
      'spec.scaleTargetRef.apiVersion',
      'Invalid',
      /requires apiVersion apps\/v1/,
    );
  });

  it('checks prometheus metadata: serverAddress, query and threshold', () => {
    const trigger = (metadata: Json): Json => specWith('triggers', [{ type: 'prometheus', metadata }]);
    const ok = { serverAddress: 'http://p:9090', query: 'up', threshold: '1' };
    // Optional (the operator's default address is used), as upstream.
    assert.equal(validateElastiServiceSpec(trigger({ ...ok, serverAddress: undefined })).valid, true);
    assert.equal(validateElastiServiceSpec(trigger({ ...ok, serverAddress: '' })).valid, true);
    assert.equal(
      validateElastiServiceSpec(trigger({ ...ok, headers: { 'X-Scope-OrgID': 't1' } })).valid,
      true,
    );
    assertOnlyError(
      validateElastiServiceSpec(trigger({ ...ok, headers: { 'X-Scope-OrgID': 1 } })),
      'spec.triggers[0].metadata.headers.X-Scope-OrgID',
      'TypeInvalid',
    );
    assertOnlyError(
      validateElastiServiceSpec(trigger({ ...ok, headers: { 'bad name': 'x' } })),
      'spec.triggers[0].metadata.headers',
      'Invalid',
    );
    assertOnlyError(
      validateElastiServiceSpec(trigger({ ...ok, serverAddress: 'prometheus:9090' })),
      'spec.triggers[0].metadata.serverAddress',
      'Invalid',
    );
    assertOnlyError(
      validateElastiServiceSpec(trigger({ ...ok, serverAddress: 'ftp://p' })),
      'spec.triggers[0].metadata.serverAddress',
      'Invalid',
    );
    assertOnlyError(
      validateElastiServiceSpec(trigger({ ...ok, query: '' })),
      'spec.triggers[0].metadata.query',
      'Required',
    );
    assertOnlyError(
      validateElastiServiceSpec(trigger({ ...ok, threshold: undefined })),
      'spec.triggers[0].metadata.threshold',
      'Required',
    );
    assertOnlyError(
      validateElastiServiceSpec(trigger({ ...ok, threshold: 'half' })),
      'spec.triggers[0].metadata.threshold',
      'Invalid',
    );
    assertOnlyError(
      validateElastiServiceSpec(trigger({ ...ok, threshold: true })),
      'spec.triggers[0].metadata.threshold',
      'TypeInvalid',
    );
    assertOnlyError(
      validateElastiServiceSpec(trigger({ ...ok, uptimeFilter: 3 })),
      'spec.triggers[0].metadata.uptimeFilter',
      'TypeInvalid',
    );
    assertOnlyError(
      validateElastiServiceSpec(specWith('triggers', [{ type: 'prometheus', metadata: [] }])),
      'spec.triggers[0].metadata',
      'TypeInvalid',
    );
  });

  it('reports every problem at once, in field order', () => {
    const result = validateElastiServiceSpec({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Pod' },
      minTargetReplicas: 0,
      cooldownPeriod: -1,
      triggers: [],
      enabledPeriod: { schedule: 'nope', duration: 'soon' },
    });
    assert.deepEqual(
      errorsOf(result).map((e) => e.field),
      [
        'spec.scaleTargetRef.kind',
        'spec.scaleTargetRef.name',
        'spec.service',
        'spec.minTargetReplicas',
        'spec.cooldownPeriod',
        'spec.triggers',
        'spec.enabledPeriod.schedule',
        'spec.enabledPeriod.duration',
      ],
    );
  });

  it('carries the offending value on the error', () => {
    const [error] = errorsOf(validateElastiServiceSpec(specWith('cooldownPeriod', -1)));
    assert.equal(error?.value, -1);
  });
});
