/**
 * Scaling to zero and back, as one import.
 *
 * - `scaling.ts`: {@link Scaling} — the resolver API on every replica, the loop and wake-ups on the leader.
 * - `poller.ts`: the polling loop; `evaluate.ts`: one ElastiService's triggers and the per-cycle
 *   query cache; `decision.ts`: the decision rules as pure functions; `triggers.ts`: trigger
 *   settings and the uptime query.
 * - `actions.ts`: scale up / scale down with status, KEDA and Events; `scale.ts`: the `/scale`
 *   writer (one operation per target); `keda.ts`: ScaledObject pause/unpause.
 * - `wake.ts`: resolver wake-ups; `server.ts`: the resolver API; `crd-cache.ts`: `/crd-cache`.
 * - `prometheus.ts`: the Prometheus HTTP API client; `metrics.ts`: metrics; `settings.ts`: env.
 *
 * @module
 */
export {
  type ScaleSource,
  ScalingActions,
  type ScalingActionsOptions,
  type StatusPatcher,
  TrafficMemory,
  targetOf,
} from './actions.ts';
export { type CrdCacheEntry, goEscape, goSpec, goStatus, metav1Time, renderCrdCache } from './crd-cache.ts';
export {
  type Decision,
  describeOutcome,
  type HoldReason,
  judgeTrigger,
  judgeUptime,
  preGate,
  type QueryResult,
  scaleDownGate,
} from './decision.ts';
export {
  type CycleQuery,
  cycleQueryCache,
  type EvaluationInput,
  evaluateTriggers,
  type PrometheusQuerier,
} from './evaluate.ts';
export {
  KEDA_PAUSE_PATCH,
  KEDA_PAUSED_ANNOTATION,
  KEDA_PAUSED_REPLICAS_ANNOTATION,
  KEDA_UNPAUSE_PATCH,
  kedaScaledObject,
  type MergePatcher,
  pauseKeda,
  SCALEDOBJECT_GVR,
  unpauseKeda,
  unpauseKedaOnFinalize,
} from './keda.ts';
export { errorLabel, ScalingMetrics, SUCCESS } from './metrics.ts';
export {
  type CycleReport,
  type ElastiServiceSource,
  offsetOf,
  ScalePoller,
  type ScalePollerOptions,
} from './poller.ts';
export {
  PrometheusClient,
  type PrometheusClientOptions,
  type PrometheusErrorType,
  PrometheusQueryError,
  parseQueryResponse,
  type QueryOptions,
  type QueryOutcome,
  queryUrl,
} from './prometheus.ts';
export {
  kubeScaleApi,
  MAX_CONFLICT_RETRIES,
  type RawRequester,
  type Scale,
  type ScaleApi,
  type ScaleRequest,
  type ScaleResult,
  type TargetRef,
  TargetScaler,
} from './scale.ts';
export { crdCacheEntries, type LeaderParts, Scaling, type ScalingOptions } from './scaling.ts';
export {
  BadRequestBodyError,
  parseIncomingRequest,
  type ResolverApiBackend,
  type ResolverApiOptions,
  type ResolverApiServer,
  startResolverApi,
} from './server.ts';
export {
  DEFAULT_POLLING_INTERVAL_MS,
  DEFAULT_RESOLVER_API_PORT,
  type ScalingSettings,
  ScalingSettingsError,
  scalingSettingsFromEnv,
} from './settings.ts';
export {
  DEFAULT_UPTIME_FILTER,
  type PrometheusTrigger,
  resolveTrigger,
  TriggerConfigError,
  type TriggerDefaults,
  uptimeQuery,
} from './triggers.ts';
export {
  InvalidElastiServiceError,
  UnknownServiceError,
  type WakeLookup,
  WakeUpService,
  type WakeUpServiceOptions,
} from './wake.ts';
