/**
 * Typed errors of the wire layer and the predicates the reflector uses to classify them.
 *
 * Every failure that leaves `client.ts` is one of:
 * - {@link KubeApiError}: the server answered with an HTTP error status, or sent an in-stream
 *   watch `ERROR` event (its `Status` becomes the error); {@link KubeRedirectError} (a subclass)
 *   for a 3xx answer, which the API server never gives;
 * - {@link KubeTransportError}: no usable answer (connection refused/reset, TLS failure, timeout);
 * - {@link WatchIdleTimeoutError}: a watch stream stayed silent longer than its idle timeout;
 * - {@link KubeDecodeError}: the server sent bytes that are not the JSON we expect;
 * - an `AbortError` when the caller's own signal aborted the request.
 *
 * @module
 */
import type { ApiStatus, GroupVersionResource } from './types.ts';
import { formatGvr } from './types.ts';

/** Fields of a {@link KubeApiError}. */
export interface KubeApiErrorInit {
  readonly status: number;
  readonly verb: string;
  readonly url: string;
  readonly body?: ApiStatus | undefined;
  /** Overrides `body.reason`. */
  readonly reason?: string | undefined;
  /** Seconds from a `Retry-After` header or `body.details.retryAfterSeconds`. */
  readonly retryAfterSeconds?: number | undefined;
  readonly gvr?: GroupVersionResource | undefined;
  readonly namespace?: string | undefined;
  readonly name?: string | undefined;
  /** Raw body text when it was not a `Status` (kept short, for the message). */
  readonly text?: string | undefined;
}

/**
 * The API server rejected a request (HTTP status >= 400) or ended a watch with an `ERROR` event.
 * `status` is the HTTP status, or the `code` of the in-stream `Status`.
 */
export class KubeApiError extends Error {
  override readonly name: string = 'KubeApiError';
  readonly status: number;
  readonly reason: string | undefined;
  readonly body: ApiStatus | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly verb: string;
  readonly url: string;
  readonly gvr: GroupVersionResource | undefined;
  readonly namespace: string | undefined;
  readonly objectName: string | undefined;

  constructor(init: KubeApiErrorInit) {
    const reason = init.reason ?? init.body?.reason;
    const detail = init.body?.message ?? init.text ?? '';
    super(
      `${init.verb} ${init.url} failed: ${init.status}${reason ? ` ${reason}` : ''}${detail ? `: ${detail}` : ''}`,
    );
    this.status = init.status;
    this.reason = reason;
    this.body = init.body;
    this.retryAfterSeconds = init.retryAfterSeconds ?? init.body?.details?.retryAfterSeconds;
    this.verb = init.verb;
    this.url = init.url;
    this.gvr = init.gvr;
    this.namespace = init.namespace;
    this.objectName = init.name;
  }

  /** `deployments.v1.apps ns/name`, for logs. */
  get subject(): string | undefined {
    if (!this.gvr) return undefined;
    const key = this.namespace ? `${this.namespace}/${this.objectName ?? ''}` : (this.objectName ?? '');
    return key ? `${formatGvr(this.gvr)} ${key}` : formatGvr(this.gvr);
  }
}

/**
 * The server answered with a redirect (3xx). The API server never redirects API requests, so
 * the `server` of the kubeconfig points at something else — a proxy, an ingress, a login page —
 * and following it would send the credentials there. `location` is where it pointed.
 */
export class KubeRedirectError extends KubeApiError {
  override readonly name = 'KubeRedirectError';
  readonly location: string | undefined;
  constructor(init: Omit<KubeApiErrorInit, 'reason' | 'text' | 'body'> & { location: string | undefined }) {
    super({
      ...init,
      reason: 'UnexpectedRedirect',
      text:
        `redirected${init.location ? ` to ${init.location}` : ''}; the API server does not redirect, ` +
        'so the kubeconfig server URL probably points at a proxy or login page',
    });
    this.location = init.location;
  }
}

/** A watch received no bytes for `idleMs`: the connection is presumed dead. */
export class WatchIdleTimeoutError extends Error {
  override readonly name = 'WatchIdleTimeoutError';
  readonly idleMs: number;
  readonly url: string | undefined;
  constructor(idleMs: number, url?: string) {
    super(`watch${url ? ` ${url}` : ''} received nothing for ${idleMs} ms; presumed dead`);
    this.idleMs = idleMs;
    this.url = url;
  }
}

/** The request never got an HTTP answer (DNS, connect, TLS, reset, socket closed mid-body). */
export class KubeTransportError extends Error {
  override readonly name = 'KubeTransportError';
  readonly verb: string;
  readonly url: string;
  /** The underlying error's `code` when it had one (e.g. `ECONNREFUSED`, `UND_ERR_SOCKET`). */
  readonly code: string | undefined;
  constructor(verb: string, url: string, cause: unknown) {
    const code = errorCode(cause);
    super(`${verb} ${url} failed: ${code ? `${code} ` : ''}${messageOf(cause)}`, { cause });
    this.verb = verb;
    this.url = url;
    this.code = code;
  }
}

/** The server sent something that does not decode as the expected JSON. */
export class KubeDecodeError extends Error {
  override readonly name = 'KubeDecodeError';
  readonly url: string;
  constructor(url: string, detail: string, cause?: unknown) {
    super(`cannot decode response of ${url}: ${detail}`, cause === undefined ? undefined : { cause });
    this.url = url;
  }
}

/** The kubeconfig (or in-cluster environment) cannot be turned into a connection. */
export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/** The HTTP status of an error, or `undefined` for transport failures and foreign errors. */
export function statusOf(err: unknown): number | undefined {
  return err instanceof KubeApiError ? err.status : undefined;
}

/**
 * True when the error means "the resourceVersion (or continue token) you sent is unusable; start
 * over with a fresh list": HTTP 410 / in-stream code 410 (`Expired`, `Gone`, expired continue
 * token), and the "too large resource version" answer (504 `Timeout` whose cause is
 * `ResourceVersionTooLarge`) that a server behind the client's last-seen RV gives.
 */
export function isGone(err: unknown): boolean {
  if (!(err instanceof KubeApiError)) return false;
  if (err.status === 410) return true;
  if (err.reason === 'Expired' || err.reason === 'Gone') return true;
  return isTooLargeResourceVersion(err);
}

/** The server is behind the resourceVersion requested (e.g. after an etcd restore or on a lagging replica). */
export function isTooLargeResourceVersion(err: unknown): boolean {
  if (!(err instanceof KubeApiError)) return false;
  if (err.status !== 504 && err.reason !== 'Timeout') return false;
  const causes = err.body?.details?.causes ?? [];
  for (const cause of causes) {
    if (isRecord(cause) && cause.reason === 'ResourceVersionTooLarge') return true;
    if (isRecord(cause) && cause.type === 'ResourceVersionTooLarge') return true;
  }
  return /too large resource version/i.test(err.body?.message ?? '');
}

/** 404. */
export function isNotFound(err: unknown): boolean {
  return statusOf(err) === 404;
}

/** 409 with reason `AlreadyExists`. */
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409 && err.reason === 'AlreadyExists';
}

/** 409 with a reason other than `AlreadyExists` (optimistic-concurrency conflict). */
export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409 && err.reason !== 'AlreadyExists';
}

/**
 * 403 because the namespace is being deleted (the apiserver refuses new objects in a Terminating
 * namespace, with the status cause `NamespaceTerminating`): an expected condition while a
 * namespace goes away, not a permission problem.
 */
export function isNamespaceTerminating(err: unknown): boolean {
  if (!(err instanceof KubeApiError) || err.status !== 403) return false;
  const causes = err.body?.details?.causes ?? [];
  if (
    causes.some(
      (c) => isRecord(c) && (c.reason === 'NamespaceTerminating' || c.type === 'NamespaceTerminating'),
    )
  ) {
    return true;
  }
  return /because it is being terminated/.test(err.body?.message ?? '');
}

/** 401 or 403. */
export function isAuthError(err: unknown): boolean {
  const status = statusOf(err);
  return status === 401 || status === 403;
}

/** Server-suggested minimum delay before retrying (429 / 5xx with `Retry-After`), in ms. */
export function retryAfterMs(err: unknown): number | undefined {
  if (!(err instanceof KubeApiError) || err.retryAfterSeconds === undefined) return undefined;
  return Math.max(0, err.retryAfterSeconds * 1000);
}

/** True for the error thrown when an `AbortSignal` fired (DOM `AbortError` or undici's). */
export function isAbortError(err: unknown): boolean {
  if (!isRecord(err)) return false;
  return err.name === 'AbortError' || err.code === 'UND_ERR_ABORTED' || err.code === 'ABORT_ERR';
}

/** Parses a `Retry-After` header value (delta-seconds or HTTP-date) into seconds. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return undefined;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim());
  const at = Date.parse(raw);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** Narrows an unknown JSON value to a `Status` when it looks like one. */
export function asStatus(value: unknown): ApiStatus | undefined {
  if (!isRecord(value)) return undefined;
  if (value.kind === 'Status' || (typeof value.code === 'number' && typeof value.status === 'string')) {
    return value as ApiStatus;
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function errorCode(err: unknown): string | undefined {
  if (!isRecord(err)) return undefined;
  if (typeof err.code === 'string') return err.code;
  return isRecord(err.cause) && typeof err.cause.code === 'string' ? err.cause.code : undefined;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const inner = isRecord(err.cause) && err.cause instanceof Error ? ` (${err.cause.message})` : '';
    return `${err.message}${inner}`;
  }
  return String(err);
}

/** The message of anything thrown: an Error's message, or the value as a string. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
