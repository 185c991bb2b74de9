/**
 * The Manager's lookups from other spellings of a registration to its key: the upstream key
 * without the API group (`stopInformer` accepts it when it names one registration) and the
 * requester (`stopForCRD`). A key is tracked from the start of its `add` until neither an add
 * nor a registration holds it.
 *
 * @module
 */
import { AmbiguousKeyError, InformerNotFoundError } from './errors.ts';

/** `namespace/name` of a requester, as {@link KeyIndex.keysOf} looks it up. */
export function requesterId(namespace: string, name: string): string {
  return `${namespace}/${name.toLowerCase()}`;
}

/** Keys by upstream spelling and by requester. */
export class KeyIndex {
  readonly #tracked = new Map<string, { readonly legacyKey: string; readonly requester: string }>();
  readonly #legacy = new Map<string, Set<string>>();
  readonly #byRequester = new Map<string, Set<string>>();

  /** Starts tracking `key` (idempotent). `requester` is a {@link requesterId}. */
  track(key: string, legacyKey: string, requester: string): void {
    if (this.#tracked.has(key)) return;
    this.#tracked.set(key, { legacyKey, requester });
    addTo(this.#legacy, legacyKey, key);
    addTo(this.#byRequester, requester, key);
  }

  /** Stops tracking `key`. */
  untrack(key: string): void {
    const tracked = this.#tracked.get(key);
    if (!tracked) return;
    this.#tracked.delete(key);
    removeFrom(this.#legacy, tracked.legacyKey, key);
    removeFrom(this.#byRequester, tracked.requester, key);
  }

  /** The keys of one requester. */
  keysOf(requester: string): string[] {
    return [...(this.#byRequester.get(requester) ?? [])];
  }

  /**
   * The key `spelled` names: itself when `held(spelled)`, else the one key it spells the upstream
   * way. Throws {@link InformerNotFoundError} or {@link AmbiguousKeyError}.
   */
  resolve(spelled: string, held: (key: string) => boolean): string {
    if (held(spelled)) return spelled;
    const candidates = this.#legacy.get(spelled);
    if (candidates?.size === 1) return [...candidates][0] as string;
    if (candidates && candidates.size > 1) throw new AmbiguousKeyError(spelled, [...candidates].sort());
    throw new InformerNotFoundError(spelled);
  }
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}

function removeFrom(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
