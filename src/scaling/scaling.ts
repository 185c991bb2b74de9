/**
 * Scaling, assembled for the operator process: the resolver API (listening from start-up on
 * every replica) and, while this replica leads, the polling loop and the wake-ups behind the API.
 *
 *   const scaling = await Scaling.start({ client, registry, logger, fieldManager, options });
 *   // when leading, once the controller runs:
 *   scaling.lead({ controller, directory });
 *   // leadership lost / shutdown:
 *   await scaling.unlead(); await scaling.stop();
 *
 * Only the leader scales: a standby answers the resolver with 503 (it has no directory) and runs
 * no loop, so two replicas never both scale (upstream runs both on every replica).
 *
 * @module
 */
import type { Registry } from 'prom-client';
import type { ElastiService } from '../api/v1alpha1/index.ts';
import type { ResolverEndpoints } from '../controller/index.ts';
import type { CRDEntry } from '../crddirectory/index.ts';
import type { Logger } from '../kube/index.ts';
import type { EventRecorder } from '../runtime/index.ts';
import { ScalingActions, type StatusPatcher, TrafficMemory } from './actions.ts';
import type { CrdCacheEntry } from './crd-cache.ts';
import type { MergePatcher } from './keda.ts';
import { ScalingMetrics } from './metrics.ts';
import { ScalePoller } from './poller.ts';
import { PrometheusClient } from './prometheus.ts';
import { kubeScaleApi, type RawRequester, TargetScaler } from './scale.ts';
import { type ResolverApiBackend, type ResolverApiServer, startResolverApi } from './server.ts';
import { DEFAULT_RESOLVER_API_PORT } from './settings.ts';
import { WakeUpService } from './wake.ts';

/** Tuning of scaling; every field optional. */
export interface ScalingOptions {
  /** Default 30 000 (upstream's `POLLING_INTERVAL`). */
  pollingIntervalMs?: number;
  /** Prometheus of triggers without `serverAddress` (`PROMETHEUS_TRIGGER_SERVER_ADDRESS`). */
  prometheusServerAddress?: string | undefined;
  /** `Authorization` header of every query (`PROMETHEUS_TRIGGER_AUTHORIZATION_HEADER`). */
  prometheusAuthorizationHeader?: string | undefined;
  /** Port of the resolver API (`ELASTI_OPERATOR_PORT`, default 8013; 0 = any free port); `null` serves none. */
  resolverApiPort?: number | null;
  /** Interface of the resolver API. Default all. */
  resolverApiHost?: string;
  /** Evaluations at once. Default 8. */
  concurrency?: number;
  /** Fraction of the interval evaluations are spread over. Default 0.8. */
  spread?: number;
  /** Per-query timeout (ms). Default 5000. */
  queryTimeoutMs?: number;
  /** How long a wake-up answers repeats for the same Service without new work (ms). Default 1000. */
  wakeSettleMs?: number;
}

/** What the leader's controller offers scaling. */
export interface LeaderParts {
  controller: {
    elastiServices(): readonly ElastiService[];
    elastiService(namespace: string, name: string): ElastiService | undefined;
    readonly resolverEndpoints: ResolverEndpoints;
    readonly events: EventRecorder;
  };
  directory: {
    get(key: string): CRDEntry | undefined;
    list(): { key: string; details: CRDEntry }[];
  };
}

interface Leading {
  readonly poller: ScalePoller;
  readonly backend: ResolverApiBackend;
  readonly actions: ScalingActions;
}

/** See the module documentation. */
export class Scaling {
  readonly metrics: ScalingMetrics;
  readonly #client: RawRequester & MergePatcher & StatusPatcher;
  readonly #options: ScalingOptions;
  readonly #logger: Logger;
  readonly #fieldManager: string;
  readonly #prometheus: PrometheusClient;
  readonly #scaler: TargetScaler;
  #server: ResolverApiServer | undefined;
  #leading: Leading | undefined;

  private constructor(args: {
    client: RawRequester & MergePatcher & StatusPatcher;
    registry: Registry;
    logger: Logger;
    fieldManager: string;
    options: ScalingOptions;
  }) {
    this.#client = args.client;
    this.#options = args.options;
    this.#logger = args.logger.child({ component: 'scaling' });
    this.#fieldManager = args.fieldManager;
    this.metrics = new ScalingMetrics(args.registry);
    this.#prometheus = new PrometheusClient(
      args.options.queryTimeoutMs === undefined ? {} : { timeoutMs: args.options.queryTimeoutMs },
    );
    this.#scaler = new TargetScaler(kubeScaleApi(args.client, args.fieldManager), {
      onWrite: (_target, _from, to) => this.metrics.scaleWrites.inc({ direction: to === 0 ? 'down' : 'up' }),
    });
  }

  /** Creates scaling and starts the resolver API (unless `resolverApiPort: null`). */
  static async start(args: {
    client: RawRequester & MergePatcher & StatusPatcher;
    registry: Registry;
    logger: Logger;
    fieldManager: string;
    options?: ScalingOptions;
  }): Promise<Scaling> {
    const scaling = new Scaling({ ...args, options: args.options ?? {} });
    const port = args.options?.resolverApiPort;
    if (port !== null) {
      scaling.#server = await startResolverApi({
        port: port ?? DEFAULT_RESOLVER_API_PORT,
        ...(args.options?.resolverApiHost ? { host: args.options.resolverApiHost } : {}),
        backend: () => scaling.#leading?.backend,
        registry: args.registry,
        logger: scaling.#logger,
      });
    }
    return scaling;
  }

  /** The resolver API's port, if it is served. */
  get resolverApiPort(): number | undefined {
    return this.#server?.port;
  }

  /** The polling loop while leading. */
  get poller(): ScalePoller | undefined {
    return this.#leading?.poller;
  }

  /** Starts the loop and serves wake-ups with the leader's controller and directory. */
  lead(parts: LeaderParts): void {
    if (this.#leading) return;
    const { controller, directory } = parts;
    const actions = new ScalingActions({
      client: this.#client,
      scaler: this.#scaler,
      events: controller.events,
      fieldManager: this.#fieldManager,
      logger: this.#logger,
      traffic: new TrafficMemory(Date.now()),
    });
    const wake = new WakeUpService({
      lookup: {
        entry: (key) => directory.get(key),
        elastiService: (namespace, name) => controller.elastiService(namespace, name),
      },
      actions,
      metrics: this.metrics,
      ...(this.#options.wakeSettleMs === undefined ? {} : { settleMs: this.#options.wakeSettleMs }),
    });
    const poller = new ScalePoller({
      source: { list: () => controller.elastiServices() },
      resolver: controller.resolverEndpoints,
      actions,
      prometheus: this.#prometheus,
      defaults: {
        serverAddress: this.#options.prometheusServerAddress,
        authorizationHeader: this.#options.prometheusAuthorizationHeader,
      },
      metrics: this.metrics,
      logger: this.#logger,
      ...(this.#options.pollingIntervalMs === undefined
        ? {}
        : { intervalMs: this.#options.pollingIntervalMs }),
      ...(this.#options.concurrency === undefined ? {} : { concurrency: this.#options.concurrency }),
      ...(this.#options.spread === undefined ? {} : { spread: this.#options.spread }),
    });
    const backend: ResolverApiBackend = {
      wake: (namespace, service) => wake.wake(namespace, service),
      crdCache: () => crdCacheEntries(directory.list(), (ns, name) => controller.elastiService(ns, name)),
    };
    this.#leading = { poller, backend, actions };
    poller.start();
  }

  /** Stops the loop and stops serving wake-ups (leadership lost, or shutting down). */
  async unlead(): Promise<void> {
    const leading = this.#leading;
    this.#leading = undefined;
    await leading?.poller.stop();
  }

  /** Stops everything: the loop, the resolver API, the Prometheus connections. */
  async stop(): Promise<void> {
    await this.unlead();
    await this.#server?.close();
    this.#server = undefined;
    await this.#prometheus.close();
  }
}

/** The directory's entries for `/crd-cache`, each with the freshest status known. */
export function crdCacheEntries(
  entries: readonly { key: string; details: CRDEntry }[],
  cached: (namespace: string, name: string) => ElastiService | undefined,
): CrdCacheEntry[] {
  return entries.map(({ key, details }) => ({
    key,
    crdName: details.crdName,
    spec: details.spec,
    // The directory's copy is as of the last reconcile; status-only writes (lastScaledUpTime)
    // reach the cache at once.
    status: cached(details.namespace, details.crdName)?.status ?? details.status,
  }));
}
