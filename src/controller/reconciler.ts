/**
 * `ElastiServiceReconciler`: brings the cluster in line with one ElastiService, given the
 * runtime's request (`{ namespace, name }`) and context — a runtime `Reconciler` like any other.
 * Level-based: each call reads the current state (the ElastiService, its scale target and the
 * target's Pods, the public Service) and makes the derived objects match, whatever event caused
 * the call — so every watch handler only has to enqueue the request, and a restarted controller
 * converges without replaying history.
 *
 * One reconcile:
 * 1. ElastiService gone → forget what is held for it in memory (watches, directory entry).
 * 2. Being deleted → finalize: stop its watches, run the `onFinalize` hook (the operator unpauses
 *    KEDA there), delete the private Service and the EndpointSlice
 *    to the resolver (unless another live ElastiService fronts the same Service: then only drop
 *    our owner references and let that one take over), drop the directory entry, remove the
 *    finalizer.
 * 3. Otherwise add the finalizer; validate (an invalid spec sets `SpecValid=False`, records an
 *    Event and stops there — no retry until the spec changes); watch the scale target through the
 *    Manager (restarted when the ref changed; registered even while the target does not exist, so
 *    its creation reconciles at once); read it (missing → `ScaleTargetFound=False`, Event,
 *    retried with backoff); record the ElastiService in the directory.
 * 4. Decide the mode from the target's replicas and its ready Pods (`readiness.ts`) and apply it:
 *    proxy → private Service, EndpointSlice to the resolver, watch on the public Service;
 *    serve → EndpointSlice deleted (the private Service, if any, kept in sync). Every write is
 *    compare-then-write, so repeating a reconcile changes nothing.
 * 5. Patch `status` (mode, lastReconciledTime, conditions) and record an Event when the mode
 *    changed.
 *
 * A failure records a Warning Event and `Ready=False`, then is thrown so the work queue retries
 * the request with backoff; a request that cannot name an ElastiService is an
 * `InvalidRequestError` (a `TerminalError`: not retried).
 *
 * The steps live here; the rest is delegated. `watches.ts` (`ElastiServiceWatches`) registers
 * the watches with the Manager and remembers what was done for each ElastiService; `status.ts`
 * (`StatusReporter`) writes the status and Events of each outcome; `finalizer.ts`,
 * `private-service.ts`, `endpointslice.ts` and `release.ts` write the objects.
 *
 * @module
 */

import type { ElastiService } from '../api/v1alpha1/index.ts';
import {
  ELASTI_FINALIZER,
  ELASTI_GVR,
  scaleTargetGvr,
  type ValidationResult,
  validateElastiService,
} from '../api/v1alpha1/index.ts';
import { serviceKey } from '../crddirectory/index.ts';
import type { GroupVersionResource, KubeObject, Logger, Pod, Service, Workload } from '../kube/index.ts';
import { errorMessage, isNotFound, resources, silentLogger } from '../kube/index.ts';
import type { EventRecorder, ReconcileRequest, ReconcileResult, ResourceClient } from '../runtime/index.ts';
import type { OperatorConfig } from './config.ts';
import { deleteResolverSlice, ensureResolverSlice } from './endpointslice.ts';
import { NoResolverEndpointsError, PublicServiceNotFoundError, ScaleTargetNotFoundError } from './errors.ts';
import { ensureFinalizer, removeFinalizer } from './finalizer.ts';
import { elastiServiceKey, elastiServiceRequest } from './keys.ts';
import { listAll } from './list.ts';
import { type ControllerMetrics, errorLabel } from './metrics.ts';
import { ensurePrivateService, syncPrivateServiceIfExists } from './private-service.ts';
import { decideMode, describeReadiness, evaluateTarget, selectorToQuery } from './readiness.ts';
import { releaseService } from './release.ts';
import { StatusReporter } from './status.ts';
import type { ResolverEndpoints, ServiceDirectory, WatchManager } from './types.ts';
import { ElastiServiceWatches, type Held } from './watches.ts';

/** Dependencies of {@link ElastiServiceReconciler}. */
export interface ReconcilerOptions {
  client: ResourceClient;
  manager: WatchManager;
  directory: ServiceDirectory;
  resolver: ResolverEndpoints;
  events: EventRecorder;
  config: OperatorConfig;
  /** Queues a reconcile of an ElastiService; the watch handlers call it. */
  enqueue: (request: ReconcileRequest) => void;
  /**
   * The ElastiServices of a namespace, to find others fronting the same Service. Default: a LIST.
   * The controller passes its informer cache.
   */
  listElastiServices?: (namespace: string) => readonly ElastiService[] | Promise<readonly ElastiService[]>;
  logger?: Logger;
  metrics?: ControllerMetrics;
  /** Clock for status times. Default `() => new Date()`. */
  now?: () => Date;
  /** Extra cleanup of a finalized ElastiService (see `StartControllerOptions.onFinalize`). */
  onFinalize?: (es: ElastiService, signal?: AbortSignal) => Promise<void>;
}

/** See the module documentation. */
export class ElastiServiceReconciler {
  readonly #client: ResourceClient;
  readonly #directory: ServiceDirectory;
  readonly #resolver: ResolverEndpoints;
  readonly #events: EventRecorder;
  readonly #config: OperatorConfig;
  readonly #enqueue: (request: ReconcileRequest) => void;
  readonly #listElastiServices: (
    namespace: string,
  ) => readonly ElastiService[] | Promise<readonly ElastiService[]>;
  readonly #logger: Logger;
  readonly #metrics: ControllerMetrics | undefined;
  readonly #watches: ElastiServiceWatches;
  readonly #status: StatusReporter;
  readonly #onFinalize: ((es: ElastiService, signal?: AbortSignal) => Promise<void>) | undefined;
  /** Requests (by key) whose last reconcile failed for lack of resolver endpoints: retried on any resolver change. */
  readonly #awaitingResolver = new Map<string, ReconcileRequest>();

  constructor(options: ReconcilerOptions) {
    this.#client = options.client;
    this.#directory = options.directory;
    this.#resolver = options.resolver;
    this.#events = options.events;
    this.#config = options.config;
    this.#enqueue = options.enqueue;
    this.#listElastiServices = options.listElastiServices ?? ((namespace) => this.#listFromApi(namespace));
    this.#logger = (options.logger ?? silentLogger).child({ component: 'elastiservice-reconciler' });
    this.#metrics = options.metrics;
    this.#onFinalize = options.onFinalize;
    this.#watches = new ElastiServiceWatches({
      manager: options.manager,
      directory: options.directory,
      enqueue: options.enqueue,
      logger: this.#logger,
    });
    this.#status = new StatusReporter({
      client: options.client,
      events: options.events,
      fieldManager: options.config.fieldManager,
      logger: this.#logger,
      metrics: options.metrics,
      now: options.now ?? (() => new Date()),
    });
  }

  /** Keys of the ElastiServices the reconciler holds watches or state for. */
  heldKeys(): string[] {
    return this.#watches.keys();
  }

  /**
   * The resolver's endpoints (or its Deployment) changed: every ElastiService that may be in proxy
   * mode gets reconciled so its EndpointSlice follows.
   */
  resolverChanged(): void {
    for (const request of this.resolverDependents()) this.#enqueue(request);
  }

  /** The ElastiServices a resolver change concerns: maybe in proxy mode, or waiting for it. */
  resolverDependents(): ReconcileRequest[] {
    // Keyed, so that one waiting for the resolver and in the directory is asked once.
    const requests = new Map(this.#awaitingResolver);
    for (const { details } of this.#directory.list()) {
      if (details.status.mode === 'serve') continue;
      const { namespace, crdName: name } = details;
      requests.set(elastiServiceKey(namespace, name), { namespace, name });
    }
    return [...requests.values()];
  }

  /** Stops every watch this reconciler registered (the controller is stopping). Best effort. */
  async releaseWatches(): Promise<void> {
    await this.#watches.releaseAll();
  }

  /**
   * Reconciles one ElastiService: the runtime's `Reconciler` contract. Only `ctx.signal` is read
   * (the ElastiService is read from the API server, not the cache, which may lag behind a write
   * of the previous reconcile). Throws to ask for a retry with backoff.
   *
   * @throws {InvalidRequestError} (terminal) when the request has no namespace or name.
   */
  async reconcile(
    request: ReconcileRequest,
    ctx: { readonly signal?: AbortSignal | undefined } = {},
  ): Promise<ReconcileResult> {
    const { namespace, name } = elastiServiceRequest(request);
    const key = elastiServiceKey(namespace, name);
    const signal = ctx.signal;
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

    const held = this.#watches.get(key);
    if (held && held.uid !== es.metadata.uid) {
      // Deleted and recreated under the same name while we were not looking: start afresh.
      await this.#forget(key, namespace, name);
    }

    if (es.metadata.deletionTimestamp) {
      await this.#finalize(key, es);
      return {};
    }

    es = await ensureFinalizer(this.#client, es, this.#config.fieldManager, signal);
    const validation = validateElastiService(es);
    if (!validation.valid) {
      await this.#status.invalidSpec(key, es, validation);
      return {};
    }

    try {
      await this.#reconcileValid(key, es, validation, signal);
      this.#awaitingResolver.delete(key);
      return {};
    } catch (error) {
      if (error instanceof NoResolverEndpointsError) this.#awaitingResolver.set(key, { namespace, name });
      else this.#awaitingResolver.delete(key);
      if (!signal?.aborted) await this.#status.failure(key, es, error);
      throw error;
    }
  }

  async #reconcileValid(
    key: string,
    es: ElastiService,
    validation: Extract<ValidationResult, { valid: true }>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const namespace = es.metadata.namespace ?? '';
    const name = es.metadata.name ?? '';
    const spec = validation.spec;
    const held = this.#watches.hold(key, es);

    if (held.service !== undefined && held.service !== spec.service) {
      await this.#leaveService(key, es, held.service);
    }
    held.service = spec.service;

    const ref = spec.scaleTargetRef;
    const gvr = scaleTargetGvr(ref);
    // Watch first: a target that does not exist yet is then reported by its creation event.
    await this.#watches.watchTarget(key, es, held, gvr, ref.kind, ref.name);
    const target = await this.#getTarget(gvr, namespace, ref.kind, ref.name, signal);

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
    const applied = await this.#status.applied(key, es, mode, why, signal);
    this.#directory.set(serviceKey(namespace, spec.service), {
      crdName: name,
      namespace,
      spec: applied.es.spec,
      status: applied.es.status ?? applied.status,
    });
    if (previous !== mode) this.#status.modeSwitched(key, applied.es, previous, mode, why);
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
    await this.#watches.watchPublicService(es, held, service);
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
      publicSvc = await this.#client.get<Service>(resources.services.gvr, namespace, service, signal);
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
  ): Promise<Workload> {
    try {
      return await this.#client.get<Workload>(gvr, namespace, name, signal);
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
      return await this.#client.get<Service>(resources.services.gvr, namespace, service, signal);
    } catch (error) {
      if (isNotFound(error)) throw new PublicServiceNotFoundError(namespace, service, error);
      throw error;
    }
  }

  /** Pods of the target, or `undefined` when it has no selector to find them with. */
  async #listPods(
    namespace: string,
    target: Workload,
    signal: AbortSignal | undefined,
  ): Promise<Pod[] | undefined> {
    const labelSelector = selectorToQuery(target.spec?.selector);
    if (labelSelector === undefined) return undefined;
    return listAll<Pod>(this.#client, { gvr: resources.pods.gvr, namespace, labelSelector }, signal);
  }

  /** The ElastiService now fronts another Service: undo what was done for the old one. */
  async #leaveService(key: string, es: ElastiService, oldService: string): Promise<void> {
    await this.#watches.unwatchPublicService(key);
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
    const candidates = await this.#listElastiServices(namespace);
    const siblings = await releaseService(
      this.#client,
      es,
      namespace,
      service,
      candidates,
      this.#config.fieldManager,
    );
    if (siblings.length === 0) return;
    for (const sibling of siblings) this.#enqueue({ namespace, name: sibling.metadata.name ?? '' });
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
      await this.#watches.stop(key, namespace, name);
      this.#awaitingResolver.delete(key);
      await this.#onFinalize?.(es);
      const service =
        typeof es.spec?.service === 'string' && es.spec.service !== '' ? es.spec.service : undefined;
      // The directory may know a Service the spec no longer names (spec.service changed, then deleted).
      const listed = this.#directory.findByCRD(namespace, name)?.details.spec.service;
      for (const svc of new Set([service, listed].filter((s): s is string => s !== undefined))) {
        await this.#cleanUpService(key, es, namespace, svc);
      }
      this.#directory.deleteByCRD(namespace, name);
      await removeFinalizer(this.#client, es, this.#config.fieldManager);
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
    await this.#watches.forget(key, namespace, name);
    this.#awaitingResolver.delete(key);
    this.#directory.deleteByCRD(namespace, name);
    this.#metrics?.forget(key);
  }

  async #listFromApi(namespace: string): Promise<ElastiService[]> {
    return listAll<ElastiService>(this.#client, { gvr: ELASTI_GVR, namespace });
  }
}
