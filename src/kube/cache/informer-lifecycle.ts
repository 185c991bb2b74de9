/**
 * What a {@link SharedInformer}'s user can see of its failures: the error `waitForSync` rejects
 * with ({@link InformerSyncError}, carrying the cause the reflector already knows: HTTP status,
 * the server's message, the GVR), and the lifecycle hook ({@link InformerLifecycleListener}:
 * errors, phase changes, first sync).
 *
 * Why not fail `waitForSync` at the first 403: like client-go, the informer keeps retrying with
 * backoff (RBAC may be granted a moment later, an apiserver may come back), so "persistent" is a
 * judgement only the caller can make — with a deadline. At that deadline the rejection says why.
 *
 * @module
 */

import type { ListWatchTarget, Logger, ReflectorStatus } from '../core/index.ts';
import { KubeApiError, KubeTransportError, statusOf } from '../core/index.ts';

/**
 * `waitForSync` gave up before the informer's first complete list: its `signal` aborted (a
 * timeout, or the caller's own abort). The message names the informer and the last list/watch
 * error, so a 403 or a refused connection is visible in the rejection itself.
 *
 * @example
 * ```ts
 * try {
 *   await informer.waitForSync(AbortSignal.timeout(30_000));
 * } catch (error) {
 *   if (error instanceof InformerSyncError && error.status === 403) {
 *     console.error(`missing RBAC: ${error.message}`);
 *   }
 *   throw error;
 * }
 * ```
 */
export class InformerSyncError extends Error {
  override readonly name = 'InformerSyncError';
  /** The informer's name (the GVR, plus `@namespace` when namespaced, unless named otherwise). */
  readonly informer: string;
  readonly target: ListWatchTarget;
  /** True when the signal's reason was a timeout (`AbortSignal.timeout`). */
  readonly timedOut: boolean;
  /** The signal's reason. */
  readonly abortReason: unknown;
  /** The last list/watch error before giving up (also `cause`); `undefined` when none happened. */
  readonly lastError: Error | undefined;
  /** HTTP status of {@link lastError}, when the server answered. */
  readonly status: number | undefined;
  /** Consecutive failed attempts at that moment. */
  readonly failures: number;
  /** The reflector's state at that moment. */
  readonly phase: ReflectorStatus['phase'];

  constructor(informer: string, target: ListWatchTarget, status: ReflectorStatus, abortReason: unknown) {
    const timedOut = isTimeoutReason(abortReason);
    const why = timedOut ? 'timed out' : `aborted (${reasonText(abortReason)})`;
    const last = status.lastError;
    const detail = last
      ? `last error after ${status.consecutiveFailures} consecutive failure(s): ${describeCause(last)}`
      : `no list/watch error so far (phase ${status.phase})`;
    super(`informer ${informer} did not sync: ${why}; ${detail}`, last ? { cause: last } : undefined);
    this.informer = informer;
    this.target = target;
    this.timedOut = timedOut;
    this.abortReason = abortReason;
    this.lastError = last;
    this.status = statusOf(last);
    this.failures = status.consecutiveFailures;
    this.phase = status.phase;
  }
}

/**
 * A short, one-line account of a list/watch failure for a person: the HTTP status and the
 * server's message for an API error, the socket/TLS error code for a transport failure.
 */
export function describeCause(error: Error): string {
  if (error instanceof KubeApiError) {
    const message = error.body?.message ?? '';
    return `${error.status}${error.reason ? ` ${error.reason}` : ''}${message ? `: ${message}` : ''} (${error.verb} ${error.url})`;
  }
  if (error instanceof KubeTransportError) return error.message;
  return `${error.name}: ${error.message}`;
}

/** What {@link InformerLifecycleListener.onError} is told besides the error. */
export interface InformerErrorInfo {
  /** The informer's name. */
  readonly informer: string;
  readonly target: ListWatchTarget;
  /** HTTP status when the server answered (401, 403, 404, 410, 5xx…); `undefined` for transport failures. */
  readonly status: number | undefined;
  /** Consecutive failures counted before this one (0 for the first): the backoff's input. */
  readonly failures: number;
  /** Whether the cache had synced before this failure (it is then kept, and refreshed on recovery). */
  readonly synced: boolean;
}

/**
 * Hooks on an informer's life, for users who want to surface failures (a readiness check, a
 * metric, a log line of their own). Every hook is optional, runs synchronously inside the
 * informer, and a throwing hook is logged and ignored. The informer keeps retrying after an
 * error: these hooks observe, they decide nothing.
 *
 * @example
 * ```ts
 * const informer = new SharedInformer({ lw: client, target: { gvr: resources.configMaps.gvr, namespace: 'app' } });
 * const listener = informer.addLifecycleListener({
 *   onError: (error, info) => {
 *     if (info.status === 403) console.warn(`${info.informer}: forbidden, check RBAC: ${error.message}`);
 *   },
 *   onPhase: (status) => console.info(`${informer.name} is now ${status.phase}`),
 *   onSynced: () => console.info(`${informer.name} synced`),
 * });
 * informer.start();
 * // ... later
 * listener.remove();
 * ```
 */
export interface InformerLifecycleListener {
  /** A list or watch failed; the informer backs off and tries again. */
  onError?(error: Error, info: InformerErrorInfo): void;
  /** The reflector entered a new phase (`Listing`, `Watching`, `Backoff`, `Stopped`). */
  onPhase?(status: ReflectorStatus): void;
  /** The cache holds its first complete list (once per informer). */
  onSynced?(): void;
}

/** What {@link SharedInformer.addLifecycleListener} returns. */
export interface LifecycleRegistration {
  /** Stops calling the listener. Idempotent. */
  remove(): void;
}

/**
 * The lifecycle listeners of one informer (or of a Manager: `L` is its listener shape), each call
 * guarded so a throwing hook disturbs nobody.
 */
export class LifecycleListeners<L extends object = InformerLifecycleListener> {
  readonly #listeners = new Set<L>();
  readonly #logger: Logger;
  readonly #hooks: string;

  constructor(logger: Logger, hooks = 'onError/onPhase/onSynced') {
    this.#logger = logger;
    this.#hooks = hooks;
  }

  add(listener: L): LifecycleRegistration {
    if (!listener || typeof listener !== 'object') {
      throw new TypeError(`addLifecycleListener needs an object with ${this.#hooks} hooks`);
    }
    // A wrapper per registration, so adding the same object twice gives two independent registrations.
    const entry = { ...listener };
    this.#listeners.add(entry);
    return { remove: () => void this.#listeners.delete(entry) };
  }

  get size(): number {
    return this.#listeners.size;
  }

  emit<K extends keyof L>(
    hook: K,
    ...args: L[K] extends ((...a: infer A) => unknown) | undefined ? A : never
  ): void {
    for (const listener of [...this.#listeners]) {
      const fn = listener[hook] as ((...a: unknown[]) => void) | undefined;
      if (!fn) continue;
      try {
        fn.apply(listener, args);
      } catch (error) {
        this.#logger.warn({ err: error, hook: String(hook) }, 'lifecycle listener threw');
      }
    }
  }
}

function isTimeoutReason(reason: unknown): boolean {
  return (
    typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError'
  );
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  if (typeof reason === 'object' && reason !== null && 'message' in reason) return String(reason.message);
  return String(reason);
}
