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
export * from './actions.ts';
export * from './crd-cache.ts';
export * from './decision.ts';
export * from './evaluate.ts';
export * from './keda.ts';
export * from './metrics.ts';
export * from './poller.ts';
export * from './prometheus.ts';
export * from './scale.ts';
export * from './scaling.ts';
export * from './server.ts';
export * from './settings.ts';
export * from './triggers.ts';
export * from './wake.ts';
