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
import { parseBindAddress } from './http.ts';

/** The log levels the operator's logger (pino) accepts. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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
  readonly env?: string;
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
  boolean: (raw) => {
    if (raw === 'true') return true;
    if (raw === 'false') return false;
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
    if (!(LOG_LEVELS as readonly string[]).includes(raw))
      throw new Error(`must be one of ${LOG_LEVELS.join(', ')}`);
    return raw as LogLevel;
  },
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

/** The operator's flags. Names follow controller-runtime's where one exists. */
export const OPERATOR_FLAGS = {
  kubeconfig: { kind: 'file', metavar: 'PATH', help: 'default: KUBECONFIG, ~/.kube/config, or in-cluster' },
  http2: {
    kind: 'boolean',
    help: 'talk to the API server over HTTP/2 (default HTTP/1.1); worth it when most watches are per-name (many small namespaces)',
  },
  'bind-address': {
    kind: 'bindAddress',
    metavar: 'HOST:PORT',
    default: ':8080',
    help: '/metrics, /healthz, /readyz: host:port, :port (all interfaces), [::]:port, or 0 to disable (default :8080)',
  },
  'leader-elect': { kind: 'boolean', help: 'run leader election (default off)' },
  'leader-election-namespace': {
    kind: 'namespace',
    metavar: 'NS',
    env: 'POD_NAMESPACE',
    default: 'elasti',
    help: 'default: POD_NAMESPACE or elasti',
  },
  'leader-election-id': {
    kind: 'leaseName',
    metavar: 'NAME',
    default: 'elasti-operator-lock',
    help: 'the Lease name (default elasti-operator-lock)',
  },
  'watch-namespace': {
    kind: 'namespaces',
    metavar: 'NS[,NS...]',
    env: 'WATCH_NAMESPACE',
    help: 'reconcile only these namespaces (default: WATCH_NAMESPACE, or all)',
  },
  'resolver-namespace': { kind: 'namespace', metavar: 'NS', help: 'default: elasti' },
  'resolver-deployment': { kind: 'deploymentName', metavar: 'NAME', help: 'default: elasti-resolver' },
  'resolver-service': { kind: 'serviceName', metavar: 'NAME', help: 'default: elasti-resolver-service' },
  'resolver-port': { kind: 'port', metavar: 'N', help: "the resolver's reverse-proxy port (default 8012)" },
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
    default: 'info',
    help: `${LOG_LEVELS.slice(0, 5).join('|')} (default info)`,
  },
  help: { kind: 'boolean', help: 'print this help' },
} as const satisfies Record<string, FlagSpec>;

/** The validated value of each flag of `table`; `undefined` when absent without default. */
export type FlagValues<T extends Record<string, FlagSpec>> = {
  -readonly [N in keyof T]: T[N] extends FlagSpec<infer K> ? KindValues[K] | undefined : never;
};

/**
 * Parses `argv` against `table`: unknown flags, missing values and bad values all throw a
 * {@link FlagError}. Boolean flags also take `--flag=true|false` (pflag's form).
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
  // parseArgs refuses a value on a boolean flag; accept `--flag=true|false` by handling it here.
  const explicitBooleans = new Map<string, string>();
  const args = argv.filter((arg) => {
    const match = /^--([^=]+)=(.*)$/.exec(arg);
    const canonical = match?.[1] ? names.get(match[1]) : undefined;
    if (!match || canonical === undefined || table[canonical]?.kind !== 'boolean') return true;
    explicitBooleans.set(canonical, match[2] ?? '');
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
    const given = [name, ...(spec.aliases ?? [])].filter((alias) => parsed[alias] !== undefined);
    if (given.length > 1) {
      throw new FlagError(
        `--${name}`,
        `flags ${given.map((g) => `--${g}`).join(' and ')} are the same flag; give one`,
      );
    }
    const flagValue = given[0] === undefined ? undefined : parsed[given[0]];
    let raw: string | undefined;
    let source = `flag --${given[0] ?? name}`;
    if (explicitBooleans.has(name)) raw = explicitBooleans.get(name);
    else if (typeof flagValue === 'boolean') raw = String(flagValue);
    else if (typeof flagValue === 'string') raw = flagValue;
    else if (spec.env !== undefined && env[spec.env] !== undefined && env[spec.env] !== '') {
      raw = env[spec.env];
      source = `environment variable ${spec.env} (the default of --${name})`;
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
        source.startsWith('flag') ? `--${given[0] ?? name}` : (spec.env ?? name),
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
