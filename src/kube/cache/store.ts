/**
 * The informer's cache: objects keyed by `namespace/name`, with secondary indexes, and the
 * diff logic that turns a complete list or a single watch event into the deltas handlers see.
 *
 * The store never calls handlers itself; it returns deltas and the informer hands them to the
 * processor. That keeps the cache synchronous and trivially consistent: every read between
 * two mutations sees one whole state, because JavaScript runs each mutation to completion.
 *
 * @module
 */
import type { KubeObject, KubeObjectLike } from '../core/index.ts';
import { objectKey } from '../core/index.ts';

/** Computes the index values of an object. Must be pure and deterministic. */
export type IndexFunc<T extends KubeObjectLike = KubeObject> = (obj: T) => string[];

/** Name of the built-in index over `metadata.namespace` (cluster-scoped objects index under `""`). */
export const NAMESPACE_INDEX = 'namespace';

/** What the store produced from one mutation; the informer forwards it to handlers. */
export type Delta<T extends KubeObjectLike = KubeObject> =
  | { readonly type: 'add'; readonly obj: T; readonly isInInitialList: boolean }
  | { readonly type: 'update'; readonly oldObj: T; readonly newObj: T }
  | { readonly type: 'delete'; readonly obj: T; readonly finalStateUnknown: boolean };

/** Read access to the cache. Objects returned are shared with the cache and with handlers: treat them as read-only. */
export interface ReadonlyStore<T extends KubeObjectLike = KubeObject> {
  /** The object under `key` (`namespace/name`, or `name` when cluster-scoped). */
  get(key: string): T | undefined;
  /** The object named `name` in `namespace` (`undefined`/`""` for cluster-scoped). */
  getByName(namespace: string | undefined, name: string): T | undefined;
  /** Every cached object, in no particular order. A fresh array each call. */
  list(): T[];
  /** Every key, in no particular order. A fresh array each call. */
  keys(): string[];
  /** Objects whose index `indexName` yields `value`. Throws {@link UnknownIndexError} for an unknown index. */
  byIndex(indexName: string, value: string): T[];
  /** Keys whose index `indexName` yields `value`. Throws {@link UnknownIndexError} for an unknown index. */
  indexKeys(indexName: string, value: string): string[];
  /** The values index `indexName` currently holds. Throws {@link UnknownIndexError} for an unknown index. */
  indexValues(indexName: string): string[];
  /** Names of the indexes this store maintains, `namespace` included. */
  indexNames(): string[];
  /** Number of cached objects. */
  readonly size: number;
}

/** `byIndex` and friends were asked about an index the store does not have. */
export class UnknownIndexError extends Error {
  readonly indexName: string;
  constructor(indexName: string) {
    super(`unknown index "${indexName}"`);
    this.name = 'UnknownIndexError';
    this.indexName = indexName;
  }
}

/** An indexer was added under a name that is already taken (including the built-in `namespace`). */
export class IndexerConflictError extends Error {
  readonly indexName: string;
  constructor(indexName: string) {
    super(`an index named "${indexName}" already exists`);
    this.name = 'IndexerConflictError';
    this.indexName = indexName;
  }
}

/** An object could not be stored: it is malformed, or the transform or an index function threw. */
export class StoreInputError extends Error {
  readonly key: string | undefined;
  constructor(message: string, key: string | undefined, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'StoreInputError';
    this.key = key;
  }
}

/**
 * The default transform: drops `metadata.managedFields`, which is often the largest part of an
 * object and which an informer's consumers practically never read.
 *
 * Choice: the caller's object is never mutated (it may still be referenced by whoever decoded
 * it, e.g. a test or a debug log). When there is nothing to strip the object is returned as is
 * (no copy at all); otherwise a shallow copy with a shallow-copied `metadata` is returned, which
 * costs two small allocations and leaves the rest of the object shared.
 */
export function stripManagedFields<T extends KubeObjectLike = KubeObject>(obj: T): T {
  const meta = obj.metadata;
  if (meta === undefined || meta === null || !('managedFields' in meta)) return obj;
  const { managedFields: _dropped, ...rest } = meta;
  return { ...obj, metadata: rest };
}

/** Options of a {@link Store}. */
export interface StoreOptions<T extends KubeObjectLike = KubeObject> {
  /**
   * Applied to every incoming object before it is stored and handed to handlers. Replaces the
   * default ({@link stripManagedFields}); compose with it yourself if you still want that.
   * Must not mutate its input.
   */
  transform?: (obj: KubeObject) => T;
  /** Extra indexes besides `namespace`. */
  indexers?: Record<string, IndexFunc<T>>;
  /**
   * Called when an incoming object is rejected (malformed, or transform/index function threw).
   * The object is skipped; the store stays consistent. Default: ignore.
   */
  onInputError?: (error: StoreInputError) => void;
}

/**
 * An object's values under the user's indexers, in the order of `Store.#userIndexers`: computed
 * at insertion, so removal never re-runs a user's index function (which may not be pure). The
 * built-in namespace index needs no such record: its value is the stored object's own namespace,
 * and stored objects never change. Only a store with user indexers keeps these, so the common
 * store holds nothing per object beyond its map entry and its namespace bucket's (~150 B instead
 * of ~420 B per object with a record and a map per entry; `bench/RESULTS.md`, memory section).
 */
type UserIndexValues = readonly (readonly string[])[];

type IndexMap = Map<string, Map<string, Set<string>>>;

const namespaceOf = (obj: KubeObjectLike): string => obj.metadata?.namespace ?? '';

/**
 * The cache. Mutated only through {@link Store.replace} and {@link Store.apply}, each of which
 * returns the deltas it caused.
 */
export class Store<T extends KubeObjectLike = KubeObject> implements ReadonlyStore<T> {
  readonly #transform: (obj: KubeObject) => T;
  /** The user's indexers, in the order their values are recorded per object. */
  readonly #userIndexers: [name: string, fn: IndexFunc<T>][] = [];
  readonly #onInputError: (error: StoreInputError) => void;
  #entries = new Map<string, T>();
  /** Per key, its {@link UserIndexValues}; only while there are user indexers. */
  #userValues: Map<string, UserIndexValues> | undefined;
  #indexes: IndexMap = new Map();

  constructor(options: StoreOptions<T> = {}) {
    // Without a transform, T is whatever the wire carries: the caller chose T for that JSON.
    this.#transform = options.transform ?? ((obj) => stripManagedFields(obj) as unknown as T);
    this.#onInputError = options.onInputError ?? (() => {});
    this.#indexes.set(NAMESPACE_INDEX, new Map());
    if (options.indexers) this.addIndexers(options.indexers);
  }

  /**
   * Adds indexes. Objects already cached are indexed immediately, so this is safe at any time;
   * the informer only allows it before start to keep handler-visible behaviour simple.
   * Throws {@link IndexerConflictError} if a name is taken; nothing is added then.
   */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    const names = Object.keys(indexers);
    for (const name of names) {
      if (this.#indexes.has(name)) throw new IndexerConflictError(name);
    }
    for (const name of names) {
      const fn = indexers[name];
      if (typeof fn !== 'function') throw new TypeError(`indexer "${name}" is not a function`);
    }
    if (names.length === 0) return;
    this.#userValues ??= new Map();
    for (const name of names) {
      const fn = indexers[name] as IndexFunc<T>;
      this.#userIndexers.push([name, fn]);
      const index = new Map<string, Set<string>>();
      this.#indexes.set(name, index);
      for (const [key, obj] of this.#entries) {
        const values = this.#safeIndexValues(name, fn, obj, key);
        this.#userValues.set(key, [...(this.#userValues.get(key) ?? []), values]);
        addToIndex(index, values, key);
      }
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): T | undefined {
    return this.#entries.get(key);
  }

  getByName(namespace: string | undefined, name: string): T | undefined {
    return this.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): T[] {
    return [...this.#entries.values()];
  }

  keys(): string[] {
    return [...this.#entries.keys()];
  }

  byIndex(indexName: string, value: string): T[] {
    const out: T[] = [];
    for (const key of this.#indexBucket(indexName, value)) {
      const obj = this.#entries.get(key);
      if (obj) out.push(obj);
    }
    return out;
  }

  indexKeys(indexName: string, value: string): string[] {
    return [...this.#indexBucket(indexName, value)];
  }

  indexValues(indexName: string): string[] {
    const index = this.#indexes.get(indexName);
    if (!index) throw new UnknownIndexError(indexName);
    return [...index.keys()];
  }

  indexNames(): string[] {
    return [...this.#indexes.keys()];
  }

  /**
   * Replaces the whole content with `items` (the complete state at some resourceVersion) and
   * returns what changed:
   * - an add (`isInInitialList: true`) for each key not cached before;
   * - an update for each cached key whose resourceVersion differs (same version: nothing, since
   *   the object cannot have changed);
   * - a delete with `finalStateUnknown: true`, carrying the last cached object, for each key
   *   no longer present;
   * - for a key whose `uid` changed, the object was deleted and recreated while we were not
   *   watching: a final-state-unknown delete of the old object, then an add of the new one.
   *
   * The new content is built aside and swapped in at the end, so a reader never sees a mix.
   * Malformed items are skipped and reported through `onInputError`. If an item repeats a key,
   * the later one wins. The resourceVersion itself is not needed to diff; it is accepted so
   * the signature matches {@link ReflectorSink.replace}.
   */
  replace(items: readonly KubeObject[], _resourceVersion?: string): Delta<T>[] {
    const nextEntries = new Map<string, T>();
    const nextUserValues = this.#userValues ? new Map<string, UserIndexValues>() : undefined;
    for (const raw of items) {
      const prepared = this.#prepare(raw);
      if (!prepared) continue;
      nextEntries.set(prepared.key, prepared.obj);
      if (nextUserValues && prepared.userValues) nextUserValues.set(prepared.key, prepared.userValues);
    }

    const deltas: Delta<T>[] = [];
    // Deletes first: a consumer that reacts to a delete by freeing a name sees it before the
    // add that may reuse that name.
    for (const [key, old] of this.#entries) {
      const next = nextEntries.get(key);
      if (!next) deltas.push({ type: 'delete', obj: old, finalStateUnknown: true });
      else if (uidChanged(old, next)) deltas.push({ type: 'delete', obj: old, finalStateUnknown: true });
    }
    for (const [key, next] of nextEntries) {
      const old = this.#entries.get(key);
      if (!old || uidChanged(old, next)) {
        deltas.push({ type: 'add', obj: next, isInInitialList: true });
      } else if (old.metadata?.resourceVersion !== next.metadata?.resourceVersion) {
        deltas.push({ type: 'update', oldObj: old, newObj: next });
      }
    }

    const nextIndexes: IndexMap = new Map();
    for (const name of this.#indexes.keys()) nextIndexes.set(name, new Map());
    const byNamespace = nextIndexes.get(NAMESPACE_INDEX) as Map<string, Set<string>>;
    for (const [key, obj] of nextEntries) addKey(byNamespace, namespaceOf(obj), key);
    if (nextUserValues) {
      for (const [key, values] of nextUserValues) this.#indexUserValues(nextIndexes, key, values);
    }
    this.#entries = nextEntries;
    this.#userValues = nextUserValues;
    this.#indexes = nextIndexes;
    return deltas;
  }

  /**
   * Applies one watch event and returns the resulting delta (or `undefined` if the object was
   * rejected as malformed):
   * - `ADDED`/`MODIFIED` for an unknown key: an add (`isInInitialList: false`);
   * - `ADDED`/`MODIFIED` for a known key: an update (an `ADDED` for a known key means we
   *   missed nothing but the server re-announced it, e.g. after a watch restart);
   * - `DELETED`: a delete carrying the object the server sent (its final state), whether or
   *   not the key was cached, with `finalStateUnknown: false`.
   */
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', raw: KubeObject): Delta<T> | undefined {
    // A deleted object is reported, never stored: its index values would go unused.
    const prepared = this.#prepare(raw, type !== 'DELETED');
    if (!prepared) return undefined;
    const { key, obj } = prepared;
    const old = this.#entries.get(key);
    if (type === 'DELETED') {
      if (old) this.#remove(key, old);
      return { type: 'delete', obj, finalStateUnknown: false };
    }
    if (old) this.#remove(key, old);
    this.#insert(key, obj, prepared.userValues);
    if (!old) return { type: 'add', obj, isInInitialList: false };
    return { type: 'update', oldObj: old, newObj: obj };
  }

  /** Empties the store (used when an informer stops, to release memory). Returns nothing: no handler sees it. */
  clear(): void {
    this.#entries = new Map();
    if (this.#userValues) this.#userValues = new Map();
    const fresh: IndexMap = new Map();
    for (const name of this.#indexes.keys()) fresh.set(name, new Map());
    this.#indexes = fresh;
  }

  #indexBucket(indexName: string, value: string): Iterable<string> {
    const index = this.#indexes.get(indexName);
    if (!index) throw new UnknownIndexError(indexName);
    return index.get(value) ?? [];
  }

  #insert(key: string, obj: T, userValues: UserIndexValues | undefined): void {
    this.#entries.set(key, obj);
    addKey(this.#indexes.get(NAMESPACE_INDEX) as Map<string, Set<string>>, namespaceOf(obj), key);
    if (this.#userValues && userValues) {
      this.#userValues.set(key, userValues);
      this.#indexUserValues(this.#indexes, key, userValues);
    }
  }

  #remove(key: string, obj: T): void {
    this.#entries.delete(key);
    removeKey(this.#indexes.get(NAMESPACE_INDEX), namespaceOf(obj), key);
    const values = this.#userValues?.get(key);
    if (!values) return;
    this.#userValues?.delete(key);
    this.#userIndexers.forEach(([name], i) => {
      const index = this.#indexes.get(name);
      for (const value of values[i] ?? []) removeKey(index, value, key);
    });
  }

  #indexUserValues(indexes: IndexMap, key: string, values: UserIndexValues): void {
    this.#userIndexers.forEach(([name], i) => {
      addToIndex(indexes.get(name) as Map<string, Set<string>>, values[i] ?? [], key);
    });
  }

  /** Validates, transforms and indexes one incoming object, or reports it and returns undefined. */
  #prepare(
    raw: KubeObject,
    indexed = true,
  ): { key: string; obj: T; userValues: UserIndexValues | undefined } | undefined {
    if (!isObjectWithName(raw)) {
      this.#onInputError(new StoreInputError('object has no metadata.name', undefined));
      return undefined;
    }
    const rawKey = objectKey(raw);
    let obj: T;
    try {
      obj = this.#transform(raw);
    } catch (error) {
      this.#onInputError(new StoreInputError(`transform failed for ${rawKey}`, rawKey, error));
      return undefined;
    }
    if (!isObjectWithName(obj)) {
      this.#onInputError(
        new StoreInputError(`transform returned an object without metadata.name for ${rawKey}`, rawKey),
      );
      return undefined;
    }
    // The key follows the stored object so that lookups by the object's own identity work
    // even if a transform (unwisely) renamed it.
    const key = objectKey(obj);
    const userValues =
      !indexed || this.#userIndexers.length === 0
        ? undefined
        : this.#userIndexers.map(([name, fn]) => this.#safeIndexValues(name, fn, obj, key));
    return { key, obj, userValues };
  }

  #safeIndexValues(name: string, fn: IndexFunc<T>, obj: T, key: string): readonly string[] {
    try {
      const values = fn(obj);
      if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) {
        this.#onInputError(new StoreInputError(`index "${name}" returned a non-string[] for ${key}`, key));
        return [];
      }
      // Duplicates would make removal bookkeeping lie about bucket membership; drop them.
      return values.length > 1 ? [...new Set(values)] : values;
    } catch (error) {
      this.#onInputError(new StoreInputError(`index "${name}" threw for ${key}`, key, error));
      return [];
    }
  }
}

function addToIndex(index: Map<string, Set<string>>, values: readonly string[], key: string): void {
  for (const value of values) addKey(index, value, key);
}

function addKey(index: Map<string, Set<string>>, value: string, key: string): void {
  let bucket = index.get(value);
  if (!bucket) {
    bucket = new Set();
    index.set(value, bucket);
  }
  bucket.add(key);
}

function removeKey(index: Map<string, Set<string>> | undefined, value: string, key: string): void {
  const bucket = index?.get(value);
  if (!bucket) return;
  bucket.delete(key);
  if (bucket.size === 0) index?.delete(value);
}

function uidChanged(a: KubeObjectLike, b: KubeObjectLike): boolean {
  const ua = a.metadata?.uid;
  const ub = b.metadata?.uid;
  return ua !== undefined && ub !== undefined && ua !== ub;
}

function isObjectWithName(value: unknown): value is KubeObject {
  if (typeof value !== 'object' || value === null) return false;
  const meta = (value as { metadata?: unknown }).metadata;
  if (typeof meta !== 'object' || meta === null) return false;
  const { name, namespace } = meta as { name?: unknown; namespace?: unknown };
  return (
    typeof name === 'string' && name !== '' && (namespace === undefined || typeof namespace === 'string')
  );
}
