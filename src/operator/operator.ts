/**
 * The operator process, assembled: one KubeClient (one pooled connection), one Prometheus
 * registry, one informer cache, the informer Manager, the CRD directory and the ElastiService
 * controller, behind optional leader election, with `/metrics`, `/healthz` and `/readyz`.
 *
 * The Manager builds its upstream informers as leases on the same `InformerCache` the
 * controller's `for()`/`watches()` use (`leasingInformerFactory`): whoever asks for the same
 * GVR × namespace × selectors shares ONE apiserver watch, and it ends with its last user.
 *
 * `runOperator` is usable in-process (the demo and the integration tests run it that way);
 * `main.ts` is the command-line entry point around it.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { OperatorConfigInput } from '../controller/index.ts';
import {
  type ElastiServiceController,
  managerResolverConfig,
  resolveOperatorConfig,
  startController,
} from '../controller/index.ts';
import { CRDDirectory } from '../crddirectory/index.ts';
import { Manager } from '../informer/index.ts';
import { EngineMetrics, errorMessage, KubeClient, type Logger, silentLogger } from '../kube/index.ts';
import {
  DISABLED_BIND_ADDRESS,
  InformerCache,
  LeaderElector,
  leasingInformerFactory,
  type OperatorHttpServer,
  type ReadinessCheck,
  startEndpointServer,
  startOperatorHttp,
} from '../runtime/index.ts';
import { Scaling, type ScalingOptions, unpauseKedaOnFinalize } from '../scaling/index.ts';

/** Options of {@link runOperator}. */
export interface OperatorOptions {
  /** Kubeconfig path; default: `KUBECONFIG`, `~/.kube/config`, or in-cluster. */
  kubeconfig?: string;
  /**
   * HTTP/2 to the API server (default `true`, as client-go; `false`: HTTP/1.1, one connection per
   * watch). The operator's watches share one connection and no HTTP/1.1 parser is compiled: idle
   * with 100 ElastiServices 10–15 MiB less RSS; 10,000 per-name watches took 555 MB and 8.9 s to
   * add over HTTP/2 against 1,190 MB and 20–22 s over HTTP/1.1 (`bench/RESULTS.md`). A server
   * that does not offer h2 in TLS negotiation gets HTTP/1.1.
   */
  http2?: boolean;
  /**
   * Address of /metrics, /healthz and /readyz together (`host:port`, `:port`, `[::]:port`);
   * `'0'` or `undefined` serves none.
   */
  httpBindAddress?: string;
  /**
   * Address of `/metrics` alone (controller-runtime's `--metrics-bind-address`); `'0'` serves
   * none. With {@link healthProbeBindAddress}, replaces {@link httpBindAddress}; equal addresses
   * share one server.
   */
  metricsBindAddress?: string;
  /** Address of `/healthz`, `/livez` and `/readyz` alone (controller-runtime's `--health-probe-bind-address`). */
  healthProbeBindAddress?: string;
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

/** How a running operator ended. */
export type OperatorOutcome = 'stopped' | 'lost-leadership' | 'failed';

/** A running operator. */
export interface RunningOperator {
  readonly registry: Registry;
  readonly client: KubeClient;
  readonly manager: Manager;
  /** The informer cache the Manager and the controller share. */
  readonly cache: InformerCache;
  readonly directory: CRDDirectory;
  /** Port of the endpoint server of {@link OperatorOptions.httpBindAddress}; `undefined` when disabled or not used. */
  readonly httpPort: number | undefined;
  /** Port serving `/metrics` (either option); `undefined` when disabled. */
  readonly metricsPort: number | undefined;
  /** Port serving `/healthz` and `/readyz` (either option); `undefined` when disabled. */
  readonly healthProbePort: number | undefined;
  /** Scaling: `scaling.resolverApiPort`, `scaling.poller` (while leading), `scaling.metrics`. */
  readonly scaling: Scaling;
  /** The controller once this replica leads (immediately without leader election). */
  controller(): ElastiServiceController | undefined;
  /**
   * Resolves when the operator has stopped: `stopped` after `stop()`, `lost-leadership`, or
   * `failed` when the controller could not start after this replica took the lease
   * ({@link failure} says why).
   */
  readonly done: Promise<OperatorOutcome>;
  /** Why the operator failed (with `done` → `failed`), e.g. a ControllerStartError naming a 403. */
  failure(): Error | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the operator. Resolves once its endpoints are up; reconciling starts when it leads.
 * Without leader election it also waits for the controller to start.
 *
 * @throws {ControllerStartError} (without leader election) when the caches do not sync within
 *   the cache sync timeout — naming the cause —, `KubeConfigError`, `BindAddressError`,
 *   `EndpointListenError`, `LeaderElectionConfigError`. Everything started is stopped first.
 */
export async function runOperator(options: OperatorOptions = {}): Promise<RunningOperator> {
  const logger = options.logger ?? silentLogger;
  const registry = options.registry ?? new Registry();
  if (!options.registry) collectDefaultMetrics({ register: registry });
  const config = resolveOperatorConfig(options.config ?? {});
  const client = await KubeClient.create(options.kubeconfig, { logger, http2: options.http2 ?? true });
  const engineMetrics = new EngineMetrics(registry);
  const cache = new InformerCache({ lw: client, logger, metrics: engineMetrics });
  const manager = new Manager({
    client,
    registry,
    informerFactory: leasingInformerFactory(cache),
    logger,
    resolver: managerResolverConfig(config),
  });
  const directory = new CRDDirectory();
  const stopping = new AbortController();
  let controller: ElastiServiceController | undefined;
  let failure: Error | undefined;
  let http: OperatorHttpServer | undefined;
  let metricsServer: OperatorHttpServer | undefined;
  let probeServer: OperatorHttpServer | undefined;
  let sharedServer = false; // metrics and probes on one address
  let scaling: Scaling | undefined;

  const lead = async (signal: AbortSignal): Promise<void> => {
    manager.start();
    controller = await startController({
      client,
      manager,
      directory,
      config,
      logger,
      registry,
      cache,
      signal,
      onFinalize: unpauseKedaOnFinalize(client, config.fieldManager),
    });
    // Only the leader scales; its controller's cache and directory feed the loop and wake-ups.
    if (!signal.aborted) scaling?.lead({ controller, directory });
  };
  const closeAll = async (): Promise<void> => {
    await scaling?.unlead();
    await controller?.stop();
    await manager.stop();
    // After its users: they released their leases; this ends whatever is left.
    await cache.stop();
    await http?.close();
    await metricsServer?.close();
    await probeServer?.close();
    await scaling?.stop();
    await client.close();
  };

  let elector: LeaderElector | undefined;
  let outcome: Promise<OperatorOutcome>;
  try {
    elector = options.leaderElection ? newElector(options.leaderElection, client, logger) : undefined;
    scaling = await Scaling.start({
      client,
      registry,
      logger,
      fieldManager: config.fieldManager,
      options: { ...options.scaling, resolverApiPort: options.scaling?.resolverApiPort ?? null },
    });
    const probes: Record<string, ReadinessCheck> = {
      ...(elector ? { 'leader-election': leaseReadiness(elector) } : {}),
      controller: () =>
        elector && !controller
          ? true // a standby replica is ready: it serves metrics and waits for the lease
          : controller?.ready === true || 'the controller has not synced its caches',
    };
    if (options.httpBindAddress !== undefined) {
      http = await startOperatorHttp(options.httpBindAddress, registry, probes);
    }
    const metricsBind = options.metricsBindAddress ?? DISABLED_BIND_ADDRESS;
    const probeBind = options.healthProbeBindAddress ?? DISABLED_BIND_ADDRESS;
    if (metricsBind === probeBind) {
      // One address for both, as `--bind-address` always served them.
      metricsServer = await startEndpointServer(metricsBind, { metrics: registry, probes });
      sharedServer = true;
    } else {
      metricsServer = await startEndpointServer(metricsBind, { metrics: registry });
      probeServer = await startEndpointServer(probeBind, { probes });
    }
    if (elector) {
      outcome = elector
        .run(
          {
            onStartedLeading: (signal) =>
              lead(signal).catch((error: unknown) => {
                // Holding the lease without a controller helps nobody: fail, so the process
                // exits non-zero and another replica (or this one, restarted) takes over.
                failure = error instanceof Error ? error : new Error(String(error));
                stopping.abort();
              }),
          },
          stopping.signal,
        )
        .then((result) => (failure ? 'failed' : result === 'lost' ? 'lost-leadership' : 'stopped'));
    } else {
      await lead(stopping.signal);
      outcome = new Promise((resolve) => stopping.signal.addEventListener('abort', () => resolve('stopped')));
    }
  } catch (error) {
    stopping.abort();
    await closeAll();
    throw error;
  }

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      stopping.abort();
      await outcome;
      await closeAll();
    })();
    return stopped;
  };
  // Losing the lease or failing to start ends this replica: everything stops and `done` says why.
  const done = outcome.then(async (result) => {
    await stop();
    return result;
  });

  return {
    registry,
    client,
    manager,
    cache,
    directory,
    httpPort: http?.port,
    metricsPort: metricsServer?.port ?? http?.port,
    healthProbePort: probeServer?.port ?? (sharedServer ? metricsServer?.port : undefined) ?? http?.port,
    scaling,
    controller: () => controller,
    done,
    failure: () => failure,
    stop,
  };
}

function newElector(
  options: NonNullable<OperatorOptions['leaderElection']>,
  client: KubeClient,
  logger: Logger,
): LeaderElector {
  return new LeaderElector({
    client,
    namespace: options.namespace,
    name: options.name,
    identity: options.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`,
    ...(options.leaseDurationMs === undefined
      ? {}
      : {
          leaseDurationMs: options.leaseDurationMs,
          renewDeadlineMs: Math.floor(options.leaseDurationMs * 0.66),
          retryPeriodMs: Math.max(100, Math.floor(options.leaseDurationMs / 7)),
        }),
    logger,
  });
}

/**
 * Readiness of a candidate: ready while it leads or while it can read the lease (a standby);
 * not ready while it cannot reach or is refused the lease (e.g. 403 without the Lease Role), so
 * a replica that can never lead says so instead of reporting ready forever.
 */
export function leaseReadiness(elector: Pick<LeaderElector, 'status' | 'lease'>): ReadinessCheck {
  return () => {
    const { leading, lastError } = elector.status();
    if (leading || !lastError) return true;
    return `cannot take the lease ${elector.lease}: ${errorMessage(lastError)}`;
  };
}
