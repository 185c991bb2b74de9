/**
 * TypeScript shape of the ElastiService custom resource (`elasti.truefoundry.com/v1alpha1`).
 * Field names and JSON spellings follow the upstream KubeElasti operator; `status.conditions`
 * is an addition of ours (standard `metav1.Condition` entries).
 *
 * These types describe what a *valid* object looks like. Objects read from the API are `unknown`
 * until {@link validateElastiService} (see `validate.ts`) has checked them.
 *
 * @module
 */
import type { Condition, KubeObject, ObjectMeta } from '../../kube/index.ts';

/** `apiVersion` values a scale target may have. */
export const SCALE_TARGET_API_VERSIONS = ['apps/v1', 'argoproj.io/v1alpha1'] as const;
export type ScaleTargetApiVersion = (typeof SCALE_TARGET_API_VERSIONS)[number];

/** Canonical kinds of a scale target. */
export const SCALE_TARGET_KINDS = ['Deployment', 'StatefulSet', 'Rollout'] as const;
export type ScaleTargetKind = (typeof SCALE_TARGET_KINDS)[number];

/**
 * Older manifests spelled the kind as the plural resource name. The API still accepts these
 * spellings (as upstream does); {@link normalizeScaleTargetRef} maps them to the canonical kind.
 * Upstream never accepted `statefulsets`, so neither do we.
 */
export const LEGACY_SCALE_TARGET_KINDS = ['deployments', 'rollouts'] as const;
export type LegacyScaleTargetKind = (typeof LEGACY_SCALE_TARGET_KINDS)[number];

/** The workload whose replicas ElastiService scales. */
export interface ScaleTargetRef {
  apiVersion: ScaleTargetApiVersion;
  kind: ScaleTargetKind | LegacyScaleTargetKind;
  name: string;
}

/** A {@link ScaleTargetRef} whose kind has been normalized to its canonical spelling. */
export interface NormalizedScaleTargetRef extends ScaleTargetRef {
  kind: ScaleTargetKind;
}

/** Supported trigger types. */
export const TRIGGER_TYPES = ['prometheus'] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

/**
 * Metadata of a `prometheus` trigger. The API stores metadata schemaless; this is what the
 * scaler reads from it.
 */
export interface PrometheusTriggerMetadata {
  /**
   * Base URL of the Prometheus HTTP API, e.g. `http://prometheus.monitoring:9090`. Optional:
   * default the operator's `PROMETHEUS_TRIGGER_SERVER_ADDRESS`.
   */
  serverAddress?: string;
  /** PromQL query yielding one scalar-like sample. */
  query: string;
  /** Scale to zero when the query result is below this. Upstream stores it as a string, e.g. `"0.5"`. */
  threshold: string | number;
  /** Label filter of the uptime check, e.g. `container="prometheus"` (the default). */
  uptimeFilter?: string;
  /** Extra HTTP headers of both queries (set after the operator's Authorization header). */
  headers?: Record<string, string>;
  [field: string]: unknown;
}

/** One scaling trigger. */
export interface ScaleTrigger {
  type: TriggerType;
  /** Free-form, preserved as-is by the apiserver (`x-kubernetes-preserve-unknown-fields`). */
  metadata?: Record<string, unknown>;
}

/** Supported autoscaler types. */
export const AUTOSCALER_TYPES = ['hpa', 'keda'] as const;
export type AutoscalerType = (typeof AUTOSCALER_TYPES)[number];

/** The autoscaler (HPA or KEDA ScaledObject) that owns the target's replicas while serving. */
export interface AutoscalerSpec {
  type: AutoscalerType;
  /** Name of the HorizontalPodAutoscaler or ScaledObject in the same namespace. */
  name: string;
}

/**
 * When scale-to-zero is allowed. Outside the window the target stays at `minTargetReplicas`.
 * Absent: always allowed.
 */
export interface EnabledPeriod {
  /** Five-field cron expression (minute hour day-of-month month day-of-week), UTC. Default `0 0 * * *`. */
  schedule?: string;
  /** How long each window lasts from its scheduled start, Go duration syntax (`8h`, `1h30m`). Default `24h`. */
  duration?: string;
}

/** Desired state of an ElastiService. */
export interface ElastiServiceSpec {
  scaleTargetRef: ScaleTargetRef;
  /** Name of the Service (same namespace) whose traffic is watched and proxied. */
  service: string;
  /** Replicas to scale up to from zero; ≥ 1, default 1. */
  minTargetReplicas?: number;
  /** Seconds the target must be idle before scaling to zero; 0..604800, default 900. */
  cooldownPeriod?: number;
  /** At least one when present. */
  triggers?: ScaleTrigger[];
  autoscaler?: AutoscalerSpec;
  enabledPeriod?: EnabledPeriod;
  /**
   * Synthetic replies the resolver serves itself while the target is at zero (e.g. load balancer
   * health checks), without waking it; first matching rule wins. Upstream PR #266; the operator
   * only stores it and serves it in `/crd-cache`.
   */
  probeResponse?: ProbeResponseRule[];
}

/** How a probe rule matches a string: exactly, by path prefix (segment-aware), or by regular expression. */
export const PROBE_PATH_MATCH_TYPES = ['Exact', 'PathPrefix', 'RegularExpression'] as const;
/** How a probe rule matches a header or query parameter value. */
export const PROBE_VALUE_MATCH_TYPES = ['Exact', 'RegularExpression'] as const;
/** The HTTP methods a probe rule can name. */
export const PROBE_METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
] as const;
/** The statuses a probe rule can reply with. */
export const PROBE_RESPONSE_STATUSES = [200, 204, 400, 401, 403, 404, 500, 502, 503, 504] as const;

/** A header or query parameter matcher of a probe rule. */
export interface ProbeResponseValueMatch {
  name: string;
  /** Default `Exact`. */
  type?: (typeof PROBE_VALUE_MATCH_TYPES)[number];
  value: string;
}

/** One rule of `spec.probeResponse`: every matcher given must match (AND). */
export interface ProbeResponseRule {
  /** Omitted: prefix `/`. */
  path?: { type?: (typeof PROBE_PATH_MATCH_TYPES)[number]; value?: string };
  headers?: ProbeResponseValueMatch[];
  queryParams?: ProbeResponseValueMatch[];
  /** Omitted: any method. */
  method?: (typeof PROBE_METHODS)[number];
  response: { status: (typeof PROBE_RESPONSE_STATUSES)[number]; body: string };
}

/** The two operating modes. */
export const ELASTI_MODES = ['proxy', 'serve'] as const;
/** `proxy`: target at 0 replicas, traffic goes to the resolver. `serve`: target up, traffic goes straight to it. */
export type ElastiMode = (typeof ELASTI_MODES)[number];

/** Observed state of an ElastiService. */
export interface ElastiServiceStatus {
  /** RFC 3339. */
  lastReconciledTime?: string;
  /** RFC 3339. */
  lastScaledUpTime?: string;
  mode?: ElastiMode;
  conditions?: Condition[];
}

/** An ElastiService object. */
export interface ElastiService extends KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: ElastiServiceSpec;
  status?: ElastiServiceStatus;
}

/** A list response. */
export interface ElastiServiceList {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string; [field: string]: unknown };
  items: ElastiService[];
}
