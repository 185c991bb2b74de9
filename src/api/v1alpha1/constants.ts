/**
 * Identity of the ElastiService API: group, version, kind, resource names and the finalizer,
 * matching the upstream KubeElasti operator so both can serve the same stored objects.
 *
 * @module
 */
import type { GroupVersionResource } from '../../kube/index.ts';

/** API group of ElastiService. */
export const ELASTI_GROUP = 'elasti.truefoundry.com';
/** The only served (and storage) version. */
export const ELASTI_VERSION = 'v1alpha1';
/** `group/version`, the value of `apiVersion` on every ElastiService. */
export const ELASTI_API_VERSION = `${ELASTI_GROUP}/${ELASTI_VERSION}`;
/** Kind of a single object. */
export const ELASTI_KIND = 'ElastiService';
/** Kind of a list response. */
export const ELASTI_LIST_KIND = 'ElastiServiceList';
/** Plural resource name (URL path segment). */
export const ELASTI_PLURAL = 'elastiservices';
/** Singular resource name. */
export const ELASTI_SINGULAR = 'elastiservice';
/** Name of the CustomResourceDefinition object: `<plural>.<group>`. */
export const ELASTI_CRD_NAME = `${ELASTI_PLURAL}.${ELASTI_GROUP}`;

/** Where ElastiServices live: `elastiservices.v1alpha1.elasti.truefoundry.com`. */
export const ELASTI_GVR: GroupVersionResource = Object.freeze({
  group: ELASTI_GROUP,
  version: ELASTI_VERSION,
  resource: ELASTI_PLURAL,
});

/**
 * Finalizer the controller puts on every ElastiService so it can undo its changes (private
 * service, endpoint slice, informers) before the object goes away. Same string as upstream,
 * so objects finalized by either operator can be released by the other.
 */
export const ELASTI_FINALIZER = 'elasti.truefoundry.com/finalizer';

/** Default of `spec.minTargetReplicas`. */
export const DEFAULT_MIN_TARGET_REPLICAS = 1;
/** Default of `spec.cooldownPeriod`, in seconds (15 minutes). */
export const DEFAULT_COOLDOWN_PERIOD_SECONDS = 900;
/** Upper bound of `spec.cooldownPeriod`, in seconds (7 days). */
export const MAX_COOLDOWN_PERIOD_SECONDS = 604_800;
/** Default of `spec.enabledPeriod.schedule`: every day at 00:00 UTC. */
export const DEFAULT_ENABLED_PERIOD_SCHEDULE = '0 0 * * *';
/** Default of `spec.enabledPeriod.duration`. */
export const DEFAULT_ENABLED_PERIOD_DURATION = '24h';
