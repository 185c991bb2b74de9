/**
 * Leader election lives in the runtime (`src/runtime/leader-election.ts`), reusable by any
 * operator; re-exported here for the operator process and existing imports.
 *
 * @module
 */
export * from '../runtime/leader-election.ts';
