/**
 * The informer Manager: the KubeElasti operator's `informer.Manager`, rebuilt on our engine.
 *
 * A requester (an ElastiService) asks to watch one object with a {@link RequestWatch}; the
 * Manager verifies the object exists, registers the handlers under the request's key, and makes
 * sure exactly one upstream informer delivers that object's events. Unlike upstream, where every
 * request started its own informer, informers are shared: per GVR × namespace, per name or
 * namespace-wide as the `SharingPolicy` says (see `group.ts`). A health monitor restarts
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

import type { KubeObject, KubeObjectLike, ResourceEventHandler } from '../kube/index.ts';
import { boundedSignal, LifecycleListeners, type LifecycleRegistration } from '../kube/index.ts';
import { addFailure, contextOf, verifyTarget, waitForSource } from './add-steps.ts';
import {
  AddCancelledError,
  AmbiguousKeyError,
  InformerAbortedError,
  type InformerErrorContext,
  InformerNotFoundError,
  InformerSyncTimeoutError,
  InvalidRequestWatchError,
  KeyConflictError,
  ManagerStoppedError,
  ResolverNotConfiguredError,
  TargetCheckError,
  TargetNotFoundError,
} from './errors.ts';
import type { WatchGroup } from './group.ts';
import { WatchGroups } from './groups.ts';
import { getKey, keyOf, legacyKeyOf, parseKey, validateRequestWatch } from './key.ts';
import { KeyIndex, requesterId } from './key-index.ts';
import { errorLabel, ManagerMetrics, SUCCESS } from './metrics.ts';
import { HealthMonitor } from './monitor.ts';
import {
  type ManagerOptions,
  type ResolvedManagerOptions,
  resolveManagerOptions,
  validateAddOptions,
} from './options.ts';
import { type PendingAdd, Registration } from './registration.ts';
import { ResolverWatch } from './resolver.ts';
import { joinPending } from './signals.ts';
import type {
  AddOptions,
  KeyParams,
  ManagerLifecycleListener,
  RegistrationInfo,
  RequestWatch,
  UpstreamInfo,
} from './types.ts';

/**
 * Manages the lifecycle of informers on behalf of requesters. See the module documentation.
 *
 * Lifecycle: construct, optionally `initializeResolverInformer`, `start()` (the health monitor),
 * `add`/`stopInformer`/`stopForCRD` any number of times, `stop()`. After `stop()` no informer,
 * timer or request of this Manager remains, and every method except the read-only ones rejects
 * with {@link ManagerStoppedError}.
 *
 * @example
 * ```ts
 * import { KubeClient, Manager, resources } from 'elasti-informer';
 *
 * const client = await KubeClient.create();
 * const manager = new Manager({ client });
 * manager.start();
 * // Resolves once the watch of default/settings has synced; rejects if the object does not exist.
 * const key = await manager.add({
 *   req: { namespace: 'default', name: 'my-app' }, // who asks: stopForCRD() finds its watches
 *   resourceName: 'settings',
 *   resourceNamespace: 'default',
 *   groupVersionResource: resources.configMaps.gvr,
 *   handlers: { onUpdate: (_old, cm) => console.log('settings changed', cm.metadata.resourceVersion) },
 * });
 * await manager.stopInformer(key);
 * await manager.stop();
 * ```
 */
export class Manager {
  readonly #opts: ResolvedManagerOptions;
  readonly #metrics: ManagerMetrics;

  readonly #registrations = new Map<string, Registration>();
  readonly #pending = new Map<string, PendingAdd>();
  readonly #keys = new KeyIndex();
  readonly #groups: WatchGroups;
  readonly #lifetime = new AbortController();
  #resolver: ResolverWatch | undefined;
  #monitorTimer: NodeJS.Timeout | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  readonly #monitor: HealthMonitor;
  readonly #lifecycle: LifecycleListeners<ManagerLifecycleListener>;
  #stopped = false;
  #stopping: Promise<void> | undefined;

  constructor(options: ManagerOptions) {
    const opts = resolveManagerOptions(options);
    this.#opts = opts;
    this.#lifecycle = new LifecycleListeners(opts.logger, 'onUpstreamError/onRegistrationState');
    // Scraped upstreams by phase; computed at scrape time from the live informers.
    this.#metrics = new ManagerMetrics(
      opts.registry,
      () => this.upstreams().map((u) => ({ scope: u.scope, phase: u.status.phase })),
      () => [...this.#registrations.values()].map((r) => r.delivery.depth),
    );
    this.#groups = new WatchGroups({
      ...opts,
      metrics: this.#metrics,
      upstreamError: (error, details) => this.#lifecycle.emit('onUpstreamError', error, details),
      wantsUpstreamErrors: () => this.#lifecycle.size > 0,
    });
    this.#monitor = new HealthMonitor({
      ...opts,
      metrics: this.#metrics,
      signal: this.#lifetime.signal,
      groups: () => this.#groups.values(),
      isCurrent: (group: WatchGroup) => !this.#stopped && this.#groups.isCurrent(group),
      resolver: () => this.#resolver,
      targetGone: (entry) => {
        for (const member of entry.members.values()) this.#emitState(member.key, 'TargetGone');
      },
    });
  }

  /**
   * Adds hooks on upstream failures and registration state changes (see
   * {@link ManagerLifecycleListener}); `remove()` on the result stops them.
   */
  addLifecycleListener(listener: ManagerLifecycleListener): LifecycleRegistration {
    return this.#lifecycle.add(listener);
  }

  #emitState(
    key: string,
    state: 'Active' | 'TargetGone' | 'Removed',
    registration = this.#registrations.get(key),
  ): void {
    if (!registration || this.#lifecycle.size === 0) return;
    this.#lifecycle.emit('onRegistrationState', registration.info(), state);
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
   * - The target is first read with a GET: 404 rejects with {@link TargetNotFoundError} (unless
   *   `allowMissing`: then the watch is registered and reports the object's creation), other
   *   failures with {@link TargetCheckError}.
   * - Bounded by `timeoutMs` ({@link InformerSyncTimeoutError}, carrying the informer's last HTTP
   *   status) and `signal` ({@link InformerAbortedError}).
   * - On any failure nothing is left: no registration, no informer started for it, no metric
   *   series (the add counter counts the failure). Handlers may have received the initial add
   *   before a late failure, but nothing after it.
   */
  async add<T extends KubeObjectLike = KubeObject>(
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
    await this.#groups.settleStops();
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
    const keys = this.#keys.keysOf(requesterId(namespace, crdName));
    const crdLabel = crdName.toLowerCase();
    for (const key of keys) {
      this.#stopKey(key, 'stopForCRD');
      this.#metrics.informerCounter.inc({ crd_name: crdLabel, action: 'stop', error: SUCCESS });
    }
    await this.#groups.settleStops();
    return keys;
  }

  /** Starts the health monitor, and the resync if `resyncPeriodMs` is set (idempotent). */
  start(): void {
    if (this.#stopped) throw new ManagerStoppedError('start');
    if (this.#monitorTimer) return;
    this.#monitorTimer = setInterval(() => void this.runHealthCheck(), this.#opts.monitorPeriodMs);
    this.#monitorTimer.unref();
    if (this.#opts.resyncPeriodMs > 0) {
      this.#resyncTimer = setInterval(() => {
        this.#groups.resync();
      }, this.#opts.resyncPeriodMs);
      this.#resyncTimer.unref();
    }
    this.#opts.logger.info(
      { periodMs: this.#opts.monitorPeriodMs, sharing: this.#opts.policy },
      'informer manager started',
    );
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
  async initializeResolverInformer<T extends KubeObjectLike = KubeObject>(
    handlers: ResourceEventHandler<T>,
    options: AddOptions = {},
  ): Promise<void> {
    if (this.#stopped) throw new ManagerStoppedError('initializeResolverInformer');
    const config = this.#opts.resolver;
    if (!config) throw new ResolverNotConfiguredError();
    if (!handlers || typeof handlers !== 'object') {
      throw new InvalidRequestWatchError('handlers', 'must be an object of callbacks');
    }
    validateAddOptions(options);
    await this.#stopResolver();
    const resolver = new ResolverWatch(this.#opts.factory, config);
    // Visible to the monitor and to stop() while it syncs.
    this.#resolver = resolver;
    try {
      await resolver.start(handlers as unknown as ResourceEventHandler<KubeObject>, {
        timeoutMs: options.timeoutMs ?? this.#opts.syncTimeoutMs,
        signal: options.signal,
        lifetime: this.#lifetime.signal,
      });
      this.#opts.logger.info(
        { namespace: config.namespace, name: resolver.name },
        'resolver informer started',
      );
    } catch (error) {
      if (this.#resolver === resolver) this.#resolver = undefined;
      throw error;
    }
  }

  /** Every registration (including adds in progress, state `Syncing`) with its state. */
  list(): RegistrationInfo[] {
    return [...this.#registrations.values()].map((r) => r.info());
  }

  /** Every upstream informer (one list/watch each), including the resolver's. */
  upstreams(): UpstreamInfo[] {
    const infos: UpstreamInfo[] = [];
    for (const group of this.#groups.values()) for (const u of group.upstreams()) infos.push(u.info());
    if (this.#resolver) infos.push(this.#resolver.info());
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
    this.#keys.track(key, legacyKeyOf(request), requesterId(requester.namespace, requester.name));
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
    const timeoutMs = options.timeoutMs ?? this.#opts.syncTimeoutMs;
    const bound = boundedSignal(timeoutMs, [cancel.signal, options.signal]);
    const { signal } = bound;
    let registration: Registration | undefined;
    // Let the caller's synchronous code (e.g. a concurrent add of the same key) run first, so
    // `#pending` is set before any await here can fail.
    await Promise.resolve();
    try {
      const target = await verifyTarget(
        this.#opts.client,
        request,
        context,
        signal,
        options.allowMissing === true,
      );
      signal.throwIfAborted();
      registration = new Registration({
        key,
        legacyKey: legacyKeyOf(request),
        request,
        since: this.#opts.now(),
        metrics: this.#metrics,
        logger: this.#opts.logger,
      });
      this.#registrations.set(key, registration);
      const group = this.#groups.for(registration.gvr, registration.namespace);
      registration.group = group;
      registration.entry = group.attach(registration);
      // The GET just saw the object: an earlier "object gone" verdict on this name is stale.
      if (target === 'found') group.targetFound(registration.entry);
      await waitForSource(registration, context, signal);
      registration.active = true;
      this.#metrics.informerCount.set({ informer_name: key }, 1);
      this.#emitState(key, 'Active', registration);
      this.#opts.logger.info({ key, upstream: registration.entry.source?.id }, 'informer registration added');
      return key;
    } catch (error) {
      const mapped = addFailure(error, {
        cancel,
        caller: options.signal,
        timedOut: bound.timedOut(),
        timeoutMs,
        context,
        registration,
      });
      if (registration) this.#removeRegistration(registration, true);
      this.#opts.logger.warn({ key, err: mapped }, 'informer registration failed');
      throw mapped;
    } finally {
      bound.dispose();
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
      // Forget the attempt now, not when it settles: an `add` right after this stop must start a
      // fresh attempt rather than join the cancelled one (the last call decides the state).
      this.#pending.delete(key);
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
    if (registration.group) this.#groups.detach(registration.group, registration, failed);
    if (registration.active) {
      this.#emitState(registration.key, 'Removed', registration);
      registration.active = false;
      this.#metrics.informerCount.remove({ informer_name: registration.key });
      this.#opts.logger.info({ key: registration.key }, 'informer registration removed');
    }
    this.#untrackIfUnused(registration.key);
  }

  async #stopResolver(): Promise<void> {
    const resolver = this.#resolver;
    this.#resolver = undefined;
    await resolver?.stop();
  }

  async #doStop(): Promise<void> {
    this.#opts.logger.info({ registrations: this.#registrations.size }, 'stopping informer manager');
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
    this.#groups.disposeAll();
    await this.#stopResolver();
    await Promise.all(adds);
    await this.#ticking;
    await this.#groups.settleStops();
    this.#opts.logger.info({}, 'informer manager stopped');
  }

  // ---- keys ----

  #holds(key: string): boolean {
    return this.#pending.has(key) || this.#registrations.has(key);
  }

  #resolveKey(key: string): string {
    return this.#keys.resolve(key, (k) => this.#holds(k));
  }

  #untrackIfUnused(key: string): void {
    if (!this.#holds(key)) this.#keys.untrack(key);
  }
}
