/**
 * CPU and memory of a running control plane, per component, from /proc: how the README's numbers
 * are measured (`npx node tools/controlplane/usage.ts --help`).
 *
 * - `--idle`: starts the full set (controllers, 3 kwok Nodes, Prometheus), lets it settle
 *   `--settle` seconds, then measures `--seconds`.
 * - `--under PID`: measures the control plane(s) started by the process tree under PID (e.g. an
 *   `npm run test:integration`) until that process exits.
 *
 * Reports, per control plane (its `elasti-cp-...` directory) and component: CPU seconds used
 * while it was seen, the average in cores over that time, and the peak resident memory (RSS;
 * supervisors excluded). CPU a process used before it was first seen (at most one interval) is
 * not counted.
 *
 * @module
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBinaries, startControlPlane } from './harness.ts';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux
const usage =
  'usage: node tools/controlplane/usage.ts --idle [--settle S] [--seconds S] | --under PID [--interval S]';

interface ProcSample {
  pid: number;
  ppid: number;
  exe: string;
  /** The control plane's directory (`elasti-cp-...`) its command line names, or `?`. */
  plane: string;
  cpuTicks: number;
  rssKiB: number;
}

function readProcs(binDir: string): ProcSample[] {
  const out: ProcSample[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const exe = readlinkSync(`/proc/${entry}/exe`);
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command name: state ppid ... utime(14) stime(15).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      out.push({
        pid,
        ppid: Number(fields[1]),
        exe: exe.startsWith(`${binDir}/`) ? basename(exe) : exe,
        plane: /elasti-cp-[A-Za-z0-9]+/.exec(cmdline)?.[0] ?? '?',
        cpuTicks: Number(fields[11]) + Number(fields[12]),
        rssKiB: Number(rss ?? 0),
      });
    } catch {
      // gone, a zombie or a kernel thread
    }
  }
  return out;
}

/** The processes from `binDir` in the tree under `root`, supervisors excluded. */
function components(samples: ProcSample[], binDir: string, root: number): ProcSample[] {
  const children = new Map<number, number[]>();
  for (const s of samples) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
  const inTree = new Set<number>();
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    inTree.add(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  const built = new Set(readdirSync(binDir));
  return samples.filter((s) => inTree.has(s.pid) && built.has(s.exe) && s.exe !== 'supervise');
}

interface Totals {
  cpuTicks: number;
  peakRssKiB: number;
}

/** One control plane's components as measured. */
interface PlaneUsage {
  /** Seconds between its first and last sighting. */
  seenSeconds: number;
  components: Map<string, Totals>;
}

async function measure(binDir: string, root: number, until: () => boolean, intervalMs: number) {
  const first = new Map<number, number>(); // pid → CPU ticks at first sight
  const last = new Map<number, { key: string; ticks: number }>();
  const peak = new Map<string, number>(); // plane|component → peak RSS (summed over its processes)
  const seen = new Map<string, { from: number; to: number }>(); // plane → first and last sighting
  const started = Date.now();
  while (!until()) {
    const now = Date.now();
    const rss = new Map<string, number>();
    for (const s of components(readProcs(binDir), binDir, root)) {
      const key = `${s.plane}|${s.exe}`;
      if (!first.has(s.pid)) first.set(s.pid, s.cpuTicks);
      last.set(s.pid, { key, ticks: s.cpuTicks });
      rss.set(key, (rss.get(key) ?? 0) + s.rssKiB);
      seen.set(s.plane, { from: seen.get(s.plane)?.from ?? now, to: now });
    }
    for (const [key, kib] of rss) peak.set(key, Math.max(peak.get(key) ?? 0, kib));
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const planes = new Map<string, PlaneUsage>();
  for (const [pid, { key, ticks }] of last) {
    const [plane = '?', exe = '?'] = key.split('|');
    const window = seen.get(plane) ?? { from: 0, to: 0 };
    const usage = planes.get(plane) ?? {
      seenSeconds: (window.to - window.from) / 1000,
      components: new Map(),
    };
    const t = usage.components.get(exe) ?? { cpuTicks: 0, peakRssKiB: peak.get(key) ?? 0 };
    t.cpuTicks += ticks - (first.get(pid) ?? ticks);
    usage.components.set(exe, t);
    planes.set(plane, usage);
  }
  return { seconds: (Date.now() - started) / 1000, planes };
}

function report(title: string, seconds: number, planes: Map<string, PlaneUsage>): void {
  const line = (name: string, cpu: number, over: number, rss: number): string =>
    `  ${name.padEnd(26)} ${cpu.toFixed(1).padStart(8)} s ${(cpu / over).toFixed(3).padStart(7)} cores ${(rss / 1024).toFixed(0).padStart(6)} MiB`;
  process.stdout.write(`${title}, ${seconds.toFixed(0)} s window (CPU seconds, average cores, peak RSS):\n`);
  const ordered = [...planes.entries()].sort(([, a], [, b]) => b.seenSeconds - a.seenSeconds);
  for (const [plane, usage] of ordered) {
    const over = Math.max(usage.seenSeconds, 1);
    process.stdout.write(
      `${plane}: ${[...usage.components.keys()].sort().join(', ')}; seen for ${over.toFixed(0)} s\n`,
    );
    let cpuSum = 0;
    let rssSum = 0;
    for (const [name, t] of [...usage.components.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const cpu = t.cpuTicks / TICKS_PER_SECOND;
      cpuSum += cpu;
      rssSum += t.peakRssKiB;
      process.stdout.write(`${line(name, cpu, over, t.peakRssKiB)}\n`);
    }
    process.stdout.write(`${line('total', cpuSum, over, rssSum)}\n`);
  }
}

let values: ReturnType<typeof parse>['values'];
function parse() {
  return parseArgs({
    options: {
      idle: { type: 'boolean', default: false },
      under: { type: 'string' },
      settle: { type: 'string', default: '60' },
      seconds: { type: 'string', default: '120' },
      interval: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
}
try {
  ({ values } = parse());
} catch (error) {
  process.stderr.write(`usage.ts: ${(error as Error).message}\n${usage}\n`);
  process.exit(2);
}
const numberFlag = (name: 'settle' | 'seconds' | 'interval' | 'under'): number => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(
      `usage.ts: --${name} must be a positive number, got ${JSON.stringify(values[name])}\n`,
    );
    process.exit(2);
  }
  return n;
};
if (values.help || values.idle === (values.under !== undefined)) {
  process.stdout.write(`${usage}\n`);
  process.exit(values.help ? 0 : 2);
}
const binDir = ensureBinaries();
const intervalMs = numberFlag('interval') * 1000;
if (values.idle) {
  const plane = await startControlPlane({ controllers: true, nodes: 3, prometheus: true });
  await new Promise((resolve) => setTimeout(resolve, numberFlag('settle') * 1000));
  const end = Date.now() + numberFlag('seconds') * 1000;
  const { seconds, planes } = await measure(binDir, process.pid, () => Date.now() >= end, intervalMs);
  await plane.stop();
  report('Full control plane at idle', seconds, planes);
} else {
  const root = numberFlag('under');
  const alive = (): boolean => {
    try {
      process.kill(root, 0);
      return true;
    } catch {
      return false;
    }
  };
  const { seconds, planes } = await measure(binDir, root, () => !alive(), intervalMs);
  report(`Control planes under pid ${root}`, seconds, planes);
}
