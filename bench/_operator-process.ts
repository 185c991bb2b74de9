/**
 * The compiled operator as a child process, for `bench/operator.ts`: started with its documented
 * command (`node <V8 flags> dist/operator/main.js <flags>`), watched from outside through its own
 * `/metrics` and `/proc/<pid>/…`, so the measured process runs exactly what ships (no benchmark
 * code inside it). Not a benchmark itself.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { freePort } from '../tools/controlplane/harness.ts';
import { createMemoryCgroup, type MemoryCgroup, type MemoryCgroupUsage } from './_memory-cgroup.ts';
import { now } from './_util.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The entry point that ships: `npm run build`'s single-file CommonJS bundle of the operator. */
export const OPERATOR_MAIN = `${root}dist/elasti-operator.cjs`;

/** The same bundle as an ES module (the previous session's form; `buildOperator` makes both). */
export const OPERATOR_ESM_MAIN = `${root}dist/elasti-operator.mjs`;

/** The compiled modules the bundle is made of, one file per module (`tsc`'s output). */
export const OPERATOR_MODULES_MAIN = `${root}dist/operator/main.js`;

/**
 * What `npm run build` does: a fresh `dist/` from `tsconfig.build.json`, then the bundle. `BENCH_BUILD=0` skips
 * it (another run uses the same `dist/`: removing it under that run's operators would fail them).
 */
export function buildOperator(): void {
  if (process.env.BENCH_BUILD === '0') return;
  process.stderr.write('[bench] building dist/ (npm run build)\n');
  rmSync(`${root}dist`, { recursive: true, force: true });
  execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  // The second half of `npm run build`: the one-file bundle the operator runs as; then the same
  // as an ES module, for the contender that compares the two.
  execFileSync(process.execPath, [`${root}tools/bundle-operator.ts`], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, [`${root}tools/bundle-operator.ts`, OPERATOR_ESM_MAIN, 'esm'], {
    cwd: root,
    stdio: 'inherit',
  });
}

/** How one operator process is started: V8 flags and extra environment (e.g. glibc tunables). */
export interface OperatorLaunch {
  readonly nodeFlags: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** The entry point; default {@link OPERATOR_MAIN}. */
  readonly main?: string;
  /** Run in a memory cgroup with this limit (MiB), like a container's memory limit (`_memory-cgroup.ts`). */
  readonly memoryLimitMib?: number;
}

/** Memory of a process from outside, MB: `/proc/<pid>/smaps_rollup` and `/proc/<pid>/status`. */
export function processMemory(pid: number): {
  rss: number;
  anonymous: number;
  fileBacked: number;
  threads: number;
} {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
  const rss = kb('Rss') / 1024;
  const anonymous = kb('Anonymous') / 1024;
  return { rss, anonymous, fileBacked: rss - anonymous, threads };
}

/** CPU (user + system) a process has used so far, ms (`/proc/<pid>/stat`, clock ticks of 10 ms). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Sum of the samples of every series of `name` in a Prometheus text exposition. */
export function metricSum(text: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** A running compiled operator. */
export interface OperatorProcess {
  readonly pid: number;
  readonly startedAt: number;
  /** GET /metrics (text). */
  metrics(): Promise<string>;
  /** Whether GET /readyz answers 200 (the controller's caches synced). */
  ready(): Promise<boolean>;
  /**
   * Rejects (with the end of its stderr) if the process exits before {@link stop}: race it
   * against a wait, so a crashed operator ends the wait at once instead of at its deadline.
   */
  readonly failed: Promise<never>;
  /** Everything the process wrote to stderr so far (for failure messages). */
  stderr(): string;
  /** What the kernel counted for the process's memory cgroup, when it runs in one. */
  cgroupUsage(): MemoryCgroupUsage | undefined;
  /** SIGTERM, then waits for the exit (SIGKILL after 15 s). */
  stop(): Promise<void>;
}

/** Starts `node <nodeFlags> <main> <args>` (in its memory cgroup, if any) with a free metrics port. */
export async function startOperatorProcess(
  launch: OperatorLaunch,
  args: readonly string[],
): Promise<OperatorProcess> {
  const port = await freePort();
  const cgroup: MemoryCgroup | undefined =
    launch.memoryLimitMib === undefined ? undefined : createMemoryCgroup(launch.memoryLimitMib);
  const argv = [
    ...launch.nodeFlags,
    launch.main ?? OPERATOR_MAIN,
    ...args,
    // Metrics and probes on one private port: the default probe port (:8081) may be taken by
    // another operator on this machine.
    `--metrics-bind-address=127.0.0.1:${port}`,
    `--health-probe-bind-address=127.0.0.1:${port}`,
  ];
  const [command, commandArgs] = cgroup
    ? cgroup.wrap([cgroup.executable, ...argv])
    : [process.execPath, argv];
  const child: ChildProcess = spawn(command, commandArgs, {
    stdio: ['ignore', 'ignore', 'pipe'],
    // A clean environment: nothing of this process's NODE_OPTIONS or tunables leaks in.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/',
      ELASTI_OPERATOR_PORT: '0',
      ...launch.env,
    },
  });
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString('utf8')).slice(-4000);
  });
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = exited.then(() => {
    const oom =
      cgroup && cgroup.usage().oomKills > 0 ? `, OOM-killed in its ${cgroup.limitMib} MiB cgroup` : '';
    throw new Error(
      `operator exited (${child.exitCode ?? child.signalCode}${oom}) before stop: ${err.trim()}`,
    );
  });
  // Observed by the caller's race; without a race it must not become an unhandled rejection.
  failed.catch(() => {});
  if (child.pid === undefined) {
    cgroup?.remove();
    throw new Error(`operator did not start: ${err}`);
  }
  const pid = child.pid;
  return {
    pid,
    startedAt: now(),
    async metrics() {
      if (child.exitCode !== null) throw new Error(`operator exited ${child.exitCode}: ${err}`);
      const res = await request(`http://127.0.0.1:${port}/metrics`);
      return res.body.text();
    },
    async ready() {
      const res = await request(`http://127.0.0.1:${port}/readyz`);
      await res.body.dump();
      return res.statusCode === 200;
    },
    failed: failed.catch((error: unknown) => {
      if (stopping) return new Promise<never>(() => {});
      throw error;
    }),
    stderr: () => err,
    cgroupUsage: () => cgroup?.usage(),
    async stop() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      cgroup?.remove();
    },
  };
}
