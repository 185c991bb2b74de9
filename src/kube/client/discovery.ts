/**
 * API discovery: which resource (plural, scope) serves a given `apiVersion` + `kind`.
 *
 * Answers come from the group-version documents (`/api/v1`, `/apis/<group>/<version>`), cached
 * per group-version with a TTL. A miss (kind not in a cached document) refetches that document
 * once, so a CRD installed after the cache was filled is found without waiting for the TTL; a
 * minimum refresh interval keeps a caller looping on an unknown kind from hammering the server.
 *
 * @module
 */

import type { GroupVersionResource } from '../core/index.ts';
import { isNotFound } from '../core/index.ts';

/** One resource of a group-version, as discovery describes it. */
export interface DiscoveredResource {
  readonly gvr: GroupVersionResource;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
  readonly shortNames: readonly string[];
}

/** What {@link Discovery} needs from a client (`KubeClient` satisfies it). */
export interface DiscoveryClient {
  request<T>(method: 'GET', path: string): Promise<T>;
}

/** Options of {@link Discovery}. */
export interface DiscoveryOptions {
  /** How long a group-version document is trusted (ms). Default 5 min. */
  ttlMs?: number;
  /** Minimum time between two fetches of the same document on misses (ms). Default 2 s. */
  minRefreshMs?: number;
  now?: () => number;
}

/** Discovery does not know the kind (or its group-version is not served). */
export class UnknownKindError extends Error {
  override readonly name = 'UnknownKindError';
  readonly apiVersion: string;
  readonly kind: string;
  constructor(apiVersion: string, kind: string, detail: string) {
    super(`no resource for kind ${kind} in ${apiVersion}: ${detail}`);
    this.apiVersion = apiVersion;
    this.kind = kind;
  }
}

interface APIResourceList {
  groupVersion?: string;
  resources?: Array<{
    name?: string;
    namespaced?: boolean;
    kind?: string;
    verbs?: string[];
    shortNames?: string[];
  }>;
}

interface CacheEntry {
  readonly fetchedAt: number;
  /** `undefined`: the group-version is not served (404). */
  readonly byKind: ReadonlyMap<string, DiscoveredResource> | undefined;
}

/** Splits `apps/v1` into group `apps` / version `v1`; `v1` is the core group. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const parts = apiVersion.split('/');
  if (parts.length === 1 && parts[0]) return { group: '', version: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { group: parts[0], version: parts[1] };
  throw new TypeError(`invalid apiVersion ${JSON.stringify(apiVersion)}`);
}

/** Resolves kinds to resources through the API server's discovery documents. */
export class Discovery {
  readonly #client: DiscoveryClient;
  readonly #ttlMs: number;
  readonly #minRefreshMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #inflight = new Map<string, Promise<CacheEntry>>();

  constructor(client: DiscoveryClient, options: DiscoveryOptions = {}) {
    this.#client = client;
    this.#ttlMs = options.ttlMs ?? 300_000;
    this.#minRefreshMs = options.minRefreshMs ?? 2_000;
    this.#now = options.now ?? Date.now;
  }

  /** The resource serving `kind` in `apiVersion`, with its scope. Throws {@link UnknownKindError}. */
  async resolve(apiVersion: string, kind: string): Promise<DiscoveredResource> {
    const { group, version } = parseApiVersion(apiVersion);
    const key = group ? `${group}/${version}` : version;
    let entry = await this.#entry(key, group, version, false);
    let found = entry.byKind?.get(kind);
    if (!found && this.#now() - entry.fetchedAt >= this.#minRefreshMs) {
      entry = await this.#entry(key, group, version, true);
      found = entry.byKind?.get(kind);
    }
    if (found) return found;
    throw new UnknownKindError(
      apiVersion,
      kind,
      entry.byKind ? 'kind not served by this group-version' : 'group-version not served',
    );
  }

  /** Shorthand: just the GVR, e.g. `gvrFor('apps/v1', 'Deployment')`. */
  async gvrFor(apiVersion: string, kind: string): Promise<GroupVersionResource> {
    return (await this.resolve(apiVersion, kind)).gvr;
  }

  /** Every resource of a group-version (subresources excluded). Empty if not served. */
  async resources(apiVersion: string): Promise<DiscoveredResource[]> {
    const { group, version } = parseApiVersion(apiVersion);
    const entry = await this.#entry(group ? `${group}/${version}` : version, group, version, false);
    return [...(entry.byKind?.values() ?? [])];
  }

  /** Drops cached documents (one group-version, or all). */
  invalidate(apiVersion?: string): void {
    if (apiVersion === undefined) this.#cache.clear();
    else this.#cache.delete(apiVersion);
  }

  async #entry(key: string, group: string, version: string, force: boolean): Promise<CacheEntry> {
    const cached = this.#cache.get(key);
    if (!force && cached && this.#now() - cached.fetchedAt < this.#ttlMs) return cached;
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = this.#fetch(group, version).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    const entry = await pending;
    this.#cache.set(key, entry);
    return entry;
  }

  async #fetch(group: string, version: string): Promise<CacheEntry> {
    const path = group
      ? `/apis/${encodeURIComponent(group)}/${encodeURIComponent(version)}`
      : `/api/${version}`;
    let doc: APIResourceList;
    try {
      doc = await this.#client.request<APIResourceList>('GET', path);
    } catch (error) {
      if (isNotFound(error)) return { fetchedAt: this.#now(), byKind: undefined };
      throw error;
    }
    const byKind = new Map<string, DiscoveredResource>();
    for (const r of doc?.resources ?? []) {
      // `pods/status`, `deployments/scale`: subresources share the kind of their parent or another; skip them.
      if (!r.name || !r.kind || r.name.includes('/')) continue;
      if (byKind.has(r.kind)) continue;
      byKind.set(r.kind, {
        gvr: { group, version, resource: r.name },
        kind: r.kind,
        namespaced: r.namespaced === true,
        verbs: r.verbs ?? [],
        shortNames: r.shortNames ?? [],
      });
    }
    return { fetchedAt: this.#now(), byKind };
  }
}
