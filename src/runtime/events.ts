/**
 * Kubernetes Events (core/v1) about any object a controller reconciles, as `kubectl describe`
 * shows them (moved here from the ElastiService controller, which uses it as before).
 *
 * Repeats are aggregated the way the apiserver's own clients do: the same object, type, reason
 * and message within {@link EventRecorderOptions.aggregateWindowMs} bump `count` and
 * `lastTimestamp` of the first Event instead of creating a new one, so a reconcile retried with
 * backoff for hours leaves one Event, not thousands. Recording is fire-and-forget: a failure is
 * logged and never fails the reconcile that reported it.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import {
  errorMessage,
  isNamespaceTerminating,
  isNotFound,
  type KubeObject,
  type Logger,
  resources,
  silentLogger,
} from '../kube/index.ts';
import type { ResourceClient } from './client.ts';

const EVENT_GVR = resources.events.gvr;

/** Event types of core/v1 Events. */
export type EventType = 'Normal' | 'Warning';

/** Records Kubernetes Events. Never throws: a failure to record is logged. */
export interface EventRecorder {
  record(about: KubeObject, type: EventType, reason: string, message: string): void;
}

/** Options of {@link KubeEventRecorder}. */
export interface EventRecorderOptions {
  /** `source.component` and `reportingComponent`. */
  component: string;
  /** `reportingInstance` (e.g. the pod name). Default: the host name. */
  instance?: string;
  logger?: Logger;
  /** Repeats within this window are aggregated (ms). Default 10 minutes. */
  aggregateWindowMs?: number;
  /** Most aggregation entries kept (oldest dropped first). Default 4096. */
  maxTracked?: number;
  /** Default `Date.now`. */
  now?: () => number;
}

/** A core/v1 Event as the controller writes it. */
export interface CoreEvent extends KubeObject {
  involvedObject: {
    apiVersion?: string;
    kind?: string;
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
  };
  reason: string;
  message: string;
  type: EventType;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string };
  reportingComponent: string;
  reportingInstance: string;
}

/** Longest message kept (the events API caps notes at 1 kB). */
export const MAX_EVENT_MESSAGE = 1024;

interface Tracked {
  name: string;
  namespace: string;
  count: number;
  firstAt: number;
  lastAt: number;
}

/** Writes Events through a {@link ResourceClient}. */
export class KubeEventRecorder implements EventRecorder {
  readonly #client: ResourceClient;
  readonly #component: string;
  readonly #instance: string;
  readonly #logger: Logger;
  readonly #windowMs: number;
  readonly #maxTracked: number;
  readonly #now: () => number;
  /** Aggregation key → the Event it goes to. A Map iterates in insertion order: oldest first. */
  readonly #tracked = new Map<string, Tracked>();
  /** Writes per aggregation key are chained so count updates never race each other. */
  readonly #chains = new Map<string, Promise<void>>();
  readonly #pending = new Set<Promise<void>>();

  constructor(client: ResourceClient, options: EventRecorderOptions) {
    this.#client = client;
    this.#component = options.component;
    this.#instance = options.instance ?? process.env.HOSTNAME ?? 'unknown';
    this.#logger = (options.logger ?? silentLogger).child({ component: 'event-recorder' });
    this.#windowMs = options.aggregateWindowMs ?? 10 * 60_000;
    this.#maxTracked = options.maxTracked ?? 4096;
    this.#now = options.now ?? Date.now;
  }

  record(about: KubeObject, type: EventType, reason: string, message: string): void {
    const namespace = about.metadata.namespace;
    if (!namespace || !about.metadata.name) {
      this.#logger.warn({ reason }, 'event about an object without namespace/name dropped');
      return;
    }
    const text = message.length > MAX_EVENT_MESSAGE ? `${message.slice(0, MAX_EVENT_MESSAGE - 1)}…` : message;
    const key = [about.metadata.uid ?? `${namespace}/${about.metadata.name}`, type, reason, text].join(
      '\u0000',
    );
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.#write(key, about, namespace, type, reason, text));
    this.#chains.set(key, next);
    const tracked = next.finally(() => {
      this.#pending.delete(tracked);
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
    this.#pending.add(tracked);
  }

  /** Resolves once every Event recorded so far has been written (or failed). For tests and shutdown. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  async #write(
    key: string,
    about: KubeObject,
    namespace: string,
    type: EventType,
    reason: string,
    message: string,
  ): Promise<void> {
    const now = this.#now();
    const stamp = `${new Date(now).toISOString().slice(0, 19)}Z`;
    try {
      const tracked = this.#tracked.get(key);
      if (tracked && now - tracked.firstAt <= this.#windowMs) {
        try {
          await this.#client.patch(
            EVENT_GVR,
            tracked.namespace,
            tracked.name,
            { count: tracked.count + 1, lastTimestamp: stamp },
            'merge',
          );
          tracked.count++;
          tracked.lastAt = now;
          return;
        } catch (error) {
          // The Event expired (events have a TTL) or was deleted: start a new one.
          if (!isNotFound(error)) throw error;
        }
      }
      const name = `${about.metadata.name}.${randomBytes(8).toString('hex')}`;
      const event: CoreEvent = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: about.apiVersion,
          kind: about.kind,
          name: about.metadata.name,
          namespace,
          uid: about.metadata.uid,
          resourceVersion: about.metadata.resourceVersion,
        },
        reason,
        message,
        type,
        count: 1,
        firstTimestamp: stamp,
        lastTimestamp: stamp,
        source: { component: this.#component },
        reportingComponent: this.#component,
        reportingInstance: this.#instance,
      };
      await this.#client.create(EVENT_GVR, namespace, event);
      this.#tracked.delete(key);
      this.#tracked.set(key, { name, namespace, count: 1, firstAt: now, lastAt: now });
      while (this.#tracked.size > this.#maxTracked) {
        const oldest = this.#tracked.keys().next().value;
        if (oldest === undefined) break;
        this.#tracked.delete(oldest);
      }
    } catch (error) {
      const fields = {
        error: errorMessage(error),
        object: `${namespace}/${about.metadata.name ?? ''}`,
        reason,
        type,
      };
      // While a namespace is deleted nothing new may be created in it: expected, not a problem.
      if (isNamespaceTerminating(error) || isNotFound(error)) {
        this.#logger.debug(fields, 'event not recorded: its namespace is being deleted or gone');
      } else {
        this.#logger.warn(fields, 'failed to record event');
        this.#logger.debug({ err: error }, 'failed to record event (detail)');
      }
    }
  }
}
