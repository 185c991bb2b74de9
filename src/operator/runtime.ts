/**
 * How the operator process is meant to run: compiled JavaScript (`npm run build` → `dist/`) with
 * the V8 flags below. Running the `.ts` sources directly is for development: Node's type
 * stripper alone keeps ~30 MB resident (measured in `bench/RESULTS.md`).
 *
 * @module
 */

/**
 * V8 flags of the operator process: `npm start` passes them, a container image sets them in
 * `NODE_OPTIONS` (both flags are allowed there).
 *
 * `--max-semi-space-size=16` (MB): V8 sizes the young generation from the machine's memory; on a
 * 24 GiB node it lets each semi-space grow to 64 MB, and after a burst (an informer's initial
 * list, 10,000 `add`s) ~100 MB of young generation stays committed for the life of the process.
 * Capped at 16 MB the Manager benchmark keeps its add-all time and drops ~90 MB of RSS
 * (`bench/RESULTS.md`).
 */
export const OPERATOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16'];

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

/**
 * Why this Node process cannot run the operator, or `undefined`. `--jitless` and `--lite-mode`
 * (V8 flags an operator author may try to save memory) remove WebAssembly, and undici's HTTP/1.1
 * parser (llhttp) is WebAssembly: every request to the API server would fail, and start-up would
 * only end after the cache sync timeout. Checked first, so the command exits 2 at once instead.
 */
export function unusableRuntime(scope: object = globalThis): string | undefined {
  return 'WebAssembly' in scope
    ? undefined
    : 'WebAssembly is not available (node started with --jitless or --lite-mode?); the HTTP client needs it: remove that flag';
}
