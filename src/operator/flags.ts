/**
 * The operator's command-line flags as ONE table ({@link OPERATOR_FLAGS}): each flag has a kind,
 * and each kind one validator, so every bad value — out of range, malformed, empty — fails the
 * same way: a {@link FlagError} whose one-line message names the flag (`main.ts` prints it and
 * exits 2, as for an unknown flag). Usage text is generated from the same table.
 *
 * Adding a flag is one table row; an alias (e.g. controller-runtime's `--metrics-bind-address`
 * for an address flag) is one entry in its `aliases`; a new kind of value is one validator.
 *
 * @module
 */
import { accessSync, constants, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { NAME_RULES, type NameRule, nameProblem } from '../controller/index.ts';
import { parseBindAddress } from '../runtime/index.ts';

/** upstream KubeElasti's Lease (`LeaderElectionID`), so an upstream replica and ours never both lead. */
export const UPSTREAM_LEASE_NAME = 'acf50383.truefoundry.io';

/** The log levels the operator's logger (pino) accepts. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Log line formats: pino's JSON, or zap's console form (`time LEVEL message {fields}`). */
export const LOG_ENCODERS = ['json', 'console'] as const;
export type LogEncoder = (typeof LOG_ENCODERS)[number];
/** zap's time encodings (controller-runtime's `--zap-time-encoding`). */
export const TIME_ENCODINGS = ['epoch', 'millis', 'nanos', 'iso8601', 'rfc3339', 'rfc3339nano'] as const;
export type TimeEncoding = (typeof TIME_ENCODINGS)[number];

/**
 * zap's level names (controller-runtime's `--zap-log-level`) as our logger's: `panic` is our
 * `fatal`; an integer N > 0 is zap's level −N, i.e. more verbose than debug: 1 → debug, ≥ 2 → trace.
 */
const ZAP_LEVELS: Readonly<Record<string, LogLevel>> = {
  debug: 'debug',
  info: 'info',
  error: 'error',
  panic: 'fatal',
};

/** What each kind of flag value becomes once validated. */
interface KindValues {
  boolean: boolean;
  string: string;
  /** A path to a readable file. */
  file: string;
  /** Integer in [min, max]. */
  integer: number;
  /** TCP port 1..65535. */
  port: number;
  /** Go-style duration (`90s`, `2m`, `1m30s`, `500ms`), in milliseconds, > 0. */
  duration: number;
  /** `host:port`, `:port`, `[ipv6]:port`, or `0` (disabled); kept as written, validated. */
  bindAddress: string;
  logLevel: LogLevel;
  /** controller-runtime's `--zap-stacktrace-level`: `info`, `error` or `panic`, as our level. */
  stacktraceLevel: LogLevel;
  /** controller-runtime's `--zap-encoder`. */
  logEncoder: LogEncoder;
  /** controller-runtime's `--zap-time-encoding`. */
  timeEncoding: TimeEncoding;
  /** A DNS-1123 subdomain, e.g. the cluster domain `cluster.local`. */
  domain: string;
  namespace: string;
  /** Comma-separated namespaces; `''` means all. */
  namespaces: string;
  deploymentName: string;
  serviceName: string;
  leaseName: string;
}

/** A kind of flag value. */
export type FlagKind = keyof KindValues;

/** One row of the flag table. */
export interface FlagSpec<K extends FlagKind = FlagKind> {
  readonly kind: K;
  readonly help: string;
  /** Shown in usage after the flag (`--workers N`). */
  readonly metavar?: string;
  /** Used when the flag is absent (and `env` is unset); validated like a given value. */
  readonly default?: string;
  /** Environment variable read when the flag is absent (before `default`). */
  readonly env?: string | readonly string[];
  /** Other names of the same flag. */
  readonly aliases?: readonly string[];
  /** Bounds of an `integer`. */
  readonly min?: number;
  readonly max?: number;
}

/** A flag value is invalid; the message is one line naming the flag (or environment variable). */
export class FlagError extends Error {
  override readonly name = 'FlagError';
  /** `--name`, or the environment variable the value came from. */
  readonly flag: string;
  constructor(flag: string, message: string) {
    super(message);
    this.flag = flag;
  }
}

type Validator<K extends FlagKind> = (raw: string, spec: FlagSpec<K>) => KindValues[K];

function named(rule: NameRule): (raw: string) => string {
  return (raw) => {
    const problem = nameProblem(rule, raw);
    if (problem) throw new Error(`must be ${rule.description}`);
    return raw;
  };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a Go-style duration (`1m30s`), or `undefined` when malformed. */
export function parseDuration(raw: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(raw)) return undefined;
  let total = 0;
  for (const [, amount, , unit] of raw.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(amount) * (DURATION_UNITS[unit ?? ''] ?? Number.NaN);
  }
  return Number.isFinite(total) ? total : undefined;
}

/** One validator per kind: returns the value or throws an Error saying what it must be. */
const VALIDATORS: { [K in FlagKind]: Validator<K> } = {
  // Go's strconv.ParseBool, which upstream's flag package uses.
  boolean: (raw) => {
    if (['true', 'TRUE', 'True', 't', 'T', '1'].includes(raw)) return true;
    if (['false', 'FALSE', 'False', 'f', 'F', '0'].includes(raw)) return false;
    throw new Error('must be true or false');
  },
  string: (raw) => {
    if (raw.trim() === '') throw new Error('must not be empty');
    return raw;
  },
  file: (raw) => {
    if (raw === '') throw new Error('must not be empty');
    try {
      if (!statSync(raw).isFile()) throw new Error('is not a file');
      accessSync(raw, constants.R_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(
        code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not readable' : (error as Error).message,
      );
    }
    return raw;
  },
  integer: (raw, spec) => {
    const min = spec.min ?? Number.MIN_SAFE_INTEGER;
    const max = spec.max ?? Number.MAX_SAFE_INTEGER;
    const n = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max)
      throw new Error(`must be an integer in ${min}..${max}`);
    return n;
  },
  port: (raw) => {
    const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error('must be a port in 1..65535');
    return n;
  },
  duration: (raw) => {
    const ms = parseDuration(raw);
    if (ms === undefined || ms <= 0) throw new Error('must be a positive duration such as 90s, 2m or 1m30s');
    return ms;
  },
  bindAddress: (raw) => {
    try {
      parseBindAddress(raw);
    } catch (error) {
      // parseBindAddress says "bind address "x" <problem>"; the flag error quotes the value already.
      throw new Error((error as Error).message.replace(/^bind address "[^"]*" /, ''));
    }
    return raw;
  },
  logLevel: (raw) => {
    if ((LOG_LEVELS as readonly string[]).includes(raw)) return raw as LogLevel;
    const zap = ZAP_LEVELS[raw.toLowerCase()];
    if (zap) return zap;
    if (/^\d+$/.test(raw) && Number(raw) > 0) return Number(raw) === 1 ? 'debug' : 'trace';
    throw new Error(`must be one of ${LOG_LEVELS.join(', ')}, or zap's panic or an integer > 0`);
  },
  stacktraceLevel: (raw) => {
    const level = ({ info: 'info', error: 'error', panic: 'fatal' } as const)[raw.toLowerCase()];
    if (!level) throw new Error('must be info, error or panic');
    return level;
  },
  logEncoder: (raw) => {
    const value = raw.toLowerCase();
    if (!(LOG_ENCODERS as readonly string[]).includes(value)) throw new Error('must be json or console');
    return value as LogEncoder;
  },
  timeEncoding: (raw) => {
    const value = raw.toLowerCase();
    if (!(TIME_ENCODINGS as readonly string[]).includes(value))
      throw new Error(`must be one of ${TIME_ENCODINGS.join(', ')}`);
    return value as TimeEncoding;
  },
  domain: named(NAME_RULES.dns1123Subdomain),
  namespace: named(NAME_RULES.dns1123Label),
  namespaces: (raw) => {
    for (const ns of raw.split(',').map((n) => n.trim())) {
      if (ns === '') continue;
      if (nameProblem(NAME_RULES.dns1123Label, ns)) {
        throw new Error(`namespace ${JSON.stringify(ns)} is not ${NAME_RULES.dns1123Label.description}`);
      }
    }
    return raw;
  },
  deploymentName: named(NAME_RULES.dns1123Subdomain),
  serviceName: named(NAME_RULES.dns1035Label),
  leaseName: named(NAME_RULES.dns1123Subdomain),
};

/**
 * The operator's flags. Names follow controller-runtime's (as upstream KubeElasti's chart passes
 * them) where one exists; our earlier names stay as aliases. Environment variables are those of
 * upstream's chart (`ELASTI_*`, `WATCH_NAMESPACES`, `KUBERNETES_CLUSTER_DOMAIN`).
 */
export const OPERATOR_FLAGS = {
  kubeconfig: { kind: 'file', metavar: 'PATH', help: 'default: KUBECONFIG, ~/.kube/config, or in-cluster' },
  // On by default, as client-go (so upstream's operator) talks HTTP/2 to a TLS API server: one
  // connection instead of one per watch, and no HTTP/1.1 parser — 10–15 MiB less RSS idle
  // (bench/RESULTS.md, operator section). The library's own default stays HTTP/1.1.
  http2: {
    kind: 'boolean',
    default: 'true',
    help: 'talk to the API server over HTTP/2 (default on, falling back to HTTP/1.1 where the server does not offer h2); --http2=false for HTTP/1.1, one connection per watch',
  },
  'metrics-bind-address': {
    kind: 'bindAddress',
    metavar: 'HOST:PORT',
    default: ':8080',
    aliases: ['bind-address'],
    help: '/metrics: host:port, :port (all interfaces), [::]:port, or 0 to disable (default :8080); /metrics is also served on the resolver API port',
  },
  'health-probe-bind-address': {
    kind: 'bindAddress',
    metavar: 'HOST:PORT',
    default: ':8081',
    help: '/healthz, /livez, /readyz (default :8081); the same address as --metrics-bind-address serves all on one port',
  },
  'metrics-secure': {
    kind: 'boolean',
    help: 'serve /metrics over HTTPS: not supported, refused unless --metrics-bind-address=0 (where it has no effect, as upstream)',
  },
  'enable-http2': {
    kind: 'boolean',
    help: 'HTTP/2 on the TLS metrics/webhook servers (controller-runtime); we serve plain HTTP/1.1, so it has no effect, as upstream with plain metrics. Not --http2',
  },
  'leader-elect': { kind: 'boolean', help: 'run leader election (default off)' },
  'leader-election-namespace': {
    kind: 'namespace',
    metavar: 'NS',
    env: ['POD_NAMESPACE', 'ELASTI_OPERATOR_NAMESPACE'],
    default: 'elasti',
    help: "the Lease's namespace (default: POD_NAMESPACE, ELASTI_OPERATOR_NAMESPACE, or elasti)",
  },
  'leader-election-id': {
    kind: 'leaseName',
    metavar: 'NAME',
    default: UPSTREAM_LEASE_NAME,
    help: `the Lease name (default ${UPSTREAM_LEASE_NAME}, upstream's, so the two operators never both lead)`,
  },
  'watch-namespace': {
    kind: 'namespaces',
    metavar: 'NS[,NS...]',
    env: ['WATCH_NAMESPACES', 'WATCH_NAMESPACE'],
    help: "reconcile only these namespaces, plus the operator's and the resolver's (default: WATCH_NAMESPACES, WATCH_NAMESPACE, or all)",
  },
  'operator-namespace': {
    kind: 'namespace',
    metavar: 'NS',
    env: 'ELASTI_OPERATOR_NAMESPACE',
    help: "the operator's namespace: folded into the watched namespaces when scoped (default: ELASTI_OPERATOR_NAMESPACE)",
  },
  'operator-service': {
    kind: 'serviceName',
    metavar: 'NAME',
    env: 'ELASTI_OPERATOR_SERVICE_NAME',
    help: 'the Service the resolver calls us through; with the cluster domain and ELASTI_OPERATOR_PORT, the resolver API URL logged at start (default: ELASTI_OPERATOR_SERVICE_NAME)',
  },
  'operator-deployment': {
    kind: 'deploymentName',
    metavar: 'NAME',
    env: 'ELASTI_OPERATOR_DEPLOYMENT_NAME',
    help: "the operator's Deployment, logged at start (default: ELASTI_OPERATOR_DEPLOYMENT_NAME)",
  },
  'cluster-domain': {
    kind: 'domain',
    metavar: 'DOMAIN',
    env: 'KUBERNETES_CLUSTER_DOMAIN',
    default: 'cluster.local',
    help: 'the cluster DNS domain of the resolver API URL logged at start (default: KUBERNETES_CLUSTER_DOMAIN or cluster.local)',
  },
  'resolver-namespace': {
    kind: 'namespace',
    metavar: 'NS',
    env: 'ELASTI_RESOLVER_NAMESPACE',
    help: 'default: ELASTI_RESOLVER_NAMESPACE or elasti',
  },
  'resolver-deployment': {
    kind: 'deploymentName',
    metavar: 'NAME',
    env: 'ELASTI_RESOLVER_DEPLOYMENT_NAME',
    help: 'default: ELASTI_RESOLVER_DEPLOYMENT_NAME or elasti-resolver',
  },
  'resolver-service': {
    kind: 'serviceName',
    metavar: 'NAME',
    env: 'ELASTI_RESOLVER_SERVICE_NAME',
    help: 'default: ELASTI_RESOLVER_SERVICE_NAME or elasti-resolver-service',
  },
  'resolver-port': {
    kind: 'port',
    metavar: 'N',
    env: 'ELASTI_RESOLVER_PROXY_PORT',
    help: "the resolver's reverse-proxy port (default: ELASTI_RESOLVER_PROXY_PORT or 8012)",
  },
  'resolver-internal-port': {
    kind: 'port',
    metavar: 'N',
    env: 'ELASTI_RESOLVER_PORT',
    help: "the resolver's internal port; validated, not used (as upstream's operator) (default: ELASTI_RESOLVER_PORT or 8013)",
  },
  workers: {
    kind: 'integer',
    metavar: 'N',
    min: 1,
    max: 1000,
    help: 'parallel reconciles, 1..1000 (default 2)',
  },
  'cache-sync-timeout': {
    kind: 'duration',
    metavar: 'DURATION',
    help: "how long start-up waits for the caches before exiting 1 with the cause (default 2m, controller-runtime's CacheSyncTimeout)",
  },
  'log-level': {
    kind: 'logLevel',
    metavar: 'LEVEL',
    aliases: ['zap-log-level'],
    help: `${LOG_LEVELS.slice(0, 5).join('|')}, or zap's panic or N > 0 (1 debug, 2+ trace) (default info; debug with --zap-devel)`,
  },
  'zap-devel': {
    kind: 'boolean',
    help: "zap's development mode: debug level, console lines, stack traces from warn (default off, unlike upstream: JSON at info)",
  },
  'zap-encoder': {
    kind: 'logEncoder',
    metavar: 'json|console',
    help: 'log line format (default json; console with --zap-devel)',
  },
  'zap-stacktrace-level': {
    kind: 'stacktraceLevel',
    metavar: 'info|error|panic',
    help: 'log records at this level and above carry a stack trace (default none; warn with --zap-devel)',
  },
  'zap-time-encoding': {
    kind: 'timeEncoding',
    metavar: 'ENCODING',
    help: `${TIME_ENCODINGS.join('|')} of the "time" field (default: epoch milliseconds, pino's)`,
  },
  help: { kind: 'boolean', aliases: ['h'], help: 'print this help' },
} as const satisfies Record<string, FlagSpec>;

/** The validated value of each flag of `table`; `undefined` when absent without default. */
export type FlagValues<T extends Record<string, FlagSpec>> = {
  -readonly [N in keyof T]: T[N] extends FlagSpec<infer K> ? KindValues[K] | undefined : never;
};

/**
 * Parses `argv` against `table`: unknown flags, missing values and bad values all throw a
 * {@link FlagError}. As Go's `flag` package (upstream's), `-name` equals `--name`, and boolean
 * flags also take `--flag=true|false` (or `1`, `0`, `t`, `f`…).
 */
export function parseFlagTable<T extends Record<string, FlagSpec>>(
  table: T,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): FlagValues<T> {
  const names = new Map<string, string>(); // any name or alias → canonical name
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const [name, spec] of Object.entries(table)) {
    for (const alias of [name, ...(spec.aliases ?? [])]) {
      names.set(alias, name);
      options[alias] = { type: spec.kind === 'boolean' ? 'boolean' : 'string' };
    }
  }
  // Go's flag package takes one dash as well as two; parseArgs would read `-name` as short flags.
  const dashed = argv.map((arg) => (/^-[^-]/.test(arg) ? `-${arg}` : arg));
  // parseArgs refuses a value on a boolean flag; accept `--flag=true|false` by handling it here.
  const explicitBooleans = new Map<string, { alias: string; raw: string }>();
  const args = dashed.filter((arg) => {
    const match = /^--([^=]+)=(.*)$/.exec(arg);
    const canonical = match?.[1] ? names.get(match[1]) : undefined;
    if (!match || canonical === undefined || table[canonical]?.kind !== 'boolean') return true;
    explicitBooleans.set(canonical, { alias: match[1] ?? canonical, raw: match[2] ?? '' });
    return false;
  });
  let parsed: Record<string, string | boolean | undefined>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: false }).values as typeof parsed;
  } catch (error) {
    throw new FlagError('', firstLine(error));
  }

  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) {
    const explicit = explicitBooleans.get(name);
    const given = [name, ...(spec.aliases ?? [])].filter(
      (alias) => parsed[alias] !== undefined || explicit?.alias === alias,
    );
    if (given.length > 1) {
      throw new FlagError(
        `--${name}`,
        `flags ${given.map((g) => `--${g}`).join(' and ')} are the same flag; give one`,
      );
    }
    const flagValue = given[0] === undefined ? undefined : parsed[given[0]];
    const fromEnv = [spec.env ?? []]
      .flat()
      .find((variable) => env[variable] !== undefined && env[variable] !== '');
    let raw: string | undefined;
    let source = `flag --${given[0] ?? name}`;
    if (explicit) raw = explicit.raw;
    else if (typeof flagValue === 'boolean') raw = String(flagValue);
    else if (typeof flagValue === 'string') raw = flagValue;
    else if (fromEnv !== undefined) {
      raw = env[fromEnv]?.trim();
      source = `environment variable ${fromEnv} (the default of --${name})`;
    } else raw = spec.default;
    if (raw === undefined) {
      values[name] = spec.kind === 'boolean' ? false : undefined;
      continue;
    }
    const validate = VALIDATORS[spec.kind] as Validator<FlagKind>;
    try {
      values[name] = validate(raw, spec);
    } catch (error) {
      throw new FlagError(
        source.startsWith('flag') ? `--${given[0] ?? name}` : (fromEnv ?? name),
        `invalid value ${JSON.stringify(raw)} for ${source}: ${firstLine(error)}`,
      );
    }
  }
  return values as FlagValues<T>;
}

/** Usage text of `table`, one line per flag. */
export function flagUsage(command: string, table: Record<string, FlagSpec>): string {
  const rows = Object.entries(table).map(([name, spec]) => {
    const names = [name, ...(spec.aliases ?? [])].map((n) => `--${n}`).join(', ');
    return [`${names}${spec.metavar ? ` ${spec.metavar}` : ''}`, spec.help] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return [`${command} [flags]`, ...rows.map(([left, help]) => `  ${left.padEnd(width)}${help}`)].join('\n');
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
