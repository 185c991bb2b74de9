/**
 * Wake-ups requested by the resolver: "a request arrived for Service `namespace/svc`" → find the
 * ElastiService fronting it in the CRD directory and scale its target up to `minTargetReplicas`
 * (status stamp and KEDA unpause included, see `actions.ts`).
 *
 * A burst for one Service is one operation: requests arriving while a wake-up of the same Service
 * runs share its outcome, and so do those arriving within `settleMs` after it succeeded (the
 * target is up by then; a failure is never reused).
 *
 * @module
 */

import type { ElastiService } from '../api/v1alpha1/index.ts';
import { validateElastiServiceSpec } from '../api/v1alpha1/index.ts';
import type { CRDEntry } from '../crddirectory/index.ts';
import { serviceKey } from '../crddirectory/index.ts';
import type { ScalingActions } from './actions.ts';
import { errorLabel, type ScalingMetrics } from './metrics.ts';
import type { ScaleResult } from './scale.ts';

/** No ElastiService fronts the Service. */
export class UnknownServiceError extends Error {
  override readonly name = 'UnknownServiceError';
  readonly namespace: string;
  readonly service: string;
  constructor(namespace: string, service: string) {
    super(`no ElastiService fronts service ${namespace}/${service}`);
    this.namespace = namespace;
    this.service = service;
  }
}

/** The ElastiService fronting the Service has a spec the operator cannot act on. */
export class InvalidElastiServiceError extends Error {
  override readonly name = 'InvalidElastiServiceError';
  constructor(namespace: string, crdName: string, problems: string) {
    super(`ElastiService ${namespace}/${crdName} is invalid: ${problems}`);
  }
}

/** Where the wake-up finds things. */
export interface WakeLookup {
  /** The directory entry of Service `namespace/service` (the CRD directory's `get`). */
  entry(key: string): CRDEntry | undefined;
  /** The ElastiService object, from the controller's cache (for its uid and latest status). */
  elastiService(namespace: string, name: string): ElastiService | undefined;
}

/** Options of {@link WakeUpService}. */
export interface WakeUpServiceOptions {
  lookup: WakeLookup;
  actions: ScalingActions;
  metrics?: ScalingMetrics;
  /** How long a successful wake-up answers repeats without new work (ms). Default 1000. */
  settleMs?: number;
}

/** See the module documentation. */
export class WakeUpService {
  readonly #lookup: WakeLookup;
  readonly #actions: ScalingActions;
  readonly #metrics: ScalingMetrics | undefined;
  readonly #settleMs: number;
  /** Per Service key: the wake-up running, or the last successful one while it settles. */
  readonly #recent = new Map<string, { promise: Promise<ScaleResult>; settledAt?: number }>();

  constructor(options: WakeUpServiceOptions) {
    this.#lookup = options.lookup;
    this.#actions = options.actions;
    this.#metrics = options.metrics;
    this.#settleMs = options.settleMs ?? 1000;
  }

  /**
   * Wakes the target of the ElastiService fronting `namespace/service`.
   * @throws {UnknownServiceError} when none does; {@link InvalidElastiServiceError} when its spec
   *   is invalid; the scaling failure otherwise.
   */
  wake(namespace: string, service: string): Promise<ScaleResult> {
    const key = serviceKey(namespace, service);
    const recent = this.#recent.get(key);
    if (recent && (recent.settledAt === undefined || Date.now() - recent.settledAt < this.#settleMs)) {
      return recent.promise;
    }
    const entry = this.#lookup.entry(key);
    if (!entry) return Promise.reject(new UnknownServiceError(namespace, service));
    const record = { promise: this.#wake(entry, service), settledAt: undefined as number | undefined };
    this.#recent.set(key, record);
    record.promise.then(
      () => {
        record.settledAt = Date.now();
        setTimeout(() => {
          if (this.#recent.get(key) === record) this.#recent.delete(key);
        }, this.#settleMs).unref();
      },
      () => {
        if (this.#recent.get(key) === record) this.#recent.delete(key);
      },
    );
    return record.promise;
  }

  async #wake(entry: CRDEntry, service: string): Promise<ScaleResult> {
    const namespace = entry.namespace;
    const validation = validateElastiServiceSpec(entry.spec);
    const target = `${entry.spec.scaleTargetRef.kind}-${entry.spec.scaleTargetRef.name}`;
    let outcome: unknown;
    try {
      if (!validation.valid) {
        throw new InvalidElastiServiceError(
          namespace,
          entry.crdName,
          validation.errors.map((e) => `${e.field}: ${e.message}`).join('; '),
        );
      }
      const es: ElastiService = this.#lookup.elastiService(namespace, entry.crdName) ?? {
        apiVersion: undefined,
        metadata: { name: entry.crdName, namespace },
        spec: structuredClone(entry.spec) as ElastiService['spec'],
        status: structuredClone(entry.status) as ElastiService['status'],
      };
      return await this.#actions.scaleUp(es, validation.spec, 'resolver', 'request from the resolver');
    } catch (error) {
      outcome = error;
      throw error;
    } finally {
      this.#metrics?.scaleCounter.inc({
        service_name: service,
        namespace,
        target,
        error: errorLabel(outcome),
      });
    }
  }
}
