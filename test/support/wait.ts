/** Waiting for conditions with a deadline: the only way tests here wait. */

/** Options of {@link waitFor}. */
export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Says what was awaited, for the failure message. */
  message?: string;
}

/**
 * Polls `condition` until it returns a truthy value (which is returned) or the deadline passes
 * (which throws, with the last error the condition threw, if any).
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  { timeoutMs = 30_000, intervalMs = 50, message = 'condition' }: WaitOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const cause = lastError === undefined ? '' : ` (last error: ${String(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Like `AbortSignal.timeout()`, but its timer keeps the event loop alive: with an unref'd timeout
 * a test whose only pending work is that deadline ends early on Node 22 ("Promise resolution is
 * still pending but the event loop has already resolved") instead of seeing the abort.
 */
export function refTimeout(ms: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError')), ms);
  return controller.signal;
}
