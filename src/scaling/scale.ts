/**
 * Writes a scale target's replicas through its `/scale` subresource (Deployment, StatefulSet,
 * Argo Rollout alike: `autoscaling/v1` Scale), one operation per target at a time.
 *
 * - **Skip when already there**, judged on `spec.replicas` (what was asked for, whether or not
 *   the Pods exist yet): a scale-up skips a target at or above the wanted count — it never scales
 *   an up target down — and a scale-down skips a target already at zero.
 * - **One operation per target**: operations on one target run in order, never overlapping,
 *   whoever asks (the polling loop, the resolver API).
 * - **Bursts collapse**: an operation asking for what an operation already queued or running on
 *   the same target asks for joins it, so 100 simultaneous wake-ups are one GET and one PUT.
 * - The write is a PUT of the Scale read just before (optimistic concurrency on its
 *   resourceVersion); a conflict re-reads and retries, at most {@link MAX_CONFLICT_RETRIES} times.
 * - Hooks run inside the operation, only when a write is due: `veto` (re-check, e.g. a wake-up
 *   that happened while the scale-down was queued) and `beforeWrite` (e.g. pausing KEDA).
 *
 * @module
 */

import type { GroupVersionResource } from '../kube/index.ts';
import { isConflict, resourcePath } from '../kube/index.ts';

/** An `autoscaling/v1` Scale, the fields used. */
export interface Scale {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string; resourceVersion?: string; [field: string]: unknown };
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

/** Reads and writes `/scale`. */
export interface ScaleApi {
  getScale(gvr: GroupVersionResource, namespace: string, name: string, signal?: AbortSignal): Promise<Scale>;
  replaceScale(
    gvr: GroupVersionResource,
    namespace: string,
    name: string,
    scale: Scale,
    signal?: AbortSignal,
  ): Promise<Scale>;
}

/** The raw-request half of `KubeClient`. */
export interface RawRequester {
  request<T>(
    method: 'GET' | 'PUT',
    path: string,
    body?: unknown,
    opts?: { signal?: AbortSignal },
  ): Promise<T>;
}

/** {@link ScaleApi} over a `KubeClient`. */
export function kubeScaleApi(client: RawRequester, fieldManager?: string): ScaleApi {
  const query = fieldManager ? `?fieldManager=${encodeURIComponent(fieldManager)}` : '';
  return {
    getScale: (gvr, namespace, name, signal) =>
      client.request<Scale>(
        'GET',
        resourcePath(gvr, namespace, name, 'scale'),
        undefined,
        signal ? { signal } : {},
      ),
    replaceScale: (gvr, namespace, name, scale, signal) =>
      client.request<Scale>(
        'PUT',
        `${resourcePath(gvr, namespace, name, 'scale')}${query}`,
        scale,
        signal ? { signal } : {},
      ),
  };
}

/** Which target. */
export interface TargetRef {
  readonly gvr: GroupVersionResource;
  /** Canonical kind, for messages. */
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** What to do with it. */
export interface ScaleRequest {
  /** `up`: at least `replicas` (never lowered); `down`: to zero. */
  readonly direction: 'up' | 'down';
  /** Wanted replicas; 0 for `down`. */
  readonly replicas: number;
  /** Called when a write is due; a string cancels it (the reason). */
  readonly veto?: () => string | undefined;
  /** Called when a write is due, before it; throwing cancels the write. */
  readonly beforeWrite?: () => Promise<void>;
  readonly signal?: AbortSignal;
}

/** What happened. */
export type ScaleResult =
  | { readonly action: 'scaled'; readonly from: number; readonly to: number }
  | {
      readonly action: 'skipped';
      readonly reason: 'already' | 'vetoed';
      readonly current: number;
      readonly detail: string;
    };

/** Conflicts retried per operation. */
export const MAX_CONFLICT_RETRIES = 3;

interface Queued {
  readonly direction: 'up' | 'down';
  readonly replicas: number;
  readonly promise: Promise<ScaleResult>;
}

/** See the module documentation. */
export class TargetScaler {
  readonly #api: ScaleApi;
  readonly #onWrite: ((target: TargetRef, from: number, to: number) => void) | undefined;
  /** Per target: the operations queued or running, oldest first. */
  readonly #queues = new Map<string, Queued[]>();

  constructor(
    api: ScaleApi,
    options: { onWrite?: (target: TargetRef, from: number, to: number) => void } = {},
  ) {
    this.#api = api;
    this.#onWrite = options.onWrite;
  }

  /** Operations queued or running, over all targets (for tests and metrics). */
  get pending(): number {
    let n = 0;
    for (const queue of this.#queues.values()) n += queue.length;
    return n;
  }

  /**
   * Scales `target` as `request` says, after the operations already queued for it. Joins an
   * operation asking for the same thing (its hooks then are the first caller's).
   */
  scale(target: TargetRef, request: ScaleRequest): Promise<ScaleResult> {
    if (request.direction === 'down' && request.replicas !== 0) {
      throw new RangeError(`a scale-down goes to 0 replicas, got ${request.replicas}`);
    }
    if (request.direction === 'up' && !(Number.isInteger(request.replicas) && request.replicas >= 1)) {
      throw new RangeError(`a scale-up needs an integer >= 1 replicas, got ${request.replicas}`);
    }
    const key = `${target.namespace}/${target.gvr.resource}.${target.gvr.group}/${target.name}`;
    const queue = this.#queues.get(key) ?? [];
    // Join the newest operation if it asks for the same: anything older would be followed by it.
    const last = queue.at(-1);
    if (last && last.direction === request.direction && last.replicas === request.replicas)
      return last.promise;
    const previous = last?.promise.catch(() => undefined) ?? Promise.resolve();
    const entry: Queued = {
      direction: request.direction,
      replicas: request.replicas,
      // Leaves the queue before any caller sees the outcome, so a later call never joins a
      // finished operation.
      promise: previous
        .then(() => this.#run(target, request))
        .finally(() => {
          const current = this.#queues.get(key);
          const i = current?.indexOf(entry) ?? -1;
          if (current && i >= 0) current.splice(i, 1);
          if (current?.length === 0) this.#queues.delete(key);
        }),
    };
    queue.push(entry);
    this.#queues.set(key, queue);
    return entry.promise;
  }

  async #run(target: TargetRef, request: ScaleRequest): Promise<ScaleResult> {
    for (let attempt = 0; ; attempt++) {
      request.signal?.throwIfAborted();
      const scale = await this.#api.getScale(target.gvr, target.namespace, target.name, request.signal);
      const current = scale.spec?.replicas ?? 0;
      if (request.direction === 'up' ? current >= request.replicas : current === 0) {
        return {
          action: 'skipped',
          reason: 'already',
          current,
          detail: `${target.kind}/${target.name} already at ${current} replicas`,
        };
      }
      const vetoed = request.veto?.();
      if (vetoed !== undefined) return { action: 'skipped', reason: 'vetoed', current, detail: vetoed };
      if (attempt === 0) await request.beforeWrite?.();
      try {
        await this.#api.replaceScale(
          target.gvr,
          target.namespace,
          target.name,
          { ...scale, spec: { ...scale.spec, replicas: request.replicas } },
          request.signal,
        );
      } catch (error) {
        if (isConflict(error) && attempt < MAX_CONFLICT_RETRIES) continue;
        throw error;
      }
      this.#onWrite?.(target, current, request.replicas);
      return { action: 'scaled', from: current, to: request.replicas };
    }
  }
}
