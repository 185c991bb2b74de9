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
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

/** undici's `Agent`. */
export const Agent: typeof Undici.Agent = require('undici/lib/dispatcher/agent.js');
/** undici's `buildConnector` (the default socket connector; wrapped by `h2-stream-guard.ts`). */
export const buildConnector: typeof Undici.buildConnector = require('undici/lib/core/connect.js');
/** undici's error classes (`undici.errors`: `HeadersTimeoutError`, `ConnectTimeoutError`, ...). */
export const errors: typeof Undici.errors = require('undici/lib/core/errors.js');
/** undici's `ProxyAgent`. */
export const ProxyAgent: typeof Undici.ProxyAgent = require('undici/lib/dispatcher/proxy-agent.js');

// The package entry adds the request API (request, stream, pipeline, connect, upgrade) to every
// dispatcher in exactly this way; done here too, since the entry is not loaded. Idempotent, and
// harmless if the entry is loaded later by someone else.
const dispatcher = require('undici/lib/dispatcher/dispatcher.js') as { prototype: object };
Object.assign(dispatcher.prototype, require('undici/lib/api/index.js') as object);
