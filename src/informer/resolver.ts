/**
 * The resolver informer: one field-selected watch on the resolver Deployment (upstream's
 * `InitializeResolverInformer`), outside the shared groups because its handlers are the
 * controller's, not a requester's. The health monitor watches over it like any upstream.
 *
 * @module
 */

import type {
  GroupVersionResource,
  KubeObject,
  ListWatchTarget,
  ResourceEventHandler,
} from '../kube/index.ts';
import { boundedSignal, errorMessage, statusOf } from '../kube/index.ts';
import {
  InformerAbortedError,
  type InformerErrorContext,
  InformerManagerError,
  InformerSyncTimeoutError,
  ManagerStoppedError,
} from './errors.ts';
import { initialMemory, type MonitorMemory } from './health.ts';
import type {
  InformerFactory,
  ResolverConfig,
  SharedInformerLike,
  UpstreamHealth,
  UpstreamInfo,
} from './types.ts';
import type { MonitoredInformer } from './upstream.ts';

/** The resolver's deployment name when the config gives none (upstream's constant). */
export const DEFAULT_RESOLVER_DEPLOYMENT = 'elasti-resolver';

const DEPLOYMENTS: GroupVersionResource = { group: 'apps', version: 'v1', resource: 'deployments' };

/** The informer on the resolver Deployment. */
export class ResolverWatch implements MonitoredInformer {
  readonly id = 'resolver';
  readonly scope = 'resolver';
  readonly namespace: string;
  readonly name: string;
  readonly target: ListWatchTarget;
  readonly informer: SharedInformerLike;
  memory: MonitorMemory = initialMemory;
  health: UpstreamHealth = 'Starting';

  constructor(factory: InformerFactory, config: ResolverConfig) {
    this.namespace = config.namespace;
    this.name = config.deploymentName ?? DEFAULT_RESOLVER_DEPLOYMENT;
    this.target = {
      gvr: DEPLOYMENTS,
      namespace: this.namespace,
      fieldSelector: `metadata.name=${this.name}`,
    };
    this.informer = factory(this.target, `resolver/${this.namespace}/${this.name}`);
  }

  /**
   * Starts the informer with `handlers` and resolves once its initial state is cached. On failure
   * the informer is stopped and the error says why: {@link InformerSyncTimeoutError} (with the
   * informer's last HTTP status), {@link InformerAbortedError}, {@link ManagerStoppedError} when
   * `lifetime` ended, or {@link InformerManagerError}.
   */
  async start(
    handlers: ResourceEventHandler<KubeObject>,
    bounds: { timeoutMs: number; signal: AbortSignal | undefined; lifetime: AbortSignal },
  ): Promise<void> {
    const context: InformerErrorContext = {
      key: 'resolver',
      gvr: DEPLOYMENTS,
      namespace: this.namespace,
      name: this.name,
    };
    const bound = boundedSignal(bounds.timeoutMs, [bounds.lifetime, bounds.signal]);
    try {
      this.informer.addEventHandler(handlers, { name: 'resolver' });
      this.informer.start();
      await this.informer.waitForSync(bound.signal);
      this.health = 'Healthy';
    } catch (error) {
      await this.stop();
      if (bounds.lifetime.aborted)
        throw new ManagerStoppedError('stopped while starting the resolver informer');
      if (bound.timedOut()) {
        const last = this.informer.status().lastError;
        throw new InformerSyncTimeoutError(bounds.timeoutMs, {
          ...context,
          status: statusOf(last),
          cause: last,
        });
      }
      if (bounds.signal?.aborted) throw new InformerAbortedError({ ...context, cause: bounds.signal.reason });
      throw new InformerManagerError(`resolver informer failed: ${errorMessage(error)}`, {
        ...context,
        cause: error,
      });
    } finally {
      bound.dispose();
    }
  }

  /** What `Manager.upstreams()` reports about this informer. */
  info(): UpstreamInfo {
    const status = this.informer.status();
    return {
      id: this.id,
      scope: this.scope,
      target: this.target,
      names: 1,
      synced: status.synced,
      status,
      health: this.health,
      monitorRestarts: this.memory.restarts,
    };
  }

  /** Stops the informer; never rejects. */
  async stop(): Promise<void> {
    await this.informer.stop().catch(() => undefined);
  }
}
