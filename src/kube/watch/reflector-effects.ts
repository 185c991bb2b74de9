/**
 * What the reflector does about a transition: carries out the machine's {@link Effect}s
 * (collect the initial state, hand it or one event to the sink, call the observer, log) for the
 * driver in `reflector.ts`, which performs the machine's next operation.
 *
 * Everything here touches code the reflector does not own (the sink, the observer, the logger),
 * so each call is fenced: a throwing sink becomes a {@link SinkError} that the driver turns into
 * a `sinkFailed` input (relist after a backoff), while a throwing observer hook or logger is only
 * logged or swallowed. Keeping that fencing in one module keeps the driver's loop about I/O.
 *
 * @module
 */
import type {
  Backoff,
  KubeObject,
  KubeObjectLike,
  Logger,
  ReflectorObserver,
  ReflectorSink,
} from '../core/index.ts';
import { KubeApiError, objectKey, statusOf } from '../core/index.ts';
import type { Effect, MachineInput, MachineState } from './reflector-types.ts';

/** What {@link ReflectorEffects} acts on; all owned by one reflector. */
export interface ReflectorEffectsOptions<T extends KubeObjectLike = KubeObject> {
  sink: ReflectorSink<T>;
  observer: ReflectorObserver;
  /** Already guarded (see {@link guardedLogger}). */
  logger: Logger;
  /** Told when a complete state reached the sink (the start of a healthy period). */
  backoff: Backoff;
  now: () => number;
}

/** Carries out effects for one reflector, and holds the initial state being collected. */
export class ReflectorEffects<T extends KubeObjectLike = KubeObject> {
  readonly #sink: ReflectorSink<T>;
  readonly #observer: ReflectorObserver;
  readonly #logger: Logger;
  readonly #backoff: Backoff;
  readonly #now: () => number;
  /** The initial state being collected, keyed by object key. */
  #buffer = new Map<string, T>();

  constructor(opts: ReflectorEffectsOptions<T>) {
    this.#sink = opts.sink;
    this.#observer = opts.observer;
    this.#logger = opts.logger;
    this.#backoff = opts.backoff;
    this.#now = opts.now;
  }

  /**
   * Carries out one effect of the transition that fed `input` (with its `payload`: a page's
   * items or one event's object) and led to `state`.
   *
   * @throws SinkError when the sink threw; the remaining effects of the transition are skipped.
   */
  perform(effect: Effect, input: MachineInput, payload: T[] | T | undefined, state: MachineState): void {
    switch (effect.kind) {
      case 'resetBuffer':
        this.#buffer = new Map();
        return;
      case 'buffer': {
        const items = Array.isArray(payload) ? payload : payload ? [payload] : [];
        const deleting = input.type === 'watchEvent' && input.eventType === 'DELETED';
        for (const item of items) {
          if (deleting) this.#buffer.delete(objectKey(item));
          else this.#buffer.set(objectKey(item), item);
        }
        return;
      }
      case 'replace': {
        const items = [...this.#buffer.values()];
        this.#buffer = new Map();
        try {
          this.#sink.replace(items, effect.resourceVersion);
        } catch (error) {
          throw new SinkError(error);
        }
        this.#backoff.succeeded(this.#now());
        this.#logger.info(
          { items: items.length, resourceVersion: effect.resourceVersion, streaming: effect.streaming },
          state.relists > 0 && state.lists > 1 ? 'relisted' : 'listed',
        );
        this.hook('onListDone', (o) =>
          o.onListDone?.(items.length, effect.resourceVersion, effect.streaming),
        );
        return;
      }
      case 'apply': {
        if (!payload || Array.isArray(payload)) return;
        try {
          this.#sink.apply(effect.eventType, payload);
        } catch (error) {
          throw new SinkError(error);
        }
        this.hook('onEvent', (o) => o.onEvent?.(effect.eventType));
        return;
      }
      case 'bookmark':
        this.hook('onBookmark', (o) => o.onBookmark?.(effect.resourceVersion));
        return;
      case 'watchEnded':
        this.hook('onWatchEnd', (o) => o.onWatchEnd?.(effect.reason));
        return;
      case 'error': {
        const status = statusOf(effect.error);
        const fields = {
          err: effect.error.message,
          status,
          reason: reasonOf(effect.error),
          phase: state.phase,
        };
        if (effect.expected) this.#logger.info(fields, 'list/watch interrupted');
        else this.#logger.warn(fields, 'list/watch failed');
        this.hook('onError', (o) => o.onError?.(effect.error, status));
        return;
      }
      case 'streamingFallback':
        this.#logger.warn({ why: effect.why }, 'streaming list unavailable; using paged lists from now on');
        return;
    }
  }

  /** Observer hooks are someone else's code: their failures are logged, never propagated. */
  hook(name: string, call: (observer: ReflectorObserver) => void): void {
    try {
      call(this.#observer);
    } catch (error) {
      this.#logger.warn({ hook: name, err: error }, 'reflector observer hook threw');
    }
  }

  /** Drops the initial state being collected (the loop has exited). */
  clearBuffer(): void {
    this.#buffer.clear();
  }
}

/** Marks an exception thrown by the sink, to tell it apart from our own bugs. */
export class SinkError extends Error {
  constructor(cause: unknown) {
    super('sink threw', { cause });
  }
}

/** A logger whose failures are swallowed: logging must never break the loop. */
export function guardedLogger(inner: Logger): Logger {
  const guard =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (obj: object, msg?: string): void => {
      try {
        inner[level](obj, msg);
      } catch {
        // nothing sensible to do: the logger is the reporting channel
      }
    };
  return {
    debug: guard('debug'),
    info: guard('info'),
    warn: guard('warn'),
    error: guard('error'),
    child: (bindings) => guardedLogger(inner.child(bindings)),
  };
}

function reasonOf(error: Error): string | undefined {
  return error instanceof KubeApiError ? error.reason : error.name;
}
