/**
 * The Manager's options: what a caller may pass ({@link ManagerOptions}), validated once and
 * with defaults filled in ({@link resolveManagerOptions}), so the Manager itself only reads
 * settled values. Invalid values throw {@link InvalidOptionError} naming the option.
 *
 * @module
 */
import { Registry } from 'prom-client';
import type { EngineMetrics, ListerWatcher, Logger } from '../kube/index.ts';
import { silentLogger } from '../kube/index.ts';
import { type EngineFactoryOptions, engineInformerFactory } from './engine.ts';
import { InvalidOptionError } from './errors.ts';
import type { ResolvedPolicy } from './group-rules.ts';
import { defaultHealthBounds, defaultRestartBackoff } from './health.ts';
import type {
  AddOptions,
  HealthBounds,
  InformerFactory,
  ObjectReader,
  ResolverConfig,
  RestartBackoff,
  SharingPolicy,
} from './types.ts';

/** Options of a `Manager`. */
export interface ManagerOptions {
  /** Reads targets (existence checks) and, without `informerFactory`, lists/watches them. `KubeClient` fits. */
  readonly client: ObjectReader & Partial<ListerWatcher>;
  /**
   * Builds upstream informers. Default: the engine's `SharedInformer` over `client`. The
   * runtime's `leasingInformerFactory(cache)` builds them as leases on a shared `InformerCache`
   * (see {@link InformerFactory} for what stop and restart then mean).
   */
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
  /** Where the resolver Deployment is, for `Manager.initializeResolverInformer`. */
  readonly resolver?: ResolverConfig;
  /**
   * Every this many ms (once `Manager.start` ran), each registration gets its object again as
   * an update with `oldObj === newObj`, like upstream's 5-minute informer resync. 0 (default): off.
   */
  readonly resyncPeriodMs?: number;
  /** Parallel GETs of one target check. Default 8. */
  readonly targetCheckConcurrency?: number;
  /** Clock (ms since epoch). Default `Date.now`. */
  readonly now?: () => number;
}

/** {@link ManagerOptions} validated, with every default filled in. */
export interface ResolvedManagerOptions {
  readonly client: ObjectReader;
  readonly factory: InformerFactory;
  /** Already a child logger of the Manager's component. */
  readonly logger: Logger;
  readonly registry: Registry;
  readonly policy: ResolvedPolicy;
  readonly syncTimeoutMs: number;
  readonly monitorPeriodMs: number;
  readonly handoverTimeoutMs: number;
  readonly checkConcurrency: number;
  /** 0: off. */
  readonly resyncPeriodMs: number;
  readonly bounds: HealthBounds;
  readonly backoff: RestartBackoff;
  readonly resolver: ResolverConfig | undefined;
  readonly now: () => number;
}

/** Validates `options` and fills in the defaults. */
export function resolveManagerOptions(options: ManagerOptions): ResolvedManagerOptions {
  if (!options || typeof options !== 'object') throw new InvalidOptionError('options', 'must be an object');
  const { client } = options;
  if (!client || typeof client.get !== 'function') {
    throw new InvalidOptionError('client', 'must have get() (a KubeClient)');
  }

  const logger = (options.logger ?? silentLogger).child({ component: 'informer-manager' });
  let factory: InformerFactory;
  if (options.informerFactory) {
    if (typeof options.informerFactory !== 'function') {
      throw new InvalidOptionError('informerFactory', 'must be a function');
    }
    factory = options.informerFactory;
  } else {
    if (typeof client.list !== 'function' || typeof client.watch !== 'function') {
      throw new InvalidOptionError('client', 'must list and watch when no informerFactory is given');
    }
    factory = engineInformerFactory({
      lw: client as ListerWatcher,
      logger,
      metrics: options.engineMetrics,
      reflector: options.reflector,
    });
  }
  const policy = resolvePolicy(options.sharing);
  const syncTimeoutMs = positive('syncTimeoutMs', options.syncTimeoutMs, 30_000);
  const monitorPeriodMs = positive('monitorPeriodMs', options.monitorPeriodMs, 5_000);
  const handoverTimeoutMs = positive('handoverTimeoutMs', options.handoverTimeoutMs, 30_000);
  const checkConcurrency = Math.floor(positive('targetCheckConcurrency', options.targetCheckConcurrency, 8));
  const resyncPeriodMs =
    options.resyncPeriodMs === 0 ? 0 : positive('resyncPeriodMs', options.resyncPeriodMs, 0);
  const bounds = { ...defaultHealthBounds, ...options.health };
  for (const [name, value] of Object.entries(bounds)) positive(`health.${name}`, value, 1);
  const backoff = { ...defaultRestartBackoff, ...options.restartBackoff };
  for (const [name, value] of Object.entries(backoff)) positive(`restartBackoff.${name}`, value, 1);
  if (options.resolver !== undefined) {
    const { namespace, deploymentName } = options.resolver;
    if (typeof namespace !== 'string' || namespace === '') {
      throw new InvalidOptionError('resolver.namespace', 'must be a namespace name');
    }
    if (deploymentName !== undefined && (typeof deploymentName !== 'string' || deploymentName === '')) {
      throw new InvalidOptionError('resolver.deploymentName', 'must be a deployment name');
    }
  }
  return {
    client,
    factory,
    logger,
    registry: options.registry ?? new Registry(),
    policy,
    syncTimeoutMs,
    monitorPeriodMs,
    handoverTimeoutMs,
    checkConcurrency,
    resyncPeriodMs,
    bounds,
    backoff,
    resolver: options.resolver,
    now: options.now ?? Date.now,
  };
}

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

/** Validates the options of one `add` (or `initializeResolverInformer`). */
export function validateAddOptions(options: AddOptions): void {
  if (!options || typeof options !== 'object') throw new InvalidOptionError('options', 'must be an object');
  const { timeoutMs, signal, allowMissing } = options;
  if (allowMissing !== undefined && typeof allowMissing !== 'boolean') {
    throw new InvalidOptionError('allowMissing', `must be a boolean, got ${typeof allowMissing}`);
  }
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
