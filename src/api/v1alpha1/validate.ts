/**
 * Runtime validation of ElastiService objects.
 *
 * The CRD schema (see `schema.ts`) already makes the apiserver reject most bad input, but the
 * controller cannot rely on it alone: the installed CRD may be an older upstream one (without
 * `minItems` on triggers, say), and some rules are beyond OpenAPI — cron and duration syntax,
 * which apiVersion goes with which kind, prometheus trigger metadata, name length limits of the
 * objects the controller derives. So this module re-checks everything and returns every problem
 * as a typed {@link FieldError}; it never throws on bad input.
 *
 * @module
 */
import {
  DEFAULT_COOLDOWN_PERIOD_SECONDS,
  DEFAULT_ENABLED_PERIOD_DURATION,
  DEFAULT_ENABLED_PERIOD_SCHEDULE,
  DEFAULT_MIN_TARGET_REPLICAS,
  ELASTI_API_VERSION,
  ELASTI_KIND,
  MAX_COOLDOWN_PERIOD_SECONDS,
} from './constants.ts';
import { type CronSchedule, CronSyntaxError, parseCron } from './cron.ts';
import { DurationSyntaxError, parseGoDuration } from './duration.ts';
import { expectedApiVersion, normalizeKind } from './scale-target.ts';
import {
  AUTOSCALER_TYPES,
  type AutoscalerSpec,
  type ElastiServiceStatus,
  LEGACY_SCALE_TARGET_KINDS,
  type NormalizedScaleTargetRef,
  SCALE_TARGET_API_VERSIONS,
  SCALE_TARGET_KINDS,
  type ScaleTrigger,
  TRIGGER_TYPES,
} from './types.ts';

/**
 * Kinds of field error, named after the apiserver's own (`field.ErrorType`) so messages read alike.
 * - `Required`: missing or empty.
 * - `TypeInvalid`: wrong JSON type.
 * - `NotSupported`: not one of an enumerated set.
 * - `Invalid`: right type, wrong value (syntax, range, combination).
 */
export type FieldErrorType = 'Required' | 'TypeInvalid' | 'NotSupported' | 'Invalid';

/** One problem with one field. */
export interface FieldError {
  readonly type: FieldErrorType;
  /** Dotted path with indexes, e.g. `spec.triggers[0].metadata.query`; empty for the object itself. */
  readonly field: string;
  readonly message: string;
  /** The offending value, when there is one. */
  readonly value?: unknown;
}

/** `spec.enabledPeriod` with defaults applied and both fields parsed. */
export interface ResolvedEnabledPeriod {
  readonly schedule: string;
  readonly duration: string;
  readonly cron: CronSchedule;
  readonly durationMs: number;
}

/**
 * A valid spec as the controller should act on it: legacy kind normalized, defaults applied the
 * way upstream applies them at run time (a `cooldownPeriod` of 0 means the 900 s default, exactly
 * as upstream treats it), `enabledPeriod` parsed.
 */
export interface ResolvedElastiServiceSpec {
  readonly scaleTargetRef: NormalizedScaleTargetRef;
  readonly service: string;
  readonly minTargetReplicas: number;
  readonly cooldownPeriodSeconds: number;
  readonly triggers: readonly ScaleTrigger[];
  readonly autoscaler: AutoscalerSpec | undefined;
  readonly enabledPeriod: ResolvedEnabledPeriod | undefined;
}

/** Outcome of {@link validateElastiService}. */
export type ValidationResult =
  | {
      readonly valid: true;
      readonly errors: readonly [];
      readonly spec: ResolvedElastiServiceSpec;
      /** Things that are allowed but probably not meant (legacy spellings, no triggers, ignored fields). */
      readonly warnings: readonly string[];
    }
  | {
      readonly valid: false;
      readonly errors: readonly FieldError[];
      readonly warnings: readonly string[];
    };

const INT32_MAX = 2_147_483_647;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** A Service name is a DNS-1035 label: at most 63 characters. */
const MAX_SERVICE_NAME_LENGTH = 63;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SPEC_FIELDS = new Set([
  'scaleTargetRef',
  'service',
  'minTargetReplicas',
  'cooldownPeriod',
  'triggers',
  'autoscaler',
  'enabledPeriod',
  // For the resolver only (served in /crd-cache); the API server checks it against the schema.
  'probeResponse',
]);

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Collects errors and warnings while walking one object. */
class Checker {
  readonly errors: FieldError[] = [];
  readonly warnings: string[] = [];

  add(type: FieldErrorType, field: string, message: string, value?: unknown): void {
    this.errors.push(value === undefined ? { type, field, message } : { type, field, message, value });
  }

  /** Reads an optional object field; reports a wrong type. */
  object(parent: JsonObject, key: string, path: string, required: boolean): JsonObject | undefined {
    const value = parent[key];
    if (value === undefined || value === null) {
      if (required) this.add('Required', path, 'Required value');
      return undefined;
    }
    if (!isObject(value)) {
      this.add('TypeInvalid', path, `must be an object, got ${describeType(value)}`, value);
      return undefined;
    }
    return value;
  }

  /** Reads a string field; `required` also rejects the empty string. */
  string(parent: JsonObject, key: string, path: string, required: boolean): string | undefined {
    const value = parent[key];
    if (value === undefined || value === null) {
      if (required) this.add('Required', path, 'Required value');
      return undefined;
    }
    if (typeof value !== 'string') {
      this.add('TypeInvalid', path, `must be a string, got ${describeType(value)}`, value);
      return undefined;
    }
    if (required && value === '') {
      this.add('Required', path, 'Required value: must not be empty', value);
      return undefined;
    }
    return value;
  }

  /** Reads a string field that must be one of `allowed`. */
  oneOf<T extends string>(
    parent: JsonObject,
    key: string,
    path: string,
    allowed: readonly T[],
  ): T | undefined {
    const value = this.string(parent, key, path, true);
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value)) {
      this.add(
        'NotSupported',
        path,
        `Unsupported value: "${value}": supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`,
        value,
      );
      return undefined;
    }
    return value as T;
  }

  /** Reads an optional integer field within [min, max]. */
  integer(parent: JsonObject, key: string, path: string, min: number, max: number): number | undefined {
    const value = parent[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.add('TypeInvalid', path, `must be an integer, got ${describeType(value)}`, value);
      return undefined;
    }
    if (value < min || value > max) {
      this.add('Invalid', path, `must be between ${min} and ${max}, got ${value}`, value);
      return undefined;
    }
    return value;
  }
}

/**
 * Validates an ElastiService (any JSON value; typically one just read from the API). Checks every
 * rule of the CRD schema plus the ones the schema cannot express, and on success returns the
 * resolved spec the controller should use.
 */
export function validateElastiService(obj: unknown): ValidationResult {
  const c = new Checker();
  let resolved: ResolvedElastiServiceSpec | undefined;
  if (!isObject(obj)) {
    c.add('TypeInvalid', '', `an ElastiService must be an object, got ${describeType(obj)}`, obj);
  } else {
    if (obj.apiVersion !== undefined && obj.apiVersion !== ELASTI_API_VERSION) {
      c.add('Invalid', 'apiVersion', `must be ${ELASTI_API_VERSION}`, obj.apiVersion);
    }
    if (obj.kind !== undefined && obj.kind !== ELASTI_KIND) {
      c.add('Invalid', 'kind', `must be ${ELASTI_KIND}`, obj.kind);
    }
    if (obj.metadata !== undefined && !isObject(obj.metadata)) {
      c.add('TypeInvalid', 'metadata', `must be an object, got ${describeType(obj.metadata)}`, obj.metadata);
    }
    const spec = c.object(obj, 'spec', 'spec', true);
    if (spec) resolved = checkSpec(c, spec);
    if (obj.status !== undefined) checkStatus(c, obj.status);
  }
  if (c.errors.length === 0 && resolved) {
    return { valid: true, errors: [], spec: resolved, warnings: c.warnings };
  }
  return { valid: false, errors: c.errors, warnings: c.warnings };
}

/**
 * Validates only a spec (e.g. one taken from the CRD directory). Same rules and result as
 * {@link validateElastiService}, with field paths still rooted at `spec`.
 */
export function validateElastiServiceSpec(spec: unknown): ValidationResult {
  return validateElastiService({ spec });
}

function checkSpec(c: Checker, spec: JsonObject): ResolvedElastiServiceSpec | undefined {
  const errorsBefore = c.errors.length;
  for (const key of Object.keys(spec)) {
    if (!SPEC_FIELDS.has(key)) c.warnings.push(`unknown field spec.${key} is ignored`);
  }
  const scaleTargetRef = checkScaleTargetRef(c, spec);
  const service = checkService(c, spec);
  const minTargetReplicas =
    c.integer(spec, 'minTargetReplicas', 'spec.minTargetReplicas', 1, INT32_MAX) ??
    DEFAULT_MIN_TARGET_REPLICAS;
  let cooldownPeriodSeconds =
    c.integer(spec, 'cooldownPeriod', 'spec.cooldownPeriod', 0, MAX_COOLDOWN_PERIOD_SECONDS) ??
    DEFAULT_COOLDOWN_PERIOD_SECONDS;
  if (cooldownPeriodSeconds === 0) {
    // Upstream cannot tell 0 from "unset" (Go omitempty int32) and uses the default for both;
    // doing the same keeps one object meaning the same thing under either operator.
    c.warnings.push(`spec.cooldownPeriod 0 means the default of ${DEFAULT_COOLDOWN_PERIOD_SECONDS} seconds`);
    cooldownPeriodSeconds = DEFAULT_COOLDOWN_PERIOD_SECONDS;
  }
  const triggers = checkTriggers(c, spec);
  const autoscaler = checkAutoscaler(c, spec);
  const enabledPeriod = checkEnabledPeriod(c, spec);
  if (c.errors.length !== errorsBefore || !scaleTargetRef || service === undefined) return undefined;
  return {
    scaleTargetRef,
    service,
    minTargetReplicas,
    cooldownPeriodSeconds,
    triggers,
    autoscaler,
    enabledPeriod,
  };
}

function checkScaleTargetRef(c: Checker, spec: JsonObject): NormalizedScaleTargetRef | undefined {
  const path = 'spec.scaleTargetRef';
  const ref = c.object(spec, 'scaleTargetRef', path, true);
  if (!ref) return undefined;
  const apiVersion = c.oneOf(ref, 'apiVersion', `${path}.apiVersion`, SCALE_TARGET_API_VERSIONS);
  const kind = c.oneOf(ref, 'kind', `${path}.kind`, [...SCALE_TARGET_KINDS, ...LEGACY_SCALE_TARGET_KINDS]);
  const name = c.string(ref, 'name', `${path}.name`, true);
  if (name !== undefined) checkSubdomain(c, `${path}.name`, name);
  if (kind !== undefined && (LEGACY_SCALE_TARGET_KINDS as readonly string[]).includes(kind)) {
    c.warnings.push(`${path}.kind "${kind}" is a legacy spelling of "${normalizeKind(kind)}"`);
  }
  if (apiVersion !== undefined && kind !== undefined) {
    const expected = expectedApiVersion(kind);
    if (expected !== apiVersion) {
      c.add(
        'Invalid',
        `${path}.apiVersion`,
        `kind ${kind} requires apiVersion ${expected ?? '(none)'}, got ${apiVersion}`,
        apiVersion,
      );
      return undefined;
    }
  }
  if (apiVersion === undefined || kind === undefined || name === undefined) return undefined;
  return { apiVersion, kind: normalizeKind(kind) as NormalizedScaleTargetRef['kind'], name };
}

function checkService(c: Checker, spec: JsonObject): string | undefined {
  const path = 'spec.service';
  const service = c.string(spec, 'service', path, true);
  if (service === undefined) return undefined;
  if (!DNS1035_LABEL.test(service)) {
    c.add(
      'Invalid',
      path,
      'must be a Service name: lower-case letters, digits and "-", starting with a letter, ending with a letter or digit',
      service,
    );
    return undefined;
  }
  // Longer than 41 is fine: the derived names are cut to fit, as upstream v0.1.30 does (names.ts).
  // Longer than 63 can never name a Service, so it is reported instead of waited for forever.
  if (service.length > MAX_SERVICE_NAME_LENGTH) {
    c.add('Invalid', path, `must be at most ${MAX_SERVICE_NAME_LENGTH} characters (a Service name)`, service);
    return undefined;
  }
  return service;
}

function checkSubdomain(c: Checker, path: string, name: string): void {
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    c.add(
      'Invalid',
      path,
      'must be an object name: lower-case letters, digits, "-" and ".", starting and ending with a letter or digit, at most 253 characters',
      name,
    );
  }
}

function checkTriggers(c: Checker, spec: JsonObject): ScaleTrigger[] {
  const path = 'spec.triggers';
  const value = spec.triggers;
  if (value === undefined || value === null) {
    c.warnings.push('spec.triggers is absent: the target will never be scaled to zero');
    return [];
  }
  if (!Array.isArray(value)) {
    c.add('TypeInvalid', path, `must be an array, got ${describeType(value)}`, value);
    return [];
  }
  if (value.length === 0) {
    c.add('Invalid', path, 'must have at least 1 item', value);
    return [];
  }
  const triggers: ScaleTrigger[] = [];
  value.forEach((item: unknown, i) => {
    const itemPath = `${path}[${i}]`;
    if (!isObject(item)) {
      c.add('TypeInvalid', itemPath, `must be an object, got ${describeType(item)}`, item);
      return;
    }
    const type = c.oneOf(item, 'type', `${itemPath}.type`, TRIGGER_TYPES);
    const metadata = c.object(item, 'metadata', `${itemPath}.metadata`, type === 'prometheus');
    if (type === 'prometheus' && metadata) checkPrometheusMetadata(c, `${itemPath}.metadata`, metadata);
    if (type !== undefined) triggers.push(metadata ? { type, metadata } : { type });
  });
  return triggers;
}

function checkPrometheusMetadata(c: Checker, path: string, metadata: JsonObject): void {
  // Optional, as upstream: without it the operator's default Prometheus address is used
  // (PROMETHEUS_TRIGGER_SERVER_ADDRESS); an empty string means the same.
  const serverAddress = c.string(metadata, 'serverAddress', `${path}.serverAddress`, false);
  if (serverAddress !== undefined && serverAddress !== '') {
    let url: URL | undefined;
    try {
      url = new URL(serverAddress);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      c.add('Invalid', `${path}.serverAddress`, 'must be an http:// or https:// URL', serverAddress);
    }
  }
  c.string(metadata, 'query', `${path}.query`, true);
  const threshold = metadata.threshold;
  const thresholdPath = `${path}.threshold`;
  if (threshold === undefined || threshold === null || threshold === '') {
    c.add('Required', thresholdPath, 'Required value');
  } else if (typeof threshold === 'number') {
    if (!Number.isFinite(threshold)) c.add('Invalid', thresholdPath, 'must be a finite number', threshold);
  } else if (typeof threshold === 'string') {
    // Upstream stores the threshold as a string holding a float ("0.5"); also accept a plain number.
    const parsed = Number(threshold.trim());
    if (threshold.trim() === '' || !Number.isFinite(parsed)) {
      c.add('Invalid', thresholdPath, 'must be a number, e.g. "0.5"', threshold);
    }
  } else {
    c.add(
      'TypeInvalid',
      thresholdPath,
      `must be a number or a numeric string, got ${describeType(threshold)}`,
    );
  }
  c.string(metadata, 'uptimeFilter', `${path}.uptimeFilter`, false);
  const headers = c.object(metadata, 'headers', `${path}.headers`, false);
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (typeof value !== 'string') {
      c.add('TypeInvalid', `${path}.headers.${name}`, `must be a string, got ${describeType(value)}`, value);
    } else if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      c.add('Invalid', `${path}.headers`, `"${name}" is not a valid HTTP header name`, name);
    }
  }
}

function checkAutoscaler(c: Checker, spec: JsonObject): AutoscalerSpec | undefined {
  const path = 'spec.autoscaler';
  const autoscaler = c.object(spec, 'autoscaler', path, false);
  if (!autoscaler) return undefined;
  const type = c.oneOf(autoscaler, 'type', `${path}.type`, AUTOSCALER_TYPES);
  const name = c.string(autoscaler, 'name', `${path}.name`, true);
  if (name !== undefined) checkSubdomain(c, `${path}.name`, name);
  return type !== undefined && name !== undefined ? { type, name } : undefined;
}

function checkEnabledPeriod(c: Checker, spec: JsonObject): ResolvedEnabledPeriod | undefined {
  const path = 'spec.enabledPeriod';
  const period = c.object(spec, 'enabledPeriod', path, false);
  if (!period) return undefined;
  const schedule = c.string(period, 'schedule', `${path}.schedule`, false) ?? DEFAULT_ENABLED_PERIOD_SCHEDULE;
  const duration = c.string(period, 'duration', `${path}.duration`, false) ?? DEFAULT_ENABLED_PERIOD_DURATION;
  let cron: CronSchedule | undefined;
  try {
    cron = parseCron(schedule);
  } catch (error) {
    if (!(error instanceof CronSyntaxError)) throw error;
    c.add('Invalid', `${path}.schedule`, `invalid cron expression: ${error.message}`, schedule);
  }
  let durationMs: number | undefined;
  try {
    durationMs = parseGoDuration(duration);
    if (durationMs <= 0) {
      c.add('Invalid', `${path}.duration`, 'must be positive', duration);
      durationMs = undefined;
    }
  } catch (error) {
    if (!(error instanceof DurationSyntaxError)) throw error;
    c.add('Invalid', `${path}.duration`, `invalid duration: ${error.message}`, duration);
  }
  if (!cron || durationMs === undefined) return undefined;
  return { schedule, duration, cron, durationMs };
}

/** Status is the controller's own output: oddities there are warnings, never spec errors. */
function checkStatus(c: Checker, status: unknown): void {
  if (!isObject(status)) {
    c.warnings.push(`status is ${describeType(status)}, not an object`);
    return;
  }
  const mode = (status as ElastiServiceStatus).mode as unknown;
  if (mode !== undefined && mode !== 'proxy' && mode !== 'serve') {
    c.warnings.push(`status.mode ${JSON.stringify(mode)} is neither "proxy" nor "serve"`);
  }
}
