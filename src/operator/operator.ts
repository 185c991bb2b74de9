/**
 * The operator process, assembled: one KubeClient (one pooled connection), one Prometheus
 * registry, the informer Manager, the CRD directory and the ElastiService controller, behind
 * optional leader election, with `/metrics`, `/healthz` and `/readyz`.
 *
 * `runOperator` is usable in-process (the demo and the integration tests run it that way);
 * `main.ts` is the command-line entry point around it.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { OperatorConfigInput } from '../controller/config.ts';
import {
  type ElastiServiceController,
  managerResolverConfig,
  resolveOperatorConfig,
  startController,
} from '../controller/index.ts';
import { CRDDirectory } from '../crddirectory/index.ts';
import { Manager } from '../informer/index.ts';
import { KubeClient } from '../kube/client.ts';
import { EngineMetrics } from '../kube/metrics.ts';
import { type Logger, silentLogger } from '../kube/types.ts';
import { Scaling, type ScalingOptions, unpauseKedaOnFinalize } from '../scaling/index.ts';
import { type OperatorHttpServer, startOperatorHttp } from './http.ts';
import { LeaderElector } from './leader-election.ts';

/** Options of {@link runOperator}. */
export interface OperatorOptions {
  /** Kubeconfig path; default: `KUBECONFIG`, `~/.kube/config`, or in-cluster. */
  kubeconfig?: string;
  /**
   * HTTP/2 to the API server instead of HTTP/1.1. Worth it when most watches are per-name (many
   * namespaces with few watched objects each): 10,000 per-name watches took 555 MB and 8.9 s to
   * add over HTTP/2 against 1,190 MB and 20–22 s over HTTP/1.1 (`bench/RESULTS.md`).
   */
  http2?: boolean;
  /** `host:port` of /metrics, /healthz and /readyz together; `undefined` serves none. */
  httpBindAddress?: string;
  leaderElection?:
    | { namespace: string; name: string; identity?: string; leaseDurationMs?: number }
    | undefined;
  config?: OperatorConfigInput;
  logger?: Logger;
  /** Default: a fresh registry with Node's default metrics. */
  registry?: Registry;
  /**
   * Scaling (polling loop, resolver API). The resolver API is served only when
   * `resolverApiPort` is given (`main.ts` gives `ELASTI_OPERATOR_PORT`, default 8013), so
   * in-process operators do not compete for a fixed port.
   */
  scaling?: ScalingOptions;
}

/** A running operator. */
export interface RunningOperator {
  readonly registry: Registry;
  readonly client: KubeClient;
  readonly manager: Manager;
  readonly directory: CRDDirectory;
  readonly httpPort: number | undefined;
  /** Scaling: `scaling.resolverApiPort`, `scaling.poller` (while leading), `scaling.metrics`. */
  readonly scaling: Scaling;
  /** The controller once this replica leads (immediately without leader election). */
  controller(): ElastiServiceController | undefined;
  /** Resolves when the operator has stopped (after `stop()`, or when leadership was lost). */
  readonly done: Promise<'stopped' | 'lost-leadership'>;
  stop(): Promise<void>;
}

/** Starts the operator. Resolves once its endpoints are up; reconciling starts when it leads. */
export async function runOperator(options: OperatorOptions = {}): Promise<RunningOperator> {
  const logger = options.logger ?? silentLogger;
  const registry = options.registry ?? new Registry();
  if (!options.registry) collectDefaultMetrics({ register: registry });
  const config = resolveOperatorConfig(options.config ?? {});
  const client = await KubeClient.create(options.kubeconfig, { logger, http2: options.http2 ?? false });
  const engineMetrics = new EngineMetrics(registry);
  const manager = new Manager({
    client,
    registry,
    engineMetrics,
    logger,
    resolver: managerResolverConfig(config),
  });
  const directory = new CRDDirectory();
  const scaling = await Scaling.start({
    client,
    registry,
    logger,
    fieldManager: config.fieldManager,
    options: { ...options.scaling, resolverApiPort: options.scaling?.resolverApiPort ?? null },
  });
  const stopping = new AbortController();
  let controller: ElastiServiceController | undefined;

  let http: OperatorHttpServer | undefined;
  if (options.httpBindAddress !== undefined) {
    http = await startOperatorHttp(options.httpBindAddress, registry, {
      controller: () =>
        options.leaderElection && !controller
          ? true // a standby replica is ready: it serves metrics and waits for the lease
          : controller?.ready === true || 'the controller has not synced its caches',
    });
  }

  const lead = async (signal: AbortSignal): Promise<void> => {
    manager.start();
    controller = await startController({
      client,
      manager,
      directory,
      config,
      logger,
      registry,
      engineMetrics,
      signal,
      onFinalize: unpauseKedaOnFinalize(client, config.fieldManager),
    });
    // Only the leader scales; its controller's cache and directory feed the loop and wake-ups.
    if (!signal.aborted) scaling.lead({ controller, directory });
  };

  let outcome: Promise<'stopped' | 'lost-leadership'>;
  if (options.leaderElection) {
    const elector = new LeaderElector({
      client,
      namespace: options.leaderElection.namespace,
      name: options.leaderElection.name,
      identity: options.leaderElection.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`,
      ...(options.leaderElection.leaseDurationMs === undefined
        ? {}
        : {
            leaseDurationMs: options.leaderElection.leaseDurationMs,
            renewDeadlineMs: Math.floor(options.leaderElection.leaseDurationMs * 0.66),
            retryPeriodMs: Math.max(100, Math.floor(options.leaderElection.leaseDurationMs / 7)),
          }),
      logger,
    });
    outcome = elector
      .run(
        {
          onStartedLeading: (signal) =>
            lead(signal).catch((error: unknown) => {
              logger.error({ err: error }, 'the controller failed to start; stopping');
              stopping.abort();
            }),
        },
        stopping.signal,
      )
      .then((result) => (result === 'lost' ? 'lost-leadership' : 'stopped'));
  } else {
    await lead(stopping.signal);
    outcome = new Promise((resolve) => stopping.signal.addEventListener('abort', () => resolve('stopped')));
  }

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      stopping.abort();
      await outcome;
      await scaling.unlead();
      await controller?.stop();
      await manager.stop();
      await http?.close();
      await scaling.stop();
      await client.close();
    })();
    return stopped;
  };
  // Losing the lease ends this replica: everything stops and `done` says why.
  const done = outcome.then(async (result) => {
    await stop();
    return result;
  });

  return {
    registry,
    client,
    manager,
    directory,
    httpPort: http?.port,
    scaling,
    controller: () => controller,
    done,
    stop,
  };
}
