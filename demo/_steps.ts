/**
 * The demo's step runner and waits: every step is timed and printed, every wait has a deadline,
 * and a step that fails ends the demo with one line naming it (exit code 1), not a stack trace.
 */
import { performance } from 'node:perf_hooks';

/** A step of the demo failed; `step` names it. */
export class DemoStepError extends Error {
  override readonly name = 'DemoStepError';
  readonly step: string;
  readonly elapsedMs: number;
  constructor(step: string, elapsedMs: number, cause: unknown) {
    super(`step "${step}" failed after ${Math.round(elapsedMs)} ms: ${describe(cause)}`, { cause });
    this.step = step;
    this.elapsedMs = elapsedMs;
  }
}

/** A wait that ran out of time. */
export class DemoTimeoutError extends Error {
  override readonly name = 'DemoTimeoutError';
  constructor(what: string, timeoutMs: number, last: unknown) {
    super(
      `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${describe(last)})` : ''}`,
    );
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Writes one line to stdout. */
export const say = (text: string): void => void process.stdout.write(`${text}\n`);

/** `123 ms` since `since` (a `performance.now()`). */
export const ms = (since: number): string => `${Math.round(performance.now() - since)} ms`;

let counter = 0;

/**
 * Runs one numbered step: `work` returns the line to print (timing appended).
 * @throws {DemoStepError} naming the step when `work` fails.
 */
export async function step(title: string, work: () => Promise<string>): Promise<void> {
  counter++;
  const started = performance.now();
  let line: string;
  try {
    line = await work();
  } catch (error) {
    throw new DemoStepError(`${counter}. ${title}`, performance.now() - started, error);
  }
  say(`${counter}. ${title}: ${line} (${ms(started)})`);
}

/**
 * Polls `probe` every 50 ms until it returns a value other than `undefined`; probe errors count
 * as "not yet" (the last one is named if the deadline passes).
 * @throws {DemoTimeoutError} after `timeoutMs`.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new DemoTimeoutError(what, timeoutMs, last);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
