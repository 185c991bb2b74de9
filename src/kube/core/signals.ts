/**
 * The deadline of an operation as one AbortSignal: its timeout, the caller's signal and the owner's
 * lifetime, with a way to tell the timeout from the others (the Manager's adds, the controller's
 * calls, the resolver lookups all need exactly this).
 *
 * @module
 */

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
