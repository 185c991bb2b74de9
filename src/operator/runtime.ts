/**
 * How the operator process is meant to run: compiled JavaScript (`npm run build` → `dist/`) with
 * the V8 flags and environment below. Running the `.ts` sources directly is for development:
 * Node's type stripper alone keeps ~30 MB resident (measured in `bench/RESULTS.md`).
 *
 * Three kinds of setting, by where they can be given (numbers: `bench/RESULTS.md`, "operator"):
 * - {@link OPERATOR_NODE_FLAGS}: sized at heap creation, so on the command line or in
 *   `NODE_OPTIONS` (allowed there).
 * - {@link OPERATOR_RUNTIME_V8_FLAGS}: V8 reads them when it decides (GC sizing, tier-up), so
 *   the operator sets them itself first thing (`v8-runtime-flags.ts`, imported first by
 *   `main.ts`). Node refuses them in `NODE_OPTIONS`, so this is the only way a chart that sets
 *   `NODE_OPTIONS` gets them.
 * - {@link OPERATOR_ENV}: read by glibc when the process starts, so in the environment.
 *
 * @module
 */

/**
 * V8 flags of the operator process: `npm start` passes them, a container image sets them in
 * `NODE_OPTIONS` (allowed there).
 *
 * `--max-semi-space-size=1` (MB): V8 sizes the young generation from the machine's memory (up to
 * 64 MB semi-spaces on a 24 GiB node) and keeps what a burst grew committed for the life of the
 * process (1 instead of 16 saved ~30 MiB idle with 100 ElastiServices).
 */
export const OPERATOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/**
 * V8 flags the operator sets on itself at start-up, before any other module is evaluated
 * (`v8-runtime-flags.ts`). `ELASTI_V8_RUNTIME_FLAGS` replaces the list (space-separated; empty:
 * none), e.g. with {@link OPTIMIZING_RUNTIME_V8_FLAGS}.
 *
 * `--no-opt --no-maglev --no-wasm-tier-up`: no optimizing compilers. JavaScript stays in the
 * interpreter and Sparkplug, so TurboFan's and Maglev's code pages of the `node` executable and
 * their compilation zones stay out of RSS (file-backed 53 → 48 MiB). With the operator on HTTP/2
 * there is no WebAssembly to tier up; over HTTP/1.1 undici's llhttp stays in Liftoff.
 *
 * Not `--optimize-for-size` any more (the second session's list had it): its memory-saving GC
 * heuristics kept the heap near its live size after bursts, which the collection after a burst
 * (`heap-release.ts`) now does once, at the burst's end. Measured without it (`bench/RESULTS.md`,
 * third session): idle with 100 ElastiServices the same (69.6 vs 69.8 MiB), with none 1.6 MiB
 * more (64.7 vs 63.1: no burst, no collection); the engine under these flags ×0.97 of client-go
 * dynamic's RSS after a 10,000-object sync either way, and CPU per 1k events ×0.59 instead of
 * ×0.64–0.77 with it. An operator is idle nearly all the time and judged by its memory limit
 * (upstream's chart: 80 MiB), so memory decides; where it is a tie, CPU.
 */
export const OPERATOR_RUNTIME_V8_FLAGS: readonly string[] = ['--no-opt', '--no-maglev', '--no-wasm-tier-up'];

/**
 * The run-time flags with the optimizing compilers kept and V8's memory-saving GC heuristics on
 * (`ELASTI_V8_RUNTIME_FLAGS=--optimize-for-size`): for an operator with thousands of
 * ElastiServices that reconciles often and has the memory to spare (2–15 MiB more at 100
 * ElastiServices, by run; 52 instead of 47 MiB of the executable resident), ~10% less CPU while
 * converging.
 */
export const OPTIMIZING_RUNTIME_V8_FLAGS: readonly string[] = ['--optimize-for-size'];

/** The environment variable that replaces {@link OPERATOR_RUNTIME_V8_FLAGS}. */
export const RUNTIME_V8_FLAGS_VARIABLE = 'ELASTI_V8_RUNTIME_FLAGS';

/**
 * Environment of the operator process (`npm start` and the container set it).
 *
 * `MALLOC_ARENA_MAX=1`: glibc gives every thread that allocates (V8's GC and compiler workers,
 * libuv's pool) its own arena and keeps what those threads freed; one arena for all keeps the
 * freed memory reusable by the main thread.
 */
export const OPERATOR_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '1' };

/** A bad {@link RUNTIME_V8_FLAGS_VARIABLE}: exit 2 naming it. */
export class RuntimeFlagsError extends Error {
  override readonly name = 'RuntimeFlagsError';
}

/**
 * The V8 flags to set at run time: {@link OPERATOR_RUNTIME_V8_FLAGS}, or the list in
 * {@link RUNTIME_V8_FLAGS_VARIABLE}.
 *
 * @throws {RuntimeFlagsError} when a listed word is not a `--flag` or `--flag=value`.
 */
export function runtimeV8Flags(env: Readonly<Record<string, string | undefined>> = process.env): string[] {
  const given = env[RUNTIME_V8_FLAGS_VARIABLE];
  if (given === undefined) return [...OPERATOR_RUNTIME_V8_FLAGS];
  const flags = given.split(/\s+/).filter(Boolean);
  const bad = flags.find((flag) => !/^--[a-z0-9][a-z0-9_-]*(=\S+)?$/.test(flag));
  if (bad !== undefined) {
    throw new RuntimeFlagsError(
      `invalid value for ${RUNTIME_V8_FLAGS_VARIABLE}: ${JSON.stringify(bad)} is not a --flag or --flag=value`,
    );
  }
  return flags;
}

/**
 * The operator's flags missing from this process (neither in `execArgv` nor in `NODE_OPTIONS`),
 * so start-up can say that memory will be higher than measured.
 */
export function missingNodeFlags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/).filter(Boolean)]);
  return OPERATOR_NODE_FLAGS.filter((flag) => !given.has(flag));
}

/** The {@link OPERATOR_ENV} settings this process was started without, as `NAME=value`. */
export function missingOperatorEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string[] {
  return Object.entries(OPERATOR_ENV)
    .filter(([name, value]) => env[name] !== value)
    .map(([name, value]) => `${name}=${value}`);
}

/**
 * Why this Node process cannot run the operator, or `undefined`. `--jitless` and `--lite-mode`
 * (V8 flags an operator author may try to save memory) remove WebAssembly, and undici's HTTP/1.1
 * parser (llhttp) is WebAssembly: every request to the API server would fail, and start-up would
 * only end after the cache sync timeout. Checked first, so the command exits 2 at once instead.
 */
export function unusableRuntime(scope: object = globalThis): string | undefined {
  // Even on HTTP/2 (the operator's default) the connection falls back to HTTP/1.1 when the server
  // or a proxy does not offer h2, and then llhttp is needed.
  return 'WebAssembly' in scope
    ? undefined
    : 'WebAssembly is not available (node started with --jitless or --lite-mode?); the HTTP client needs it: remove that flag';
}
