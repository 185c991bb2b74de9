/**
 * The operator's configuration: ONE typed object, {@link OperatorConfig}, resolved from partial
 * input with defaults that match upstream KubeElasti's Helm chart installed as release `elasti`
 * in namespace `elasti`:
 *
 * | setting | default | upstream source |
 * | --- | --- | --- |
 * | resolver namespace | `elasti` | `ELASTI_RESOLVER_NAMESPACE` = release namespace |
 * | resolver Deployment | `elasti-resolver` | `ELASTI_RESOLVER_DEPLOYMENT_NAME` = `<fullname>-resolver` |
 * | resolver Service | `elasti-resolver-service` | `ELASTI_RESOLVER_SERVICE_NAME` = `<fullname>-resolver-service` |
 * | resolver port | 8013 | `ELASTI_RESOLVER_PORT` = `elastiResolver.service.port` |
 * | reverse-proxy port | 8012 | `ELASTI_RESOLVER_PROXY_PORT` = `elastiResolver.reverseProxyService.port` |
 *
 * Upstream reads these from environment variables and panics when one is missing; the operator's
 * flag table (`src/operator/flags.ts`) reads the same variables (each optional here) as the
 * defaults of its `--resolver-*` flags, and {@link resolveOperatorConfig} reports every bad value
 * at once as an {@link OperatorConfigError}.
 *
 * @module
 */

/** Where the resolver runs and how the controller reaches it. */
export interface ResolverSettings {
  /** Namespace of the resolver Deployment and Service. */
  readonly namespace: string;
  /** The resolver Deployment (watched through the informer Manager's resolver informer). */
  readonly deploymentName: string;
  /** The resolver Service; its EndpointSlices give the resolver pod IPs. */
  readonly serviceName: string;
  /** The resolver's internal port (not used by the controller; kept so one object describes the resolver). */
  readonly port: number;
  /** The resolver's reverse-proxy port: the port of every EndpointSlice to the resolver. */
  readonly reverseProxyPort: number;
}

/** Tuning of the controller's work queue (see `workqueue.ts`). */
export interface QueueSettings {
  /** First retry delay of a failing key (ms). */
  readonly baseDelayMs: number;
  /** Retry delay cap (ms). */
  readonly maxDelayMs: number;
  /** Overall retry rate (per second). */
  readonly qps: number;
  /** Overall retry burst. */
  readonly burst: number;
}

/** Everything the controller is configured with. */
export interface OperatorConfig {
  readonly resolver: ResolverSettings;
  /**
   * The namespaces whose ElastiServices are reconciled (one ElastiService watch each), sorted and
   * without repeats; empty for all namespaces (one cluster-wide watch).
   */
  readonly watchNamespaces: readonly string[];
  /** Reconciles running in parallel (never two for the same ElastiService). */
  readonly workers: number;
  readonly queue: QueueSettings;
  /**
   * Every ElastiService is reconciled again this often even without a change (ms), catching
   * drift nobody announced (e.g. a private Service edited by hand). 0 disables it.
   */
  readonly resyncPeriodMs: number;
  /**
   * How long start-up waits for the controller's caches (ms); then start-up fails with the
   * informer's last error and the operator exits 1. Default 2 min: controller-runtime's
   * `CacheSyncTimeout`, the wait operator users know.
   */
  readonly cacheSyncTimeoutMs: number;
  /** How long stop waits for in-flight reconciles (ms). */
  readonly drainTimeoutMs: number;
  /** `source.component` of the Events the controller records. */
  readonly eventComponent: string;
  /** Field manager name for writes. */
  readonly fieldManager: string;
}

/** Input of {@link resolveOperatorConfig}: any subset; the rest takes defaults. */
export interface OperatorConfigInput {
  resolver?: Partial<ResolverSettings>;
  /** One namespace, or several separated by commas (operator-sdk's `WATCH_NAMESPACE` form); `''` = all. */
  watchNamespace?: string | undefined;
  /** Namespaces to watch; combined with `watchNamespace`. Empty or absent (and no `watchNamespace`) = all. */
  watchNamespaces?: readonly string[] | undefined;
  workers?: number;
  queue?: Partial<QueueSettings>;
  resyncPeriodMs?: number;
  cacheSyncTimeoutMs?: number;
  drainTimeoutMs?: number;
  eventComponent?: string;
  fieldManager?: string;
}

/** The defaults (upstream chart's, see the module documentation). */
export const DEFAULT_OPERATOR_CONFIG: OperatorConfig = deepFreeze({
  resolver: {
    namespace: 'elasti',
    deploymentName: 'elasti-resolver',
    serviceName: 'elasti-resolver-service',
    port: 8013,
    reverseProxyPort: 8012,
  },
  watchNamespaces: [],
  workers: 2,
  queue: { baseDelayMs: 5, maxDelayMs: 1_000_000, qps: 10, burst: 100 },
  resyncPeriodMs: 5 * 60_000,
  cacheSyncTimeoutMs: 120_000, // controller-runtime's CacheSyncTimeout default
  drainTimeoutMs: 10_000,
  eventComponent: 'elasti-operator',
  fieldManager: 'elasti-operator',
});

/** One or more configuration values are invalid; `problems` lists each as `field: message`. */
export class OperatorConfigError extends Error {
  override readonly name = 'OperatorConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid operator configuration: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** The namespaces `input` names, from both fields, sorted and without repeats. */
function namespacesOf(input: OperatorConfigInput): string[] {
  const all = [
    ...(typeof input.watchNamespace === 'string' ? input.watchNamespace.split(',') : []),
    ...(input.watchNamespaces ?? []),
  ];
  return [...new Set(all.map((ns) => (typeof ns === 'string' ? ns.trim() : String(ns))))]
    .filter((ns) => ns !== '')
    .sort();
}

/** A Kubernetes naming rule: the pattern, the length limit, and how to say it to a person. */
export interface NameRule {
  readonly pattern: RegExp;
  readonly max: number;
  readonly description: string;
}

/** The naming rules of the objects the operator is configured with (namespaces, Deployments, Services, Leases). */
export const NAME_RULES = {
  /** Namespaces. */
  dns1123Label: {
    pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    max: 63,
    description: "a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)",
  },
  /** Services. */
  dns1035Label: {
    pattern: /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
    max: 63,
    description:
      "a DNS-1035 label (a lower-case letter, then letters, digits and '-', at most 63 characters)",
  },
  /** Deployments, Leases. */
  dns1123Subdomain: {
    pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    max: 253,
    description: "a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', at most 253 characters)",
  },
} as const satisfies Record<string, NameRule>;

/** Why `value` breaks `rule`, or `undefined` when it is a valid name. */
export function nameProblem(rule: NameRule, value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0 && value.length <= rule.max && rule.pattern.test(value)) {
    return undefined;
  }
  return `${JSON.stringify(value)} is not ${rule.description}`;
}

/**
 * The complete, frozen configuration: `input` over {@link DEFAULT_OPERATOR_CONFIG}.
 * `watchNamespace: ''` means all namespaces, like `undefined`; `'a,b'` means `a` and `b`.
 *
 * @throws {OperatorConfigError} listing every invalid value.
 */
export function resolveOperatorConfig(input: OperatorConfigInput = {}): OperatorConfig {
  const d = DEFAULT_OPERATOR_CONFIG;
  const problems: string[] = [];
  const resolver: ResolverSettings = { ...d.resolver, ...definedOnly(input.resolver ?? {}) };
  const queue: QueueSettings = { ...d.queue, ...definedOnly(input.queue ?? {}) };
  const config: OperatorConfig = {
    resolver,
    queue,
    watchNamespaces: namespacesOf(input),
    workers: input.workers ?? d.workers,
    resyncPeriodMs: input.resyncPeriodMs ?? d.resyncPeriodMs,
    cacheSyncTimeoutMs: input.cacheSyncTimeoutMs ?? d.cacheSyncTimeoutMs,
    drainTimeoutMs: input.drainTimeoutMs ?? d.drainTimeoutMs,
    eventComponent: input.eventComponent ?? d.eventComponent,
    fieldManager: input.fieldManager ?? d.fieldManager,
  };

  checkName(problems, 'resolver.namespace', resolver.namespace, NAME_RULES.dns1123Label);
  checkName(problems, 'resolver.deploymentName', resolver.deploymentName, NAME_RULES.dns1123Subdomain);
  checkName(problems, 'resolver.serviceName', resolver.serviceName, NAME_RULES.dns1035Label);
  checkPort(problems, 'resolver.port', resolver.port);
  checkPort(problems, 'resolver.reverseProxyPort', resolver.reverseProxyPort);
  for (const namespace of config.watchNamespaces) {
    checkName(problems, 'watchNamespaces', namespace, NAME_RULES.dns1123Label);
  }
  checkInteger(problems, 'workers', config.workers, 1, 1000);
  checkNumber(problems, 'queue.baseDelayMs', queue.baseDelayMs, Number.MIN_VALUE);
  checkNumber(problems, 'queue.maxDelayMs', queue.maxDelayMs, queue.baseDelayMs);
  checkNumber(problems, 'queue.qps', queue.qps, Number.MIN_VALUE);
  checkInteger(problems, 'queue.burst', queue.burst, 1, Number.MAX_SAFE_INTEGER);
  checkNumber(problems, 'resyncPeriodMs', config.resyncPeriodMs, 0);
  checkNumber(problems, 'cacheSyncTimeoutMs', config.cacheSyncTimeoutMs, Number.MIN_VALUE);
  checkNumber(problems, 'drainTimeoutMs', config.drainTimeoutMs, 0);
  if (typeof config.eventComponent !== 'string' || config.eventComponent === '') {
    problems.push('eventComponent: must be a non-empty string');
  }
  if (
    typeof config.fieldManager !== 'string' ||
    config.fieldManager === '' ||
    config.fieldManager.length > 128
  ) {
    problems.push('fieldManager: must be a non-empty string of at most 128 characters');
  }
  if (problems.length > 0) throw new OperatorConfigError(problems);
  return deepFreeze(config);
}

/**
 * The informer Manager's `resolver` option for this configuration, so the Manager watches the
 * same resolver Deployment the controller is configured with.
 */
export function managerResolverConfig(config: OperatorConfig): { namespace: string; deploymentName: string } {
  return { namespace: config.resolver.namespace, deploymentName: config.resolver.deploymentName };
}

function checkName(problems: string[], field: string, value: unknown, rule: NameRule): void {
  const problem = nameProblem(rule, value);
  if (problem) problems.push(`${field}: ${problem}`);
}

function checkPort(problems: string[], field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    problems.push(
      `${field}: must be an integer port in 1..65535, got ${JSON.stringify(value) ?? String(value)}`,
    );
  }
}

function checkInteger(problems: string[], field: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push(`${field}: must be an integer in ${min}..${max}, got ${String(value)}`);
  }
}

function checkNumber(problems: string[], field: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    problems.push(`${field}: must be a finite number >= ${min}, got ${String(value)}`);
  }
}

/** Drops keys whose value is `undefined`, so spreading partial input never erases a default. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
