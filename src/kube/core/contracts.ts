/**
 * Contracts between the engine's modules, fixed here so each module can be built and
 * tested on its own:
 *
 *   client.ts (HTTP)  --ListerWatcher-->  reflector.ts  --ReflectorSink-->  informer.ts (store + processor)
 *                                              |
 *                                     ReflectorObserver (metrics.ts)
 *
 * @module
 */
import type {
  ApiStatus,
  KubeObject,
  KubeObjectLike,
  ListWatchTarget,
  ReflectorStatus,
  WatchEvent,
} from './types.ts';

/** Query options of a LIST. */
export interface ListOptions {
  limit?: number;
  continue?: string;
  /** `"0"`: any version (watch cache); `""`/absent: quorum read; else per `resourceVersionMatch`. */
  resourceVersion?: string;
  resourceVersionMatch?: 'NotOlderThan' | 'Exact';
  /**
   * Ask for `PartialObjectMetadataList` (metadata only, `Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`): items
   * carry `apiVersion: meta.k8s.io/v1`, `kind: PartialObjectMetadata` and the object's metadata.
   */
  metadataOnly?: boolean;
  signal?: AbortSignal;
}

/** One page of a LIST response. */
export interface ListPage<T extends KubeObjectLike = KubeObject> {
  items: T[];
  resourceVersion: string;
  /** Present when more pages follow. */
  continue?: string;
}

/** Query options of a WATCH. */
export interface WatchOptions {
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  /** Server-side timeout; the server ends the stream cleanly after it. */
  timeoutSeconds?: number;
  /** Streaming list: `sendInitialEvents=true` with `resourceVersionMatch=NotOlderThan`. */
  sendInitialEvents?: boolean;
  resourceVersionMatch?: 'NotOlderThan';
  /**
   * Client-side idle timeout (ms): if no bytes arrive for this long the stream fails with
   * a `WatchIdleTimeoutError`, so a silently dead connection is detected.
   */
  idleTimeoutMs?: number;
  /** Ask for `PartialObjectMetadata` events (metadata only, `Accept: application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1`). */
  metadataOnly?: boolean;
  signal?: AbortSignal;
}

/**
 * What the reflector needs from the wire. `client.ts` implements it over HTTP; unit tests
 * may implement it in memory. Errors are thrown as `KubeApiError` (HTTP status or in-stream
 * ERROR status) or transport errors; the reflector classifies them.
 */
export interface ListerWatcher {
  list<T extends KubeObjectLike = KubeObject>(
    target: ListWatchTarget,
    options: ListOptions,
  ): Promise<ListPage<T>>;
  /** Yields decoded events until the server closes the stream (normal end) or an error is thrown. */
  watch<T extends KubeObjectLike = KubeObject>(
    target: ListWatchTarget,
    options: WatchOptions,
  ): AsyncIterable<WatchEvent<T>>;
}

/** Where the reflector puts what it learned. Implemented by the informer (store + distribution). */
export interface ReflectorSink<T extends KubeObjectLike = KubeObject> {
  /**
   * The complete state at `resourceVersion` (a paged list or a streaming list's initial events).
   * The sink replaces its contents atomically and derives adds, updates (only where the
   * resourceVersion changed) and deletes-with-final-state-unknown from the difference.
   */
  replace(items: T[], resourceVersion: string): void;
  /** One watch event (never a BOOKMARK or ERROR: the reflector consumes those). */
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void;
}

/** Hooks the reflector calls so metrics and logs stay out of the state machine. All optional. */
export interface ReflectorObserver {
  onListStart?(relist: boolean): void;
  onListPage?(items: number): void;
  onListDone?(items: number, resourceVersion: string, streaming: boolean): void;
  onWatchStart?(resourceVersion: string): void;
  onWatchEnd?(reason: 'closed' | 'error' | 'idle' | 'stopped'): void;
  onEvent?(type: 'ADDED' | 'MODIFIED' | 'DELETED'): void;
  onBookmark?(resourceVersion: string): void;
  /** `status` is the HTTP status, or undefined for a transport error. */
  onError?(error: Error, status: number | undefined): void;
  onPhase?(status: ReflectorStatus): void;
}

/** Decoded body of an error response, when the server sent a Status. */
export type ErrorStatus = ApiStatus;
