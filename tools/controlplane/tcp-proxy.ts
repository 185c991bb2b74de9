/**
 * A TCP proxy in front of the apiserver for fault tests: cut every connection, stop forwarding
 * without closing (a silently dead connection), or throttle bandwidth (a slow list).
 * TLS passes through untouched, so clients keep verifying the apiserver's certificate.
 *
 * @module
 */
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  readonly port: number;
  /** `https://127.0.0.1:<port>`: the apiserver as seen through the proxy. */
  readonly url: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections open now. */
  readonly open: number;
  /** Destroys every open connection (both sides), like a network fault. New connections still work. */
  cutAll(): void;
  /** Stops forwarding in both directions without closing anything; new connections hang too. */
  pause(): void;
  /** Forwards again, including what was held while paused. */
  resume(): void;
  /** Limits each direction of each connection to `bytesPerSecond`; `undefined` removes the limit. */
  setThrottle(bytesPerSecond: number | undefined): void;
  close(): Promise<void>;
}

interface Pipe {
  readonly from: Socket;
  readonly to: Socket;
  readonly queue: Buffer[];
  timer: NodeJS.Timeout | undefined;
}

/** Starts a proxy on a free 127.0.0.1 port forwarding to `target`. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const pipes = new Set<Pipe>();
  let paused = false;
  let throttle: number | undefined;
  let accepted = 0;

  // Moves queued bytes from one side to the other, honouring pause and throttle.
  const pump = (pipe: Pipe): void => {
    if (pipe.timer || paused || pipe.to.destroyed) return;
    while (pipe.queue.length > 0) {
      let chunk = pipe.queue.shift()!;
      if (throttle !== undefined) {
        // Send at most 1/20 s worth of bytes, then come back in 50 ms.
        const budget = Math.max(1, Math.floor(throttle / 20));
        if (chunk.length > budget) {
          pipe.queue.unshift(chunk.subarray(budget));
          chunk = chunk.subarray(0, budget);
        }
        pipe.to.write(chunk);
        pipe.timer = setTimeout(() => {
          pipe.timer = undefined;
          pump(pipe);
        }, 50);
        return;
      }
      pipe.to.write(chunk);
    }
    // Read more only when everything queued went out: backpressure end to end.
    pipe.from.resume();
  };

  const wire = (from: Socket, to: Socket): Pipe => {
    const pipe: Pipe = { from, to, queue: [], timer: undefined };
    pipes.add(pipe);
    from.on('data', (chunk: Buffer) => {
      pipe.queue.push(chunk);
      from.pause();
      pump(pipe);
    });
    const end = (): void => {
      if (pipe.timer) clearTimeout(pipe.timer);
      pipe.timer = undefined;
      pipes.delete(pipe);
      to.destroy();
    };
    from.once('close', end);
    from.once('error', end);
    return pipe;
  };

  const server = createServer((client) => {
    accepted++;
    const upstream = connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    client.once('close', () => sockets.delete(client));
    upstream.once('close', () => sockets.delete(upstream));
    wire(client, upstream);
    wire(upstream, client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');

  return {
    port: address.port,
    url: `https://127.0.0.1:${address.port}`,
    get accepted() {
      return accepted;
    },
    get open() {
      return sockets.size / 2;
    },
    cutAll() {
      for (const socket of sockets) socket.destroy();
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      for (const pipe of pipes) pump(pipe);
    },
    setThrottle(bytesPerSecond) {
      throttle = bytesPerSecond;
      for (const pipe of pipes) pump(pipe);
    },
    async close() {
      for (const pipe of pipes) if (pipe.timer) clearTimeout(pipe.timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
