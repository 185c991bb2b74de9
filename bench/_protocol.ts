/**
 * The engine benchmark's worker protocol: the messages between `bench/engine.ts` (the parent)
 * and one contender's process, and the two ways they travel.
 *
 * Every contender — the Node worker (`bench/_engine-worker.ts`) and the client-go peer
 * (`bench/peers/client-go/`) alike — speaks one line protocol: one JSON message per line, the
 * parent's on its stdin, its own on its stdout (nothing else may be written there; logs go to
 * stderr). The end of stdin tells it to exit. Not Node's IPC channel for the Node worker: that
 * alone costs a forked process 3.1 MiB of RSS (2.3 MiB of it the `node` executable's pages), which
 * the Go peer would not pay.
 *
 * The sequence is the same for both: the contender sends `synced` once, then answers each
 * `collect` with one `received`; `error` may come at any time and ends the run of that contender.
 *
 * Not a benchmark itself: the runner skips `_` files.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Memory of a contender's process, as much of it as its runtime can tell. */
export interface MemoryDetail {
  /** Anything the runtime reports beyond RSS and heap (V8 spaces, Go heap, smaps_rollup). */
  readonly [key: string]: unknown;
}

/** Messages from a contender to the parent. */
export type WorkerMessage =
  | {
      type: 'synced';
      syncMs: number;
      /** RSS right after the sync, before any forced GC. */
      rssMb: number;
      rssDeltaMb: number;
      /** Live heap after a forced full GC (V8 heapUsed; Go HeapAlloc). */
      heapMb: number;
      objects: number;
      detail?: MemoryDetail;
    }
  | { type: 'received'; arrivals: [name: string, seq: number, at: number][]; cpuMs: number; rssMb?: number }
  | { type: 'error'; message: string };

/** Messages from the parent to a contender. */
export type ParentMessage = { type: 'collect'; expected: number; timeoutMs: number };

/** The parent's end of one contender's channel. */
export interface WorkerChannel {
  /** The contender's next message; rejects when its process exits first. */
  next(): Promise<WorkerMessage>;
  send(message: ParentMessage): void;
  /** Ends the contender's process (and waits for it to be gone). */
  close(): Promise<void>;
}

/** Queues messages as they arrive and hands them out in order; fails waiters when the process exits. */
class Inbox {
  readonly #queue: WorkerMessage[] = [];
  readonly #waiters: { resolve: (m: WorkerMessage) => void; reject: (e: Error) => void }[] = [];
  #ended: Error | undefined;

  push(message: WorkerMessage): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(message);
    else this.#queue.push(message);
  }

  end(error: Error): void {
    this.#ended ??= error;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }

  next(): Promise<WorkerMessage> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Spawns a contender and talks to it with the line protocol (see the module doc). */
export function spawnLineWorker(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  name: string,
): WorkerChannel {
  const child = spawn(command, [...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const inbox = new Inbox();
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    try {
      inbox.push(JSON.parse(line) as WorkerMessage);
    } catch {
      inbox.push({
        type: 'error',
        message: `${name} wrote a line that is not a message: ${line.slice(0, 200)}`,
      });
    }
  });
  child.once('error', (error) => inbox.end(new Error(`${name} could not start: ${error.message}`)));
  child.once('exit', (code, signal) => inbox.end(new Error(`${name} exited (${code ?? signal})`)));
  return {
    next: () => inbox.next(),
    send: (message) => void child.stdin.write(`${JSON.stringify(message)}\n`),
    close: async () => {
      child.stdin.end();
      const gone = exited(child);
      const timer = setTimeout(() => child.kill(), 2000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** What a Node contender runs (`bench/_engine-worker.ts`), passed to it as one JSON argument. */
export interface NodeWorkerConfig {
  /** `ours`: our SharedInformer; `client-node`: its `makeInformer`; `raw-watch`: the floor. */
  readonly engine: 'ours' | 'client-node' | 'raw-watch';
  readonly kubeconfig: string;
  readonly namespace: string;
  readonly expected: number;
  /** Ours: streaming list instead of paged (default false). */
  readonly streaming?: boolean;
  /** Ours: `limit` of list pages (default: the reflector's). */
  readonly pageSize?: number;
  /** Ours: cache `PartialObjectMetadata` (the runtime's metadata-only list/watch). */
  readonly metadataOnly?: boolean;
  /** Ours: talk to the apiserver over HTTP/2, as client-go does by default over TLS. */
  readonly http2?: boolean;
  /** Ours: `false` turns off the informer's collection after a large list (default: on). */
  readonly heapRelease?: boolean;
}
