/**
 * In-memory fakes of the scaling layer's own interfaces (never of the Kubernetes or Prometheus
 * HTTP APIs): a `/scale` store, a patcher recording merge patches, a Prometheus querier answering
 * from a table, and ElastiService builders.
 */
import { ELASTI_API_VERSION, ELASTI_KIND } from '../../../src/api/v1alpha1/constants.ts';
import type { ElastiService, ElastiServiceSpec } from '../../../src/api/v1alpha1/types.ts';
import { KubeApiError } from '../../../src/kube/core/errors.ts';
import type { GroupVersionResource, KubeObject } from '../../../src/kube/core/types.ts';
import type { StatusPatcher } from '../../../src/scaling/actions.ts';
import type { PrometheusQuerier } from '../../../src/scaling/evaluate.ts';
import type { MergePatcher } from '../../../src/scaling/keda.ts';
import type { QueryOptions, QueryOutcome } from '../../../src/scaling/prometheus.ts';
import type { Scale, ScaleApi } from '../../../src/scaling/scale.ts';

export const DEPLOYMENTS: GroupVersionResource = { group: 'apps', version: 'v1', resource: 'deployments' };

/** A `/scale` store: `namespace/name` → replicas. */
export class FakeScaleApi implements ScaleApi {
  readonly replicas = new Map<string, number>();
  readonly calls: string[] = [];
  #rv = 1;
  /** Milliseconds each call takes. */
  delayMs = 0;
  /** The next PUTs answer 409 this many times. */
  conflicts = 0;
  /** The next GET fails with this. */
  getError: Error | undefined;

  set(namespace: string, name: string, replicas: number): void {
    this.replicas.set(`${namespace}/${name}`, replicas);
  }

  get puts(): string[] {
    return this.calls.filter((c) => c.startsWith('PUT'));
  }

  async getScale(_gvr: GroupVersionResource, namespace: string, name: string): Promise<Scale> {
    this.calls.push(`GET ${namespace}/${name}`);
    await this.#wait();
    if (this.getError) {
      const error = this.getError;
      this.getError = undefined;
      throw error;
    }
    const replicas = this.replicas.get(`${namespace}/${name}`);
    if (replicas === undefined) throw new KubeApiError({ status: 404, verb: 'get', url: 'fake://scale' });
    return { metadata: { name, namespace, resourceVersion: String(this.#rv) }, spec: { replicas } };
  }

  async replaceScale(
    _gvr: GroupVersionResource,
    namespace: string,
    name: string,
    scale: Scale,
  ): Promise<Scale> {
    this.calls.push(`PUT ${namespace}/${name} ${scale.spec?.replicas}`);
    await this.#wait();
    if (this.conflicts > 0) {
      this.conflicts--;
      this.#rv++;
      throw new KubeApiError({ status: 409, verb: 'replace', url: 'fake://scale', reason: 'Conflict' });
    }
    if (scale.metadata.resourceVersion !== String(this.#rv)) {
      throw new KubeApiError({ status: 409, verb: 'replace', url: 'fake://scale', reason: 'Conflict' });
    }
    this.#rv++;
    this.replicas.set(`${namespace}/${name}`, scale.spec?.replicas ?? 0);
    return { ...scale, metadata: { ...scale.metadata, resourceVersion: String(this.#rv) } };
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
