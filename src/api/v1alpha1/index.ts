/**
 * The ElastiService API (`elasti.truefoundry.com/v1alpha1`): types, constants, the CRD, runtime
 * validation and the names and resources derived from a spec.
 *
 * @module
 */
export {
  CONDITION_SPEC_VALID,
  formatFieldError,
  MAX_CONDITION_MESSAGE_LENGTH,
  REASON_INVALID_SPEC,
  REASON_VALID_SPEC,
  type ToConditionOptions,
  toCondition,
} from './condition.ts';
export {
  DEFAULT_COOLDOWN_PERIOD_SECONDS,
  DEFAULT_ENABLED_PERIOD_DURATION,
  DEFAULT_ENABLED_PERIOD_SCHEDULE,
  DEFAULT_MIN_TARGET_REPLICAS,
  ELASTI_API_VERSION,
  ELASTI_CRD_NAME,
  ELASTI_FINALIZER,
  ELASTI_GROUP,
  ELASTI_GVR,
  ELASTI_KIND,
  ELASTI_LIST_KIND,
  ELASTI_PLURAL,
  ELASTI_SINGULAR,
  ELASTI_VERSION,
  MAX_COOLDOWN_PERIOD_SECONDS,
} from './constants.ts';
export {
  type CronField,
  type CronSchedule,
  CronSyntaxError,
  cronMatches,
  lastFiringAtOrBefore,
  parseCron,
} from './cron.ts';
export { DurationSyntaxError, parseGoDuration } from './duration.ts';
export { isInEnabledPeriod } from './enabled-period.ts';
export {
  type CrdClient,
  type CrdCondition,
  CrdNotEstablishedError,
  type InstallCrdOptions,
  installElastiServiceCrd,
  type ServedCrd,
} from './install.ts';
export {
  endpointSliceToResolverName,
  MAX_SERVICE_NAME_FOR_PRIVATE_SERVICE,
  privateServiceName,
  serviceNameHash,
} from './names.ts';
export {
  expectedApiVersion,
  normalizeKind,
  normalizeScaleTargetRef,
  ScaleTargetMismatchError,
  scaleTargetGvr,
} from './scale-target.ts';
export {
  type CustomResourceDefinition,
  crdObject,
  elastiServiceCrd,
  type JsonSchemaProps,
  type PrinterColumn,
} from './schema.ts';
export {
  AUTOSCALER_TYPES,
  type AutoscalerSpec,
  type AutoscalerType,
  ELASTI_MODES,
  type ElastiMode,
  type ElastiService,
  type ElastiServiceList,
  type ElastiServiceSpec,
  type ElastiServiceStatus,
  type EnabledPeriod,
  LEGACY_SCALE_TARGET_KINDS,
  type LegacyScaleTargetKind,
  type NormalizedScaleTargetRef,
  type PrometheusTriggerMetadata,
  SCALE_TARGET_API_VERSIONS,
  SCALE_TARGET_KINDS,
  type ScaleTargetApiVersion,
  type ScaleTargetKind,
  type ScaleTargetRef,
  type ScaleTrigger,
  TRIGGER_TYPES,
  type TriggerType,
} from './types.ts';
export {
  type FieldError,
  type FieldErrorType,
  type ResolvedElastiServiceSpec,
  type ResolvedEnabledPeriod,
  type ValidationResult,
  validateElastiService,
  validateElastiServiceSpec,
} from './validate.ts';
