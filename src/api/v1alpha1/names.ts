/**
 * Names of the objects the controller derives from an ElastiService's `spec.service`. They must
 * equal upstream KubeElasti's so that either operator finds (and cleans up) what the other made:
 * the hash is SHA-256 of the service name alone (not the namespace), lower-case hex, first 10 chars.
 *
 * @module
 */
import { createHash } from 'node:crypto';

const PREFIX = 'elasti-';
const HASH_CHARS = 10;

/** First 10 lower-case hex characters of SHA-256 over the UTF-8 service name. */
export function serviceNameHash(serviceName: string): string {
  return createHash('sha256').update(serviceName, 'utf8').digest('hex').slice(0, HASH_CHARS);
}

/** The private Service that keeps pointing at the target's pods: `elasti-<svc>-pvt-<hash>`. */
export function privateServiceName(serviceName: string): string {
  return `${PREFIX}${serviceName}-pvt-${serviceNameHash(serviceName)}`;
}

/** The EndpointSlice that sends the public Service's traffic to the resolver: `elasti-<svc>-endpointslice-to-resolver-<hash>`. */
export function endpointSliceToResolverName(serviceName: string): string {
  return `${PREFIX}${serviceName}-endpointslice-to-resolver-${serviceNameHash(serviceName)}`;
}

/**
 * Longest `spec.service` whose private Service name is still a valid Service name
 * (a DNS-1035 label, at most 63 characters): 63 − len(`elasti-`) − len(`-pvt-`) − 10 = 41.
 */
export const MAX_SERVICE_NAME_FOR_PRIVATE_SERVICE = 63 - PREFIX.length - '-pvt-'.length - HASH_CHARS;
