/**
 * The two scaling actions on an ElastiService's target, shared by the polling loop and the
 * resolver API: scale up to `minTargetReplicas` (unpausing KEDA, stamping
 * `status.lastScaledUpTime`) and scale down to zero (pausing KEDA first). Each records a
 * `SuccessToScale` / `FailedToScale` Event on the ElastiService (the Event's object is the
 * ElastiService itself) when it wrote, or failed to write, the target's replicas.
 *
 * It also remembers when traffic was last seen per ElastiService ({@link TrafficMemory}): a
 * scale-down needs one cooldown since then as well as since `status.lastScaledUpTime`, so the
 * status is only written when something was scaled up or the stamp has aged (not on every
 * polling cycle that sees traffic, as upstream does), and the operator's own start counts as
 * traffic (a new leader never scales to zero before one cooldown has passed under its watch).
 *
 * @module
 */

import type { ElastiService, ResolvedElastiServiceSpec } from '../api/v1alpha1/index.ts';
import { ELASTI_API_VERSION, ELASTI_GVR, ELASTI_KIND, scaleTargetGvr } from '../api/v1alpha1/index.ts';
import type { GroupVersionResource, KubeObject, Logger } from '../kube/index.ts';
import { errorMessage } from '../kube/index.ts';
import type { EventRecorder } from '../runtime/index.ts';
import { kedaScaledObject, type MergePatcher, pauseKeda, unpauseKeda } from './keda.ts';
import type { ScaleResult, TargetRef, TargetScaler } from './scale.ts';

/** The status-patch verb of `KubeClient`. */
export interface StatusPatcher {
  patchStatus<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    body: unknown,
    type: 'merge',
    opts?: { fieldManager?: string; signal?: AbortSignal },
  ): Promise<T>;
}

/** When traffic was last seen, per ElastiService (`namespace/name` + uid). */
export class TrafficMemory {
  /** Counts as traffic for everything: nothing is scaled to zero before one cooldown after it. */
  readonly since: number;
  readonly #seen = new Map<string, { uid: string | undefined; at: number }>();

  constructor(now: number) {
    this.since = now;
  }

  saw(es: ElastiService, at: number): void {
    const key = keyOf(es);
    const previous = this.#seen.get(key);
    if (previous && previous.uid === es.metadata.uid && previous.at >= at) return;
    this.#seen.set(key, { uid: es.metadata.uid, at });
  }

  /** The latest sign of traffic for `es`: seen here, or this memory's start. */
  lastSeen(es: ElastiService): number {
    const entry = this.#seen.get(keyOf(es));
    return entry && entry.uid === es.metadata.uid ? Math.max(entry.at, this.since) : this.since;
  }

  forget(namespace: string, name: string): void {
    this.#seen.delete(`${namespace}/${name}`);
  }

  /** Forgets every ElastiService not in `live` (`namespace/name` keys): they were deleted. */
  retain(live: ReadonlySet<string>): void {
    for (const key of this.#seen.keys()) if (!live.has(key)) this.#seen.delete(key);
  }

  /** ElastiServices remembered. */
  get size(): number {
    return this.#seen.size;
  }
}

function keyOf(es: ElastiService): string {
  return `${es.metadata.namespace ?? ''}/${es.metadata.name ?? ''}`;
}

/** Dependencies of {@link ScalingActions}. */
export interface ScalingActionsOptions {
  client: MergePatcher & StatusPatcher;
  scaler: TargetScaler;
  events: EventRecorder;
  fieldManager: string;
  logger: Logger;
  traffic: TrafficMemory;
  now?: () => Date;
}

/** Who asked for a scaling. */
export type ScaleSource = 'resolver' | 'poller';

/** See the module documentation. */
export class ScalingActions {
  readonly traffic: TrafficMemory;
  readonly #client: MergePatcher & StatusPatcher;
  readonly #scaler: TargetScaler;
  readonly #events: EventRecorder;
  readonly #fieldManager: string;
  readonly #logger: Logger;
  readonly #now: () => Date;

  constructor(options: ScalingActionsOptions) {
    this.#client = options.client;
    this.#scaler = options.scaler;
    this.#events = options.events;
    this.#fieldManager = options.fieldManager;
    this.#logger = options.logger;
    this.traffic = options.traffic;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Scales the target up to `minTargetReplicas` (skipped when it has at least that many). For
   * the resolver, `status.lastScaledUpTime` is stamped and KEDA unpaused first, as upstream does
   * on every request; for the loop, only when a write is due (or the stamp is older than half a
   * cooldown). A KEDA unpause failure is reported but does not stop the wake-up (upstream gives up).
   */
  async scaleUp(
    es: ElastiService,
    spec: ResolvedElastiServiceSpec,
    source: ScaleSource,
    why: string,
  ): Promise<ScaleResult> {
    const now = this.#now();
    this.traffic.saw(es, now.getTime());
    const target = targetOf(es, spec);
    const keda = kedaScaledObject(spec.autoscaler);
    // For the resolver the stamp runs beside the unpause and the scale rather than before them:
    // its failure is only logged, and the traffic recorded above already holds this leader's
    // loop off a scale-down, so a wake-up waits for the /scale GET and PUT only (two requests
    // in a row, not three; `bench/RESULTS.md`, the scaling benchmark).
    const stamping = source === 'resolver' ? this.#stamp(es, now) : undefined;
    try {
      if (source === 'resolver' && keda) await this.#unpause(es, keda);
      return await this.#scaleUpTarget(es, spec, source, why, now, target, keda);
    } finally {
      await stamping;
    }
  }

  async #scaleUpTarget(
    es: ElastiService,
    spec: ResolvedElastiServiceSpec,
    source: ScaleSource,
    why: string,
    now: Date,
    target: TargetRef,
    keda: string | undefined,
  ): Promise<ScaleResult> {
    try {
      const result = await this.#scaler.scale(target, {
        direction: 'up',
        replicas: spec.minTargetReplicas,
        ...(source === 'poller' && keda ? { beforeWrite: () => this.#unpause(es, keda) } : {}),
      });
      if (result.action === 'scaled') {
        if (source === 'poller') await this.#stamp(es, now);
        this.#succeeded(es, target, result, why);
      } else if (source === 'poller' && this.#stampIsOld(es, spec, now)) {
        await this.#stamp(es, now);
      }
      return result;
    } catch (error) {
      this.#failed(es, target, spec.minTargetReplicas, error);
      throw error;
    }
  }

  /**
   * Scales the target to zero (skipped when it is there, or when `veto` objects at the last
   * moment). KEDA is paused first; if that fails, nothing is scaled.
   */
  async scaleDown(
    es: ElastiService,
    spec: ResolvedElastiServiceSpec,
    why: string,
    veto: () => string | undefined,
  ): Promise<ScaleResult> {
    const target = targetOf(es, spec);
    const keda = kedaScaledObject(spec.autoscaler);
    try {
      const result = await this.#scaler.scale(target, {
        direction: 'down',
        replicas: 0,
        veto,
        ...(keda
          ? {
              beforeWrite: () =>
                pauseKeda(this.#client, es.metadata.namespace ?? '', keda, {
                  fieldManager: this.#fieldManager,
                }),
            }
          : {}),
      });
      if (result.action === 'scaled') this.#succeeded(es, target, result, why);
      return result;
    } catch (error) {
      this.#failed(es, target, 0, error);
      throw error;
    }
  }

  #stampIsOld(es: ElastiService, spec: ResolvedElastiServiceSpec, now: Date): boolean {
    const stamped = Date.parse(es.status?.lastScaledUpTime ?? '');
    return !Number.isFinite(stamped) || now.getTime() - stamped >= (spec.cooldownPeriodSeconds * 1000) / 2;
  }

  /** `status.lastScaledUpTime = now` (RFC 3339 with fraction, as upstream). Failures are logged only. */
  async #stamp(es: ElastiService, now: Date): Promise<void> {
    try {
      await this.#client.patchStatus(
        ELASTI_GVR,
        es.metadata.namespace,
        es.metadata.name ?? '',
        { status: { lastScaledUpTime: now.toISOString() } },
        'merge',
        { fieldManager: this.#fieldManager },
      );
    } catch (error) {
      this.#logger.warn({ err: error, es: keyOf(es) }, 'failed to update status.lastScaledUpTime');
    }
  }

  async #unpause(es: ElastiService, scaledObject: string): Promise<void> {
    try {
      await unpauseKeda(this.#client, es.metadata.namespace ?? '', scaledObject, {
        fieldManager: this.#fieldManager,
      });
    } catch (error) {
      this.#logger.warn(
        { err: error, es: keyOf(es), scaledObject },
        'failed to unpause the KEDA ScaledObject',
      );
      this.#events.record(
        about(es),
        'Warning',
        'FailedToUnpauseKeda',
        `Failed to unpause ScaledObject ${scaledObject}: ${errorMessage(error)}`,
      );
    }
  }

  #succeeded(
    es: ElastiService,
    target: TargetRef,
    result: Extract<ScaleResult, { action: 'scaled' }>,
    why: string,
  ): void {
    this.#logger.info(
      { es: keyOf(es), target: `${target.kind}/${target.name}`, from: result.from, to: result.to, why },
      'scaled',
    );
    this.#events.record(
      about(es),
      'Normal',
      'SuccessToScale',
      `Successfully scaled ${result.to} replicas for ${target.kind}/${target.name} (from ${result.from}): ${why}`,
    );
  }

  #failed(es: ElastiService, target: TargetRef, replicas: number, error: unknown): void {
    this.#logger.warn(
      { err: error, es: keyOf(es), target: `${target.kind}/${target.name}`, replicas },
      'scale failed',
    );
    this.#events.record(
      about(es),
      'Warning',
      'FailedToScale',
      `Failed to scale ${replicas} replicas for ${target.kind}/${target.name}: ${errorMessage(error)}`,
    );
  }
}

/** The scale target of a validated ElastiService. */
export function targetOf(es: ElastiService, spec: ResolvedElastiServiceSpec): TargetRef {
  const ref = spec.scaleTargetRef;
  return { gvr: scaleTargetGvr(ref), kind: ref.kind, namespace: es.metadata.namespace ?? '', name: ref.name };
}

/** The ElastiService as an Event's involvedObject (whatever the cached copy carries). */
function about(es: ElastiService): KubeObject {
  return { apiVersion: ELASTI_API_VERSION, kind: ELASTI_KIND, metadata: es.metadata };
}
