/**
 * The engine's Prometheus metrics (`metrics.ts`: `EngineMetrics`, fed through the reflector observer
 * contract). Depends on `core/` only.
 *
 * @module
 */
export {
  EngineMetrics,
  type EngineMetricsOptions,
  type InformerMetricsHandle,
  type InformerMetricsSource,
} from './metrics.ts';
