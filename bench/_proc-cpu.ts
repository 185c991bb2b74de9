/**
 * CPU of a control plane's processes from /proc, per binary (not a benchmark itself): which
 * component a benchmark step keeps busy. A process is the plane's when its command line names
 * the plane's directory (every component's data or config lives there).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Binary name → CPU milliseconds used so far, for the processes of the plane in `planeDir`. */
export function planeCpuMs(planeDir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(planeDir)) continue;
      const exe = basename(readlinkSync(`/proc/${entry}/exe`));
      if (exe === 'supervise') continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name, which may hold spaces: utime and stime are 14th and 15th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      out.set(exe, (out.get(exe) ?? 0) + (ticks * 1000) / TICKS_PER_SECOND);
    } catch {
      // The process ended while being read.
    }
  }
  return out;
}

/** `after − before` per binary, in ms. */
export function cpuDelta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...after].map(([exe, ms]) => [exe, Math.round(ms - (before.get(exe) ?? 0))]));
}
