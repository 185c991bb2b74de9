/**
 * In-memory fakes of the scaling layer's own interfaces (never of the Kubernetes or Prometheus
 * HTTP APIs): `/scale` over the one fake API server, a patcher recording merge patches, a Prometheus querier answering
 * from a table, and ElastiService builders.
 */
import { ELASTI_API_VERSION, ELASTI_KIND } from '../../../src/api/v1alpha1/constants.ts';
import type { ElastiService, ElastiServiceSpec } from '../../../src/api/v1alpha1/types.ts';
import type { GroupVersionResource, KubeObject } from '../../../src/kube/core/types.ts';
import type { StatusPatcher } from '../../../src/scaling/actions.ts';
import type { PrometheusQuerier } from '../../../src/scaling/evaluate.ts';
import type { MergePatcher } from '../../../src/scaling/keda.ts';
import type { QueryOptions, QueryOutcome } from '../../../src/scaling/prometheus.ts';
import type { Scale, ScaleApi } from '../../../src/scaling/scale.ts';
import { apiError } from '../../support/fake-api-rules.ts';
import { FakeApiServer } from '../../support/fake-api-server.ts';

export const DEPLOYMENTS: GroupVersionResource = { group: 'apps', version: 'v1', resource: 'deployments' };

/**
 * The `/scale` subresource of Deployments in the one fake API server: `getScale` reads
 * `spec.replicas` and the object's resourceVersion, `replaceScale` writes them back with the
 * server's optimistic concurrency (a stale resourceVersion is a 409).
 */
export class FakeScaleApi implements ScaleApi {
  readonly server = new FakeApiServer();
  /** `GET ns/name` and `PUT ns/name replicas`, in order. */
  readonly calls: string[] = [];
  /** Milliseconds each call takes. */
  delayMs = 0;

  /** Creates or updates Deployment `namespace/name` with `replicas`. */
  set(namespace: string, name: string, replicas: number): void {
    const current = this.server.peek(DEPLOYMENTS, namespace, name);
    const metadata = current?.metadata ?? { name, namespace };
    this.server.upsert(DEPLOYMENTS, { ...current, metadata, spec: { ...(current?.spec ?? {}), replicas } });
  }

  /** `namespace/name` → `spec.replicas` of every Deployment. */
  get replicas(): Map<string, number> {
    const out = new Map<string, number>();
    for (const d of this.server.select({ gvr: DEPLOYMENTS })) {
      out.set(`${d.metadata.namespace}/${d.metadata.name}`, (d.spec as { replicas: number }).replicas);
    }
    return out;
  }

  get puts(): string[] {
    return this.calls.filter((c) => c.startsWith('PUT'));
  }

  /** The next `count` PUTs answer 409, as when another writer got in between. */
  set conflicts(count: number) {
    const error = apiError(409, 'Conflict', { verb: 'replace', what: 'scale' });
    this.server.injectFault('replace', { error }, { resource: DEPLOYMENTS.resource, times: count });
  }

  /** The next GET fails with this. */
  set getError(error: Error) {
    this.server.injectFault('get', { error }, { resource: DEPLOYMENTS.resource });
  }

  async getScale(gvr: GroupVersionResource, namespace: string, name: string): Promise<Scale> {
    this.calls.push(`GET ${namespace}/${name}`);
    await this.#wait();
    const object = await this.server.get<KubeObject>(gvr, namespace, name);
    const replicas = (object.spec as { replicas: number }).replicas;
    return {
      metadata: { name, namespace, resourceVersion: object.metadata.resourceVersion },
      spec: { replicas },
    };
  }

  async replaceScale(
    gvr: GroupVersionResource,
    namespace: string,
    name: string,
    scale: Scale,
  ): Promise<Scale> {
    this.calls.push(`PUT ${namespace}/${name} ${scale.spec?.replicas}`);
    await this.#wait();
    const current = this.server.peek(gvr, namespace, name);
    const next = {
      ...current,
      metadata: { ...current?.metadata, resourceVersion: scale.metadata.resourceVersion },
      spec: { ...(current?.spec ?? {}), replicas: scale.spec?.replicas ?? 0 },
    };
    const written = await this.server.replace(gvr, namespace, name, next);
    return { ...scale, metadata: { ...scale.metadata, resourceVersion: written.metadata.resourceVersion } };
  }

  async #wait(): Promise<void> {
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
  }
}

/** Records `patch` / `patchStatus` calls; `fail` makes matching calls throw. */
export class FakePatcher implements MergePatcher, StatusPatcher {
  readonly patches: { resource: string; namespace: string | undefined; name: string; body: unknown }[] = [];
  readonly statusPatches: { name: string; body: unknown }[] = [];
  fail: ((resource: string, name: string) => Error | undefined) | undefined;
  /** While set, status patches wait for it (recorded first). */
  statusGate: Promise<void> | undefined;

  async patch<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    body: unknown,
  ): Promise<T> {
    const error = this.fail?.(gvr.resource, name);
    if (error) throw error;
    this.patches.push({ resource: gvr.resource, namespace, name, body });
    return { metadata: { name, namespace } } as T;
  }

  async patchStatus<T extends KubeObject>(
    _gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    body: unknown,
  ): Promise<T> {
    this.statusPatches.push({ name, body });
    await this.statusGate;
    return { metadata: { name, namespace } } as T;
  }
}

/** Answers queries from a table (`query` → outcome or error); records each call. */
export class FakeQuerier implements PrometheusQuerier {
  readonly answers = new Map<string, QueryOutcome | Error>();
  readonly calls: { address: string; query: string; headers: Readonly<Record<string, string>> }[] = [];
  /** Answer for queries not in the table. */
  fallback: QueryOutcome | Error = new Error('no answer configured');

  async query(address: string, query: string, options: QueryOptions = {}): Promise<QueryOutcome> {
    this.calls.push({ address, query, headers: options.headers ?? {} });
    const answer = this.answers.get(query) ?? this.fallback;
    if (answer instanceof Error) throw answer;
    return answer;
  }
}

export const UPTIME_300 = 'min_over_time((max(up{container="prometheus"}) or vector(0))[300s:])';
export const TRAFFIC_QUERY = 'sum(rate(http_requests_total[1m])) or vector(0)';

/** An ElastiService with one prometheus trigger, created long ago. */
export function scalingEs(
  name: string,
  spec: Partial<ElastiServiceSpec> & Record<string, unknown> = {},
  extra: { createdAt?: string; uid?: string; lastScaledUpTime?: string; namespace?: string } = {},
): ElastiService {
  return {
    apiVersion: ELASTI_API_VERSION,
    kind: ELASTI_KIND,
    metadata: {
      name,
      namespace: extra.namespace ?? 'shop',
      uid: extra.uid ?? `uid-${name}`,
      creationTimestamp: extra.createdAt ?? '2030-01-01T00:00:00Z',
    },
    spec: {
      service: name,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minTargetReplicas: 2,
      cooldownPeriod: 300,
      triggers: [
        {
          type: 'prometheus',
          metadata: { serverAddress: 'http://prom:9090', query: TRAFFIC_QUERY, threshold: '0.5' },
        },
      ],
      ...spec,
    } as ElastiServiceSpec,
    ...(extra.lastScaledUpTime ? { status: { lastScaledUpTime: extra.lastScaledUpTime } } : {}),
  };
}
