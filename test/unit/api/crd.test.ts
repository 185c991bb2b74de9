import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ELASTI_CRD_NAME, ELASTI_GVR } from '../../../src/api/v1alpha1/constants.ts';
import { CRD_YAML_PATH, renderCrdYaml, toYaml, YamlEmitError } from '../../../src/api/v1alpha1/crd-yaml.ts';
import { crdObject, elastiServiceCrd, type JsonSchemaProps } from '../../../src/api/v1alpha1/schema.ts';
import { validateElastiService } from '../../../src/api/v1alpha1/validate.ts';
import { applyDefaults, validateAgainst, walkSchema } from './openapi-subset.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const version = elastiServiceCrd.spec.versions[0];
assert.ok(version);
const schema = version.schema.openAPIV3Schema;

type Json = Record<string, unknown>;

function object(spec: Json): Json {
  return {
    apiVersion: 'elasti.truefoundry.com/v1alpha1',
    kind: 'ElastiService',
    metadata: { name: 'x', namespace: 'ns' },
    spec,
  };
}

function validSpec(): Json {
  return {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    service: 'web',
    triggers: [
      { type: 'prometheus', metadata: { serverAddress: 'http://p:9090', query: 'up', threshold: '1' } },
    ],
  };
}

/** What the apiserver would do on create: default, then validate. */
function admit(obj: Json): { stored: Json; violations: { path: string; keyword: string }[] } {
  const stored = applyDefaults(schema, obj) as Json;
  return { stored, violations: validateAgainst(schema, stored) };
}

describe('CRD manifest', () => {
  it('is committed exactly as tools/gen-crd.ts renders it', () => {
    const committed = readFileSync(join(root, CRD_YAML_PATH), 'utf8');
    assert.equal(committed, renderCrdYaml(), 'run ./node_modules/.bin/node tools/gen-crd.ts');
  });

  it('names the API as the constants do', () => {
    assert.equal(elastiServiceCrd.metadata.name, ELASTI_CRD_NAME);
    assert.equal(elastiServiceCrd.spec.group, ELASTI_GVR.group);
    assert.equal(elastiServiceCrd.spec.names.plural, ELASTI_GVR.resource);
    assert.equal(elastiServiceCrd.spec.names.kind, 'ElastiService');
    assert.equal(elastiServiceCrd.spec.scope, 'Namespaced');
    assert.equal(version.name, ELASTI_GVR.version);
    assert.ok(version.served && version.storage);
    assert.deepEqual(version.subresources, { status: {} });
    assert.deepEqual(
      version.additionalPrinterColumns?.map((c) => c.jsonPath),
      [
        '.status.mode',
        '.spec.service',
        '.spec.scaleTargetRef.kind',
        '.spec.scaleTargetRef.name',
        '.metadata.creationTimestamp',
      ],
    );
  });

  it('is a structural schema: every node has a type unless it preserves unknown fields', () => {
    walkSchema(schema, (node, path) => {
      assert.ok(
        node.type !== undefined || node['x-kubernetes-preserve-unknown-fields'] === true,
        `no type at ${path}`,
      );
    });
  });

  it('has defaults that satisfy their own schemas', () => {
    let defaults = 0;
    walkSchema(schema, (node, path) => {
      if (node.default === undefined) return;
      defaults += 1;
      const { default: _, ...rest } = node;
      assert.deepEqual(validateAgainst(rest as JsonSchemaProps, node.default, path), [], path);
    });
    assert.equal(defaults, 4);
  });

  it('is deeply frozen, and crdObject() gives a modifiable copy', () => {
    assert.throws(() => {
      (elastiServiceCrd.metadata as { name: string }).name = 'x';
    }, TypeError);
    const copy = crdObject();
    copy.metadata.labels = { a: 'b' };
    assert.equal(elastiServiceCrd.metadata.labels, undefined);
  });
});

describe('CRD schema enforcement (apiserver semantics, evaluated locally)', () => {
  it('accepts a valid object and applies defaults', () => {
    const { stored, violations } = admit(object({ ...validSpec(), enabledPeriod: {} }));
    assert.deepEqual(violations, []);
    const spec = stored.spec as Json;
    assert.equal(spec.minTargetReplicas, 1);
    assert.equal(spec.cooldownPeriod, 900);
    assert.deepEqual(spec.enabledPeriod, { schedule: '0 0 * * *', duration: '24h' });
  });

  it('keeps explicit values over defaults', () => {
    const { stored } = admit(object({ ...validSpec(), minTargetReplicas: 3, cooldownPeriod: 0 }));
    assert.equal((stored.spec as Json).minTargetReplicas, 3);
    assert.equal((stored.spec as Json).cooldownPeriod, 0);
  });

  it('accepts the legacy kinds and every canonical kind', () => {
    for (const kind of ['deployments', 'rollouts', 'Deployment', 'StatefulSet', 'Rollout']) {
      const spec = { ...validSpec(), scaleTargetRef: { apiVersion: 'apps/v1', kind, name: 'web' } };
      assert.deepEqual(admit(object(spec)).violations, [], kind);
    }
  });

  it('preserves arbitrary trigger metadata', () => {
    const metadata = { query: 'up', nested: { a: [1, { b: true }] }, threshold: 0.5 };
    const { stored, violations } = admit(
      object({ ...validSpec(), triggers: [{ type: 'prometheus', metadata }] }),
    );
    assert.deepEqual(violations, []);
    assert.deepEqual(((stored.spec as Json).triggers as Json[])[0]?.metadata, metadata);
  });

  const rejected: [string, (spec: Json) => void, string, string][] = [
    ['kind Pod', (s) => ((s.scaleTargetRef as Json).kind = 'Pod'), 'spec.scaleTargetRef.kind', 'enum'],
    [
      'apiVersion v1',
      (s) => ((s.scaleTargetRef as Json).apiVersion = 'v1'),
      'spec.scaleTargetRef.apiVersion',
      'enum',
    ],
    ['no target name', (s) => delete (s.scaleTargetRef as Json).name, 'spec.scaleTargetRef.name', 'required'],
    ['minTargetReplicas 0', (s) => (s.minTargetReplicas = 0), 'spec.minTargetReplicas', 'minimum'],
    ['cooldownPeriod -1', (s) => (s.cooldownPeriod = -1), 'spec.cooldownPeriod', 'minimum'],
    ['cooldownPeriod 604801', (s) => (s.cooldownPeriod = 604801), 'spec.cooldownPeriod', 'maximum'],
    ['cooldownPeriod 1.5', (s) => (s.cooldownPeriod = 1.5), 'spec.cooldownPeriod', 'type'],
    ['missing service', (s) => delete s.service, 'spec.service', 'required'],
    ['missing scaleTargetRef', (s) => delete s.scaleTargetRef, 'spec.scaleTargetRef', 'required'],
    ['empty triggers', (s) => (s.triggers = []), 'spec.triggers', 'minItems'],
    ['trigger type cpu', (s) => (s.triggers = [{ type: 'cpu' }]), 'spec.triggers[0].type', 'enum'],
    [
      'autoscaler type vpa',
      (s) => (s.autoscaler = { type: 'vpa', name: 'a' }),
      'spec.autoscaler.type',
      'enum',
    ],
    ['autoscaler without name', (s) => (s.autoscaler = { type: 'hpa' }), 'spec.autoscaler.name', 'required'],
  ];
  for (const [name, mutate, path, keyword] of rejected) {
    it(`rejects ${name} (${keyword} at ${path}), and so does the runtime validator`, () => {
      const spec = validSpec();
      mutate(spec);
      assert.deepEqual(admit(object(spec)).violations, [{ path, keyword }]);
      const runtime = validateElastiService(object(spec));
      assert.equal(runtime.valid, false);
      assert.ok(
        runtime.errors.some((e) => e.field === path),
        `runtime errors ${JSON.stringify(runtime.errors)} do not name ${path}`,
      );
    });
  }

  it('validates status conditions in the metav1.Condition shape', () => {
    const good = {
      type: 'SpecValid',
      status: 'True',
      reason: 'ValidSpec',
      message: '',
      lastTransitionTime: '2025-01-01T00:00:00Z',
    };
    assert.deepEqual(
      admit({ ...object(validSpec()), status: { mode: 'proxy', conditions: [good] } }).violations,
      [],
    );
    assert.deepEqual(
      admit({
        ...object(validSpec()),
        status: { mode: 'sleep', conditions: [{ ...good, status: 'Yes', reason: 'bad reason' }] },
      }).violations,
      [
        { path: 'status.mode', keyword: 'enum' },
        { path: 'status.conditions[0].status', keyword: 'enum' },
        { path: 'status.conditions[0].reason', keyword: 'pattern' },
      ],
    );
  });
});

describe('toYaml', () => {
  it('quotes strings YAML would read as something else, and nothing it reads as a string', () => {
    const yaml = toYaml({
      a: 'True',
      b: 'no',
      c: '0 0 * * *',
      d: '24h',
      e: '1',
      f: 'apps/v1',
      g: 'x: y',
      h: '',
      i: 'null',
    });
    assert.equal(
      yaml,
      [
        'a: "True"',
        'b: "no"',
        'c: "0 0 * * *"',
        'd: "24h"',
        'e: "1"',
        'f: apps/v1',
        'g: "x: y"',
        'h: ""',
        'i: "null"',
        '',
      ].join('\n'),
    );
  });

  it('writes empty collections inline, nested sequences and multi-line strings safely', () => {
    assert.equal(
      toYaml({ s: {}, l: [], n: null, t: true, x: 1.5 }),
      's: {}\nl: []\n"n": null\nt: true\nx: 1.5\n',
    );
    assert.equal(toYaml({ l: [[1, 2], { a: 1, b: [3] }] }), 'l:\n- - 1\n  - 2\n- a: 1\n  b:\n  - 3\n');
    assert.equal(toYaml({ d: 'line 1\nline "2"' }), 'd: "line 1\\nline \\"2\\""\n');
  });

  it('skips undefined members and rejects values JSON cannot carry', () => {
    assert.equal(toYaml({ a: undefined, b: 1 }), 'b: 1\n');
    assert.throws(() => toYaml({ a: Number.NaN }), YamlEmitError);
    assert.throws(() => toYaml({ a: [undefined] }), YamlEmitError);
    assert.throws(() => toYaml({ a: () => 1 }), YamlEmitError);
  });
});
