/**
 * The two undici dispatchers the engine uses, loaded without undici's package entry point.
 *
 * `import 'undici'` evaluates the whole package — fetch, WebSocket, EventSource, the mock and
 * cache layers and the web streams they need — although the engine only needs an `Agent` (or a
 * `ProxyAgent`) and the `request` method of its dispatcher. Loading just those modules keeps
 * ~11 MB less resident at import in every process that imports the engine, 2–3 MB after a sync
 * of 10,000 objects (measured in `bench/RESULTS.md`, "Module graph at import"). The classes are undici's own (same module instances as the package
 * entry's, so `instanceof` and the `Dispatcher` type hold); undici is pinned to an exact version
 * in package.json, so the internal paths below cannot move under us unnoticed (a unit test
 * imports this module).
 *
 * @module
 */
import type * as Undici from 'undici';
import undiciApi from 'undici/lib/api/index.js';
import undiciConnect from 'undici/lib/core/connect.js';
import undiciErrors from 'undici/lib/core/errors.js';
import undiciAgent from 'undici/lib/dispatcher/agent.js';
import undiciDispatcher from 'undici/lib/dispatcher/dispatcher.js';
import undiciProxyAgent from 'undici/lib/dispatcher/proxy-agent.js';

// Each path is a CommonJS module: an ES import gets its `module.exports` as the default export,
// from the same module cache as the package entry's `require`s (types: undici-internals.d.ts).
// Plain imports, so a bundler follows them too (`tools/bundle-operator.ts`).

/** undici's `Agent`. */
export const Agent: typeof Undici.Agent = undiciAgent;
/** undici's `buildConnector` (the default socket connector; wrapped by `h2-stream-guard.ts`). */
export const buildConnector: typeof Undici.buildConnector = undiciConnect;
/** undici's error classes (`undici.errors`: `HeadersTimeoutError`, `ConnectTimeoutError`, ...). */
export const errors: typeof Undici.errors = undiciErrors;
/** undici's `ProxyAgent`. */
export const ProxyAgent: typeof Undici.ProxyAgent = undiciProxyAgent;

// The package entry adds the request API (request, stream, pipeline, connect, upgrade) to every
// dispatcher in exactly this way; done here too, since the entry is not loaded. Idempotent, and
// harmless if the entry is loaded later by someone else.
Object.assign(undiciDispatcher.prototype, undiciApi);
