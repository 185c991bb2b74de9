/**
 * The ElastiService controller, as one import.
 *
 * - `controller.ts`: {@link startController} / `ElastiServiceController` — informers, work queue, workers.
 * - `reconciler.ts`: `ElastiServiceReconciler` — the steps of one reconcile of one ElastiService.
 *   Its helpers `watches.ts` (Manager registrations, what is remembered per ElastiService),
 *   `status.ts` (status and Events per outcome), `keys.ts` (the `namespace/name` key of
 *   maps, logs and metric labels; the check of a request), `finalizer.ts` and `list.ts` (paged
 *   LIST) are internal.
 * - `../runtime/workqueue.ts` (re-exported): the generic rate-limited work queue and its rate limiters.
 * - `config.ts`: `OperatorConfig` (resolver location, namespace scope, queue tuning) and its defaults.
 * - `readiness.ts`: the proxy/serve decision.
 * - `private-service.ts`, `endpointslice.ts`, `owners.ts`, `release.ts`: the objects the controller manages
 *   (`release.ts`: deleting them, or only dropping a claim while another ElastiService shares them).
 * - `conditions.ts`: status conditions (Events are the runtime's recorder); `metrics.ts`: Prometheus metrics.
 * - `types.ts`: the interfaces the controller needs from the client, the Manager and the directory.
 *
 * @module
 */

export {} from '../runtime/index.ts';
export { CONDITION_READY, CONDITION_SCALE_TARGET_FOUND, readyCondition } from './conditions.ts';
export {
  DEFAULT_OPERATOR_CONFIG,
  managerResolverConfig,
  NAME_RULES,
  type NameRule,
  nameProblem,
  type OperatorConfig,
  OperatorConfigError,
  type OperatorConfigInput,
  type QueueSettings,
  type ResolverSettings,
  resolveOperatorConfig,
} from './config.ts';
export {
  type ControllerInformer,
  type ControllerInformerFactory,
  ControllerStartError,
  ElastiServiceController,
  type StartControllerOptions,
  shouldEnqueueUpdate,
  startController,
} from './controller.ts';
export {
  buildResolverSlice,
  compareIPv4,
  deleteResolverSlice,
  ensureResolverSlice,
  readyAddresses,
  updatedSlice,
} from './endpointslice.ts';
export {
  NoResolverEndpointsError,
  PublicServiceInvalidError,
  PublicServiceNotFoundError,
  ReconcileError,
  ScaleTargetNotFoundError,
} from './errors.ts';
export { ControllerMetrics, errorLabel, type QueueGaugeSource, SUCCESS } from './metrics.ts';
export { hasOwner, ownerReferenceTo, withOwner, withoutOwner } from './owners.ts';
export {
  buildPrivateService,
  deletePrivateService,
  ensurePrivateService,
  privatePorts,
  syncedPrivateService,
  syncPrivateServiceIfExists,
  type WriteAction,
} from './private-service.ts';
export {
  decideMode,
  describeReadiness,
  evaluateTarget,
  InvalidSelectorError,
  isPodReady,
  selectorToQuery,
  type TargetReadiness,
} from './readiness.ts';
export { ElastiServiceReconciler, type ReconcilerOptions } from './reconciler.ts';
export { releaseOwnedObject, releaseService } from './release.ts';
export { CachedResolverEndpoints, type SliceCache, StaticResolverEndpoints } from './resolver-endpoints.ts';
export {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  type ResolverEndpoints,
  SERVICE_NAME_LABEL,
  type ServiceDirectory,
  type WatchManager,
} from './types.ts';
