/**
 * `ElastiServiceReconciler`: brings the cluster in line with one ElastiService, given its
 * `namespace/name` key. Level-based: each call reads the current state (the ElastiService, its
 * scale target and the target's Pods, the public Service) and makes the derived objects match,
 * whatever event caused the call — so every watch handler only has to enqueue the key, and a
 * restarted controller converges without replaying history.
 *
 * One reconcile:
 * 1. ElastiService gone → forget what is held for it in memory (watches, directory entry).
 * 2. Being deleted → finalize: stop its watches, delete the private Service and the EndpointSlice
 *    to the resolver (unless another live ElastiService fronts the same Service: then only drop
 *    our owner references and let that one take over), drop the directory entry, remove the
 *    finalizer.
 * 3. Otherwise add the finalizer; validate (an invalid spec sets `SpecValid=False`, records an
 *    Event and stops there — no retry until the spec changes); read the scale target (missing →
 *    `ScaleTargetFound=False`, Event, retried with backoff); watch it through the Manager
 *    (restarted when the ref changed); record the ElastiService in the directory.
 * 4. Decide the mode from the target's replicas and its ready Pods (`readiness.ts`) and apply it:
 *    proxy → private Service, EndpointSlice to the resolver, watch on the public Service;
 *    serve → EndpointSlice deleted (the private Service, if any, kept in sync). Every write is
 *    compare-then-write, so repeating a reconcile changes nothing.
 * 5. Patch `status` (mode, lastReconciledTime, conditions) and record an Event when the mode
 *    changed.
 *
 * A failure records a Warning Event and `Ready=False`, then is thrown so the work queue retries
 * the key with backoff.
 *
 * @module
 */
import { formatFieldError, setStatusCondition, toCondition } from '../api/v1alpha1/condition.ts';
import { ELASTI_FINALIZER, ELASTI_GVR } from '../api/v1alpha1/constants.ts';
import { endpointSliceToResolverName, privateServiceName } from '../api/v1alpha1/names.ts';
import { scaleTargetGvr } from '../api/v1alpha1/scale-target.ts';
import type { Condition, ElastiMode, ElastiService, ElastiServiceStatus } from '../api/v1alpha1/types.ts';
import { type ValidationResult, validateElastiService } from '../api/v1alpha1/validate.ts';
import { serviceKey } from '../crddirectory/directory.ts';
import { InformerNotFoundError, TargetNotFoundError } from '../informer/errors.ts';
import { resourceTypeOf } from '../informer/key.ts';
import { errorMessage, isNotFound } from '../kube/errors.ts';
import type { GroupVersionResource, KubeObject, Logger, ResourceEventHandler } from '../kube/types.ts';
import { formatGvr, silentLogger } from '../kube/types.ts';
import { CONDITION_READY, CONDITION_SCALE_TARGET_FOUND, condition, readyCondition } from './conditions.ts';
import type { OperatorConfig } from './config.ts';
import { deleteResolverSlice, ensureResolverSlice } from './endpointslice.ts';
import {
  NoResolverEndpointsError,
  PublicServiceNotFoundError,
  ReconcileError,
  ScaleTargetNotFoundError,
} from './errors.ts';
import { type ControllerMetrics, errorLabel } from './metrics.ts';
import { deletePrivateService, ensurePrivateService, syncPrivateServiceIfExists } from './private-service.ts';
import { decideMode, describeReadiness, evaluateTarget, selectorToQuery } from './readiness.ts';
import { releaseOwnedObject } from './release.ts';
import {
  ENDPOINTSLICE_GVR,
  type EventRecorder,
  POD_GVR,
  type Pod,
  type ResolverEndpoints,
  type ResourceClient,
  type ScaleTarget,
  SERVICE_GVR,
  type Service,
  type ServiceDirectory,
  type WatchManager,
} from './types.ts';

/** What a reconcile asks of the queue besides success. */
export interface ReconcileResult {
  /** Reconcile this key again after this many milliseconds. */
  readonly requeueAfter?: number;
}

/** Dependencies of {@link ElastiServiceReconciler}. */
export interface ReconcilerOptions {
  client: ResourceClient;
  manager: WatchManager;
  directory: ServiceDirectory;
  resolver: ResolverEndpoints;
  events: EventRecorder;
  config: OperatorConfig;
  /** Queues an ElastiService key (`namespace/name`); the watch handlers call it. */
  enqueue: (key: string) => void;
  /**
   * The ElastiServices of a namespace, to find others fronting the same Service. Default: a LIST.
   * The controller passes its informer cache.
   */
  listElastiServices?: (namespace: string) => readonly ElastiService[] | Promise<readonly ElastiService[]>;
  logger?: Logger;
  metrics?: ControllerMetrics;
  /** Clock for status times. Default `() => new Date()`. */
  now?: () => Date;
}

/** The key of an ElastiService: `namespace/name`. */
export function elastiServiceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** A queue key that is not `namespace/name`. */
export class InvalidKeyError extends Error {
  override readonly name = 'InvalidKeyError';
}

/** Splits `namespace/name`. @throws {InvalidKeyError} */
export function parseElastiServiceKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  const namespace = key.slice(0, slash);
  const name = key.slice(slash + 1);
  if (slash <= 0 || name === '' || name.includes('/'))
    throw new InvalidKeyError(`not a namespace/name key: ${key}`);
  return { namespace, name };
}

/** A watch the reconciler registered with the Manager. */
interface HeldWatch {
  readonly key: string;
  readonly gvr: GroupVersionResource;
  readonly name: string;
}

/** What is held in memory for one ElastiService. */
interface Held {
  uid: string | undefined;
  target: HeldWatch | undefined;
  publicService: HeldWatch | undefined;
  /** The `spec.service` last acted on (to clean up when it changes). */
  service: string | undefined;
}

/** See the module documentation. */
export class ElastiServiceReconciler {
  readonly #client: ResourceClient;
  readonly #manager: WatchManager;
  readonly #directory: ServiceDirectory;
  readonly #resolver: ResolverEndpoints;
  readonly #events: EventRecorder;
  readonly #config: OperatorConfig;
  readonly #enqueue: (key: string) => void;
  readonly #listElastiServices: (
    namespace: string,
  ) => readonly ElastiService[] | Promise<readonly ElastiService[]>;
  readonly #logger: Logger;
  readonly #metrics: ControllerMetrics | undefined;
  readonly #now: () => Date;
  readonly #held = new Map<string, Held>();
  /** Keys whose last reconcile failed for lack of resolver endpoints: retried on any resolver change. */
  readonly #awaitingResolver = new Set<string>();

  constructor(options: ReconcilerOptions) {
    this.#client = options.client;
    this.#manager = options.manager;
    this.#directory = options.directory;
    this.#resolver = options.resolver;
    this.#events = options.events;
    this.#config = options.config;
    this.#enqueue = options.enqueue;
    this.#listElastiServices = options.listElastiServices ?? ((namespace) => this.#listFromApi(namespace));
    this.#logger = (options.logger ?? silentLogger).child({ component: 'elastiservice-reconciler' });
    this.#metrics = options.metrics;
    this.#now = options.now ?? (() => new Date());
  }

  /** Keys of the ElastiServices the reconciler holds watches or state for. */
  heldKeys(): string[] {
    return [...this.#held.keys()].sort();
  }

  /**
   * The resolver's endpoints (or its Deployment) changed: every ElastiService that may be in proxy
   * mode gets reconciled so its EndpointSlice follows.
   */
  resolverChanged(): void {
    const keys = new Set(this.#awaitingResolver);
    for (const { details } of this.#directory.list()) {
      if (details.status.mode !== 'serve') keys.add(elastiServiceKey(details.namespace, details.crdName));
    }
    for (const key of keys) this.#enqueue(key);
  }

  /** Stops every watch this reconciler registered (the controller is stopping). Best effort. */
  async releaseWatches(): Promise<void> {
    const keys = [...this.#held.keys()];
    for (const key of keys) {
      const { namespace, name } = parseElastiServiceKey(key);
      try {
        await this.#manager.stopForCRD(name, namespace);
      } catch (error) {
        this.#logger.warn({ err: error, es: key }, 'failed to stop watches');
      }
      this.#held.delete(key);
    }
  }

  /** Reconciles one ElastiService. Throws to ask for a retry with backoff. */
  async reconcile(key: string, signal?: AbortSignal): Promise<ReconcileResult> {
    const { namespace, name } = parseElastiServiceKey(key);
    const started = performance.now();
    this.#logger.debug({ es: key }, 'reconciling');
    let outcome: unknown;
    try {
      return await this.#reconcile(key, namespace, name, signal);
    } catch (error) {
      outcome = error;
      throw error;
    } finally {
      this.#metrics?.reconcile.observe(
        { crd_name: key, error: errorLabel(outcome) },
        (performance.now() - started) / 1000,
      );
    }
  }

  async #reconcile(
    key: string,
    namespace: string,
    name: string,
    signal: AbortSignal | undefined,
  ): Promise<ReconcileResult> {
    let es: ElastiService;
    try {
      es = await this.#client.get<ElastiService>(ELASTI_GVR, namespace, name, signal);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      this.#logger.debug({ es: key }, 'ElastiService gone');
      await this.#forget(key, namespace, name);
      return {};
    }

    const held = this.#held.get(key);
    if (held && held.uid !== es.metadata.uid) {
      // Deleted and recreated under the same name while we were not looking: start afresh.
      await this.#forget(key, namespace, name);
    }

    if (es.metadata.deletionTimestamp) {
      await this.#finalize(key, es);
      return {};
    }

    es = await this.#ensureFinalizer(es, signal);
    const validation = validateElastiService(es);
    if (!validation.valid) {
      await this.#reportInvalidSpec(key, es, validation);
      return {};
    }

    try {
      await this.#reconcileValid(key, es, validation, signal);
      this.#awaitingResolver.delete(key);
      return {};
    } catch (error) {
      if (error instanceof NoResolverEndpointsError) this.#awaitingResolver.add(key);
      else this.#awaitingResolver.delete(key);
      if (!signal?.aborted) await this.#reportFailure(key, es, error);
      throw error;
    }
  }

  async #reconcileValid(
    key: string,
    es: ElastiService,
    validation: Extract<ValidationResult, { valid: true }>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const { namespace, name } = parseElastiServiceKey(key);
    const spec = validation.spec;
    const held = this.#hold(key, es);

    if (held.service !== undefined && held.service !== spec.service) {
      await this.#leaveService(key, es, held.service);
    }
    held.service = spec.service;

    const ref = spec.scaleTargetRef;
    const gvr = scaleTargetGvr(ref);
    const target = await this.#getTarget(gvr, namespace, ref.kind, ref.name, signal);
    await this.#watchTarget(key, es, held, gvr, ref.kind, ref.name);

    this.#directory.set(serviceKey(namespace, spec.service), {
      crdName: name,
      namespace,
      spec: es.spec,
      status: es.status ?? {},
    });

    signal?.throwIfAborted();
    const pods = await this.#listPods(namespace, target, signal);
    const readiness = evaluateTarget(target, pods);
    const mode = decideMode(readiness);
    const why = describeReadiness(readiness);
    this.#logger.debug({ es: key, mode, readiness }, 'mode decided');

    if (mode === 'proxy') await this.#enableProxy(key, es, held, spec.service, signal);
    else await this.#enableServe(es, spec.service, signal);

    const previous = es.status?.mode;
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
    let statusError: unknown;
    try {
      es = await this.#patchStatus(es, status, signal);
    } catch (error) {
      statusError = error;
      throw error;
    } finally {
      this.#metrics?.statusUpdate.inc({ crd_name: key, mode, error: errorLabel(statusError) });
    }
    this.#metrics?.setMode(key, mode);
    this.#directory.set(serviceKey(namespace, spec.service), {
      crdName: name,
      namespace,
      spec: es.spec,
      status: es.status ?? status,
    });
    if (previous !== mode) {
      this.#logger.info({ es: key, from: previous ?? null, to: mode, why }, 'mode switched');
      this.#events.record(
        es,
        'Normal',
        mode === 'proxy' ? 'SwitchedToProxyMode' : 'SwitchedToServeMode',
        `${previous ? `switched from ${previous} to ${mode} mode` : `${mode} mode`}: ${why}`,
      );
    }
  }

  async #enableProxy(
    key: string,
    es: ElastiService,
    held: Held,
    service: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const namespace = es.metadata.namespace ?? '';
    const publicSvc = await this.#getPublicService(namespace, service, signal);
    const privateSvc = await ensurePrivateService(this.#client, publicSvc, es, this.#config.fieldManager);
    if (privateSvc.action !== 'unchanged') {
      this.#logger.info(
        { es: key, service: privateSvc.service.metadata.name, action: privateSvc.action },
        'private service',
      );
    }
    const resolver = this.#config.resolver;
    const addresses = this.#resolver.addresses();
    if (!addresses || addresses.length === 0) {
      throw new NoResolverEndpointsError(resolver.namespace, resolver.serviceName, addresses !== undefined);
    }
    const slice = await ensureResolverSlice(
      this.#client,
      publicSvc,
      es,
      addresses,
      resolver.reverseProxyPort,
      this.#config.fieldManager,
    );
    if (slice.action !== 'unchanged') {
      this.#logger.info(
        { es: key, slice: slice.slice.metadata.name, action: slice.action, addresses },
        'endpointslice to resolver',
      );
    }
    await this.#watchPublicService(key, es, held, service);
  }

  async #enableServe(es: ElastiService, service: string, signal: AbortSignal | undefined): Promise<void> {
    const namespace = es.metadata.namespace ?? '';
    if (await deleteResolverSlice(this.#client, namespace, service)) {
      this.#logger.info(
        { es: elastiServiceKey(namespace, es.metadata.name ?? ''), service },
        'endpointslice to resolver deleted',
      );
    }
    // The private Service outlives proxy mode; keep it following the public one.
    let publicSvc: Service;
    try {
      publicSvc = await this.#client.get<Service>(SERVICE_GVR, namespace, service, signal);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    await syncPrivateServiceIfExists(this.#client, publicSvc, es, this.#config.fieldManager);
  }

  async #getTarget(
    gvr: GroupVersionResource,
    namespace: string,
    kind: string,
    name: string,
    signal: AbortSignal | undefined,
  ): Promise<ScaleTarget> {
    try {
      return await this.#client.get<ScaleTarget>(gvr, namespace, name, signal);
    } catch (error) {
      if (isNotFound(error)) throw new ScaleTargetNotFoundError(kind, namespace, name, error);
      throw error;
    }
  }

  async #getPublicService(
    namespace: string,
    service: string,
    signal: AbortSignal | undefined,
  ): Promise<Service> {
    try {
      return await this.#client.get<Service>(SERVICE_GVR, namespace, service, signal);
    } catch (error) {
      if (isNotFound(error)) throw new PublicServiceNotFoundError(namespace, service, error);
      throw error;
    }
  }

  /** Pods of the target, or `undefined` when it has no selector to find them with. */
  async #listPods(
    namespace: string,
    target: ScaleTarget,
    signal: AbortSignal | undefined,
  ): Promise<Pod[] | undefined> {
    const labelSelector = selectorToQuery(target.spec?.selector);
    if (labelSelector === undefined) return undefined;
    const pods: Pod[] = [];
    let continueToken: string | undefined;
    do {
      const page = await this.#client.list<Pod>(
        { gvr: POD_GVR, namespace, labelSelector },
        { limit: 500, ...(continueToken ? { continue: continueToken } : {}), ...(signal ? { signal } : {}) },
      );
      pods.push(...page.items);
      continueToken = page.continue || undefined;
    } while (continueToken);
    return pods;
  }

  /** Watches the scale target, replacing the watch of a previous ref. */
  async #watchTarget(
    key: string,
    es: ElastiService,
    held: Held,
    gvr: GroupVersionResource,
    kind: string,
    name: string,
  ): Promise<void> {
    const current = held.target;
    if (current && sameWatch(current, gvr, name)) return;
    if (current) {
      this.#logger.info(
        { es: key, from: `${formatGvr(current.gvr)} ${current.name}`, to: `${formatGvr(gvr)} ${name}` },
        'scale target changed',
      );
      await this.#stopWatch(current);
      held.target = undefined;
    }
    const namespace = es.metadata.namespace ?? '';
    try {
      held.target = await this.#addWatch(key, es, gvr, name);
    } catch (error) {
      if (error instanceof TargetNotFoundError)
        throw new ScaleTargetNotFoundError(kind, namespace, name, error);
      throw error;
    }
  }

  /** Watches the public Service (proxy mode), so the private Service follows its changes. */
  async #watchPublicService(key: string, es: ElastiService, held: Held, service: string): Promise<void> {
    const current = held.publicService;
    if (current && current.name === service) return;
    if (current) {
      await this.#stopWatch(current);
      held.publicService = undefined;
    }
    try {
      held.publicService = await this.#addWatch(key, es, SERVICE_GVR, service);
    } catch (error) {
      if (error instanceof TargetNotFoundError) {
        throw new PublicServiceNotFoundError(es.metadata.namespace ?? '', service, error);
      }
      throw error;
    }
  }

  async #addWatch(
    key: string,
    es: ElastiService,
    gvr: GroupVersionResource,
    name: string,
  ): Promise<HeldWatch> {
    const namespace = es.metadata.namespace ?? '';
    const crdName = es.metadata.name ?? '';
    const enqueue = (): void => this.#enqueue(key);
    const handlers: ResourceEventHandler = { onAdd: enqueue, onUpdate: enqueue, onDelete: enqueue };
    await this.#manager.add({
      req: { name: crdName, namespace },
      resourceName: name,
      resourceNamespace: namespace,
      groupVersionResource: gvr,
      handlers,
    });
    const watchKey = this.#manager.getKey({
      namespace,
      crdName,
      resourceType: resourceTypeOf(gvr),
      resourceName: name,
    });
    return { key: watchKey, gvr, name };
  }

  async #stopWatch(watch: HeldWatch): Promise<void> {
    try {
      await this.#manager.stopInformer(watch.key);
    } catch (error) {
      if (!(error instanceof InformerNotFoundError)) {
        this.#logger.warn({ err: error, key: watch.key }, 'failed to stop watch');
      }
    }
  }

  /** The ElastiService now fronts another Service: undo what was done for the old one. */
  async #leaveService(key: string, es: ElastiService, oldService: string): Promise<void> {
    const held = this.#held.get(key);
    if (held?.publicService) {
      await this.#stopWatch(held.publicService);
      held.publicService = undefined;
    }
    const namespace = es.metadata.namespace ?? '';
    await this.#cleanUpService(key, es, namespace, oldService);
    this.#logger.info(
      { es: key, from: oldService },
      'spec.service changed: objects of the old service removed',
    );
  }

  /**
   * Deletes the objects derived from `service`, or, when another live ElastiService fronts the
   * same Service, only removes this one's owner references and asks that one to reconcile.
   */
  async #cleanUpService(key: string, es: KubeObject, namespace: string, service: string): Promise<void> {
    const siblings = (await this.#listElastiServices(namespace)).filter(
      (other) =>
        other.metadata.uid !== es.metadata.uid &&
        other.metadata.name !== es.metadata.name &&
        !other.metadata.deletionTimestamp &&
        other.spec?.service === service,
    );
    if (siblings.length === 0) {
      await deleteResolverSlice(this.#client, namespace, service);
      await deletePrivateService(this.#client, namespace, service);
      return;
    }
    const uid = es.metadata.uid ?? '';
    await releaseOwnedObject(
      this.#client,
      SERVICE_GVR,
      namespace,
      privateServiceName(service),
      uid,
      this.#config.fieldManager,
    );
    await releaseOwnedObject(
      this.#client,
      ENDPOINTSLICE_GVR,
      namespace,
      endpointSliceToResolverName(service),
      uid,
      this.#config.fieldManager,
    );
    for (const sibling of siblings) this.#enqueue(elastiServiceKey(namespace, sibling.metadata.name ?? ''));
    this.#logger.info(
      { es: key, service, siblings: siblings.map((s) => s.metadata.name) },
      'service still fronted by other ElastiServices: objects kept',
    );
  }

  async #finalize(key: string, es: ElastiService): Promise<void> {
    const namespace = es.metadata.namespace ?? '';
    const name = es.metadata.name ?? '';
    if (!es.metadata.finalizers?.includes(ELASTI_FINALIZER)) {
      await this.#forget(key, namespace, name);
      return;
    }
    let outcome: unknown;
    try {
      await this.#manager.stopForCRD(name, namespace);
      this.#held.delete(key);
      this.#awaitingResolver.delete(key);
      const service =
        typeof es.spec?.service === 'string' && es.spec.service !== '' ? es.spec.service : undefined;
      // The directory may know a Service the spec no longer names (spec.service changed, then deleted).
      const listed = this.#directory.findByCRD(namespace, name)?.details.spec.service;
      for (const svc of new Set([service, listed].filter((s): s is string => s !== undefined))) {
        await this.#cleanUpService(key, es, namespace, svc);
      }
      this.#directory.deleteByCRD(namespace, name);
      await this.#removeFinalizer(es);
      this.#metrics?.forget(key);
      this.#logger.info({ es: key }, 'ElastiService finalized');
    } catch (error) {
      outcome = error;
      this.#events.record(es, 'Warning', 'FinalizeFailed', `cleanup failed: ${errorMessage(error)}`);
      throw error;
    } finally {
      this.#metrics?.finalizer.inc({ crd_name: key, error: errorLabel(outcome) });
    }
  }

  async #forget(key: string, namespace: string, name: string): Promise<void> {
    if (this.#held.has(key)) {
      try {
        await this.#manager.stopForCRD(name, namespace);
      } catch (error) {
        this.#logger.warn({ err: error, es: key }, 'failed to stop watches');
      }
      this.#held.delete(key);
    }
    this.#awaitingResolver.delete(key);
    this.#directory.deleteByCRD(namespace, name);
    this.#metrics?.forget(key);
  }

  #hold(key: string, es: ElastiService): Held {
    let held = this.#held.get(key);
    if (!held) {
      held = { uid: es.metadata.uid, target: undefined, publicService: undefined, service: undefined };
      // After a restart nothing is held, but the directory may still know the old service.
      held.service = this.#directory.findByCRD(
        es.metadata.namespace ?? '',
        es.metadata.name ?? '',
      )?.details.spec.service;
      this.#held.set(key, held);
    }
    return held;
  }

  async #ensureFinalizer(es: ElastiService, signal: AbortSignal | undefined): Promise<ElastiService> {
    const finalizers = es.metadata.finalizers ?? [];
    if (finalizers.includes(ELASTI_FINALIZER)) return es;
    // resourceVersion in the patch makes it conditional: a concurrent change fails with 409 (retried).
    return this.#client.patch<ElastiService>(
      ELASTI_GVR,
      es.metadata.namespace,
      es.metadata.name ?? '',
      {
        metadata: {
          finalizers: [...finalizers, ELASTI_FINALIZER],
          resourceVersion: es.metadata.resourceVersion,
        },
      },
      'merge',
      { fieldManager: this.#config.fieldManager, ...(signal ? { signal } : {}) },
    );
  }

  async #removeFinalizer(es: ElastiService): Promise<void> {
    const finalizers = (es.metadata.finalizers ?? []).filter((f) => f !== ELASTI_FINALIZER);
    try {
      await this.#client.patch(
        ELASTI_GVR,
        es.metadata.namespace,
        es.metadata.name ?? '',
        {
          metadata: {
            finalizers: finalizers.length > 0 ? finalizers : null,
            resourceVersion: es.metadata.resourceVersion,
          },
        },
        'merge',
        { fieldManager: this.#config.fieldManager },
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async #reportInvalidSpec(
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
  async #reportFailure(key: string, es: ElastiService, error: unknown): Promise<void> {
    const reason = error instanceof ReconcileError ? error.reason : 'ReconcileFailed';
    const message = errorMessage(error);
    this.#logger.warn({ es: key, err: error, reason }, 'reconcile failed');
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
    status.lastReconciledTime = formatTime(this.#now());
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
      { fieldManager: this.#config.fieldManager, ...(signal ? { signal } : {}) },
    );
  }

  async #listFromApi(namespace: string): Promise<ElastiService[]> {
    const items: ElastiService[] = [];
    let continueToken: string | undefined;
    do {
      const page = await this.#client.list<ElastiService>(
        { gvr: ELASTI_GVR, namespace },
        { limit: 500, ...(continueToken ? { continue: continueToken } : {}) },
      );
      items.push(...page.items);
      continueToken = page.continue || undefined;
    } while (continueToken);
    return items;
  }
}

/** The mode an ElastiService's status reports, if valid. */
export function statusMode(es: ElastiService): ElastiMode | undefined {
  const mode = es.status?.mode;
  return mode === 'proxy' || mode === 'serve' ? mode : undefined;
}

function sameWatch(watch: HeldWatch, gvr: GroupVersionResource, name: string): boolean {
  return (
    watch.name === name &&
    watch.gvr.group === gvr.group &&
    watch.gvr.version === gvr.version &&
    watch.gvr.resource === gvr.resource
  );
}

function formatTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
