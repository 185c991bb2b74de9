/**
 * A memory cgroup for one benchmarked process: what a container's `resources.limits.memory`
 * is to the kernel. Used by `bench/operator.ts` to run the operator under the upstream chart's
 * 80 MiB limit and see whether it converges, and what its resident memory is when the limit
 * makes the kernel reclaim.
 *
 * Why a limit changes RSS: without memory pressure the kernel leaves every page of the `node`
 * executable that was ever touched mapped (52–55 MiB of an idle operator's RSS). Under a limit it
 * reclaims clean file pages first — they are re-read from the file when needed — and kills the
 * process only when anonymous memory alone no longer fits. A container's limit counts the page
 * cache its own processes bring in, so the executable is copied to a new file with direct I/O
 * (nothing of it in the page cache) before each run: every page of it the operator touches is
 * charged to its cgroup, the strictest case (in a real pod other containers of the same image
 * may have brought the pages in under their own cgroups).
 *
 * Needs root and a writable memory controller (cgroup v1 `memory`, or v2 with `memory` in the
 * parent's `subtree_control`); without them {@link createMemoryCgroup} throws
 * {@link MemoryCgroupUnavailableError} and the benchmark reports that launch as not run. Only the
 * v1 path has run here (this machine's kind); under v2 the benchmark's own cgroup must allow a
 * child with the memory controller, which the "no internal processes" rule may forbid.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** No writable memory controller here (not root, or none mounted). */
export class MemoryCgroupUnavailableError extends Error {
  override readonly name = 'MemoryCgroupUnavailableError';
}

/** What the kernel counted for the cgroup, at the moment of reading. MiB = 2^20 bytes. */
export interface MemoryCgroupUsage {
  /** Charged now: anonymous memory plus the page cache its processes brought in. */
  readonly usageMib: number;
  /** The most ever charged. */
  readonly peakMib: number;
  /** Page cache (file pages) charged now. */
  readonly fileMib: number;
  /** Times the charge hit the limit (each followed by reclaim). */
  readonly limitHits: number;
  /** Processes the kernel's OOM killer killed in it. */
  readonly oomKills: number;
  /** Major page faults (pages read back from the file after reclaim). */
  readonly majorFaults: number;
}

/** A created memory cgroup with its limit, and a private copy of the `node` executable. */
export interface MemoryCgroup {
  readonly limitMib: number;
  /** The executable to start: a fresh copy whose pages are in no page cache yet. */
  readonly executable: string;
  /** `[command, ...args]` that enters the cgroup, then execs `argv` (so the process is born in it). */
  wrap(argv: readonly string[]): [string, string[]];
  usage(): MemoryCgroupUsage;
  /** Removes the cgroup (its processes must have exited) and the executable's copy. */
  remove(): void;
}

interface Controller {
  readonly version: 1 | 2;
  /** The cgroup directory of this process for the memory controller. */
  readonly own: string;
}

function memoryController(): Controller {
  const lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  const v1 = lines.find((line) => line.split(':')[1]?.split(',').includes('memory'));
  if (v1 !== undefined) {
    const path = v1.split(':').slice(2).join(':');
    const own = join('/sys/fs/cgroup/memory', path);
    if (existsSync(join(own, 'memory.limit_in_bytes'))) return { version: 1, own };
  }
  const v2 = lines.find((line) => line.startsWith('0::'));
  if (v2 !== undefined) {
    for (const mount of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
      const own = join(mount, v2.slice(3));
      const control = join(own, 'cgroup.subtree_control');
      if (existsSync(control) && readFileSync(control, 'utf8').split(/\s+/).includes('memory')) {
        return { version: 2, own };
      }
    }
  }
  throw new MemoryCgroupUnavailableError(
    'no writable memory cgroup controller (cgroup v1 "memory", or v2 with memory in subtree_control)',
  );
}

function readNumber(path: string): number {
  return Number(readFileSync(path, 'utf8').trim());
}

/** `key value` lines (memory.stat, memory.events, memory.oom_control). */
function readKeyed(path: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync(path)) return out;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const [key, value] = line.split(' ');
    if (key && value !== undefined) out.set(key, Number(value));
  }
  return out;
}

let created = 0;

/**
 * A new memory cgroup limited to `limitMib`, below this process's own cgroup.
 *
 * @throws {MemoryCgroupUnavailableError} when no memory controller can be written here.
 */
export function createMemoryCgroup(limitMib: number): MemoryCgroup {
  const controller = memoryController();
  const dir = join(controller.own, `elasti-bench-${process.pid}-${++created}`);
  try {
    mkdirSync(dir);
  } catch (error) {
    throw new MemoryCgroupUnavailableError(`cannot create ${dir}: ${(error as Error).message}`);
  }
  const bytes = String(limitMib * 2 ** 20);
  if (controller.version === 1) {
    writeFileSync(join(dir, 'memory.limit_in_bytes'), bytes);
    // No swap for it either: the limit is on memory, as in a pod (which runs without swap).
    try {
      writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), bytes);
    } catch {
      // memsw exists only with swap accounting on; without it there is no swap to limit.
    }
  } else {
    writeFileSync(join(dir, 'memory.max'), bytes);
    try {
      writeFileSync(join(dir, 'memory.swap.max'), '0');
    } catch {
      // No swap controller: nothing to limit.
    }
  }
  // Direct I/O on both sides: the copy's pages enter no page cache, so the process started from
  // it brings every page it touches in under its own cgroup.
  const executable = join(tmpdir(), `elasti-bench-node-${process.pid}-${created}`);
  execFileSync('dd', [
    `if=${process.execPath}`,
    `of=${executable}`,
    'bs=1M',
    'iflag=direct',
    'oflag=direct',
    'status=none',
  ]);
  execFileSync('chmod', ['755', executable]);
  const file = (name: string) => join(dir, name);
  return {
    limitMib,
    executable,
    wrap(argv) {
      // `$0` is the executable, `$@` its arguments: the shell enters the cgroup, then becomes it.
      return ['sh', ['-c', `echo $$ > '${file('cgroup.procs')}' && exec "$0" "$@"`, ...argv]];
    },
    usage() {
      const mib = (bytes: number) => bytes / 2 ** 20;
      const stat = readKeyed(file('memory.stat'));
      if (controller.version === 1) {
        return {
          usageMib: mib(readNumber(file('memory.usage_in_bytes'))),
          peakMib: mib(readNumber(file('memory.max_usage_in_bytes'))),
          fileMib: mib(stat.get('cache') ?? Number.NaN),
          // With swap accounting the memory+swap limit is the one hit (same value, no swap).
          limitHits: Math.max(
            readNumber(file('memory.failcnt')),
            existsSync(file('memory.memsw.failcnt')) ? readNumber(file('memory.memsw.failcnt')) : 0,
          ),
          oomKills: readKeyed(file('memory.oom_control')).get('oom_kill') ?? 0,
          majorFaults: stat.get('pgmajfault') ?? Number.NaN,
        };
      }
      const events = readKeyed(file('memory.events'));
      return {
        usageMib: mib(readNumber(file('memory.current'))),
        peakMib: existsSync(file('memory.peak')) ? mib(readNumber(file('memory.peak'))) : Number.NaN,
        fileMib: mib(stat.get('file') ?? Number.NaN),
        limitHits: events.get('max') ?? Number.NaN,
        oomKills: events.get('oom_kill') ?? 0,
        majorFaults: stat.get('pgmajfault') ?? Number.NaN,
      };
    },
    remove() {
      rmSync(executable, { force: true });
      try {
        rmdirSync(dir);
      } catch {
        // Still has a process (a stop that timed out); the kernel frees it with the last one.
      }
    },
  };
}
