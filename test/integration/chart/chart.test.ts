/**
 * The Helm chart `charts/elasti-operator`, rendered by the real `helm template` (built by
 * tools/controlplane/build.sh from the pinned helm.sh/helm/v3 module) in both RBAC modes and
 * applied (server-side apply) to the control plane, which accepts every object: CRD,
 * ServiceAccount, (Cluster)Roles and bindings, both Services, the Deployment. The rendered
 * container args and env are the operator's own flag parser's input and give the settings they
 * should; the rendered rules are exactly `config/rbac`'s (what the RBAC test proves enough). In
 * namespace-scoped mode the operator then runs as the chart's ServiceAccount (impersonated) with
 * the rendered args and env, and reconciles an ElastiService in an allowed namespace into proxy
 * mode — the per-namespace Roles are enough.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadAll } from 'js-yaml';
import { resolveOperatorConfig } from '../../../src/controller/index.ts';
import { KubeClient, type KubeObject, resources, wellKnown } from '../../../src/kube/index.ts';
import { parseFlags } from '../../../src/operator/main.ts';
import { runOperator } from '../../../src/operator/operator.ts';
import { missingOperatorEnv, OPERATOR_NODE_FLAGS } from '../../../src/operator/runtime.ts';
import { scalingSettingsFromEnv } from '../../../src/scaling/index.ts';
import { binaryNames, ensureBinaries } from '../../../tools/controlplane/binaries.ts';
import { deferrer, kubeconfigFor, testCluster, testNamespace } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';
import {
  createElastiService,
  createService,
  createTarget,
  ELASTI_GVR,
  type Env,
  setUp,
  waitForMode,
} from '../controller/support.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const chart = join(root, 'charts', 'elasti-operator');
const run = promisify(execFile);

interface Rendered {
  readonly objects: KubeObject[];
  byKind(kind: string): KubeObject[];
}

/** `helm template <release> charts/elasti-operator -n <namespace> --set …`, parsed. */
async function helmTemplate(release: string, namespace: string, set: string[]): Promise<Rendered> {
  const helm = join(ensureBinaries(), binaryNames.helm);
  const { stdout } = await run(
    helm,
    ['template', release, chart, '--namespace', namespace, ...set.flatMap((s) => ['--set', s])],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const objects = (loadAll(stdout) as (KubeObject | null)[]).filter((o): o is KubeObject => o !== null);
  return { objects, byKind: (kind) => objects.filter((o) => o.kind === kind) };
}

/** Server-side apply of every rendered object; cluster-scoped ones are deleted at the end. */
async function applyAll(client: KubeClient, rendered: Rendered, defer: (fn: () => Promise<unknown>) => void) {
  for (const object of rendered.objects) {
    const resource = wellKnown(object.apiVersion ?? '', object.kind ?? '');
    assert.ok(resource, `a known kind: ${object.apiVersion} ${object.kind}`);
    const name = object.metadata.name ?? assert.fail('named');
    const namespace = resource.namespaced ? object.metadata.namespace : undefined;
    const applied = await client.patch<KubeObject>(resource.gvr, namespace, name, object, 'apply', {
      fieldManager: 'elasti-chart-test',
      force: true,
    });
    assert.equal(applied.metadata.name, name);
    if (!resource.namespaced && object.kind !== 'CustomResourceDefinition') {
      defer(() => client.delete(resource.gvr, undefined, name).catch(() => undefined));
    }
  }
}

/** The container env of the rendered Deployment as a map (every value is a literal here). */
function containerOf(rendered: Rendered): { args: string[]; env: Record<string, string> } {
  const [deployment] = rendered.byKind('Deployment');
  const container = (
    deployment as unknown as {
      spec: {
        template: { spec: { containers: { args: string[]; env: { name: string; value?: string }[] }[] } };
      };
    }
  ).spec.template.spec.containers[0];
  assert.ok(container);
  return {
    args: container.args,
    env: Object.fromEntries(container.env.map((e) => [e.name, e.value ?? ''])),
  };
}

function rulesOf(file: string): unknown {
  const [object] = loadAll(readFileSync(join(root, 'config', 'rbac', file), 'utf8')) as { rules: unknown }[];
  return object?.rules;
}

/** Short unique release name: every derived name (…-operator-controller-manager-metrics-service) stays ≤ 63. */
function release(ns: string): string {
  return `elasti-${ns.slice(-6)}`;
}

test('cluster mode: helm template renders objects the control plane accepts; args/env parse to the chart settings; rules = config/rbac', async (t) => {
  const defer = deferrer(t);
  const cluster = await testCluster();
  const client = await KubeClient.create(cluster.kubeconfigPath);
  defer(() => client.close());
  const ns = await testNamespace(t, 'chart');
  const name = release(ns);
  const rendered = await helmTemplate(name, ns, [
    'elastiController.manager.env.prometheusTriggerServerAddress=http://prometheus.monitoring.svc:9090',
  ]);
  assert.deepEqual(rendered.objects.map((o) => o.kind).sort(), [
    'ClusterRole',
    'ClusterRoleBinding',
    'CustomResourceDefinition',
    'Deployment',
    'Role',
    'RoleBinding',
    'Service',
    'Service',
    'ServiceAccount',
  ]);
  await applyAll(client, rendered, defer);

  const [clusterRole] = rendered.byKind('ClusterRole') as unknown as { rules: unknown }[];
  assert.deepEqual(clusterRole?.rules, rulesOf('role.yaml'), 'the ClusterRole is config/rbac/role.yaml');
  const [leaderRole] = rendered.byKind('Role') as unknown as { rules: unknown }[];
  assert.deepEqual(leaderRole?.rules, rulesOf('leader_election_role.yaml'));
  const services = rendered.byKind('Service') as unknown as {
    metadata: { name: string };
    spec: { ports: { name: string; port: number }[] };
  }[];
  assert.deepEqual(services.map((s) => [s.metadata.name, s.spec.ports.map((p) => [p.name, p.port])]).sort(), [
    [`${name}-operator-controller-manager-metrics-service`, [['http', 8080]]],
    [`${name}-operator-controller-service`, [['custom-port', 8013]]],
  ]);

  // The operator takes the rendered args and env as they are.
  const { args, env } = containerOf(rendered);
  assert.deepEqual(args, ['--leader-elect', '--health-probe-bind-address=:8081', '--metrics-bind-address=0']);
  assert.equal(env.WATCH_NAMESPACES, undefined, 'cluster mode: every namespace');
  // The memory launch the operator documents, as the chart passes it.
  assert.deepEqual(env.NODE_OPTIONS?.split(' '), [...OPERATOR_NODE_FLAGS]);
  assert.deepEqual(missingOperatorEnv(env), [], 'OPERATOR_ENV is set');
  const flags = parseFlags(args, env);
  assert.equal(flags.healthProbeBindAddress, ':8081');
  assert.equal(flags.metricsBindAddress, '0');
  assert.deepEqual(flags.leaderElection, { namespace: ns, name: 'acf50383.truefoundry.io' });
  const config = resolveOperatorConfig(flags.config);
  assert.deepEqual(config.watchNamespaces, []);
  assert.deepEqual(config.resolver, {
    namespace: ns,
    deploymentName: `${name}-resolver`,
    serviceName: `${name}-resolver-service`,
    port: 8013,
    reverseProxyPort: 8012,
  });
  const scaling = scalingSettingsFromEnv(env);
  assert.deepEqual(scaling.warnings, []);
  assert.equal(scaling.settings.pollingIntervalMs, 30_000);
  assert.equal(scaling.settings.resolverApiPort, 8013);
  assert.equal(scaling.settings.prometheusServerAddress, 'http://prometheus.monitoring.svc:9090');

  // Accepted and stored as rendered.
  const deployment = await client.get<KubeObject>(
    resources.deployments.gvr,
    ns,
    `${name}-operator-controller-manager`,
  );
  assert.equal(deployment.metadata.labels?.['control-plane'], 'controller-manager');
});

test('namespace-scoped mode (allowedNamespaces): a Role per namespace; the operator, as the chart ServiceAccount with the rendered args/env, reconciles there', async (t) => {
  const defer = deferrer(t);
  const cluster = await testCluster();
  const env: Env = await setUp(t); // env.ns: the allowed namespace with a target; env.resolverNs: the release namespace
  const releaseNs = env.resolverNs;
  // Release `elasti`: the chart's resolver names are then elasti-resolver(-service), where setUp put them.
  const name = 'elasti';
  const rendered = await helmTemplate(name, releaseNs, [
    `global.allowedNamespaces={${env.ns}}`,
    'global.installCRD=false',
  ]);
  const roles = rendered.byKind('Role') as unknown as {
    metadata: { name: string; namespace: string };
    rules: unknown;
  }[];
  const managerRoles = roles.filter((r) => r.metadata.name.endsWith('-operator-manager-role'));
  assert.deepEqual(managerRoles.map((r) => r.metadata.namespace).sort(), [env.ns, releaseNs].sort());
  const namespaced = (rulesOf('role.yaml') as { resources: string[] }[]).filter(
    (r) => !r.resources.includes('namespaces'),
  );
  for (const role of managerRoles)
    assert.deepEqual(role.rules, namespaced, `${role.metadata.namespace}: config/rbac minus namespaces`);
  const [clusterRole] = rendered.byKind('ClusterRole') as unknown as {
    rules: { resources: string[]; resourceNames: string[] }[];
  }[];
  assert.deepEqual(
    clusterRole?.rules.map((r) => [r.resources, [...r.resourceNames].sort()]),
    [[['namespaces'], [env.ns, releaseNs].sort()]],
  );
  assert.equal(rendered.byKind('CustomResourceDefinition').length, 0, 'installCRD=false');
  await applyAll(env.client, rendered, defer);

  const { args, env: containerEnv } = containerOf(rendered);
  assert.equal(containerEnv.WATCH_NAMESPACES, `${env.ns},${releaseNs}`);
  assert.equal(containerEnv.ELASTI_RESOLVER_SERVICE_NAME, env.config.resolver.serviceName);
  const flags = parseFlags(args, containerEnv);
  const config = resolveOperatorConfig({ ...flags.config, drainTimeoutMs: 5_000 });
  assert.deepEqual(config.watchNamespaces, [env.ns, releaseNs].sort());

  const sa = `${name}-operator-controller-manager`;
  const kubeconfig = kubeconfigFor(
    defer,
    cluster.apiserverUrl,
    cluster.caPem,
    cluster.token,
    `system:serviceaccount:${releaseNs}:${sa}`,
  );
  const operator = await runOperator({
    kubeconfig,
    leaderElection: flags.leaderElection,
    config: { ...flags.config, drainTimeoutMs: 5_000 },
    scaling: { resolverApiPort: 0, resolverApiHost: '127.0.0.1' },
  });
  env.teardown.push(() => operator.stop());
  await waitFor(() => operator.controller()?.ready, {
    message: 'leading, controller ready',
    timeoutMs: 60_000,
  });
  await createTarget(env, 'web', 0, 0);
  await createService(env, 'web', 'web');
  await createElastiService(env, 'web-es', {
    service: 'web',
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
  });
  const es = await waitForMode(env, 'web-es', 'proxy');
  assert.equal(es.status?.mode, 'proxy');
  assert.ok(await env.client.get(ELASTI_GVR, env.ns, 'web-es'));
});

test('global.enableMonitoring renders a ServiceMonitor that selects the resolver API Service and scrapes its port', async () => {
  assert.equal(
    (await helmTemplate('elasti', 'elasti', [])).byKind('ServiceMonitor').length,
    0,
    'off by default',
  );
  const rendered = await helmTemplate('elasti', 'elasti', ['global.enableMonitoring=true']);
  const [monitor] = rendered.byKind('ServiceMonitor') as unknown as {
    spec: { endpoints: { port: string; path: string }[]; selector: { matchLabels: Record<string, string> } };
  }[];
  assert.ok(monitor);
  const services = rendered.byKind('Service') as unknown as {
    metadata: { name: string; labels: Record<string, string> };
    spec: { ports: { name: string }[] };
  }[];
  const selected = services.filter((s) =>
    Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels[k] === v),
  );
  assert.deepEqual(
    selected.map((s) => s.metadata.name),
    ['elasti-operator-controller-service'],
  );
  assert.deepEqual(monitor.spec.endpoints, [{ path: '/metrics', port: 'custom-port', scheme: 'http' }]);
  assert.ok(selected[0]?.spec.ports.some((p) => p.name === 'custom-port'));
});
