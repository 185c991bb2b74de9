/**
 * One WATCH request as an async stream of decoded events: the query, the client-side idle
 * timeout, the caller's abort, and the mapping of every way the stream can end onto the typed
 * errors of `errors.ts`. Bytes become events in `wire-format.ts`; the request goes out through
 * the shared {@link Transport}. `KubeClient.watch` (`client.ts`) is the public entry.
 *
 * A watch is the one request that lives for minutes and is read while it runs, so its timers
 * and abort wiring are kept here rather than among the one-shot verbs of the client.
 *
 * @module
 */
import type { KubeObject, KubeObjectLike, ListWatchTarget, WatchEvent, WatchOptions } from '../core/index.ts';
import { KubeApiError, KubeDecodeError, KubeTransportError, WatchIdleTimeoutError } from '../core/index.ts';
import { METADATA_WATCH_ACCEPT, queryString, resourcePath, type Transport } from './transport.ts';
import { decodeWatchEvent, LineSplitter } from './wire-format.ts';

/**
 * Opens a watch on `target` and yields its events. Ends quietly when the server closes the
 * stream or `options.signal` aborts; throws {@link KubeApiError} for an HTTP error or an
 * in-stream `ERROR` event, {@link WatchIdleTimeoutError} when nothing arrived for
 * `idleTimeoutMs`, {@link KubeTransportError} when the connection broke.
 */
export async function* watchStream<T extends KubeObjectLike = KubeObject>(
  transport: Transport,
  target: ListWatchTarget,
  options: WatchOptions,
): AsyncGenerator<WatchEvent<T>, void, undefined> {
  const path =
    resourcePath(target.gvr, target.namespace) +
    queryString({
      watch: 'true',
      labelSelector: target.labelSelector,
      fieldSelector: target.fieldSelector,
      resourceVersion: options.resourceVersion,
      resourceVersionMatch: options.resourceVersionMatch,
      allowWatchBookmarks: options.allowWatchBookmarks ? 'true' : undefined,
      sendInitialEvents:
        options.sendInitialEvents === undefined ? undefined : String(options.sendInitialEvents),
      timeoutSeconds: options.timeoutSeconds,
    });
  const url = transport.displayUrl(path);
  const outer = options.signal;
  if (outer?.aborted) return;
  const controller = new AbortController();
  const onOuterAbort = (): void => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  let idleFired = false;
  const idleMs = options.idleTimeoutMs;
  const idleTimer =
    idleMs !== undefined && idleMs > 0
      ? setTimeout(() => {
          idleFired = true;
          controller.abort(new WatchIdleTimeoutError(idleMs, url));
        }, idleMs)
      : undefined;
  const ctx = { verb: 'watch', gvr: target.gvr, namespace: target.namespace };
  try {
    const res = await transport.send(ctx, {
      method: 'GET',
      path,
      signal: controller.signal,
      bodyTimeout: 0,
      ...(options.metadataOnly ? { accept: METADATA_WATCH_ACCEPT } : {}),
      // Waiting for headers is bounded by the idle timeout when one is set.
      ...(idleTimer ? { headersTimeout: 0 } : {}),
    });
    idleTimer?.refresh();
    const lines = new LineSplitter();
    for await (const chunk of res.body) {
      idleTimer?.refresh();
      for (const line of lines.push(chunk as Buffer)) {
        yield decodeWatchEvent<T>(line, url);
        // Time spent by the consumer is not silence on the wire.
        idleTimer?.refresh();
      }
    }
    const buffered = lines.end();
    if (buffered !== undefined) yield decodeWatchEvent<T>(buffered, url);
  } catch (error) {
    if (idleFired) throw new WatchIdleTimeoutError(idleMs ?? 0, url);
    if (outer?.aborted) return;
    if (
      error instanceof KubeApiError ||
      error instanceof KubeDecodeError ||
      error instanceof KubeTransportError
    ) {
      throw error;
    }
    throw new KubeTransportError('watch', url, error);
  } finally {
    if (idleTimer) clearTimeout(idleTimer);
    outer?.removeEventListener('abort', onOuterAbort);
    // Releases the socket when the consumer stopped early (break/return) or on error.
    if (!controller.signal.aborted) controller.abort();
  }
}
