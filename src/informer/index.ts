/**
 * The informer Manager (KubeElasti's `operator/internal/informer`), as one import.
 *
 * - `manager.ts`: {@link Manager} — add / stopInformer / stopForCRD / stop / start /
 *   initializeResolverInformer / list / upstreams.
 * - `types.ts`: RequestWatch, KeyParams, SharingPolicy, options and reports.
 * - `key.ts`: registration keys (`getKey`, `resourceTypeOf`).
 * - `errors.ts`: typed errors.
 * - `health.ts`: the health monitor's pure judgement.
 * - `metrics.ts`: Prometheus metrics (upstream-compatible names).
 *
 * @module
 */

export { type EngineFactoryOptions, engineInformerFactory } from './engine.ts';
export {
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
export type { HealthInput, HealthVerdict, MonitorMemory, RestartReason } from './health.ts';
export {
  defaultHealthBounds,
  defaultRestartBackoff,
  judgeHealth,
  nextMemory,
  restartDelay,
} from './health.ts';
export { getKey, keyOf, legacyKeyOf, parseKey, resourceTypeOf, validateRequestWatch } from './key.ts';
export { Manager } from './manager.ts';
export { ManagerMetrics } from './metrics.ts';
export type { ManagerOptions } from './options.ts';
export { DEFAULT_RESOLVER_DEPLOYMENT } from './resolver.ts';
export type {
  AddOptions,
  HealthBounds,
  InformerFactory,
  KeyParams,
  ManagerLifecycleListener,
  ObjectReader,
  RegistrationInfo,
  RegistrationState,
  Requester,
  RequestWatch,
  ResolverConfig,
  RestartBackoff,
  SharedInformerLike,
  SharingPolicy,
  UpstreamErrorInfo,
  UpstreamHealth,
  UpstreamInfo,
  UpstreamScope,
} from './types.ts';
