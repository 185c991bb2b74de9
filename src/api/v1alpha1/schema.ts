/**
 * The ElastiService CustomResourceDefinition: the one source of truth for the API's OpenAPI
 * schema. `tools/gen-crd.ts` renders it to `config/crd/elasti.truefoundry.com_elastiservices.yaml`;
 * a unit test keeps the two equal.
 *
 * Compatibility: every object upstream KubeElasti's CRD accepts is accepted here with the same
 * defaults. Additions: `enabledPeriod` defaults, `status.conditions`, printer columns. Rules the
 * schema leaves out on purpose (cron/duration syntax, kind/apiVersion pairing) are checked by
 * `validateElastiService` and reported as a `SpecValid=False` condition, so objects an older
 * operator wrote are never locked out by the apiserver.
 *
 * @module
 */
import {
  DEFAULT_COOLDOWN_PERIOD_SECONDS,
  DEFAULT_ENABLED_PERIOD_DURATION,
  DEFAULT_ENABLED_PERIOD_SCHEDULE,
  ELASTI_CRD_NAME,
  ELASTI_GROUP,
  ELASTI_KIND,
  ELASTI_LIST_KIND,
  ELASTI_PLURAL,
  ELASTI_SINGULAR,
  ELASTI_VERSION,
  MAX_COOLDOWN_PERIOD_SECONDS,
} from './constants.ts';
import {
  AUTOSCALER_TYPES,
  ELASTI_MODES,
  LEGACY_SCALE_TARGET_KINDS,
  PROBE_METHODS,
  PROBE_PATH_MATCH_TYPES,
  PROBE_RESPONSE_STATUSES,
  PROBE_VALUE_MATCH_TYPES,
  SCALE_TARGET_API_VERSIONS,
  SCALE_TARGET_KINDS,
  TRIGGER_TYPES,
} from './types.ts';

/** The subset of OpenAPI v3 (`JSONSchemaProps`) this CRD uses. */
export interface JsonSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  format?: string;
  properties?: Record<string, JsonSchemaProps>;
  items?: JsonSchemaProps;
  required?: string[];
  enum?: (string | number)[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
}

/** A printer column of `kubectl get`. */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** The `apiextensions.k8s.io/v1` CustomResourceDefinition fields this module produces. */
export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames?: string[] };
    scope: 'Namespaced' | 'Cluster';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JsonSchemaProps };
      subresources?: { status?: Record<string, never> };
      additionalPrinterColumns?: PrinterColumn[];
    }[];
  };
}

const conditionSchema: JsonSchemaProps = {
  type: 'object',
  description: 'One aspect of the current state, in the standard metav1.Condition shape.',
  required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
  properties: {
    type: {
      type: 'string',
      description: 'CamelCase condition type, e.g. SpecValid.',
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    observedGeneration: {
      type: 'integer',
      format: 'int64',
      minimum: 0,
      description: 'metadata.generation the condition was computed from.',
    },
    lastTransitionTime: {
      type: 'string',
      format: 'date-time',
      description: 'When status last changed.',
    },
    reason: {
      type: 'string',
      description: 'CamelCase machine-readable cause.',
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    },
    message: { type: 'string', description: 'Human-readable detail.', maxLength: 32768 },
  },
};

/** A header or query parameter matcher of a probe rule (upstream PR #266's limits). */
function probeValueMatchSchema(what: string, maxValueLength: number): JsonSchemaProps {
  return {
    type: 'object',
    description: `Matches one request ${what}.`,
    required: ['name', 'value'],
    properties: {
      name: { type: 'string', maxLength: 256 },
      type: {
        type: 'string',
        enum: [...PROBE_VALUE_MATCH_TYPES],
        description: 'Exact (default) or RegularExpression.',
      },
      value: { type: 'string', maxLength: maxValueLength },
    },
  };
}

const probeResponseSchema: JsonSchemaProps = {
  type: 'array',
  description:
    'Replies the resolver serves itself while the workload is at zero (e.g. load balancer health checks), without waking it. First matching rule wins; matchers are ANDed (Gateway API HTTPRouteMatch semantics).',
  maxItems: 32,
  items: {
    type: 'object',
    required: ['response'],
    properties: {
      path: {
        type: 'object',
        description: 'Request path matcher; omitted means prefix "/".',
        properties: {
          type: {
            type: 'string',
            enum: [...PROBE_PATH_MATCH_TYPES],
            description: 'Exact, PathPrefix (default) or RegularExpression.',
          },
          value: { type: 'string', maxLength: 1024 },
        },
      },
      headers: { type: 'array', maxItems: 16, items: probeValueMatchSchema('header', 4096) },
      queryParams: { type: 'array', maxItems: 16, items: probeValueMatchSchema('query parameter', 1024) },
      method: { type: 'string', enum: [...PROBE_METHODS], description: 'Omitted means any method.' },
      response: {
        type: 'object',
        required: ['status', 'body'],
        properties: {
          status: { type: 'integer', enum: [...PROBE_RESPONSE_STATUSES] },
          body: { type: 'string' },
        },
      },
    },
  },
};

const specSchema: JsonSchemaProps = {
  type: 'object',
  description: 'Desired state: which workload to scale to zero, behind which Service, and when.',
  required: ['scaleTargetRef', 'service'],
  properties: {
    scaleTargetRef: {
      type: 'object',
      description: 'The workload whose replicas are scaled.',
      required: ['apiVersion', 'kind', 'name'],
      properties: {
        apiVersion: {
          type: 'string',
          description: 'apps/v1 for Deployment and StatefulSet, argoproj.io/v1alpha1 for Rollout.',
          enum: [...SCALE_TARGET_API_VERSIONS],
        },
        kind: {
          type: 'string',
          description: 'Kind of the workload. "deployments" and "rollouts" are accepted legacy spellings.',
          enum: [...LEGACY_SCALE_TARGET_KINDS, ...SCALE_TARGET_KINDS],
        },
        name: { type: 'string', description: 'Name of the workload, in the same namespace.' },
      },
    },
    service: {
      type: 'string',
      description: 'Name of the Service (same namespace) in front of the workload.',
    },
    minTargetReplicas: {
      type: 'integer',
      format: 'int32',
      minimum: 1,
      default: 1,
      description: 'Replicas to scale up to when traffic arrives while scaled to zero.',
    },
    cooldownPeriod: {
      type: 'integer',
      format: 'int32',
      minimum: 0,
      maximum: MAX_COOLDOWN_PERIOD_SECONDS,
      default: DEFAULT_COOLDOWN_PERIOD_SECONDS,
      description: 'Seconds the workload must be idle (and up) before it is scaled to zero.',
    },
    triggers: {
      type: 'array',
      description: 'Conditions under which the workload counts as idle.',
      minItems: 1,
      items: {
        type: 'object',
        required: ['type'],
        properties: {
          type: { type: 'string', description: 'Trigger type.', enum: [...TRIGGER_TYPES] },
          metadata: {
            description: 'Trigger settings; for prometheus: serverAddress, query, threshold, uptimeFilter.',
            'x-kubernetes-preserve-unknown-fields': true,
          },
        },
      },
    },
    autoscaler: {
      type: 'object',
      description: 'The autoscaler that manages replicas while serving; paused while scaled to zero.',
      required: ['name', 'type'],
      properties: {
        name: { type: 'string', description: 'Name of the HorizontalPodAutoscaler or KEDA ScaledObject.' },
        type: { type: 'string', enum: [...AUTOSCALER_TYPES] },
      },
    },
    probeResponse: probeResponseSchema,
    enabledPeriod: {
      type: 'object',
      description:
        'When scale-to-zero is allowed; absent means always. Outside it, minTargetReplicas is kept.',
      properties: {
        schedule: {
          type: 'string',
          default: DEFAULT_ENABLED_PERIOD_SCHEDULE,
          description: 'Five-field cron expression (minute hour day-of-month month day-of-week), UTC.',
        },
        duration: {
          type: 'string',
          default: DEFAULT_ENABLED_PERIOD_DURATION,
          description: 'Length of each window from its scheduled start, e.g. 8h or 1h30m.',
        },
      },
    },
  },
};

const statusSchema: JsonSchemaProps = {
  type: 'object',
  description: 'Observed state, written by the controller.',
  properties: {
    lastReconciledTime: { type: 'string', format: 'date-time' },
    lastScaledUpTime: { type: 'string', format: 'date-time' },
    mode: {
      type: 'string',
      enum: [...ELASTI_MODES],
      description: 'proxy: workload at zero, traffic held by the resolver. serve: workload up.',
    },
    conditions: {
      type: 'array',
      items: conditionSchema,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    },
  },
};

/**
 * The CRD object, ready to POST to `/apis/apiextensions.k8s.io/v1/customresourcedefinitions`.
 * Deeply frozen: use {@link crdObject} for a modifiable copy.
 */
export const elastiServiceCrd: CustomResourceDefinition = deepFreeze({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: ELASTI_CRD_NAME },
  spec: {
    group: ELASTI_GROUP,
    names: {
      kind: ELASTI_KIND,
      listKind: ELASTI_LIST_KIND,
      plural: ELASTI_PLURAL,
      singular: ELASTI_SINGULAR,
    },
    scope: 'Namespaced',
    versions: [
      {
        name: ELASTI_VERSION,
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            description:
              'ElastiService scales a workload to zero when idle and back up on the first request.',
            properties: {
              apiVersion: { type: 'string' },
              kind: { type: 'string' },
              metadata: { type: 'object' },
              spec: specSchema,
              status: statusSchema,
            },
          },
        },
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'Mode', type: 'string', jsonPath: '.status.mode' },
          { name: 'Service', type: 'string', jsonPath: '.spec.service' },
          { name: 'Target-Kind', type: 'string', jsonPath: '.spec.scaleTargetRef.kind', priority: 1 },
          { name: 'Target', type: 'string', jsonPath: '.spec.scaleTargetRef.name' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
      },
    ],
  },
});

/** A deep copy of the CRD, for callers that want to modify it (e.g. add labels before applying). */
export function crdObject(): CustomResourceDefinition {
  return structuredClone(elastiServiceCrd);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
