/**
 * The list/watch informer engine, as one import.
 *
 * - Vocabulary and contracts: `types.ts`, `contracts.ts`.
 * - Wire: `config.ts` (kubeconfig → connection), `client.ts` (`KubeClient`, a `ListerWatcher`
 *   plus CRUD, sending through `transport.ts` and streaming through `watch-stream.ts`; both
 *   internal), `errors.ts` (typed failures), `backoff.ts`, `reflector.ts` (list/watch state machine:
 *   the driver, over `reflector-machine.ts`, `reflector-types.ts` and `reflector-effects.ts`),
 *   `discovery.ts` (kind → resource), `resources.ts` (well-known GVRs and typed objects).
 * - Cache: `store.ts` (indexed cache and diffs), `processor.ts` (per-handler queues),
 *   `informer.ts` (`SharedInformer`; its `InformerSyncError` and lifecycle listener are in
 *   `informer-lifecycle.ts`, re-exported by it), `metrics.ts` (`EngineMetrics`).
 *
 * The reflector's pure state machine (`transition` and its types) stays internal: import it
 * from `reflector.ts` directly when testing it.
 *
 * @module
 */
export * from './backoff.ts';
export * from './client.ts';
export * from './config.ts';
export type * from './contracts.ts';
export * from './discovery.ts';
export * from './errors.ts';
export * from './informer.ts';
export * from './metrics.ts';
export { Fifo, HandlerListener, Processor, type ProcessorHooks, type ProcessorOptions } from './processor.ts';
export { initialEventsEndAnnotation, Reflector, type ReflectorOptions } from './reflector.ts';
export * from './resources.ts';
export * from './store.ts';
export * from './types.ts';
/** undici's Agent and error classes without its package entry (for other layers' own HTTP clients). */
export { Agent as UndiciAgent, errors as undiciErrors } from './undici-lean.ts';
