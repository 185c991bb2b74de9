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
  type HandlerQueueReport,
  type KubeObject,
  type ResourceEventHandler,
} from '../kube/index.ts';
import type { WatchGroup } from './group.ts';
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
    report: HandlerQueueReport<KubeObject>;
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
    this.delivery = new HandlerQueue(request.handlers as ResourceEventHandler<KubeObject>, {
      start: 'now',
      report: args.report,
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
