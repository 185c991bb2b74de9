/**
 * The health/metrics server lives in the runtime (`src/runtime/http.ts`), reusable by any
 * operator; re-exported here for the operator process and existing imports.
 *
 * @module
 */
export * from '../runtime/http.ts';
