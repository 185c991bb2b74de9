/**
 * The chaos scenario over many seeds (`npm run soak -- --seeds 1-100`), not part of `npm test`.
 *
 * Each seed runs in a child process of its own (its own control plane, event loop and sockets),
 * `--parallel` at a time; seeds alternate the sharing modes and the transports so every
 * combination is covered. `--pressure N` keeps N CPU-burning processes running meanwhile (the
 * machine busy, as a shared CI machine is). Prints one line per seed and a summary; a loss also
 * writes its trace to `--out` (default `.soak/`). Exits 1 if any seed lost state, 2 on bad flags.
 *
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { SharingPolicy } from '../../src/informer/types.ts';
import { type ChaosResult, runChaos } from '../integration/informer/chaos-scenario.ts';

type Mode = SharingPolicy['mode'];
const MODES: readonly Mode[] = ['auto', 'per-name', 'namespace'];

const usage = `npm run soak -- [flags]
  --seeds A-B|A,B,...   seeds to run (default 1-100)
  --modes LIST          sharing modes, cycled over the seeds (default auto,per-name,namespace)
  --transports LIST     h1,h2, cycled after the modes (default h1,h2)
  --parallel N          seeds at a time, each its own process and control plane (default 2)
  --pressure N          CPU-burning processes running meanwhile (default 0)
  --steps N             faults per run (default 16)
  --writer-seed N       the writer's seed for every run (default: derived from each seed)
  --check-ms N          health-monitor period and target-check interval (default 250 / 1000):
                        smaller makes target checks race deletes and recreations more often
  --out DIR             where traces of losses go (default .soak)`;

class FlagError extends Error {}

function parseSeeds(spec: string): number[] {
  const seeds: number[] = [];
  for (const part of spec.split(',')) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const [from, to] = [Number(range[1]), Number(range[2])];
      if (to < from) throw new FlagError(`--seeds: empty range "${part}"`);
      for (let s = from; s <= to; s++) seeds.push(s);
    } else if (/^\d+$/.test(part)) seeds.push(Number(part));
    else throw new FlagError(`--seeds: expected A-B or a list of numbers, got "${part}"`);
  }
  return seeds;
}

function positive(name: string, value: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new FlagError(`--${name} must be an integer >= ${min}, got "${value}"`);
  return n;
}

function parseFlags(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      seeds: { type: 'string', default: '1-100' },
      modes: { type: 'string', default: MODES.join(',') },
      transports: { type: 'string', default: 'h1,h2' },
      parallel: { type: 'string', default: '2' },
      pressure: { type: 'string', default: '0' },
      steps: { type: 'string', default: '16' },
      'writer-seed': { type: 'string' },
      'check-ms': { type: 'string' },
      out: { type: 'string', default: '.soak' },
      child: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const modes = values.modes.split(',').map((m) => {
    if (!MODES.includes(m as Mode)) throw new FlagError(`--modes: unknown mode "${m}" (${MODES.join(', ')})`);
    return m as Mode;
  });
  const transports = values.transports.split(',').map((t) => {
    if (t !== 'h1' && t !== 'h2') throw new FlagError(`--transports: expected h1 or h2, got "${t}"`);
    return t === 'h2';
  });
  return {
    help: values.help,
    child: values.child,
    seeds: parseSeeds(values.seeds),
    modes,
    transports,
    parallel: positive('parallel', values.parallel),
    pressure: positive('pressure', values.pressure, 0),
    steps: positive('steps', values.steps),
    checkMs: values['check-ms'] === undefined ? undefined : positive('check-ms', values['check-ms']),
    writerSeed:
      values['writer-seed'] === undefined ? undefined : positive('writer-seed', values['writer-seed']),
    out: values.out,
  };
}

interface Run {
  readonly seed: number;
  readonly monitorPeriodMs?: number;
  readonly targetCheckIntervalMs?: number;
  readonly writerSeed?: number;
  readonly sharing: Mode;
  readonly http2: boolean;
  readonly steps: number;
}

/** The child: one run, its result as one JSON line on stdout. */
async function child(spec: string): Promise<void> {
  const run = JSON.parse(spec) as Run;
  const result = await runChaos({ ...run });
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

function runInChild(run: Run): Promise<ChaosResult | { error: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [import.meta.filename, '--child', JSON.stringify(run)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    proc.stderr.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString()).slice(-64_000);
    });
    proc.on('error', (error) => resolve({ error: `could not run the child: ${error.message}`, stderr: err }));
    proc.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (line) resolve(JSON.parse(line.slice('RESULT '.length)) as ChaosResult);
      else resolve({ error: `child exited ${code}`, stderr: err });
    });
  });
}

function burners(count: number): ChildProcess[] {
  return Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
}

async function main(): Promise<void> {
  let flags: ReturnType<typeof parseFlags>;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`soak: ${(error as Error).message}\n${usage}\n`);
    process.exit(2);
  }
  if (flags.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if (flags.child) return child(flags.child);

  // The combination is a function of the seed (not of its place in the list), so a seed re-run
  // alone gets the same sharing mode and transport as in the full soak.
  const slot = (seed: number): number => Math.max(0, seed - 1);
  const runs: Run[] = flags.seeds.map((seed) => ({
    seed,
    sharing: flags.modes[slot(seed) % flags.modes.length] as Mode,
    http2: flags.transports[Math.floor(slot(seed) / flags.modes.length) % flags.transports.length] as boolean,
    steps: flags.steps,
    ...(flags.writerSeed === undefined ? {} : { writerSeed: flags.writerSeed }),
    ...(flags.checkMs === undefined
      ? {}
      : { monitorPeriodMs: flags.checkMs, targetCheckIntervalMs: flags.checkMs }),
  }));
  const burning = burners(flags.pressure);
  const killBurners = (): void => {
    for (const b of burning) b.kill('SIGKILL');
  };
  process.on('exit', killBurners);
  process.stdout.write(
    `soak: ${runs.length} seeds, ${flags.parallel} at a time, ${flags.pressure} CPU burners, ${flags.steps} faults each\n`,
  );

  const started = Date.now();
  const totals = { runs: 0, faults: 0, writes: 0, compared: 0, losses: 0, errors: 0 };
  const lost: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < runs.length) {
      const run = runs[next++] as Run;
      const result = await runInChild(run);
      const label = `seed ${run.seed} ${run.sharing} ${run.http2 ? 'h2' : 'h1'}`;
      totals.runs++;
      if ('error' in result) {
        totals.errors++;
        lost.push(run.seed);
        mkdirSync(flags.out, { recursive: true });
        const path = join(flags.out, `seed-${run.seed}-${run.sharing}-${run.http2 ? 'h2' : 'h1'}.stderr.txt`);
        writeFileSync(path, result.stderr);
        const last = result.stderr.trim().split('\n').slice(-3).join(' | ');
        process.stdout.write(`${label}: ERROR ${result.error}: ${last}\n  stderr: ${path}\n`);
        continue;
      }
      totals.faults += result.faults.length;
      totals.writes += result.writes;
      totals.compared += result.compared;
      const losses =
        result.mismatches.length +
        result.violations.length +
        (result.compared === result.expectedRegistrations ? 0 : 1);
      totals.losses += losses;
      const verdict = losses === 0 ? 'ok' : `LOST ${[...result.mismatches, ...result.violations].join('; ')}`;
      process.stdout.write(
        `${label}: ${verdict} — ${result.faults.length} faults, ${result.writes} writes, ${result.compared}/${result.expectedRegistrations} compared, ${(result.durationMs / 1000).toFixed(0)} s\n`,
      );
      if (losses > 0) {
        lost.push(run.seed);
        mkdirSync(flags.out, { recursive: true });
        const path = join(flags.out, `seed-${run.seed}-${run.sharing}-${run.http2 ? 'h2' : 'h1'}.trace.txt`);
        writeFileSync(path, [`faults: ${result.faults.join(', ')}`, ...result.trace].join('\n'));
        process.stdout.write(`  trace: ${path}\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(flags.parallel, runs.length) }, worker));
  killBurners();
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  process.stdout.write(
    `soak summary: ${totals.runs} runs, ${totals.faults} faults, ${totals.writes} writes, ${totals.compared} states compared, ${totals.losses} losses, ${totals.errors} errors, ${minutes} min${lost.length ? `; seeds with losses: ${lost.join(', ')}` : ''}\n`,
  );
  process.exitCode = lost.length > 0 ? 1 : 0;
}

await main();
