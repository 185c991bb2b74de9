/**
 * One registration: a RequestWatch accepted under its key, with its own delivery queue.
 *
 * @module
 */
import type { GroupVersionResource, KubeObject, ResourceEventHandler } from '../kube/index.ts';
import { type Change, Delivery, type DeliveryReport } from './delivery.ts';
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
  readonly delivery: Delivery;
  /** False while `add` is in progress. */
  active = false;
  group: WatchGroup | undefined;
  entry: NameEntry | undefined;

  constructor(args: {
    key: string;
    legacyKey: string;
    request: RequestWatch;
    since: number;
    report: DeliveryReport<KubeObject>;
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
    this.delivery = new Delivery(request.handlers as ResourceEventHandler<KubeObject>, args.report);
  }

  deliver(change: Change): void {
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
