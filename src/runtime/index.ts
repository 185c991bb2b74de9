/**
 * The controller runtime, as one import (`elasti-informer/runtime`): what an operator author
 * reaches for in controller-runtime or kube-rs, built on the engine's `SharedInformer`.
 *
 * - Cache: `cache.ts` ({@link InformerCache}: informers shared by GVR × namespace × selectors ×
 *   metadata-only × transform, ref-counted leases, `waitForCacheSync`), `leased-informer.ts` (the
 *   cache as the informer Manager's `InformerFactory`: one lease per informer), `lister.ts` (reads by
 *   namespace, label selector, index), `selectors.ts` (label selectors), `metadata.ts`
 *   (metadata-only list/watch).
 * - Controllers: `builder.ts` ({@link ControllerBuilder}: `for`/`owns`/`watches`, predicates,
 *   options), `controller.ts` (the loop), `reconcile.ts` (request, result, {@link TerminalError}),
 *   `predicates.ts`, `owners.ts` (controller references), `workqueue.ts` (the rate-limited queue),
 *   `metrics.ts` (`controller_runtime_*`).
 * - Helpers for reconcilers: `finalizer.ts`, `status.ts` (conditions), `events.ts` (the event
 *   recorder), `client.ts` (the client interface they take).
 * - Process parts: `leader-election.ts` (Lease-based), `http.ts` (`/metrics`, `/healthz`, `/readyz`).
 *
 * @module
 */
export {
  ControllerBuildError,
  ControllerBuilder,
  type ControllerDeps,
  type ControllerWatchOptions,
} from './builder.ts';
export {
  CacheIndexError,
  type CacheInformer,
  type CacheInformerFactory,
  CacheStoppedError,
  CacheSyncError,
  cacheKey,
  InformerCache,
  type InformerCacheOptions,
  type InformerLease,
  type InformerRequest,
  type NamedTransform,
  type Syncable,
} from './cache.ts';
export type { ResourceClient } from './client.ts';
export {
  Controller,
  type ControllerHeapRelease,
  type ControllerOptions,
  type ControllerQueueView,
  ControllerStartError,
  DEFAULT_CONTROLLER_HEAP_RELEASE,
  type ReconcileReport,
} from './controller.ts';
export {
  type CoreEvent,
  type EventRecorder,
  type EventRecorderOptions,
  type EventType,
  KubeEventRecorder,
  MAX_EVENT_MESSAGE,
} from './events.ts';
export {
  ensureFinalizer,
  type FinalizerPatchOptions,
  hasFinalizer,
  isBeingDeleted,
  removeFinalizer,
} from './finalizer.ts';
export {
  type BindAddress,
  BindAddressError,
  DISABLED_BIND_ADDRESS,
  EndpointListenError,
  type EndpointRoutes,
  listeningServer,
  nodeHttp,
  type OperatorHttpServer,
  parseBindAddress,
  type ReadinessCheck,
  startEndpointServer,
  startOperatorHttp,
} from './http.ts';
export {
  LEASE_GVR,
  type LeaderCallbacks,
  LeaderElectionConfigError,
  type LeaderElectionOptions,
  type LeaderElectionStatus,
  LeaderElector,
} from './leader-election.ts';
export {
  type LeasedInformer,
  type LeasingInformerFactory,
  leasedInformer,
  leasingInformerFactory,
  requestOfTarget,
} from './leased-informer.ts';
export { Lister, type ListFilter } from './lister.ts';
export { metadataOnlyListerWatcher, type PartialObjectMetadata } from './metadata.ts';
export { ControllerRuntimeMetrics, type ReconcileOutcome } from './metrics.ts';
export {
  apiVersionOf,
  controllerReference,
  controllerReferenceTo,
  OwnerReferenceError,
  ownerReferencesOf,
  type ResourceKind,
} from './owners.ts';
export {
  and,
  annotationsChanged,
  generationChanged,
  labelsChanged,
  not,
  or,
  type Predicate,
  predicateFor,
  resourceVersionChanged,
  updateChanged,
} from './predicates.ts';
export {
  type ReconcileContext,
  type ReconcileFunc,
  type ReconcileOutput,
  type ReconcileRequest,
  type ReconcileResult,
  type Reconciler,
  requestKey,
  requestOfKey,
  TerminalError,
} from './reconcile.ts';
export {
  type LabelSelector,
  LabelSelectorError,
  type LabelSelectorInput,
  labelsOf,
  parseLabelSelector,
} from './selectors.ts';
export {
  condition,
  patchStatus,
  type StatusPatchOptions,
  type WithConditions,
} from './status.ts';
export {
  type ControllerRateLimiterOptions,
  defaultControllerRateLimiter,
  type ExponentialBackoffOptions,
  ExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  type QueueClock,
  type RateLimiter,
  RateLimitingQueue,
  type RateLimitingQueueOptions,
  systemClock,
  type TokenBucketOptions,
  TokenBucketRateLimiter,
} from './workqueue.ts';
