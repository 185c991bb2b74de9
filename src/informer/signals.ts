/**
 * How a second caller joins a Manager operation already in flight without sharing its fate on
 * abort. (The operation's own deadline is `boundedSignal` from the engine.)
 *
 * @module
 */
import { InformerAbortedError, type InformerErrorContext } from './errors.ts';

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
