/**
 * The ElastiService CRD on a real kube-apiserver: the committed manifest installs as-is and
 * matches its TypeScript source; the apiserver itself rejects invalid objects (naming the field),
 * applies defaults, prunes unknown fields, accepts legacy kinds, and serves the status subresource.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { toCondition } from '../../../src/api/v1alpha1/condition.ts';
import { ELASTI_API_VERSION, ELASTI_CRD_NAME, ELASTI_GVR } from '../../../src/api/v1alpha1/constants.ts';
import { CRD_YAML_PATH } from '../../../src/api/v1alpha1/crd-yaml.ts';
import { installElastiServiceCrd, type ServedCrd } from '../../../src/api/v1alpha1/install.ts';
import { elastiServiceCrd } from '../../../src/api/v1alpha1/schema.ts';
import type { ElastiService } from '../../../src/api/v1alpha1/types.ts';
import { validateElastiService } from '../../../src/api/v1alpha1/validate.ts';
import { KubeClient } from '../../../src/kube/client/client.ts';
import { KubeApiError } from '../../../src/kube/core/errors.ts';
import { testCluster, testNamespace } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CRDS_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

type Json = Record<string, unknown>;

function elastiService(name: string, spec: Json): Json {
  return { apiVersion: ELASTI_API_VERSION, kind: 'ElastiService', metadata: { name }, spec };
}

function validSpec(): Json {
  return {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    service: 'web',
    triggers: [
      {
        type: 'prometheus',
        metadata: { serverAddress: 'http://prometheus:9090', query: 'sum(rate(x[1m]))', threshold: '0.5' },
      },
    ],
  };
}

describe('ElastiService CRD on a real apiserver', () => {
  let client: KubeClient;

  before(async () => {
    const cluster = await testCluster();
    client = await KubeClient.create(cluster.kubeconfigPath);
  });
  after(() => client.close());

  it('installs from the committed YAML (server-side apply) and matches the TypeScript source', async () => {
    const yaml = readFileSync(join(root, CRD_YAML_PATH), 'utf8');
    await client.request('PATCH', `${CRDS_PATH}/${ELASTI_CRD_NAME}`, yaml, {
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: 'elasti-crd-test', force: true },
    });
    const served = await waitFor(
      async () => {
        const crd = await client.request<ServedCrd>('GET', `${CRDS_PATH}/${ELASTI_CRD_NAME}`);
        const established = crd.status?.conditions?.some(
          (c) => c.type === 'Established' && c.status === 'True',
        );
        return established ? crd : undefined;
      },
      { timeoutMs: 30_000, message: 'CRD Established' },
    );
    const version = served.spec.versions[0];
    const expected = elastiServiceCrd.spec.versions[0];
    assert.ok(version && expected);
    assert.deepEqual(version.schema, expected.schema);
    assert.deepEqual(version.additionalPrinterColumns, expected.additionalPrinterColumns);
    assert.deepEqual(version.subresources, expected.subresources);
    assert.equal(served.spec.scope, 'Namespaced');
    assert.deepEqual(
      { ...served.spec.names, shortNames: undefined },
      { ...elastiServiceCrd.spec.names, shortNames: undefined },
    );
  });

  it('installElastiServiceCrd is idempotent and waits for Established', async () => {
    const first = await installElastiServiceCrd(client, { timeoutMs: 30_000 });
    const second = await installElastiServiceCrd(client, { timeoutMs: 30_000 });
    for (const crd of [first, second]) {
      assert.ok(crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'));
    }
    assert.deepEqual(second.spec.versions[0]?.schema, elastiServiceCrd.spec.versions[0]?.schema);
  });

  it('validates, defaults and stores ElastiService objects', async (t: TestContext) => {
    await installElastiServiceCrd(client, { timeoutMs: 30_000 });
    const ns = await testNamespace(t, 'crd');
    await waitFor(() => client.list({ gvr: ELASTI_GVR, namespace: ns }), {
      timeoutMs: 30_000,
      message: 'elastiservices served',
    });

    /** Creates `obj`; returns the stored object. */
    async function create(obj: Json): Promise<ElastiService> {
      return client.create<ElastiService>(ELASTI_GVR, ns, obj as unknown as ElastiService);
    }

    /** Creates `obj`, expects a 422 from the apiserver, returns its causes and message. */
    async function rejected(obj: Json): Promise<{ message: string; fields: string[] }> {
      try {
        await create(obj);
      } catch (error) {
        assert.ok(error instanceof KubeApiError, String(error));
        assert.equal(error.status, 422, error.message);
        assert.equal(error.reason, 'Invalid');
        const causes = (error.body?.details?.causes ?? []) as { field?: string }[];
        return { message: error.body?.message ?? '', fields: causes.map((c) => c.field ?? '') };
      }
      assert.fail(`the apiserver accepted ${JSON.stringify(obj)}`);
    }

    const invalid: [string, (spec: Json) => void, string, RegExp][] = [
      [
        'kind Pod',
        (s) => ((s.scaleTargetRef as Json).kind = 'Pod'),
        'spec.scaleTargetRef.kind',
        /Unsupported value: "Pod"/,
      ],
      [
        'minTargetReplicas 0',
        (s) => (s.minTargetReplicas = 0),
        'spec.minTargetReplicas',
        /greater than or equal to 1/,
      ],
      [
        'cooldownPeriod -1',
        (s) => (s.cooldownPeriod = -1),
        'spec.cooldownPeriod',
        /greater than or equal to 0/,
      ],
      [
        'cooldownPeriod 604801',
        (s) => (s.cooldownPeriod = 604801),
        'spec.cooldownPeriod',
        /less than or equal to 604800/,
      ],
      ['missing service', (s) => delete s.service, 'spec.service', /Required value/],
      ['empty triggers', (s) => (s.triggers = []), 'spec.triggers', /at least 1 items/],
      [
        'trigger type cpu',
        (s) => (s.triggers = [{ type: 'cpu' }]),
        'spec.triggers[0].type',
        /Unsupported value: "cpu"/,
      ],
      [
        'apiVersion v1',
        (s) => ((s.scaleTargetRef as Json).apiVersion = 'v1'),
        'spec.scaleTargetRef.apiVersion',
        /Unsupported value: "v1"/,
      ],
      [
        'autoscaler vpa',
        (s) => (s.autoscaler = { type: 'vpa', name: 'x' }),
        'spec.autoscaler.type',
        /Unsupported value: "vpa"/,
      ],
    ];
    for (const [name, mutate, field, detail] of invalid) {
      await t.test(
        `the apiserver rejects ${name}, naming ${field}; the runtime validator agrees`,
        async () => {
          const spec = validSpec();
          mutate(spec);
          const obj = elastiService(`bad-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, spec);
          const { message, fields } = await rejected(obj);
          assert.ok(fields.includes(field), `causes ${JSON.stringify(fields)} lack ${field}`);
          assert.match(message, new RegExp(`${field.replace(/[.[\]]/g, '\\$&')}: `));
          assert.match(message, detail);
          const runtime = validateElastiService(obj);
          assert.equal(runtime.valid, false);
          assert.ok(
            runtime.errors.some((e) => e.field === field),
            JSON.stringify(runtime.errors),
          );
        },
      );
    }

    await t.test('accepts a valid object and stores the defaults', async () => {
      const stored = await create(elastiService('defaults', { ...validSpec(), enabledPeriod: {} }));
      assert.equal(stored.spec.minTargetReplicas, 1);
      assert.equal(stored.spec.cooldownPeriod, 900);
      assert.deepEqual(stored.spec.enabledPeriod, { schedule: '0 0 * * *', duration: '24h' });
      const read = await client.get<ElastiService>(ELASTI_GVR, ns, 'defaults');
      assert.deepEqual(read.spec, stored.spec);
      const runtime = validateElastiService(read);
      assert.ok(runtime.valid, JSON.stringify(runtime.errors));
    });

    await t.test('accepts the legacy kind "deployments" and keeps it as written', async () => {
      const spec = {
        ...validSpec(),
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'deployments', name: 'web' },
      };
      const stored = await create(elastiService('legacy', spec));
      assert.equal(stored.spec.scaleTargetRef.kind, 'deployments');
      const runtime = validateElastiService(stored);
      assert.ok(runtime.valid);
      assert.equal(runtime.spec.scaleTargetRef.kind, 'Deployment');
    });

    await t.test('prunes unknown spec fields but preserves trigger metadata as written', async () => {
      const metadata = {
        serverAddress: 'http://p:9090',
        query: 'up',
        threshold: '1',
        extra: { nested: [1, 'two'] },
      };
      const stored = await create(
        elastiService('prune', { ...validSpec(), bogus: true, triggers: [{ type: 'prometheus', metadata }] }),
      );
      assert.equal('bogus' in stored.spec, false);
      assert.deepEqual(stored.spec.triggers?.[0]?.metadata, metadata);
    });

    await t.test(
      'accepts what the schema leaves to the runtime validator, which then reports it',
      async () => {
        // A Rollout under apps/v1 passes the schema (as it does upstream) but cannot be scaled.
        const spec = {
          ...validSpec(),
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Rollout', name: 'web' },
        };
        const stored = await create(
          elastiService('pairing', { ...spec, enabledPeriod: { schedule: '61 * * * *' } }),
        );
        const runtime = validateElastiService(stored);
        assert.equal(runtime.valid, false);
        assert.deepEqual(
          runtime.errors.map((e) => e.field),
          ['spec.scaleTargetRef.apiVersion', 'spec.enabledPeriod.schedule'],
        );
      },
    );

    await t.test(
      'serves the status subresource: status writes keep spec and generation, and conditions are validated',
      async () => {
        const created = await create(elastiService('status', validSpec()));
        const generation = created.metadata.generation;
        const condition = toCondition([], { observedGeneration: generation });
        const updated = await client.replaceStatus<ElastiService>(ELASTI_GVR, ns, 'status', {
          ...created,
          spec: { ...created.spec, service: 'changed-through-status' },
          status: {
            mode: 'proxy',
            lastReconciledTime: condition.lastTransitionTime,
            conditions: [condition],
          },
        });
        assert.equal(updated.spec.service, 'web');
        assert.equal(updated.metadata.generation, generation);
        assert.equal(updated.status?.mode, 'proxy');
        assert.deepEqual(updated.status?.conditions, [condition]);

        // A main-resource update does not touch status.
        const again = await client.replace<ElastiService>(ELASTI_GVR, ns, 'status', {
          ...updated,
          spec: { ...updated.spec, cooldownPeriod: 60 },
          status: { mode: 'serve' },
        });
        assert.equal(again.status?.mode, 'proxy');
        assert.equal(again.spec.cooldownPeriod, 60);
        assert.equal(again.metadata.generation, (generation ?? 0) + 1);

        await assert.rejects(
          client.replaceStatus(ELASTI_GVR, ns, 'status', {
            ...again,
            status: { mode: 'asleep', conditions: [{ ...condition, status: 'Yes' }] },
          }),
          (error: unknown) =>
            error instanceof KubeApiError &&
            error.status === 422 &&
            /status\.mode/.test(error.message) &&
            /status\.conditions\[0\]\.status/.test(error.message),
        );
      },
    );
  });
});
