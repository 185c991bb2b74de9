/**
 * The cache: the indexed store that returns deltas (`store.ts`), per-handler serial queues
 * (`processor.ts`), the process-wide collection after large lists (`heap-release.ts`), and the `SharedInformer` that joins a reflector, a store and a processor
 * (`informer.ts`, its errors and lifecycle listener in `informer-lifecycle.ts`).
 * Depends on `watch/`, `metrics/` and `core/`.
 *
 * @module
 */

export {
  Fifo,
  HandlerQueue,
  type HandlerQueueOptions,
  type HandlerQueueReport,
  SYNC_CALLS_PER_TURN,
} from './handler-queue.ts';
export {
  DEFAULT_HEAP_RELEASE,
  HEAP_RELEASE_VARIABLE,
  type HeapReleasePolicy,
  HeapReleaser,
  type HeapReleaserOptions,
  HeapReleaseSettingError,
  type HeapReleaseStats,
  heapReleaseEnabled,
  processHeapReleaser,
} from './heap-release.ts';
export {
  type InformerReflectorOptions,
  InformerStartedError,
  InformerStoppedError,
  type ReflectorFactory,
  type ReflectorLike,
  SharedInformer,
  type SharedInformerOptions,
} from './informer.ts';
export {
  describeCause,
  type InformerErrorInfo,
  type InformerLifecycleListener,
  InformerSyncError,
  LifecycleListeners,
  type LifecycleRegistration,
} from './informer-lifecycle.ts';
export { HandlerListener, Processor, type ProcessorHooks, type ProcessorOptions } from './processor.ts';
export {
  type Delta,
  IndexerConflictError,
  type IndexFunc,
  NAMESPACE_INDEX,
  type ReadonlyStore,
  Store,
  StoreInputError,
  type StoreOptions,
  stripManagedFields,
  UnknownIndexError,
} from './store.ts';
