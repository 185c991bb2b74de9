/**
 * `elasti-operator`: the command-line entry point. Flags follow controller-runtime's names where
 * one exists. Exits 0 on SIGTERM/SIGINT after a clean shutdown (lease released, informers and
 * sockets closed), 1 when leadership is lost or start-up fails — a supervisor (Kubernetes)
 * restarts it and it campaigns again.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { Logger } from '../kube/types.ts';
import { scalingSettingsFromEnv } from '../scaling/settings.ts';
import { runOperator } from './operator.ts';
import { missingNodeFlags } from './runtime.ts';

const usage = `elasti-operator [flags]
  --kubeconfig PATH                   default: KUBECONFIG, ~/.kube/config, or in-cluster
  --http2                             talk to the API server over HTTP/2 (default HTTP/1.1); worth it
                                      when most watches are per-name (many small namespaces)
  --bind-address HOST:PORT            /metrics, /healthz, /readyz (default :8080)
  --leader-elect                      run leader election (default off)
  --leader-election-namespace NS      default: POD_NAMESPACE or elasti
  --leader-election-id NAME           default: elasti-operator-lock
  --watch-namespace NS[,NS...]        reconcile only these namespaces (default: WATCH_NAMESPACE, or all)
  --resolver-namespace NS             default: elasti
  --resolver-deployment NAME          default: elasti-resolver
  --resolver-service NAME             default: elasti-resolver-service
  --resolver-port N                   the resolver's reverse-proxy port (default 8012)
  --workers N                         parallel reconciles (default 2)
  --log-level LEVEL                   trace|debug|info|warn|error (default info)
  --help`;

/** Parses the flags; throws a readable error on bad input. */
export function parseFlags(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      kubeconfig: { type: 'string' },
      'bind-address': { type: 'string', default: ':8080' },
      'leader-elect': { type: 'boolean', default: false },
      http2: { type: 'boolean', default: false },
      'leader-election-namespace': { type: 'string' },
      'leader-election-id': { type: 'string', default: 'elasti-operator-lock' },
      'watch-namespace': { type: 'string' },
      'resolver-namespace': { type: 'string' },
      'resolver-deployment': { type: 'string' },
      'resolver-service': { type: 'string' },
      'resolver-port': { type: 'string' },
      workers: { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', default: false },
    },
  });
  const integer = (name: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0)
      throw new Error(`--${name} must be a positive integer, got "${value}"`);
    return n;
  };
  const reverseProxyPort = integer('resolver-port', values['resolver-port']);
  const workers = integer('workers', values.workers);
  return {
    help: values.help,
    kubeconfig: values.kubeconfig,
    bindAddress: values['bind-address'],
    logLevel: values['log-level'],
    http2: values.http2,
    leaderElection: values['leader-elect']
      ? {
          namespace: values['leader-election-namespace'] ?? process.env.POD_NAMESPACE ?? 'elasti',
          name: values['leader-election-id'],
        }
      : undefined,
    config: {
      watchNamespace: values['watch-namespace'] ?? process.env.WATCH_NAMESPACE,
      ...(workers === undefined ? {} : { workers }),
      resolver: {
        ...(values['resolver-namespace'] ? { namespace: values['resolver-namespace'] } : {}),
        ...(values['resolver-deployment'] ? { deploymentName: values['resolver-deployment'] } : {}),
        ...(values['resolver-service'] ? { serviceName: values['resolver-service'] } : {}),
        ...(reverseProxyPort === undefined ? {} : { reverseProxyPort }),
      },
    },
  };
}

async function main(): Promise<number> {
  let flags: ReturnType<typeof parseFlags>;
  let scaling: ReturnType<typeof scalingSettingsFromEnv>;
  try {
    flags = parseFlags(process.argv.slice(2));
    // POLLING_INTERVAL, PROMETHEUS_TRIGGER_*, ELASTI_OPERATOR_PORT (upstream's chart env).
    scaling = scalingSettingsFromEnv(process.env);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${usage}\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const logger: Logger = pino({ level: flags.logLevel });
  for (const warning of scaling.warnings) logger.warn({}, warning);
  const missing = missingNodeFlags();
  if (missing.length > 0) {
    logger.warn(
      { missing },
      'started without the operator V8 flags (npm start sets them); resident memory will be higher than measured',
    );
  }
  const operator = await runOperator({
    kubeconfig: flags.kubeconfig,
    http2: flags.http2,
    httpBindAddress: flags.bindAddress,
    leaderElection: flags.leaderElection,
    config: flags.config,
    scaling: scaling.settings,
    logger,
  });
  logger.info(
    { port: operator.httpPort, resolverApiPort: operator.scaling.resolverApiPort },
    'operator running',
  );
  const shutdown = (): void => {
    logger.info({}, 'shutting down');
    void operator.stop();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  const result = await operator.done;
  logger.info({ result }, 'operator stopped');
  return result === 'stopped' ? 0 : 1;
}

if (import.meta.main) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `elasti-operator failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
