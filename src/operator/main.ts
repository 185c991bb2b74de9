/**
 * `elasti-operator`: the command-line entry point. Flags follow controller-runtime's names where
 * one exists. Exits 0 on SIGTERM/SIGINT after a clean shutdown (lease released, informers and
 * sockets closed), 1 when leadership is lost or start-up fails (one line naming the cause, e.g.
 * the 403 of missing RBAC after the cache sync timeout) — a supervisor (Kubernetes) restarts it
 * and it campaigns again — and 2 for a bad flag (one line naming the flag, then the usage).
 *
 * @module
 */
// First, for its side effect: the run-time V8 flags, set before any other module is evaluated.
import './v8-runtime-flags.ts';
import { DEFAULT_OPERATOR_CONFIG, OperatorConfigError, resolveOperatorConfig } from '../controller/index.ts';
import type { Logger } from '../kube/index.ts';
import { errorMessage, HeapReleaseSettingError, heapReleaseEnabled } from '../kube/index.ts';
import { DISABLED_BIND_ADDRESS } from '../runtime/index.ts';
import { ScalingSettingsError, scalingSettingsFromEnv } from '../scaling/index.ts';
import { FlagError, flagUsage, OPERATOR_FLAGS, parseFlagTable } from './flags.ts';
import type { RunningOperator } from './operator.ts';
import { missingNodeFlags, missingOperatorEnv, unusableRuntime } from './runtime.ts';
import { runtimeFlagsProblem } from './v8-runtime-flags.ts';

const command = 'elasti-operator';
const usage = `${flagUsage(command, OPERATOR_FLAGS)}
Environment (besides the flags' own, upstream's chart):
  POLLING_INTERVAL                         Go duration of the scale-down loop (default 30s)
  PROMETHEUS_TRIGGER_SERVER_ADDRESS        Prometheus of triggers without serverAddress
  PROMETHEUS_TRIGGER_AUTHORIZATION_HEADER  Authorization header of every Prometheus query
  ELASTI_OPERATOR_PORT                     port of the resolver API and /metrics (default 8013)`;

/**
 * Parses and validates the flags (and the environment variables standing in for them).
 *
 * @throws {FlagError} with a one-line message naming the flag, for any unknown flag or bad value.
 */
export function parseFlags(argv: string[], env: Readonly<Record<string, string | undefined>> = process.env) {
  const values = parseFlagTable(OPERATOR_FLAGS, argv, env);
  const reverseProxyPort = values['resolver-port'];
  const internalPort = values['resolver-internal-port'];
  const workers = values.workers;
  const cacheSyncTimeoutMs = values['cache-sync-timeout'];
  const metricsBindAddress = values['metrics-bind-address'] ?? OPERATOR_FLAGS['metrics-bind-address'].default;
  if (values['metrics-secure'] && metricsBindAddress !== DISABLED_BIND_ADDRESS) {
    // Refused rather than served in plain HTTP under a flag that promises TLS.
    throw new FlagError(
      '--metrics-secure',
      '--metrics-secure (HTTPS metrics) is not supported; use --metrics-bind-address=0 (metrics are also on the resolver API port) or a TLS proxy',
    );
  }
  const resolverNamespace = values['resolver-namespace'];
  const operatorNamespace = values['operator-namespace'];
  const watchNamespace = values['watch-namespace'];
  // As upstream: when scoped, the operator's and the resolver's own namespaces are always watched too.
  const scoped = (watchNamespace ?? '').split(',').some((ns) => ns.trim() !== '');
  return {
    help: values.help === true,
    kubeconfig: values.kubeconfig,
    metricsBindAddress,
    healthProbeBindAddress:
      values['health-probe-bind-address'] ?? OPERATOR_FLAGS['health-probe-bind-address'].default,
    log: {
      level: values['log-level'],
      devel: values['zap-devel'],
      encoder: values['zap-encoder'],
      stacktraceLevel: values['zap-stacktrace-level'],
      timeEncoding: values['zap-time-encoding'],
    },
    http2: values.http2 === true,
    leaderElection: values['leader-elect']
      ? {
          namespace:
            values['leader-election-namespace'] ?? OPERATOR_FLAGS['leader-election-namespace'].default,
          name: values['leader-election-id'] ?? OPERATOR_FLAGS['leader-election-id'].default,
        }
      : undefined,
    /** Where the resolver reaches this operator (upstream's resolver builds the same URL from the same variables). */
    self: {
      namespace: operatorNamespace,
      serviceName: values['operator-service'],
      deploymentName: values['operator-deployment'],
      clusterDomain: values['cluster-domain'] ?? OPERATOR_FLAGS['cluster-domain'].default,
    },
    config: {
      watchNamespace,
      ...(scoped
        ? {
            watchNamespaces: [
              operatorNamespace,
              resolverNamespace ?? DEFAULT_OPERATOR_CONFIG.resolver.namespace,
            ].filter((ns): ns is string => ns !== undefined),
          }
        : {}),
      ...(workers === undefined ? {} : { workers }),
      ...(cacheSyncTimeoutMs === undefined ? {} : { cacheSyncTimeoutMs }),
      resolver: {
        ...(resolverNamespace ? { namespace: resolverNamespace } : {}),
        ...(values['resolver-deployment'] ? { deploymentName: values['resolver-deployment'] } : {}),
        ...(values['resolver-service'] ? { serviceName: values['resolver-service'] } : {}),
        ...(reverseProxyPort === undefined ? {} : { reverseProxyPort }),
        ...(internalPort === undefined ? {} : { port: internalPort }),
      },
    },
  };
}

/**
 * The URL upstream's resolver calls us at (`http://<service>.<namespace>.svc.<domain>:<port>`),
 * when the chart's variables name the Service and namespace; logged at start so a mismatch with
 * the resolver's view shows.
 */
export function resolverFacingUrl(
  self: ReturnType<typeof parseFlags>['self'],
  port: number | undefined,
): string | undefined {
  if (!self.serviceName || !self.namespace || port === undefined) return undefined;
  return `http://${self.serviceName}.${self.namespace}.svc.${self.clusterDomain}:${port}`;
}

/** A user mistake on the command line: one line, the usage, exit 2 (no stack trace). */
function usageError(message: string): number {
  process.stderr.write(`${command}: ${message}\n\n${usage}\n`);
  return 2;
}

/**
 * Start-up or run failed (no access to the API server, RBAC missing, an endpoint cannot
 * listen…): one line naming the cause on stderr and in the log, exit 1 — controller-runtime's
 * "problem running manager" convention. The stack, useful only to us, goes to debug.
 */
function fatal(logger: Logger | undefined, error: unknown): number {
  const line = oneLine(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  logger?.debug({ err: error }, 'failure detail');
  logger?.error({ error: line }, 'problem running the operator');
  process.stderr.write(`${command}: ${line}\n`);
  return 1;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

async function main(): Promise<number> {
  let flags: ReturnType<typeof parseFlags>;
  let scaling: ReturnType<typeof scalingSettingsFromEnv>;
  try {
    flags = parseFlags(process.argv.slice(2));
    // Config checks beyond each flag's own (e.g. values combined from several flags).
    resolveOperatorConfig(flags.config);
    // POLLING_INTERVAL, PROMETHEUS_TRIGGER_*, ELASTI_OPERATOR_PORT (upstream's chart env).
    scaling = scalingSettingsFromEnv(process.env);
    // ELASTI_HEAP_RELEASE: checked here, where a bad value can still be a usage error.
    heapReleaseEnabled(process.env);
  } catch (error) {
    if (
      error instanceof FlagError ||
      error instanceof OperatorConfigError ||
      error instanceof ScalingSettingsError ||
      error instanceof HeapReleaseSettingError
    ) {
      return usageError(error.message);
    }
    throw error;
  }
  if (flags.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const runtimeProblem = runtimeFlagsProblem()?.message ?? unusableRuntime();
  if (runtimeProblem) {
    process.stderr.write(`${command}: ${runtimeProblem}\n`);
    return 2;
  }
  // Loaded only now, so a bad flag is reported at once instead of after loading the operator.
  const [{ createLogger, logSettings }, { runOperator }] = await Promise.all([
    import('./logging.ts'),
    import('./operator.ts'),
  ]);
  const logger: Logger = createLogger(logSettings(flags.log));
  for (const warning of scaling.warnings) logger.warn({}, warning);
  if (process.env.SENTRY_DSN) {
    // Upstream's chart sets it with `sentry.enabled`; say so rather than ignore it silently.
    logger.warn({}, 'SENTRY_DSN is set but this operator does not report to Sentry; it is ignored');
  }
  const missing = [...missingNodeFlags(), ...missingOperatorEnv()];
  if (missing.length > 0) {
    logger.warn(
      { missing },
      'started without the operator V8 flags or environment (npm start sets them); resident memory will be higher than measured',
    );
  }
  let operator: RunningOperator;
  try {
    operator = await runOperator({
      kubeconfig: flags.kubeconfig,
      http2: flags.http2,
      metricsBindAddress: flags.metricsBindAddress,
      healthProbeBindAddress: flags.healthProbeBindAddress,
      leaderElection: flags.leaderElection,
      config: flags.config,
      scaling: scaling.settings,
      logger,
    });
  } catch (error) {
    return fatal(logger, error);
  }
  logger.info(
    {
      metricsPort: operator.metricsPort ?? null,
      healthProbePort: operator.healthProbePort ?? null,
      resolverApiPort: operator.scaling.resolverApiPort ?? null,
      resolverCallsUsAt: resolverFacingUrl(flags.self, operator.scaling.resolverApiPort) ?? null,
      deployment: flags.self.deploymentName ?? null,
      watchNamespaces: resolveOperatorConfig(flags.config).watchNamespaces,
      lease: flags.leaderElection ? `${flags.leaderElection.namespace}/${flags.leaderElection.name}` : null,
    },
    'operator running',
  );
  const shutdown = (): void => {
    logger.info({}, 'shutting down');
    void operator.stop();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  const result = await operator.done;
  if (result === 'failed') return fatal(logger, operator.failure());
  logger.info({ result }, 'operator stopped');
  return result === 'stopped' ? 0 : 1;
}

if (import.meta.main) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      // Not a user mistake but a bug of ours: keep the stack.
      process.stderr.write(
        `${command} failed: ${error instanceof Error ? (error.stack ?? errorMessage(error)) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
