/**
 * The engine's vocabulary, shared by every other folder of `src/kube/`: object and GVR types (`types.ts`),
 * the interfaces between the parts (`contracts.ts`), typed failures (`errors.ts`), well-known resources
 * and their typed objects (`resources.ts`), the one backoff (`backoff.ts`) and promise waiters
 * (`waiters.ts`). It imports nothing else of the engine.
 *
 * @module
 */
export { Backoff, type BackoffCurve, type BackoffOptions, backoffCeiling } from './backoff.ts';
export {
  type Condition,
  type ConditionStatus,
  findCondition,
  formatConditionTime,
  isConditionStatus,
  setStatusCondition,
} from './conditions.ts';
export type {
  ErrorStatus,
  ListerWatcher,
  ListOptions,
  ListPage,
  ReflectorObserver,
  ReflectorSink,
  WatchOptions,
} from './contracts.ts';
export {
  asStatus,
  errorMessage,
  isAbortError,
  isAlreadyExists,
  isAuthError,
  isConflict,
  isGone,
  isNamespaceTerminating,
  isNotFound,
  isTooLargeResourceVersion,
  KubeApiError,
  type KubeApiErrorInit,
  KubeConfigError,
  KubeDecodeError,
  KubeRedirectError,
  KubeTransportError,
  parseRetryAfter,
  retryAfterMs,
  statusOf,
  WatchIdleTimeoutError,
} from './errors.ts';
export {
  type ConfigMap,
  type CustomResourceDefinition,
  type Deployment,
  type Endpoint,
  type EndpointPort,
  type EndpointSlice,
  isCrdEstablished,
  type LabelSelector,
  type Lease,
  type Namespace,
  newObject,
  type Pod,
  resources,
  type Secret,
  type Service,
  type ServicePort,
  type StatefulSet,
  type WellKnownResource,
  type Workload,
  wellKnown,
} from './resources.ts';
export { boundedSignal } from './signals.ts';
export {
  type ApiStatus,
  type BookmarkObject,
  type DeleteInfo,
  formatGvr,
  type GroupVersionResource,
  type HandlerOptions,
  type HandlerRegistration,
  isObjectEvent,
  type KubeObject,
  type KubeObjectLike,
  type ListWatchTarget,
  type Logger,
  type ObjectMeta,
  type ObjectMetaLike,
  type ObjectWatchEvent,
  type OwnerReference,
  objectKey,
  type ReflectorPhase,
  type ReflectorStatus,
  type ResourceEventHandler,
  silentLogger,
  type WatchEvent,
  type WatchEventType,
} from './types.ts';
export { Waiters } from './waiters.ts';
