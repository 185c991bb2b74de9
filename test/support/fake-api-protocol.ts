/**
 * The mechanics under the fake API server's protocol ({@link ./fake-api-server.ts}): open watch
 * streams (with server-side end, failure, freezing and the client's idle timeout), list
 * snapshots behind expirable continue tokens, and scripted faults per verb. The server decides
 * WHAT is sent; these modules only carry it.
 */
import type { ListOptions, ListPage, WatchOptions } from '../../src/kube/core/contracts.ts';
import { WatchIdleTimeoutError } from '../../src/kube/core/errors.ts';
import type { KubeObject, ListWatchTarget, WatchEvent } from '../../src/kube/core/types.ts';
import { apiError } from './fake-api-rules.ts';

/** The verbs a test can script faults for and find in the server's call log. */
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'replace' | 'patch' | 'patchStatus' | 'delete';

/** A scripted fault: the call throws `error`, or hangs until its signal aborts. */
export type Fault = { readonly error: Error } | { readonly hang: true };

interface FaultRule {
  readonly verbs: readonly Verb[];
  readonly resource: string | undefined;
  readonly fault: Fault;
  remaining: number;
}

/** Faults waiting for their calls, played in the order they were injected. */
export class FaultScript {
  readonly #rules: FaultRule[] = [];

  inject(verb: Verb | readonly Verb[], fault: Fault, options: { resource?: string; times?: number }): void {
    const verbs = typeof verb === 'string' ? [verb] : verb;
    this.#rules.push({ verbs, resource: options.resource, fault, remaining: options.times ?? 1 });
  }

  /** Plays the first fault matching a call of `verb` on `resource`: throws, hangs, or returns at once. */
  async play(verb: Verb, resource: string, signal: AbortSignal | undefined): Promise<void> {
    const rule = this.#rules.find(
      (f) => f.verbs.includes(verb) && (f.resource === undefined || f.resource === resource),
    );
    if (!rule) return;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.#rules.splice(this.#rules.indexOf(rule), 1);
    if ('error' in rule.fault) throw rule.fault.error;
    // Hang until aborted, like a request to a paused proxy.
    await new Promise<void>((_, reject) => {
      if (signal?.aborted) reject(signal.reason);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }
}

/** What one list saw: its items and the revision it was read at. */
export interface Snapshot {
  readonly items: KubeObject[];
  readonly revision: number;
}

/** Paged lists: the first page takes a snapshot; continue tokens (`id:offset`) page through it. */
export class ListSnapshots {
  /** Snapshots behind continue tokens; clearing them expires every token (410 `Expired`). */
  readonly snapshots = new Map<string, Snapshot>();
  #seq = 0;

  /** The page `options` ask for; `take` reads a new snapshot for a first page. */
  page(options: ListOptions, take: () => Snapshot): ListPage {
    let snapshot: Snapshot;
    let offset = 0;
    let id: string;
    if (options.continue) {
      const [snapId = '', off] = options.continue.split(':');
      const found = this.snapshots.get(snapId);
      if (!found)
        throw apiError(410, 'Expired', { verb: 'list', what: `continue token ${options.continue}` });
      snapshot = found;
      id = snapId;
      offset = Number(off);
    } else {
      snapshot = take();
      id = String(++this.#seq);
      this.snapshots.set(id, snapshot);
    }
    const end = offset + (options.limit || snapshot.items.length);
    const page: ListPage = {
      items: snapshot.items.slice(offset, end).map((o) => structuredClone(o)),
      resourceVersion: String(snapshot.revision),
    };
    if (end < snapshot.items.length) page.continue = `${id}:${end}`;
    return page;
  }
}

type StreamItem = WatchEvent | { end: true } | { error: Error };

/** One open watch stream. */
class Stream {
  readonly queue: StreamItem[] = [];
  wake: (() => void) | undefined;
  /** While true, nothing is delivered (a silently dead connection). */
  frozen = false;
  readonly target: ListWatchTarget;
  constructor(target: ListWatchTarget) {
    this.target = target;
  }
  push(item: StreamItem): void {
    this.queue.push(item);
    this.wake?.();
  }
}

/** The open watches of a server. */
export class WatchHub {
  readonly #streams = new Set<Stream>();

  get size(): number {
    return this.#streams.size;
  }

  /** Sends `event` (a copy) to every stream whose target `accepts` it. */
  broadcast(event: WatchEvent, accepts: (target: ListWatchTarget) => boolean): void {
    for (const stream of this.#streams) {
      if (accepts(stream.target)) stream.push(structuredClone(event));
    }
  }

  /** Sends a BOOKMARK at `revision` to every stream. */
  bookmark(revision: number): void {
    const object = { metadata: { resourceVersion: String(revision) } };
    for (const stream of this.#streams) stream.push({ type: 'BOOKMARK', object });
  }

  /** Ends every stream normally (server-side timeout). */
  closeAll(): void {
    for (const stream of this.#streams) stream.push({ end: true });
  }

  /** Fails every stream with `error` (in-stream ERROR or broken connection). */
  failAll(error: Error): void {
    for (const stream of this.#streams) stream.push({ error });
  }

  /** Stops delivering to every stream without closing it. */
  freezeAll(): void {
    for (const stream of this.#streams) stream.frozen = true;
  }

  /** Opens a stream on `target` that first sends `initial`, then what is broadcast, until it ends. */
  async *serve(
    target: ListWatchTarget,
    initial: WatchEvent[],
    options: WatchOptions,
  ): AsyncGenerator<WatchEvent> {
    const signal = options.signal;
    const stream = new Stream(target);
    for (const event of initial) stream.push(event);
    this.#streams.add(stream);
    const onAbort = (): void => stream.wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      yield* drain(stream, options.idleTimeoutMs, signal);
    } finally {
      this.#streams.delete(stream);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** Yields a stream's items until it ends, fails, goes idle too long or the caller aborts. */
async function* drain(
  stream: Stream,
  idleTimeoutMs: number | undefined,
  signal: AbortSignal | undefined,
): AsyncGenerator<WatchEvent> {
  for (;;) {
    if (signal?.aborted) return;
    const item = stream.frozen ? undefined : stream.queue.shift();
    if (item === undefined) {
      const timedOut = await new Promise<boolean>((resolve) => {
        const timer = idleTimeoutMs ? setTimeout(() => resolve(true), idleTimeoutMs) : undefined;
        stream.wake = () => {
          if (timer) clearTimeout(timer);
          resolve(false);
        };
      });
      stream.wake = undefined;
      if (timedOut) throw new WatchIdleTimeoutError(idleTimeoutMs ?? 0);
      continue;
    }
    if ('end' in item) return;
    if ('error' in item) throw item.error;
    yield item;
  }
}
