/**
 * A persistent error sink on the HTTP/2 streams of our own dispatchers.
 *
 * Why: undici 8.13.1 can leave a `ClientHttp2Stream` with no `'error'` listener when the
 * session's socket ends under it (found by the chaos soak: seed 47, per-name watches over
 * HTTP/2, a proxy cut → `SocketError: other side closed` emitted on a stream nobody listened
 * to). Node throws an unhandled `'error'` event, so the whole operator process died on a
 * connection cut — the one fault a watch client exists to survive. undici's own fix for the
 * same class of crash (#5936) is a no-op sink on streams it stops tracking; this applies that
 * rule to every stream from the moment it is created, through Node's
 * `http2.client.stream.created` diagnostics channel.
 *
 * The sink changes nothing else: undici's listeners still receive every error (an emitter calls
 * all of them), requests still fail and are retried by the reflector. Only an error that no one
 * listens to any more is dropped instead of killing the process. Streams of other HTTP/2 clients
 * in the process are left alone: only sockets opened by {@link guardedConnector} are marked.
 *
 * @module
 */
import { subscribe } from 'node:diagnostics_channel';
import type { ClientHttp2Stream } from 'node:http2';
import type { buildConnector as BuildConnector } from 'undici';
import { buildConnector } from './undici-lean.ts';

/** Marks a socket opened by one of our dispatchers (read through the session's socket proxy). */
const OURS = Symbol('elasti.kube.dispatcherSocket');

/** The sink's name shows in `stream.listeners('error')`, for tests and debugging. */
function orphanStreamErrorSink(): void {}

let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  subscribe('http2.client.stream.created', (message) => {
    const stream = (message as { stream?: ClientHttp2Stream }).stream;
    let ours = false;
    try {
      ours = (stream?.session?.socket as unknown as Record<symbol, unknown> | undefined)?.[OURS] === true;
    } catch {
      // A session already torn down has no socket to ask: not one we can vouch for.
    }
    if (stream && ours) stream.on('error', orphanStreamErrorSink);
  });
}

/**
 * undici's default connector with the guard: sockets it opens are marked as ours, and the
 * diagnostics subscriber (installed on first use) gives each HTTP/2 stream on them the sink.
 */
export function guardedConnector(options: BuildConnector.BuildOptions): BuildConnector.connector {
  install();
  const connect = buildConnector(options);
  return (opts, callback) =>
    connect(opts, (error, socket) => {
      if (socket) (socket as unknown as Record<symbol, unknown>)[OURS] = true;
      // The overloads of undici's callback type do not admit the union; each branch is one of them.
      if (error) callback(error, null);
      else callback(null, socket as NonNullable<typeof socket>);
    });
}

/** True when `stream` carries the sink (for tests). */
export function hasOrphanErrorSink(stream: ClientHttp2Stream): boolean {
  return stream.listeners('error').includes(orphanStreamErrorSink);
}
