/**
 * One registration: a RequestWatch accepted under its key, with its own delivery queue (the
 * engine's `HandlerQueue`).
 *
 * @module
 */
import {
  type Delta,
  type GroupVersionResource,
  HandlerQueue,
  type KubeObject,
  type Logger,
  type ResourceEventHandler,
} from '../kube/index.ts';
import type { WatchGroup } from './group.ts';
import { errorLabel, type ManagerMetrics } from './metrics.ts';
import type { GroupMember, NameEntry } from './name-entry.ts';
import type { RegistrationInfo, RegistrationState, Requester, RequestWatch } from './types.ts';

/** A registration as the Manager keeps it. */
export class Registration implements GroupMember {
  readonly key: string;
  /** The key as upstream spells it (resource without group), for `stopInformer` compatibility. */
  readonly legacyKey: string;
  readonly requester: Requester;
  readonly gvr: GroupVersionResource;
  readonly namespace: string;
  readonly name: string;
  readonly since: number;
  /** Its own serial queue, started at once: it is fed from an informer handler, already off the reflector's stack. */
  readonly delivery: HandlerQueue;
  /** False while `add` is in progress. */
  active = false;
  group: WatchGroup | undefined;
  entry: NameEntry | undefined;

  constructor(args: {
    key: string;
    legacyKey: string;
    request: RequestWatch;
    since: number;
    /** Each handler call is counted here, and a failing one logged. */
    metrics: ManagerMetrics;
    logger: Logger;
  }) {
    const { request } = args;
    this.key = args.key;
    this.legacyKey = args.legacyKey;
    // Copies of the identifying fields only: the caller may reuse or mutate its request object.
    this.requester = { name: request.req.name, namespace: request.req.namespace };
    this.gvr = { ...request.groupVersionResource };
    this.namespace = request.resourceNamespace;
    this.name = request.resourceName;
    this.since = args.since;
    const { metrics, logger } = args;
    const crd = `${this.requester.namespace}/${this.requester.name}`;
    this.delivery = new HandlerQueue(request.handlers as ResourceEventHandler<KubeObject>, {
      start: 'now',
      report: (change, error) => {
        metrics.handlerCounter.inc({ crd_name: crd, key: this.key, error: errorLabel(error) });
        if (error !== undefined)
          logger.error({ key: this.key, event: change.type, err: error }, 'informer handler failed');
      },
    });
  }

  deliver(change: Delta): void {
    this.delivery.push(change);
  }

  get state(): RegistrationState {
    if (this.entry?.gone !== undefined) return 'TargetGone';
    return this.active ? 'Active' : 'Syncing';
  }

  info(): RegistrationInfo {
    return {
      key: this.key,
      requester: { ...this.requester },
      gvr: { ...this.gvr },
      namespace: this.namespace,
      name: this.name,
      state: this.state,
      upstreamId: this.entry?.source?.id,
      migrating: this.entry?.next !== undefined,
      since: this.since,
      queueDepth: this.delivery.depth,
    };
  }
}

/** An `add` in progress under its key: joined by a concurrent `add`, cancelled by a stop. */
export interface PendingAdd {
  readonly key: string;
  readonly requester: Requester;
  readonly promise: Promise<string>;
  readonly cancel: AbortController;
}
