/**
 * The steps of one `Manager.add` that need nothing of the Manager's own state: checking the
 * target, waiting for the name's upstream to sync, and choosing the error a failed add rejects
 * with. The Manager orchestrates them (`#runAdd`) and owns the registration bookkeeping.
 *
 * @module
 */
import { errorMessage, statusOf } from '../kube/index.ts';
import {
  InformerAbortedError,
  type InformerErrorContext,
  InformerManagerError,
  InformerSyncTimeoutError,
  TargetCheckError,
  TargetNotFoundError,
} from './errors.ts';
import type { Registration } from './registration.ts';
import type { ObjectReader, RequestWatch } from './types.ts';
import { UpstreamStoppedError } from './upstream.ts';

/**
 * Reads the target once before anything is registered: 404 → {@link TargetNotFoundError} (or,
 * with `allowMissing`, nothing: the watch will report the object's creation), any other failure
 * → {@link TargetCheckError} (an abort is rethrown as is).
 */
export async function verifyTarget(
  client: ObjectReader,
  request: RequestWatch,
  context: InformerErrorContext,
  signal: AbortSignal,
  allowMissing = false,
): Promise<'found' | 'missing'> {
  const gvr = request.groupVersionResource;
  const name = request.resourceName;
  try {
    await client.get(gvr, request.resourceNamespace || undefined, name, signal);
    return 'found';
  } catch (error) {
    if (signal.aborted) throw error;
    const status = statusOf(error);
    if (status === 404 && allowMissing) return 'missing';
    if (status === 404) throw new TargetNotFoundError({ ...context, gvr, name, cause: error });
    throw new TargetCheckError({ ...context, gvr, name, status, cause: error });
  }
}

/**
 * Resolves when the upstream serving the registration's name has synced, following the name
 * across hand-overs (a replaced source rejects its waiters; the new one is waited for).
 */
export async function waitForSource(
  registration: Registration,
  context: InformerErrorContext,
  signal: AbortSignal,
): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    const source = registration.entry?.source;
    if (!source) {
      // The target's namespace was found gone while we were waiting.
      throw new TargetNotFoundError({ ...context, gvr: registration.gvr, name: registration.name });
    }
    if (source.synced) return;
    try {
      await source.whenSynced(signal);
    } catch (error) {
      // The source was replaced (migration) or released: wait for whichever serves the name now.
      if (error instanceof UpstreamStoppedError && registration.entry?.source !== source) continue;
      throw error;
    }
  }
}

/**
 * The error an `add` rejects with, by cause in this order: the add was cancelled (stop, or the
 * Manager stopping) → that reason; the timeout → {@link InformerSyncTimeoutError} with the
 * informer's last HTTP status; the caller's signal → {@link InformerAbortedError}; otherwise the
 * typed error itself or an {@link InformerManagerError} wrapping it.
 */
export function addFailure(
  error: unknown,
  how: {
    cancel: AbortController;
    caller: AbortSignal | undefined;
    timedOut: boolean;
    timeoutMs: number;
    context: InformerErrorContext;
    registration: Registration | undefined;
  },
): Error {
  if (how.cancel.signal.aborted && how.cancel.signal.reason instanceof Error) return how.cancel.signal.reason;
  if (how.timedOut) {
    const last = how.registration?.entry?.source?.informer.status().lastError;
    return new InformerSyncTimeoutError(how.timeoutMs, {
      ...how.context,
      status: statusOf(last),
      cause: last ?? error,
    });
  }
  if (how.caller?.aborted) return new InformerAbortedError({ ...how.context, cause: how.caller.reason });
  if (error instanceof InformerManagerError) return error;
  return new InformerManagerError(`add of ${how.context.key ?? ''} failed: ${errorMessage(error)}`, {
    ...how.context,
    status: statusOf(error),
    cause: error,
  });
}

/** What an add's errors say about the request. */
export function contextOf(request: RequestWatch): InformerErrorContext {
  return {
    gvr: request.groupVersionResource,
    namespace: request.resourceNamespace,
    name: request.resourceName,
  };
}
