/**
 * Names of the objects the controller derives from an ElastiService's `spec.service`. They must
 * equal upstream KubeElasti's (v0.1.30, PR #295) so that either operator finds (and cleans up)
 * what the other made, and so upstream's resolver, which recomputes the private Service name,
 * reaches ours:
 *
 *   `elasti-` + service′ + postfix + `-` + hash
 *
 * where hash = the first 10 lower-case hex characters of SHA-256 over the FULL service name (not
 * the namespace), and service′ is the service name cut so the whole name fits the object kind's
 * length limit (63 for the private Service, 253 for the EndpointSlice), with trailing `-` trimmed.
 * The hash of the full name keeps two long names that share a prefix apart.
 *
 * @module
 */
import { createHash } from 'node:crypto';

const PREFIX = 'elasti-';
const HASH_CHARS = 10;
const PRIVATE_SERVICE_POSTFIX = '-pvt';
const ENDPOINT_SLICE_POSTFIX = '-endpointslice-to-resolver';
/** A Service name is a DNS-1035 label. */
const MAX_SERVICE_NAME = 63;
/** An EndpointSlice name is a DNS-1123 subdomain. */
const MAX_ENDPOINT_SLICE_NAME = 253;

/** First 10 lower-case hex characters of SHA-256 over the UTF-8 service name. */
export function serviceNameHash(serviceName: string): string {
  return createHash('sha256').update(serviceName, 'utf8').digest('hex').slice(0, HASH_CHARS);
}

/**
 * `elasti-<name′><postfix>-<hash(name)>`, at most `maxLength` characters: name′ is `name` cut to
 * what fits, trailing hyphens trimmed (upstream's `buildName`).
 */
function derivedName(name: string, postfix: string, maxLength: number): string {
  const room = Math.max(maxLength - (PREFIX.length + postfix.length + 1 + HASH_CHARS), 0);
  // Service names are ASCII (DNS labels), so cutting UTF-16 units equals Go's byte slicing.
  const kept = name.length > room ? name.slice(0, room).replace(/-+$/, '') : name;
  return `${PREFIX}${kept}${postfix}-${serviceNameHash(name)}`;
}

/** The private Service that keeps pointing at the target's pods: `elasti-<svc′>-pvt-<hash>`, ≤ 63 characters. */
export function privateServiceName(serviceName: string): string {
  return derivedName(serviceName, PRIVATE_SERVICE_POSTFIX, MAX_SERVICE_NAME);
}

/**
 * The EndpointSlice that sends the public Service's traffic to the resolver:
 * `elasti-<svc′>-endpointslice-to-resolver-<hash>`, ≤ 253 characters.
 */
export function endpointSliceToResolverName(serviceName: string): string {
  return derivedName(serviceName, ENDPOINT_SLICE_POSTFIX, MAX_ENDPOINT_SLICE_NAME);
}

/**
 * Longest `spec.service` kept whole in the private Service name: 63 − len(`elasti-`) −
 * len(`-pvt-`) − 10 = 41. Longer names are cut (see the module documentation), not rejected.
 */
export const MAX_SERVICE_NAME_FOR_PRIVATE_SERVICE =
  MAX_SERVICE_NAME - PREFIX.length - PRIVATE_SERVICE_POSTFIX.length - 1 - HASH_CHARS;
