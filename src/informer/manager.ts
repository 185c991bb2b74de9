/**
 * The informer Manager: the KubeElasti operator's `informer.Manager`, rebuilt on our engine.
 *
 * A requester (an ElastiService) asks to watch one object with a {@link RequestWatch}; the
 * Manager verifies the object exists, registers the handlers under the request's key, and makes
 * sure exactly one upstream informer delivers that object's events. Unlike upstream, where every
 * request started its own informer, informers are shared: per GVR × namespace, per name or
 * namespace-wide as the {@link SharingPolicy} says (see `group.ts`). A health monitor restarts
 * stalled informers and stops watching targets that are gone (see `health.ts`).
 *
 * Differences from upstream worth knowing:
 * - keys keep upstream's four-part form but tell API groups apart (see `key.ts`);
 * - `add` is single-flight per key, bounded by a timeout/AbortSignal, and leaves nothing behind
 *   when it fails;
 * - `stopForCRD(name, namespace)` matches the requester (the ElastiService's own namespace and
 *   name), where upstream matched the key prefix `name/<resource namespace>/`; they agree whenever
 *   the target is in the ElastiService's namespace, and this one also finds cross-namespace
 *   targets;
 * - two requesters with one name in different namespaces watching one object would share a key;
 *   the second `add` is refused with {@link KeyConflictError}.
 *
 * @module
 */
import { Registry } from 'prom-client';
import type { ListerWatcher } from '../kube/contracts.ts';
import { errorMessage, statusOf } from '../kube/errors.ts';
import type { EngineMetrics } from '../kube/metrics.ts';
import type {
  GroupVersionResource,
  KubeObject,
  ListWatchTarget,
  Logger,
  ReflectorPhase,
  ResourceEventHandler,
} from '../kube/types.ts';
import { silentLogger } from '../kube/types.ts';
import type { Change } from './delivery.ts';
import { type EngineFactoryOptions, engineInformerFactory } from './engine.ts';
import {
  AddCancelledError,
  AmbiguousKeyError,
  InformerAbortedError,
  type InformerErrorContext,
  InformerManagerError,
  InformerNotFoundError,
  InformerSyncTimeoutError,
  InvalidOptionError,
  InvalidRequestWatchError,
  KeyConflictError,
  ManagerStoppedError,
  ResolverNotConfiguredError,
  TargetCheckError,
  TargetNotFoundError,
} from './errors.ts';
import { groupId, type ResolvedPolicy, WatchGroup } from './group.ts';
import { defaultHealthBounds, defaultRestartBackoff, initialMemory } from './health.ts';
import { getKey, keyOf, legacyKeyOf, parseKey, validateRequestWatch } from './key.ts';
import { errorLabel, ManagerMetrics, SUCCESS } from './metrics.ts';
import { HealthMonitor } from './monitor.ts';
import { Registration } from './registration.ts';
import type {
  AddOptions,
  HealthBounds,
  InformerFactory,
  KeyParams,
  ObjectReader,
  RegistrationInfo,
  Requester,
  RequestWatch,
  ResolverConfig,
  RestartBackoff,
  SharingPolicy,
  UpstreamInfo,
  UpstreamScope,
} from './types.ts';
import { type MonitoredInformer, type Upstream, UpstreamStoppedError } from './upstream.ts';

/** Options of a {@link Manager}. */
export interface ManagerOptions {
  /** Reads targets (existence checks) and, without `informerFactory`, lists/watches them. `KubeClient` fits. */
  readonly client: ObjectReader & Partial<ListerWatcher>;
  /** Builds upstream informers. Default: the engine's `SharedInformer` over `client`. */
  readonly informerFactory?: InformerFactory;
  /** Where the Manager's metrics go. Default: a private registry. */
  readonly registry?: Registry;
  readonly logger?: Logger;
  /** Engine metrics for the default informer factory. */
  readonly engineMetrics?: EngineMetrics;
  /** Reflector tuning for the default informer factory. */
  readonly reflector?: EngineFactoryOptions['reflector'];
  /** Default `{ mode: 'auto', autoThreshold: 25 }`. */
  readonly sharing?: SharingPolicy;
  /** Default bound of `add` and `initializeResolverInformer` (ms). Default 30 000 (upstream's). */
  readonly syncTimeoutMs?: number;
  /** Health monitor period (ms). Default 5 000 (upstream's). */
  readonly monitorPeriodMs?: number;
  readonly health?: Partial<HealthBounds>;
  readonly restartBackoff?: Partial<RestartBackoff>;
  /** How long a migrating name may wait for its two informers to agree before a forced cutover (ms). Default 30 000. */
  readonly handoverTimeoutMs?: number;
  /** Where the resolver Deployment is, for {@link Manager.initializeResolverInformer}. */
  readonly resolver?: ResolverConfig;
  /**
   * Every this many ms (once {@link Manager.start} ran), each registration gets its object again as
   * an update with `oldObj === newObj`, like upstream's 5-minute informer resync. 0 (default): off.
   */
  readonly resyncPeriodMs?: number;
  /** Parallel GETs of one target check. Default 8. */
  readonly targetCheckConcurrency?: number;
  /** Clock (ms since epoch). Default `Date.now`. */
  readonly now?: () => number;
}

/** The resolver's deployment name when the config gives none (upstream's constant). */
export const DEFAULT_RESOLVER_DEPLOYMENT = 'elasti-resolver';

const DEPLOYMENTS: GroupVersionResource = { group: 'apps', version: 'v1', resource: 'deployments' };

interface PendingAdd {
  readonly key: string;
  readonly requester: Requester;
  readonly promise: Promise<string>;
  readonly cancel: AbortController;
}

interface KeyIndex {
  readonly legacyKey: string;
  readonly requesterId: string;
}

/**
 * Manages the lifecycle of informers on behalf of requesters. See the module documentation.
 *
 * Lifecycle: construct, optionally `initializeResolverInformer`, `start()` (the health monitor),
 * `add`/`stopInformer`/`stopForCRD` any number of times, `stop()`. After `stop()` no informer,
 * timer or request of this Manager remains, and every method except the read-only ones rejects
 * with {@link ManagerStoppedError}.
 */
export class Manager {
  readonly #client: ObjectReader;
  readonly #factory: InformerFactory;
  readonly #logger: Logger;
  readonly #metrics: ManagerMetrics;
  readonly #policy: ResolvedPolicy;
  readonly #syncTimeoutMs: number;
  readonly #monitorPeriodMs: number;
  readonly #bounds: HealthBounds;
  readonly #backoff: RestartBackoff;
  readonly #handoverTimeoutMs: number;
  readonly #resolverConfig: ResolverConfig | undefined;
  readonly #checkConcurrency: number;
  readonly #resyncPeriodMs: number;
  readonly #now: () => number;

  readonly #registrations = new Map<string, Registration>();
  readonly #pending = new Map<string, PendingAdd>();
  readonly #keyIndex = new Map<string, KeyIndex>();
  readonly #legacy = new Map<string, Set<string>>();
  readonly #byRequester = new Map<string, Set<string>>();
  readonly #groups = new Map<string, WatchGroup>();
  readonly #stops = new Set<Promise<void>>();
  readonly #lifetime = new AbortController();
  #resolver: MonitoredInformer | undefined;
  #monitorTimer: NodeJS.Timeout | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  readonly #monitor: HealthMonitor;
  #stopped = false;
  #stopping: Promise<void> | undefined;

  constructor(options: ManagerOptions) {
    if (!options || typeof options !== 'object') throw new InvalidOptionError('options', 'must be an object');
    const { client } = options;
    if (!client || typeof client.get !== 'function') {
      throw new InvalidOptionError('client', 'must have get() (a KubeClient)');
    }
    this.#client = client;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'informer-manager' });
    if (options.informerFactory) {
      if (typeof options.informerFactory !== 'function') {
        throw new InvalidOptionError('informerFactory', 'must be a function');
      }
      this.#factory = options.informerFactory;
    } else {
      if (typeof client.list !== 'function' || typeof client.watch !== 'function') {
        throw new InvalidOptionError('client', 'must list and watch when no informerFactory is given');
      }
      this.#factory = engineInformerFactory({
        lw: client as ListerWatcher,
        logger: this.#logger,
        metrics: options.engineMetrics,
        reflector: options.reflector,
      });
    }
    this.#policy = resolvePolicy(options.sharing);
    this.#syncTimeoutMs = positive('syncTimeoutMs', options.syncTimeoutMs, 30_000);
    this.#monitorPeriodMs = positive('monitorPeriodMs', options.monitorPeriodMs, 5_000);
    this.#handoverTimeoutMs = positive('handoverTimeoutMs', options.handoverTimeoutMs, 30_000);
    this.#checkConcurrency = Math.floor(
      positive('targetCheckConcurrency', options.targetCheckConcurrency, 8),
    );
    this.#resyncPeriodMs =
      options.resyncPeriodMs === 0 ? 0 : positive('resyncPeriodMs', options.resyncPeriodMs, 0);
    this.#bounds = { ...defaultHealthBounds, ...options.health };
    for (const [name, value] of Object.entries(this.#bounds)) positive(`health.${name}`, value, 1);
    this.#backoff = { ...defaultRestartBackoff, ...options.restartBackoff };
    for (const [name, value] of Object.entries(this.#backoff)) positive(`restartBackoff.${name}`, value, 1);
    if (options.resolver !== undefined) {
      const { namespace, deploymentName } = options.resolver;
      if (typeof namespace !== 'string' || namespace === '') {
        throw new InvalidOptionError('resolver.namespace', 'must be a namespace name');
      }
      if (deploymentName !== undefined && (typeof deploymentName !== 'string' || deploymentName === '')) {
        throw new InvalidOptionError('resolver.deploymentName', 'must be a deployment name');
      }
    }
    this.#resolverConfig = options.resolver;
    this.#now = options.now ?? Date.now;
    this.#metrics = new ManagerMetrics(options.registry ?? new Registry(), () => this.#phases());
    this.#monitor = new HealthMonitor({
      client: this.#client,
      logger: this.#logger,
      metrics: this.#metrics,
      bounds: this.#bounds,
      backoff: this.#backoff,
      checkConcurrency: this.#checkConcurrency,
      now: this.#now,
      signal: this.#lifetime.signal,
      groups: () => this.#groups.values(),
      isCurrent: (group: WatchGroup) => !this.#stopped && this.#groups.get(group.id) === group,
      resolver: () => this.#resolver,
    });
  }

  /** Upstream `GetKey`: `crdname/namespace/resourcetype/resourcename`, lower-cased (see `key.ts`). */
  getKey(params: KeyParams): string {
    return getKey(params);
  }

  /** The key `add` will register `request` under. */
  keyOf(request: RequestWatch<never>): string {
    validateRequestWatch(request);
    return keyOf(request);
  }

  /**
   * Watches `request.resourceName` for `request.req`, resolving with the registration key once
   * the handlers are live and the informer has delivered its initial state.
   *
   * - Idempotent per key: a key already registered resolves at once (its handlers stay as they
   *   were); concurrent adds of one key share one attempt (each caller's own `signal` still
   *   releases that caller).
   * - The target is first read with a GET: 404 rejects with {@link TargetNotFoundError}, other
   *   failures with {@link TargetCheckError}.
   * - Bounded by `timeoutMs` ({@link InformerSyncTimeoutError}, carrying the informer's last HTTP
   *   status) and `signal` ({@link InformerAbortedError}).
   * - On any failure nothing is left: no registration, no informer started for it, no metric
   *   series (the add counter counts the failure). Handlers may have received the initial add
   *   before a late failure, but nothing after it.
   */
  async add<T extends KubeObject = KubeObject>(
    request: RequestWatch<T>,
    options: AddOptions = {},
  ): Promise<string> {
    let crdLabel = '';
    try {
      validateRequestWatch(request);
      crdLabel = request.req.name.toLowerCase();
      validateAddOptions(options);
      if (this.#stopped) throw new ManagerStoppedError('add');
      const key = keyOf(request);
      const holder = this.#pending.get(key) ?? this.#registrations.get(key);
      if (holder && holder.requester.namespace !== request.req.namespace) {
        throw new KeyConflictError(
          { ...contextOf(request), key },
          `${holder.requester.namespace}/${holder.requester.name}`,
        );
      }
      const pending = this.#pending.get(key);
      if (pending) await joinPending(pending, options.signal, { ...contextOf(request), key });
      else if (!this.#registrations.get(key)?.active) await this.#startAdd(key, request, options);
      this.#metrics.informerCounter.inc({ crd_name: crdLabel, action: 'add', error: SUCCESS });
      return key;
    } catch (error) {
      this.#metrics.informerCounter.inc({ crd_name: crdLabel, action: 'add', error: errorLabel(error) });
      throw error;
    }
  }

  /**
   * Removes the registration `key` (or cancels its `add` in progress). Another requester's
   * registration on the same object keeps receiving events. The informer is stopped when its
   * last registration goes; the returned promise resolves after that. Unknown key:
   * {@link InformerNotFoundError}. Keys spelled the upstream way (resource without group) are
   * accepted when they match exactly one registration ({@link AmbiguousKeyError} otherwise).
   */
  async stopInformer(key: string): Promise<void> {
    const crdLabel = typeof key === 'string' ? (parseKey(key.toLowerCase())?.crdName ?? '') : '';
    try {
      if (typeof key !== 'string') throw new InvalidRequestWatchError('key', 'must be a string');
      if (this.#stopped) throw new ManagerStoppedError('stopInformer');
      const resolved = this.#resolveKey(key.toLowerCase());
      this.#stopKey(resolved, 'stopInformer');
    } catch (error) {
      this.#metrics.informerCounter.inc({ crd_name: crdLabel, action: 'stop', error: errorLabel(error) });
      throw error;
    }
    this.#metrics.informerCounter.inc({ crd_name: crdLabel, action: 'stop', error: SUCCESS });
    await this.#settleStops();
  }

  /**
   * Removes every registration (and `add` in progress) of the requester `namespace/crdName`,
   * resolving with their keys once the informers no one needs any more have stopped.
   */
  async stopForCRD(crdName: string, namespace: string): Promise<string[]> {
    if (typeof crdName !== 'string' || typeof namespace !== 'string') {
      throw new InvalidRequestWatchError('stopForCRD', 'crdName and namespace must be strings');
    }
    if (this.#stopped) throw new ManagerStoppedError('stopForCRD');
    const keys = [...(this.#byRequester.get(requesterId(namespace, crdName)) ?? [])];
    const crdLabel = crdName.toLowerCase();
    for (const key of keys) {
      this.#stopKey(key, 'stopForCRD');
      this.#metrics.informerCounter.inc({ crd_name: crdLabel, action: 'stop', error: SUCCESS });
    }
    await this.#settleStops();
    return keys;
  }

  /** Starts the health monitor, and the resync if `resyncPeriodMs` is set (idempotent). */
  start(): void {
    if (this.#stopped) throw new ManagerStoppedError('start');
    if (this.#monitorTimer) return;
    this.#monitorTimer = setInterval(() => void this.runHealthCheck(), this.#monitorPeriodMs);
    this.#monitorTimer.unref();
    if (this.#resyncPeriodMs > 0) {
      this.#resyncTimer = setInterval(() => {
        for (const group of this.#groups.values()) group.resync();
      }, this.#resyncPeriodMs);
      this.#resyncTimer.unref();
    }
    this.#logger.info({ periodMs: this.#monitorPeriodMs, sharing: this.#policy }, 'informer manager started');
  }

  /**
   * Stops every informer (registrations, resolver) and the monitor, cancelling adds in progress
   * (they reject with {@link ManagerStoppedError}). Resolves when all have released their
   * connections. Idempotent.
   */
  stop(): Promise<void> {
    if (!this.#stopping) {
      this.#stopped = true;
      this.#stopping = this.#doStop();
    }
    return this.#stopping;
  }

  /**
   * Watches the resolver Deployment (namespace and name from the `resolver` option) with
   * `handlers`, resolving once its initial state is cached. Calling it again replaces the
   * previous resolver informer.
   */
  async initializeResolverInformer<T extends KubeObject = KubeObject>(
    handlers: ResourceEventHandler<T>,
    options: AddOptions = {},
  ): Promise<void> {
    if (this.#stopped) throw new ManagerStoppedError('initializeResolverInformer');
    const config = this.#resolverConfig;
    if (!config) throw new ResolverNotConfiguredError();
    if (!handlers || typeof handlers !== 'object') {
      throw new InvalidRequestWatchError('handlers', 'must be an object of callbacks');
    }
    validateAddOptions(options);
    await this.#stopResolver();
    const name = config.deploymentName ?? DEFAULT_RESOLVER_DEPLOYMENT;
    const target: ListWatchTarget = {
      gvr: DEPLOYMENTS,
      namespace: config.namespace,
      fieldSelector: `metadata.name=${name}`,
    };
    const informer = this.#factory(target, `resolver/${config.namespace}/${name}`);
    const record: MonitoredInformer = {
      id: 'resolver',
      scope: 'resolver',
      target,
      informer,
      memory: initialMemory,
      health: 'Starting',
    };
    this.#resolver = record;
    const context: InformerErrorContext = {
      key: 'resolver',
      gvr: DEPLOYMENTS,
      namespace: config.namespace,
      name,
    };
    const timeoutMs = options.timeoutMs ?? this.#syncTimeoutMs;
    const bound = boundedSignal(timeoutMs, [this.#lifetime.signal, options.signal]);
    try {
      informer.addEventHandler(handlers as ResourceEventHandler<KubeObject>, { name: 'resolver' });
      informer.start();
      await informer.waitForSync(bound.signal);
      record.health = 'Healthy';
      this.#logger.info({ namespace: config.namespace, name }, 'resolver informer started');
    } catch (error) {
      if (this.#resolver === record) this.#resolver = undefined;
      await informer.stop().catch(() => undefined);
      if (this.#lifetime.signal.aborted)
        throw new ManagerStoppedError('stopped while starting the resolver informer');
      if (bound.timedOut()) {
        const last = informer.status().lastError;
        throw new InformerSyncTimeoutError(timeoutMs, { ...context, status: statusOf(last), cause: last });
      }
      if (options.signal?.aborted)
        throw new InformerAbortedError({ ...context, cause: options.signal.reason });
      throw new InformerManagerError(`resolver informer failed: ${errorMessage(error)}`, {
        ...context,
        cause: error,
      });
    } finally {
      bound.dispose();
    }
  }

  /** Every registration (including adds in progress, state `Syncing`) with its state. */
  list(): RegistrationInfo[] {
    return [...this.#registrations.values()].map((r) => r.info());
  }

  /** Every upstream informer (one list/watch each), including the resolver's. */
  upstreams(): UpstreamInfo[] {
    const infos: UpstreamInfo[] = [];
    for (const group of this.#groups.values()) {
      for (const u of group.upstreams()) {
        infos.push({
          id: u.id,
          scope: u.scope,
          target: u.target,
          names: u.names.size,
          synced: u.synced,
          status: u.informer.status(),
          health: u.health,
          monitorRestarts: u.memory.restarts,
        });
      }
    }
    const r = this.#resolver;
    if (r) {
      const status = r.informer.status();
      infos.push({
        id: r.id,
        scope: r.scope,
        target: r.target,
        names: 1,
        synced: status.synced,
        status,
        health: r.health,
        monitorRestarts: r.memory.restarts,
      });
    }
    return infos;
  }

  /**
   * One health-monitor pass (what the timer started by {@link start} runs every period).
   * Exposed so tests and operators can force a check; overlapping calls share one pass.
   */
  runHealthCheck(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#ticking ??= this.#monitor.tick().finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  // ---- add ----

  #startAdd(key: string, request: RequestWatch, options: AddOptions): Promise<string> {
    const cancel = new AbortController();
    const requester = { name: request.req.name, namespace: request.req.namespace };
    this.#track(key, legacyKeyOf(request), requesterId(requester.namespace, requester.name));
    const pending: PendingAdd = {
      key,
      requester,
      cancel,
      promise: this.#runAdd(key, request, options, cancel).finally(() => {
        if (this.#pending.get(key) === pending) this.#pending.delete(key);
        this.#untrackIfUnused(key);
      }),
    };
    this.#pending.set(key, pending);
    return pending.promise;
  }

  async #runAdd(
    key: string,
    request: RequestWatch,
    options: AddOptions,
    cancel: AbortController,
  ): Promise<string> {
    const context: InformerErrorContext = { ...contextOf(request), key };
    const timeoutMs = options.timeoutMs ?? this.#syncTimeoutMs;
    const bound = boundedSignal(timeoutMs, [cancel.signal, options.signal]);
    const { signal } = bound;
    let registration: Registration | undefined;
    // Let the caller's synchronous code (e.g. a concurrent add of the same key) run first, so
    // `#pending` is set before any await here can fail.
    await Promise.resolve();
    try {
      await this.#verifyTarget(request, context, signal);
      signal.throwIfAborted();
      registration = new Registration({
        key,
        legacyKey: legacyKeyOf(request),
        request,
        since: this.#now(),
        report: (change, error) => this.#report(registration as Registration, change, error),
      });
      this.#registrations.set(key, registration);
      const group = this.#groupFor(registration.gvr, registration.namespace);
      registration.group = group;
      registration.entry = group.attach(registration);
      // The GET just saw the object: an earlier "object gone" verdict on this name is stale.
      if (registration.entry.gone === 'object') registration.entry.gone = undefined;
      await this.#waitForSource(registration, context, signal);
      registration.active = true;
      this.#metrics.informerCount.set({ informer_name: key }, 1);
      this.#logger.info({ key, upstream: registration.entry.source?.id }, 'informer registration added');
      return key;
    } catch (error) {
      const mapped = this.#addFailure(error, {
        cancel,
        caller: options.signal,
        timedOut: bound.timedOut(),
        timeoutMs,
        context,
        registration,
      });
      if (registration) this.#removeRegistration(registration, true);
      this.#logger.warn({ key, err: mapped }, 'informer registration failed');
      throw mapped;
    } finally {
      bound.dispose();
    }
  }

  async #verifyTarget(
    request: RequestWatch,
    context: InformerErrorContext,
    signal: AbortSignal,
  ): Promise<void> {
    const gvr = request.groupVersionResource;
    const name = request.resourceName;
    try {
      await this.#client.get(gvr, request.resourceNamespace || undefined, name, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      const status = statusOf(error);
      if (status === 404) throw new TargetNotFoundError({ ...context, gvr, name, cause: error });
      throw new TargetCheckError({ ...context, gvr, name, status, cause: error });
    }
  }

  async #waitForSource(
    registration: Registration,
    context: InformerErrorContext,
    signal: AbortSignal,
  ): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      const source = registration.entry?.source;
      if (!source) {
        // The target's namespace was found gone while we were waiting.
        throw new TargetNotFoundError({ ...context, gvr: registration.gvr, name: registration.name });
      }
      if (source.synced) return;
      try {
        await source.whenSynced(signal);
      } catch (error) {
        // The source was replaced (migration) or released: wait for whichever serves the name now.
        if (error instanceof UpstreamStoppedError && registration.entry?.source !== source) continue;
        throw error;
      }
    }
  }

  #addFailure(
    error: unknown,
    how: {
      cancel: AbortController;
      caller: AbortSignal | undefined;
      timedOut: boolean;
      timeoutMs: number;
      context: InformerErrorContext;
      registration: Registration | undefined;
    },
  ): Error {
    if (how.cancel.signal.aborted && how.cancel.signal.reason instanceof Error)
      return how.cancel.signal.reason;
    if (how.timedOut) {
      const last = how.registration?.entry?.source?.informer.status().lastError;
      return new InformerSyncTimeoutError(how.timeoutMs, {
        ...how.context,
        status: statusOf(last),
        cause: last ?? error,
      });
    }
    if (how.caller?.aborted) return new InformerAbortedError({ ...how.context, cause: how.caller.reason });
    if (error instanceof InformerManagerError) return error;
    return new InformerManagerError(`add of ${how.context.key ?? ''} failed: ${errorMessage(error)}`, {
      ...how.context,
      status: statusOf(error),
      cause: error,
    });
  }

  #groupFor(gvr: GroupVersionResource, namespace: string): WatchGroup {
    const id = groupId(gvr, namespace);
    let group = this.#groups.get(id);
    if (!group) {
      group = new WatchGroup(gvr, namespace, {
        createInformer: (target, name) => this.#factory(target, name),
        release: (upstream) => this.#releaseUpstream(upstream),
        policy: this.#policy,
        handoverTimeoutMs: this.#handoverTimeoutMs,
        now: this.#now,
        logger: this.#logger,
        metrics: this.#metrics,
      });
      this.#groups.set(id, group);
    }
    return group;
  }

  #report(registration: Registration, change: Change, error: unknown): void {
    const crd = `${registration.requester.namespace}/${registration.requester.name}`;
    this.#metrics.handlerCounter.inc({ crd_name: crd, key: registration.key, error: errorLabel(error) });
    if (error !== undefined) {
      this.#logger.error(
        { key: registration.key, event: change.type, err: error },
        'informer handler failed',
      );
    }
  }

  // ---- removal ----

  /** Removes whatever is registered or being added under `key`. Throws {@link InformerNotFoundError} if nothing is. */
  #stopKey(key: string, by: string): void {
    const pending = this.#pending.get(key);
    const registration = this.#registrations.get(key);
    if (!pending && !registration) throw new InformerNotFoundError(key);
    if (pending) {
      const context: InformerErrorContext = { key };
      pending.cancel.abort(
        this.#stopped ? new ManagerStoppedError('stopped while adding') : new AddCancelledError(context, by),
      );
    }
    if (registration) this.#removeRegistration(registration, !registration.active);
  }

  #removeRegistration(registration: Registration, failed: boolean): void {
    if (this.#registrations.get(registration.key) !== registration) return;
    this.#registrations.delete(registration.key);
    registration.delivery.close();
    const group = registration.group;
    if (group) {
      group.detach(registration, failed);
      if (group.isEmpty && this.#groups.get(group.id) === group) {
        this.#groups.delete(group.id);
        group.dispose();
      }
    }
    if (registration.active) {
      registration.active = false;
      this.#metrics.informerCount.remove({ informer_name: registration.key });
      this.#logger.info({ key: registration.key }, 'informer registration removed');
    }
    this.#untrackIfUnused(registration.key);
  }

  #releaseUpstream(upstream: Upstream): void {
    const stopping = upstream.stop();
    this.#stops.add(stopping);
    void stopping.finally(() => this.#stops.delete(stopping));
  }

  async #settleStops(): Promise<void> {
    while (this.#stops.size > 0) await Promise.all([...this.#stops]);
  }

  async #stopResolver(): Promise<void> {
    const resolver = this.#resolver;
    this.#resolver = undefined;
    if (resolver) await resolver.informer.stop().catch(() => undefined);
  }

  async #doStop(): Promise<void> {
    this.#logger.info({ registrations: this.#registrations.size }, 'stopping informer manager');
    if (this.#monitorTimer) clearInterval(this.#monitorTimer);
    if (this.#resyncTimer) clearInterval(this.#resyncTimer);
    this.#monitorTimer = undefined;
    this.#resyncTimer = undefined;
    this.#lifetime.abort(new ManagerStoppedError('stopped'));
    const adds = [...this.#pending.values()].map((p) => p.promise.catch(() => undefined));
    for (const key of new Set([...this.#pending.keys(), ...this.#registrations.keys()])) {
      const crdLabel = parseKey(key)?.crdName ?? '';
      this.#stopKey(key, 'stop');
      this.#metrics.informerCounter.inc({ crd_name: crdLabel, action: 'stop', error: SUCCESS });
    }
    for (const group of this.#groups.values()) group.dispose();
    this.#groups.clear();
    await this.#stopResolver();
    await Promise.all(adds);
    await this.#ticking;
    await this.#settleStops();
    this.#logger.info({}, 'informer manager stopped');
  }

  // ---- keys ----

  #resolveKey(key: string): string {
    if (this.#pending.has(key) || this.#registrations.has(key)) return key;
    const candidates = this.#legacy.get(key);
    if (candidates?.size === 1) return [...candidates][0] as string;
    if (candidates && candidates.size > 1) throw new AmbiguousKeyError(key, [...candidates].sort());
    throw new InformerNotFoundError(key);
  }

  #track(key: string, legacyKey: string, requester: string): void {
    if (this.#keyIndex.has(key)) return;
    this.#keyIndex.set(key, { legacyKey, requesterId: requester });
    addTo(this.#legacy, legacyKey, key);
    addTo(this.#byRequester, requester, key);
  }

  #untrackIfUnused(key: string): void {
    if (this.#pending.has(key) || this.#registrations.has(key)) return;
    const index = this.#keyIndex.get(key);
    if (!index) return;
    this.#keyIndex.delete(key);
    removeFrom(this.#legacy, index.legacyKey, key);
    removeFrom(this.#byRequester, index.requesterId, key);
  }

  *#phases(): Iterable<{ scope: UpstreamScope; phase: ReflectorPhase }> {
    for (const group of this.#groups.values()) {
      for (const u of group.upstreams()) yield { scope: u.scope, phase: u.informer.status().phase };
    }
    if (this.#resolver) yield { scope: 'resolver', phase: this.#resolver.informer.status().phase };
  }
}

// ---- helpers ----

function resolvePolicy(policy: SharingPolicy | undefined): ResolvedPolicy {
  const mode = policy?.mode ?? 'auto';
  if (mode !== 'per-name' && mode !== 'namespace' && mode !== 'auto') {
    throw new InvalidOptionError('sharing.mode', `must be per-name, namespace or auto, got ${String(mode)}`);
  }
  const threshold = policy?.autoThreshold ?? 25;
  if (!Number.isInteger(threshold) || threshold < 1) {
    throw new InvalidOptionError(
      'sharing.autoThreshold',
      `must be an integer >= 1, got ${String(threshold)}`,
    );
  }
  const below = policy?.autoDowngradeBelow ?? Math.max(1, Math.floor(threshold / 2));
  if (!Number.isInteger(below) || below < 1 || below > threshold) {
    throw new InvalidOptionError(
      'sharing.autoDowngradeBelow',
      `must be an integer in [1, autoThreshold], got ${String(below)}`,
    );
  }
  const retry = positive('sharing.forbiddenRetryMs', policy?.forbiddenRetryMs, 300_000);
  return {
    mode,
    autoThreshold: threshold,
    autoDowngradeBelow: below,
    forbiddenRetryMs: retry,
    forbiddenRetryCapMs: Math.max(retry, 3_600_000),
  };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(name, `must be a finite number > 0, got ${String(value)}`);
  }
  return value;
}

function validateAddOptions(options: AddOptions): void {
  if (!options || typeof options !== 'object') throw new InvalidOptionError('options', 'must be an object');
  const { timeoutMs, signal } = options;
  if (
    timeoutMs !== undefined &&
    (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0)
  ) {
    throw new InvalidOptionError('timeoutMs', `must be a finite number > 0, got ${String(timeoutMs)}`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidOptionError('signal', 'must be an AbortSignal');
  }
}

function contextOf(request: RequestWatch): InformerErrorContext {
  return {
    gvr: request.groupVersionResource,
    namespace: request.resourceNamespace,
    name: request.resourceName,
  };
}

function requesterId(namespace: string, name: string): string {
  return `${namespace}/${name.toLowerCase()}`;
}

/** Waits for another caller's add of the same key; this caller's own signal releases only this caller. */
function joinPending(
  pending: PendingAdd,
  signal: AbortSignal | undefined,
  context: InformerErrorContext,
): Promise<string> {
  if (!signal) return pending.promise;
  if (signal.aborted) return Promise.reject(new InformerAbortedError({ ...context, cause: signal.reason }));
  return new Promise<string>((resolve, reject) => {
    const onAbort = (): void => reject(new InformerAbortedError({ ...context, cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    pending.promise.then(
      (key) => {
        signal.removeEventListener('abort', onAbort);
        resolve(key);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** A signal aborted by any of `signals` or after `timeoutMs`; `dispose` clears the timer. */
function boundedSignal(
  timeoutMs: number,
  signals: (AbortSignal | undefined)[],
): { signal: AbortSignal; timedOut(): boolean; dispose(): void } {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  const all = [timeout.signal, ...signals.filter((s): s is AbortSignal => s !== undefined)];
  return {
    signal: AbortSignal.any(all),
    timedOut: () => timeout.signal.aborted,
    dispose: () => clearTimeout(timer),
  };
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}

function removeFrom(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
