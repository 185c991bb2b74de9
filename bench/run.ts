/**
 * `npm run bench [-- name ...]`: runs benchmarks on a local control plane and prints their
 * results as JSON lines. Names: the modules in this folder exporting `run()` (engine, manager,
 * ...); no name runs them all. Numbers are reported, never asserted (tests assert behaviour).
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface BenchModule {
  run(): Promise<Record<string, unknown>>;
}

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts' && !file.startsWith('_'))
  .map((file) => file.slice(0, -3))
  .sort();
const requested = process.argv.slice(2).filter((arg) => arg !== '--');
const names = requested.length > 0 ? requested : available;
for (const name of names) {
  if (!available.includes(name)) {
    process.stderr.write(`unknown benchmark "${name}"; available: ${available.join(', ')}\n`);
    process.exit(2);
  }
}
for (const name of names) {
  const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as Partial<BenchModule>;
  if (typeof mod.run !== 'function') continue; // a helper module, not a benchmark
  process.stderr.write(`[bench] ${name}...\n`);
  const result = await mod.run();
  process.stdout.write(`${JSON.stringify({ bench: name, ...result })}\n`);
}
