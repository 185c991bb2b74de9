/**
 * Where a Node process's memory is, for the benchmarks' workers: RSS split into file-backed and
 * anonymous (`/proc/self/smaps_rollup`), V8's heap spaces committed vs used, and what Node
 * counts outside the heap (external strings and buffers, ArrayBuffers). Not a benchmark itself.
 */
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

const mb = (bytes: number): number => Number((bytes / 2 ** 20).toFixed(1));

/** `/proc/self/smaps_rollup` fields in MB (Linux only; empty elsewhere). */
export function smapsRollup(): Record<string, number> {
  let text: string;
  try {
    text = readFileSync('/proc/self/smaps_rollup', 'utf8');
  } catch {
    return {};
  }
  const fields: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^(\w+):\s+(\d+) kB/.exec(line);
    if (match) fields[match[1] as string] = Number(((Number(match[2]) * 1024) / 2 ** 20).toFixed(1));
  }
  return fields;
}

/** A snapshot of the process's memory, all in MB. */
export function memorySnapshot(): Record<string, unknown> {
  const usage = process.memoryUsage();
  const smaps = smapsRollup();
  const spaces: Record<string, { committed: number; used: number }> = {};
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_size === 0) continue;
    spaces[space.space_name] = { committed: mb(space.physical_space_size), used: mb(space.space_used_size) };
  }
  return {
    rss: mb(usage.rss),
    heapTotal: mb(usage.heapTotal),
    heapUsed: mb(usage.heapUsed),
    external: mb(usage.external),
    arrayBuffers: mb(usage.arrayBuffers),
    anonymous: smaps.Anonymous,
    fileBacked:
      smaps.Rss !== undefined && smaps.Anonymous !== undefined
        ? mb((smaps.Rss - smaps.Anonymous) * 2 ** 20)
        : undefined,
    spaces,
  };
}

/** Full GCs until the heap stops shrinking (at most `rounds`); needs `--expose-gc`. */
export function collectGarbage(rounds = 3): void {
  const gc = globalThis.gc;
  if (!gc) return;
  for (let i = 0; i < rounds; i++) gc();
}
