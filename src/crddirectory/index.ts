/**
 * The CRD directory: Service key → ElastiService details.
 *
 * @module
 */
export * from './directory.ts';
