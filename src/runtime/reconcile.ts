/**
 * The contract between a controller and its reconciler (controller-runtime's `reconcile`
 * package, kube-rs's `Action`): a request names one primary object, the reconciler makes the
 * world match it and says whether to look again.
 *
 * @module
 */
import type { KubeObjectLike, Logger } from '../kube/index.ts';

/** The primary object to reconcile: `namespace` is undefined for a cluster-scoped kind. */
export interface ReconcileRequest {
  readonly namespace?: string | undefined;
  readonly name: string;
}

/**
 * What the reconciler asks for afterwards. Nothing (or `{}`): done until the next event.
 * `requeueAfterMs`: reconcile again after that delay (periodic checks; the key's backoff is
 * reset). `requeue: true`: again, with the key's rate-limited backoff (like an error, but not
 * logged or counted as one).
 */
export interface ReconcileResult {
  readonly requeueAfterMs?: number;
  readonly requeue?: boolean;
}

/** What a reconcile gets besides its request. */
export interface ReconcileContext<T extends KubeObjectLike> {
  /**
   * The primary object as the cache holds it now (`undefined`: deleted, or not there yet). Read
   * at the start of this reconcile, never a copy captured when the event arrived.
   */
  readonly object: T | undefined;
  /** Aborted when the controller stops: pass it to API calls. */
  readonly signal: AbortSignal;
  /** Bound to the controller and the request. */
  readonly logger: Logger;
  /** How many times this key was requeued with backoff since its last success. */
  readonly retries: number;
}

/** What a reconcile resolves with; `void` so that an async reconciler may return nothing. */
// biome-ignore lint/suspicious/noConfusingVoidType: `async () => {}` is Promise<void>, which must be accepted
export type ReconcileOutput = ReconcileResult | undefined | void;

/** Reconciles one request; resolves with what to do next (nothing: done until the next event). */
export type ReconcileFunc<T extends KubeObjectLike> = (
  request: ReconcileRequest,
  ctx: ReconcileContext<T>,
) => Promise<ReconcileOutput>;

/** A reconciler: a function, or an object with a `reconcile` method. */
export type Reconciler<T extends KubeObjectLike> = ReconcileFunc<T> | { reconcile: ReconcileFunc<T> };

/**
 * A failure that retrying cannot fix (an invalid spec, a missing permission the user must
 * grant): logged and counted, never requeued. The next event on the object reconciles it again.
 *
 * @example
 * ```ts
 * if (!isValid(obj)) throw new TerminalError(`spec.size must be positive, got ${obj.spec.size}`);
 * ```
 */
export class TerminalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/** The work-queue key of a request: `namespace/name`, or `name` when cluster-scoped. */
export function requestKey(request: ReconcileRequest): string {
  return request.namespace ? `${request.namespace}/${request.name}` : request.name;
}

/** The request of a work-queue key (inverse of {@link requestKey}). */
export function requestOfKey(key: string): ReconcileRequest {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
