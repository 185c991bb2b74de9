/**
 * The deadline of a Manager operation as one AbortSignal: the operation's timeout, the caller's
 * signal and the Manager's lifetime, with a way to tell the timeout from the others; and how a
 * second caller joins an operation already in flight without sharing its fate on abort.
 *
 * @module
 */
import { InformerAbortedError, type InformerErrorContext } from './errors.ts';

/** A signal aborted by any of `signals` or after `timeoutMs`; `dispose` clears the timer. */
export function boundedSignal(
  timeoutMs: number,
  signals: (AbortSignal | undefined)[],
): { signal: AbortSignal; timedOut(): boolean; dispose(): void } {
  const timeout = new AbortController();
  // The reason AbortSignal.timeout() gives, so code that tells timeouts from aborts (e.g.
  // InformerSyncError) reads this one the same way.
  const timer = setTimeout(
    () => timeout.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs,
  );
  const all = [timeout.signal, ...signals.filter((s): s is AbortSignal => s !== undefined)];
  return {
    signal: AbortSignal.any(all),
    timedOut: () => timeout.signal.aborted,
    dispose: () => clearTimeout(timer),
  };
}

/** Waits for another caller's add of the same key; this caller's own signal releases only this caller. */
export function joinPending<T>(
  pending: { readonly promise: Promise<T> },
  signal: AbortSignal | undefined,
  context: InformerErrorContext,
): Promise<T> {
  if (!signal) return pending.promise;
  if (signal.aborted) return Promise.reject(new InformerAbortedError({ ...context, cause: signal.reason }));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new InformerAbortedError({ ...context, cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    pending.promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
