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
import { OperatorConfigError, resolveOperatorConfig } from '../controller/config.ts';
import { errorMessage } from '../kube/errors.ts';
import type { Logger } from '../kube/types.ts';
import { ScalingSettingsError, scalingSettingsFromEnv } from '../scaling/settings.ts';
import { FlagError, flagUsage, OPERATOR_FLAGS, parseFlagTable } from './flags.ts';
import type { RunningOperator } from './operator.ts';
import { missingNodeFlags, missingOperatorEnv, unusableRuntime } from './runtime.ts';
import { runtimeFlagsProblem } from './v8-runtime-flags.ts';

const command = 'elasti-operator';
const usage = flagUsage(command, OPERATOR_FLAGS);

/**
 * Parses and validates the flags (and the environment variables standing in for them).
 *
 * @throws {FlagError} with a one-line message naming the flag, for any unknown flag or bad value.
 */
export function parseFlags(argv: string[], env: Readonly<Record<string, string | undefined>> = process.env) {
  const values = parseFlagTable(OPERATOR_FLAGS, argv, env);
  const reverseProxyPort = values['resolver-port'];
  const workers = values.workers;
  const cacheSyncTimeoutMs = values['cache-sync-timeout'];
  return {
    help: values.help === true,
    kubeconfig: values.kubeconfig,
    bindAddress: values['bind-address'] ?? OPERATOR_FLAGS['bind-address'].default,
    logLevel: values['log-level'] ?? 'info',
    http2: values.http2 === true,
    leaderElection: values['leader-elect']
      ? {
          namespace:
            values['leader-election-namespace'] ?? OPERATOR_FLAGS['leader-election-namespace'].default,
          name: values['leader-election-id'] ?? OPERATOR_FLAGS['leader-election-id'].default,
        }
      : undefined,
    config: {
      watchNamespace: values['watch-namespace'],
      ...(workers === undefined ? {} : { workers }),
      ...(cacheSyncTimeoutMs === undefined ? {} : { cacheSyncTimeoutMs }),
      resolver: {
        ...(values['resolver-namespace'] ? { namespace: values['resolver-namespace'] } : {}),
        ...(values['resolver-deployment'] ? { deploymentName: values['resolver-deployment'] } : {}),
        ...(values['resolver-service'] ? { serviceName: values['resolver-service'] } : {}),
        ...(reverseProxyPort === undefined ? {} : { reverseProxyPort }),
      },
    },
  };
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
  } catch (error) {
    if (
      error instanceof FlagError ||
      error instanceof OperatorConfigError ||
      error instanceof ScalingSettingsError
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
  const [{ pino }, { runOperator }] = await Promise.all([import('pino'), import('./operator.ts')]);
  const logger: Logger = pino({ level: flags.logLevel });
  for (const warning of scaling.warnings) logger.warn({}, warning);
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
      httpBindAddress: flags.bindAddress,
      leaderElection: flags.leaderElection,
      config: flags.config,
      scaling: scaling.settings,
      logger,
    });
  } catch (error) {
    return fatal(logger, error);
  }
  logger.info(
    { port: operator.httpPort ?? null, resolverApiPort: operator.scaling.resolverApiPort ?? null },
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
