/**
 * How a reconcile reports its outcome on the ElastiService: `status` (mode, lastReconciledTime,
 * conditions) and Kubernetes Events.
 *
 * - Applied: `SpecValid`, `ScaleTargetFound` and `Ready` (with the mode) all `True`, the mode
 *   in `status.mode` and in metrics; an Event when the mode changed.
 * - Invalid spec: `SpecValid=False` and `Ready=False` with the validation errors, Warning Event.
 * - Failed: `Ready=False` with the failure's reason (and `ScaleTargetFound=False` when the target
 *   is missing), Warning Event. Best effort: the caller rethrows the original error, which is
 *   what the work queue must see.
 *
 * Conditions are merged into the existing list (see `setStatusCondition`: a condition keeps its
 * lastTransitionTime while its status holds), and the write is a merge patch of `status` only.
 *
 * @module
 */

import {
  ELASTI_GVR,
  type ElastiMode,
  type ElastiService,
  type ElastiServiceStatus,
  formatFieldError,
  toCondition,
  type ValidationResult,
} from '../api/v1alpha1/index.ts';
import type { Logger } from '../kube/index.ts';
import { type Condition, errorMessage, formatConditionTime, setStatusCondition } from '../kube/index.ts';
import type { EventRecorder, ResourceClient } from '../runtime/index.ts';
import { condition } from '../runtime/index.ts';
import { CONDITION_READY, CONDITION_SCALE_TARGET_FOUND, readyCondition } from './conditions.ts';
import { ReconcileError, ScaleTargetNotFoundError } from './errors.ts';
import { type ControllerMetrics, errorLabel } from './metrics.ts';

/** The mode an ElastiService's status reports, if valid. */
export function statusMode(es: ElastiService): ElastiMode | undefined {
  const mode = es.status?.mode;
  return mode === 'proxy' || mode === 'serve' ? mode : undefined;
}

/** Dependencies of {@link StatusReporter}. */
export interface StatusReporterOptions {
  client: ResourceClient;
  events: EventRecorder;
  fieldManager: string;
  logger: Logger;
  metrics?: ControllerMetrics | undefined;
  /** Clock for condition and lastReconciledTime stamps. */
  now: () => Date;
}

/** See the module documentation. */
export class StatusReporter {
  readonly #client: ResourceClient;
  readonly #events: EventRecorder;
  readonly #fieldManager: string;
  readonly #logger: Logger;
  readonly #metrics: ControllerMetrics | undefined;
  readonly #now: () => Date;

  constructor(options: StatusReporterOptions) {
    this.#client = options.client;
    this.#events = options.events;
    this.#fieldManager = options.fieldManager;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#now = options.now;
  }

  /**
   * Records that `mode` was applied: patches the status and sets the mode metric. Returns the
   * ElastiService as the patch left it, and the status written (for when the response has none).
   */
  async applied(
    key: string,
    es: ElastiService,
    mode: ElastiMode,
    why: string,
    signal: AbortSignal | undefined,
  ): Promise<{ es: ElastiService; status: ElastiServiceStatus }> {
    const status = this.#statusWith(es, [
      toCondition([], { observedGeneration: es.metadata.generation, now: this.#now() }),
      condition(
        CONDITION_SCALE_TARGET_FOUND,
        'True',
        'ScaleTargetFound',
        '',
        this.#now(),
        es.metadata.generation,
      ),
      readyCondition(mode, why, this.#now(), es.metadata.generation),
    ]);
    status.mode = mode;
    let patched: ElastiService;
    let statusError: unknown;
    try {
      patched = await this.#patchStatus(es, status, signal);
    } catch (error) {
      statusError = error;
      throw error;
    } finally {
      this.#metrics?.statusUpdate.inc({ crd_name: key, mode, error: errorLabel(statusError) });
    }
    this.#metrics?.setMode(key, mode);
    return { es: patched, status };
  }

  /** Logs the switch from `previous` to `mode` and records it as a Normal Event. */
  modeSwitched(
    key: string,
    es: ElastiService,
    previous: ElastiMode | undefined,
    mode: ElastiMode,
    why: string,
  ): void {
    this.#logger.info({ es: key, from: previous ?? null, to: mode, why }, 'mode switched');
    this.#events.record(
      es,
      'Normal',
      mode === 'proxy' ? 'SwitchedToProxyMode' : 'SwitchedToServeMode',
      `${previous ? `switched from ${previous} to ${mode} mode` : `${mode} mode`}: ${why}`,
    );
  }

  /** Records an invalid spec: `SpecValid=False`, `Ready=False`, Warning Event. */
  async invalidSpec(
    key: string,
    es: ElastiService,
    validation: Extract<ValidationResult, { valid: false }>,
  ): Promise<void> {
    const specCondition = toCondition(validation.errors, {
      observedGeneration: es.metadata.generation,
      now: this.#now(),
    });
    const message = validation.errors.map(formatFieldError).join('; ');
    this.#logger.warn({ es: key, errors: message }, 'invalid ElastiService spec');
    this.#events.record(es, 'Warning', specCondition.reason, message);
    const status = this.#statusWith(es, [
      specCondition,
      condition(CONDITION_READY, 'False', specCondition.reason, message, this.#now(), es.metadata.generation),
    ]);
    await this.#patchStatus(es, status);
  }

  /** Records a failed reconcile: Warning Event, `Ready=False` (and `ScaleTargetFound=False`). Best effort. */
  async failure(key: string, es: ElastiService, error: unknown): Promise<void> {
    const reason = error instanceof ReconcileError ? error.reason : 'ReconcileFailed';
    const message = errorMessage(error);
    // The controller logs the failure once, at warn, when it schedules the retry.
    this.#logger.debug(
      { es: key, error: errorMessage(error), reason },
      'recording the failure on the ElastiService',
    );
    this.#events.record(es, 'Warning', reason, message);
    const conditions: Condition[] = [
      condition(CONDITION_READY, 'False', reason, message, this.#now(), es.metadata.generation),
    ];
    if (error instanceof ScaleTargetNotFoundError) {
      conditions.push(
        condition(
          CONDITION_SCALE_TARGET_FOUND,
          'False',
          reason,
          message,
          this.#now(),
          es.metadata.generation,
        ),
      );
    }
    // The spec itself is fine (validation passed), whatever failed afterwards.
    conditions.push(toCondition([], { observedGeneration: es.metadata.generation, now: this.#now() }));
    try {
      await this.#patchStatus(es, this.#statusWith(es, conditions));
    } catch (patchError) {
      this.#logger.debug({ es: key, err: patchError }, 'could not record the failure in status');
    }
  }

  /** `es.status` with `conditions` merged in and a fresh lastReconciledTime. */
  #statusWith(es: ElastiService, conditions: readonly Condition[]): ElastiServiceStatus {
    let merged = es.status?.conditions ?? [];
    for (const c of conditions) merged = setStatusCondition(merged, c);
    const status: ElastiServiceStatus = { ...(es.status ?? {}), conditions: merged };
    // Same second-precision RFC 3339 as the conditions' times (metav1.Time).
    status.lastReconciledTime = formatConditionTime(this.#now());
    return status;
  }

  async #patchStatus(
    es: ElastiService,
    status: ElastiServiceStatus,
    signal?: AbortSignal,
  ): Promise<ElastiService> {
    return this.#client.patchStatus<ElastiService>(
      ELASTI_GVR,
      es.metadata.namespace,
      es.metadata.name ?? '',
      { status },
      'merge',
      { fieldManager: this.#fieldManager, ...(signal ? { signal } : {}) },
    );
  }
}
