/**
 * Talking to the API server over a connection: requests and their errors (`transport.ts`), the wire
 * format of list pages and watch lines (`wire-format.ts`), watch streams (`watch-stream.ts`), the
 * `KubeClient` (`client.ts`: a `ListerWatcher` plus CRUD) and discovery (`discovery.ts`).
 * Depends on `config/` and `core/`.
 *
 * @module
 */
export {
  type DeleteOptions,
  KubeClient,
  type KubeClientOptions,
  type PatchOptions,
  type PatchType,
  type RawRequestOptions,
  type WriteOptions,
} from './client.ts';
export {
  type DiscoveredResource,
  Discovery,
  type DiscoveryClient,
  type DiscoveryOptions,
  parseApiVersion,
  UnknownKindError,
} from './discovery.ts';
export {
  METADATA_LIST_ACCEPT,
  METADATA_WATCH_ACCEPT,
  queryString,
  type RequestContext,
  resourcePath,
  type SendOptions,
  Transport,
  type TransportSettings,
} from './transport.ts';
export { watchStream } from './watch-stream.ts';
export { decodeWatchEvent, LineSplitter, toListPage } from './wire-format.ts';
