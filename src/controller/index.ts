/**
 * The ElastiService controller, as one import.
 *
 * - `controller.ts`: {@link startController} / `ElastiServiceController` — informers, work queue, workers.
 * - `reconciler.ts`: `ElastiServiceReconciler` — the steps of one reconcile of one ElastiService.
 *   Its helpers `watches.ts` (Manager registrations, what is remembered per ElastiService),
 *   `status.ts` (status and Events per outcome), `keys.ts` (the `namespace/name` key),
 *   `finalizer.ts` and `list.ts` (paged LIST) are internal; the key helpers and `statusMode`
 *   are exported through `reconciler.ts`.
 * - `../runtime/workqueue.ts` (re-exported): the generic rate-limited work queue and its rate limiters.
 * - `config.ts`: `OperatorConfig` (resolver location, namespace scope, queue tuning) and its defaults.
 * - `readiness.ts`: the proxy/serve decision.
 * - `private-service.ts`, `endpointslice.ts`, `owners.ts`, `release.ts`: the objects the controller manages
 *   (`release.ts`: deleting them, or only dropping a claim while another ElastiService shares them).
 * - `events.ts`: Kubernetes Events; `conditions.ts`: status conditions; `metrics.ts`: Prometheus metrics.
 * - `types.ts`: the interfaces the controller needs from the client, the Manager and the directory.
 *
 * @module
 */

export * from '../runtime/workqueue.ts';
export * from './conditions.ts';
export * from './config.ts';
export * from './controller.ts';
export * from './endpointslice.ts';
export * from './errors.ts';
export * from './events.ts';
export * from './metrics.ts';
export * from './owners.ts';
export * from './private-service.ts';
export * from './readiness.ts';
export * from './reconciler.ts';
export * from './release.ts';
export * from './resolver-endpoints.ts';
export * from './types.ts';
