/**
 * What the reconciler keeps in memory for each ElastiService, keyed by `namespace/name`: the
 * watches it registered with the informer Manager (the scale target always, the public Service in
 * proxy mode), the uid it last saw (to notice a delete-and-recreate under the same name) and the
 * `spec.service` it last acted on (to clean up after the old Service when it changes).
 *
 * Every watch handler does one thing: enqueue the ElastiService's request. The reconcile then reads
 * the current state, so which event fired never matters.
 *
 * @module
 */
import type { ElastiService } from '../api/v1alpha1/index.ts';
import { InformerNotFoundError, resourceTypeOf, TargetNotFoundError } from '../informer/index.ts';
import type { GroupVersionResource, Logger, ResourceEventHandler } from '../kube/index.ts';
import { formatGvr, resources } from '../kube/index.ts';
import type { ReconcileRequest } from '../runtime/index.ts';
import { PublicServiceNotFoundError, ScaleTargetNotFoundError } from './errors.ts';
import type { ServiceDirectory, WatchManager } from './types.ts';

/** A watch registered with the Manager. */
export interface HeldWatch {
  readonly key: string;
  readonly gvr: GroupVersionResource;
  readonly name: string;
}

/** What is held in memory for one ElastiService. */
export interface Held {
  /** The ElastiService this is held for. */
  readonly namespace: string;
  readonly name: string;
  uid: string | undefined;
  target: HeldWatch | undefined;
  publicService: HeldWatch | undefined;
  /** The `spec.service` last acted on (to clean up when it changes). */
  service: string | undefined;
}

/** Dependencies of {@link ElastiServiceWatches}. */
export interface ElastiServiceWatchesOptions {
  manager: WatchManager;
  directory: ServiceDirectory;
  /** Queues a reconcile of an ElastiService; every watch handler calls it. */
  enqueue: (request: ReconcileRequest) => void;
  logger: Logger;
}

/** See the module documentation. */
export class ElastiServiceWatches {
  readonly #manager: WatchManager;
  readonly #directory: ServiceDirectory;
  readonly #enqueue: (request: ReconcileRequest) => void;
  readonly #logger: Logger;
  readonly #held = new Map<string, Held>();

  constructor(options: ElastiServiceWatchesOptions) {
    this.#manager = options.manager;
    this.#directory = options.directory;
    this.#enqueue = options.enqueue;
    this.#logger = options.logger;
  }

  /** Keys of the ElastiServices something is held for, sorted. */
  keys(): string[] {
    return [...this.#held.keys()].sort();
  }

  /** What is held for `key`, if anything. */
  get(key: string): Held | undefined {
    return this.#held.get(key);
  }

  /** What is held for `key`, created (with no watches yet) on first use. */
  hold(key: string, es: ElastiService): Held {
    let held = this.#held.get(key);
    if (!held) {
      const namespace = es.metadata.namespace ?? '';
      const name = es.metadata.name ?? '';
      held = {
        namespace,
        name,
        uid: es.metadata.uid,
        target: undefined,
        publicService: undefined,
        // After a restart nothing is held, but the directory may still know the old service.
        service: this.#directory.findByCRD(namespace, name)?.details.spec.service,
      };
      this.#held.set(key, held);
    }
    return held;
  }

  /**
   * Watches the scale target, replacing the watch of a previous ref. The watch is registered
   * even when the target does not exist yet, so that its creation (an `onAdd`) reconciles the
   * ElastiService at once instead of whenever the retry backoff comes round.
   * @throws {ScaleTargetNotFoundError} when the Manager finds no such object (only a Manager
   * that ignores `allowMissing`).
   */
  async watchTarget(
    key: string,
    es: ElastiService,
    held: Held,
    gvr: GroupVersionResource,
    kind: string,
    name: string,
  ): Promise<void> {
    const current = held.target;
    if (current && sameWatch(current, gvr, name)) return;
    if (current) {
      this.#logger.info(
        { es: key, from: `${formatGvr(current.gvr)} ${current.name}`, to: `${formatGvr(gvr)} ${name}` },
        'scale target changed',
      );
      await this.#stopWatch(current);
      held.target = undefined;
    }
    const namespace = es.metadata.namespace ?? '';
    try {
      held.target = await this.#addWatch(es, gvr, name, true);
    } catch (error) {
      if (error instanceof TargetNotFoundError)
        throw new ScaleTargetNotFoundError(kind, namespace, name, error);
      throw error;
    }
  }

  /**
   * Watches the public Service (proxy mode), so the private Service follows its changes.
   * @throws {PublicServiceNotFoundError} when the Manager finds no such Service.
   */
  async watchPublicService(es: ElastiService, held: Held, service: string): Promise<void> {
    const current = held.publicService;
    if (current && current.name === service) return;
    if (current) {
      await this.#stopWatch(current);
      held.publicService = undefined;
    }
    try {
      held.publicService = await this.#addWatch(es, resources.services.gvr, service);
    } catch (error) {
      if (error instanceof TargetNotFoundError) {
        throw new PublicServiceNotFoundError(es.metadata.namespace ?? '', service, error);
      }
      throw error;
    }
  }

  /** Stops the watch on the public Service, if any (the ElastiService now fronts another one). */
  async unwatchPublicService(key: string): Promise<void> {
    const held = this.#held.get(key);
    if (held?.publicService) {
      await this.#stopWatch(held.publicService);
      held.publicService = undefined;
    }
  }

  /**
   * Stops every watch of one ElastiService and forgets it. A Manager failure is thrown, not
   * logged: the finalizer calls this, and must not let the ElastiService go while its watches
   * may still be registered.
   */
  async stop(key: string, namespace: string, name: string): Promise<void> {
    await this.#manager.stopForCRD(name, namespace);
    this.#held.delete(key);
  }

  /** Stops the watches of one ElastiService, if anything is held for it, and forgets it. Best effort. */
  async forget(key: string, namespace: string, name: string): Promise<void> {
    if (this.#held.has(key)) await this.#stopBestEffort(key, namespace, name);
  }

  /** Stops every watch registered here (the controller is stopping). Best effort. */
  async releaseAll(): Promise<void> {
    for (const [key, { namespace, name }] of [...this.#held]) {
      await this.#stopBestEffort(key, namespace, name);
    }
  }

  async #stopBestEffort(key: string, namespace: string, name: string): Promise<void> {
    try {
      await this.#manager.stopForCRD(name, namespace);
    } catch (error) {
      this.#logger.warn({ err: error, es: key }, 'failed to stop watches');
    }
    this.#held.delete(key);
  }

  async #addWatch(
    es: ElastiService,
    gvr: GroupVersionResource,
    name: string,
    allowMissing = false,
  ): Promise<HeldWatch> {
    const namespace = es.metadata.namespace ?? '';
    const crdName = es.metadata.name ?? '';
    const enqueue = (): void => this.#enqueue({ namespace, name: crdName });
    const handlers: ResourceEventHandler = { onAdd: enqueue, onUpdate: enqueue, onDelete: enqueue };
    await this.#manager.add(
      {
        req: { name: crdName, namespace },
        resourceName: name,
        resourceNamespace: namespace,
        groupVersionResource: gvr,
        handlers,
      },
      allowMissing ? { allowMissing } : undefined,
    );
    const watchKey = this.#manager.getKey({
      namespace,
      crdName,
      resourceType: resourceTypeOf(gvr),
      resourceName: name,
    });
    return { key: watchKey, gvr, name };
  }

  async #stopWatch(watch: HeldWatch): Promise<void> {
    try {
      await this.#manager.stopInformer(watch.key);
    } catch (error) {
      // Not registered (any more): there is nothing left to stop.
      if (!(error instanceof InformerNotFoundError)) {
        this.#logger.warn({ err: error, key: watch.key }, 'failed to stop watch');
      }
    }
  }
}

function sameWatch(watch: HeldWatch, gvr: GroupVersionResource, name: string): boolean {
  return (
    watch.name === name &&
    watch.gvr.group === gvr.group &&
    watch.gvr.version === gvr.version &&
    watch.gvr.resource === gvr.resource
  );
}
