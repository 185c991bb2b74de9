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
export * from './errors.ts';
export type { HealthInput, HealthVerdict, MonitorMemory, RestartReason } from './health.ts';
export {
  defaultHealthBounds,
  defaultRestartBackoff,
  judgeHealth,
  nextMemory,
  restartDelay,
} from './health.ts';
export { getKey, keyOf, legacyKeyOf, parseKey, resourceTypeOf, validateRequestWatch } from './key.ts';
export { DEFAULT_RESOLVER_DEPLOYMENT, Manager, type ManagerOptions } from './manager.ts';
export { ManagerMetrics } from './metrics.ts';
export { boundedSignal } from './signals.ts';
export type * from './types.ts';
