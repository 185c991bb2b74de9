/**
 * The ElastiService API (`elasti.truefoundry.com/v1alpha1`): types, constants, the CRD, runtime
 * validation and the names and resources derived from a spec.
 *
 * @module
 */
export * from './condition.ts';
export * from './constants.ts';
export * from './cron.ts';
export * from './duration.ts';
export * from './enabled-period.ts';
export * from './install.ts';
export * from './names.ts';
export * from './scale-target.ts';
export * from './schema.ts';
export * from './types.ts';
export * from './validate.ts';
