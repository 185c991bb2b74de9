/**
 * Running one control plane process under `supervise` (see `supervise/main.go`) and waiting for
 * it to be ready: the pieces every component of the harness shares.
 *
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A process started under the supervisor, with the tail of its output. */
export interface Supervised {
  readonly child: ChildProcess;
  readonly output: string[];
  readonly exited: Promise<number | null>;
}

/** Options of {@link supervised}. */
export interface SupervisedOptions {
  /** Directories the supervisor removes after its child exited. */
  cleanup?: string[];
  /** Forward the output to this process's stderr. */
  verbose?: boolean;
  /** Extra environment variables of the child. */
  env?: Record<string, string>;
}

/** Starts `command` under `<binDir>/supervise`. */
export function supervised(binDir: string, command: string[], options: SupervisedOptions = {}): Supervised {
  const args = [...(options.cleanup ?? []).flatMap((dir) => ['--cleanup', dir]), '--', ...command];
  const child = spawn(join(binDir, 'supervise'), args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ? { ...process.env, ...options.env } : process.env,
  });
  const output: string[] = [];
  const keep = (chunk: Buffer): void => {
    output.push(chunk.toString());
    if (output.length > 400) output.splice(0, output.length - 400);
    if (options.verbose) process.stderr.write(chunk);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // The control plane must not keep this process alive: when it exits (however), the supervisor
  // notices and cleans up. So a test file that never calls stop() still ends.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
  return { child, output, exited };
}

/** Stops a supervised process (the supervisor terminates its child's process group) and waits. */
export async function stopSupervised(proc: Supervised): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  // Hold the event loop open until it has exited (the handle is unref'd while it runs).
  proc.child.ref();
  proc.child.kill('SIGTERM');
  await proc.exited;
}

/**
 * Polls `probe` every 200 ms until it returns true; throws with the process's last output when it
 * exits first or the deadline passes.
 */
export async function waitReady(
  what: string,
  proc: Supervised,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) {
      throw new Error(
        `${what} exited with ${proc.child.exitCode} before ready:\n${proc.output.join('').slice(-4000)}`,
      );
    }
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `${what} not ready within ${timeoutMs} ms (last probe error: ${String(lastError)}):\n${proc.output.join('').slice(-4000)}`,
  );
}

/** A free TCP port on 127.0.0.1 (bound and released; good enough on a loopback-only test machine). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
