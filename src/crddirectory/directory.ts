/**
 * The CRD directory: which ElastiService manages which Service. The controller records every
 * ElastiService under the key of the Service it fronts (`namespace/service`); the resolver and the
 * informer handlers look a Service up there to find the ElastiService, its spec and its status.
 *
 * An instance is passed to whoever needs it (no global). Entries are stored as deep-frozen
 * copies: `set` copies its input, and `get`/`findByCRD`/`list` hand out those frozen snapshots
 * directly (no copy per read), so callers can neither corrupt the directory nor see later changes
 * through an object they hold. Mutating a returned snapshot throws a `TypeError` (modules run in
 * strict mode); take `structuredClone(details)` for a modifiable copy.
 *
 * @module
 */
import type { ElastiServiceSpec, ElastiServiceStatus } from '../api/v1alpha1/index.ts';
import { type Logger, silentLogger } from '../kube/index.ts';

/** Recursively read-only view of a JSON-like value. */
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** What the directory holds about one ElastiService. */
export interface CRDDetails {
  /** `metadata.name` of the ElastiService. */
  crdName: string;
  /** Namespace of the ElastiService, and therefore of its Service and scale target. */
  namespace: string;
  spec: ElastiServiceSpec;
  status: ElastiServiceStatus;
}

/** A stored entry: a deep-frozen snapshot. */
export type CRDEntry = DeepReadonly<CRDDetails>;

/** A change, as passed to listeners after it has been applied. */
export type DirectoryChange =
  | {
      readonly type: 'set';
      readonly key: string;
      /** The entry this one replaced under the same key, if any (possibly another ElastiService's). */
      readonly previous: CRDEntry | undefined;
      readonly current: CRDEntry;
    }
  | { readonly type: 'delete'; readonly key: string; readonly previous: CRDEntry };

/** Called synchronously after each change. Throwing is caught and logged; it affects nothing else. */
export type DirectoryListener = (change: DirectoryChange) => void;

/** Misuse of the directory: a malformed key, or details inconsistent with their key. */
export class CRDDirectoryError extends Error {
  override readonly name = 'CRDDirectoryError';
}

/** Options of {@link CRDDirectory}. */
export interface CRDDirectoryOptions {
  logger?: Logger;
}

/** The directory key of a Service: `namespace/service`. */
export function serviceKey(namespace: string, service: string): string {
  return `${namespace}/${service}`;
}

/** Splits a `namespace/service` key. @throws {CRDDirectoryError} unless both parts are non-empty. */
export function parseServiceKey(key: string): { namespace: string; service: string } {
  if (typeof key !== 'string') throw new CRDDirectoryError(`service key must be a string, got ${typeof key}`);
  const slash = key.indexOf('/');
  const namespace = slash > 0 ? key.slice(0, slash) : '';
  const service = slash > 0 ? key.slice(slash + 1) : '';
  if (!namespace || !service || service.includes('/')) {
    throw new CRDDirectoryError(`service key "${key}" is not of the form namespace/service`);
  }
  return { namespace, service };
}

/** Service key → ElastiService details, with a reverse index by ElastiService. */
export class CRDDirectory {
  readonly #entries = new Map<string, CRDEntry>();
  /** `namespace/crdName` → service key, so each ElastiService appears under at most one key. */
  readonly #byCrd = new Map<string, string>();
  readonly #listeners = new Set<DirectoryListener>();
  readonly #logger: Logger;

  constructor(options: CRDDirectoryOptions = {}) {
    this.#logger = (options.logger ?? silentLogger).child({ component: 'CRDDirectory' });
  }

  /** Number of Services in the directory. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Records `details` under `key` (`namespace/service`), replacing what was there. The key must
   * agree with `details.namespace` and `details.spec.service`. If the same ElastiService was
   * recorded under another key (its `spec.service` changed), that old entry is removed first, so
   * an ElastiService never appears twice. Returns the stored snapshot.
   *
   * @throws {CRDDirectoryError} for a malformed key or inconsistent details.
   */
  set(key: string, details: CRDDetails): CRDEntry {
    const { namespace, service } = parseServiceKey(key);
    if (typeof details !== 'object' || details === null) {
      throw new CRDDirectoryError(`details for ${key} must be an object`);
    }
    if (typeof details.crdName !== 'string' || details.crdName === '') {
      throw new CRDDirectoryError(`details for ${key} have no crdName`);
    }
    if (details.namespace !== namespace) {
      throw new CRDDirectoryError(`details for ${key} are in namespace "${String(details.namespace)}"`);
    }
    if (details.spec?.service !== service) {
      throw new CRDDirectoryError(`details for ${key} name service "${String(details.spec?.service)}"`);
    }
    const entry = deepFreeze(structuredClone(details)) as CRDEntry;
    const crdKey = serviceKey(namespace, details.crdName);

    const formerKey = this.#byCrd.get(crdKey);
    if (formerKey !== undefined && formerKey !== key) this.delete(formerKey);

    const previous = this.#entries.get(key);
    if (previous && previous.crdName !== details.crdName) {
      // Another ElastiService claimed this Service: it no longer owns any key.
      this.#byCrd.delete(serviceKey(namespace, previous.crdName));
      this.#logger.warn(
        { key, previous: previous.crdName, current: details.crdName },
        'service is now claimed by another ElastiService',
      );
    }
    this.#entries.set(key, entry);
    this.#byCrd.set(crdKey, key);
    this.#emit({ type: 'set', key, previous, current: entry });
    return entry;
  }

  /** The entry for `key`, if any. */
  get(key: string): CRDEntry | undefined {
    return this.#entries.get(key);
  }

  /** True when `key` is in the directory. */
  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** Removes `key`. Returns whether it was present. */
  delete(key: string): boolean {
    const previous = this.#entries.get(key);
    if (!previous) return false;
    this.#entries.delete(key);
    const crdKey = serviceKey(previous.namespace, previous.crdName);
    if (this.#byCrd.get(crdKey) === key) this.#byCrd.delete(crdKey);
    this.#emit({ type: 'delete', key, previous });
    return true;
  }

  /**
   * Removes whatever entry the ElastiService `namespace/crdName` has (useful on its deletion, when
   * its last spec may be unknown). Returns the removed key, if any.
   */
  deleteByCRD(namespace: string, crdName: string): string | undefined {
    const key = this.#byCrd.get(serviceKey(namespace, crdName));
    if (key === undefined) return undefined;
    this.delete(key);
    return key;
  }

  /** The entry of the ElastiService `namespace/crdName`, with its service key. */
  findByCRD(namespace: string, crdName: string): { key: string; details: CRDEntry } | undefined {
    const key = this.#byCrd.get(serviceKey(namespace, crdName));
    const details = key === undefined ? undefined : this.#entries.get(key);
    return key !== undefined && details ? { key, details } : undefined;
  }

  /** Every entry, sorted by key (a new array each call; the entries are the frozen snapshots). */
  list(): { key: string; details: CRDEntry }[] {
    return [...this.#entries.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, details]) => ({ key, details }));
  }

  /** Removes every entry (emitting a delete for each). */
  clear(): void {
    for (const key of [...this.#entries.keys()]) this.delete(key);
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: DirectoryListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  #emit(change: DirectoryChange): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch (error) {
        this.#logger.error({ err: error, key: change.key, change: change.type }, 'directory listener threw');
      }
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
