/**
 * Sets the operator's run-time V8 flags (`OPERATOR_RUNTIME_V8_FLAGS`, or the list in
 * `ELASTI_V8_RUNTIME_FLAGS`) on this process. A module of its own, imported FIRST by `main.ts`,
 * so the flags hold before any other module is compiled or allocates; nothing else imports it
 * (a library user's process keeps its own flags). A bad list is kept for `main.ts` to report
 * (exit 2), and then no flag is set.
 *
 * @module
 */
import { setFlagsFromString } from 'node:v8';
import { RuntimeFlagsError, runtimeV8Flags } from './runtime.ts';

let problem: RuntimeFlagsError | undefined;
try {
  for (const flag of runtimeV8Flags()) setFlagsFromString(flag);
} catch (error) {
  if (!(error instanceof RuntimeFlagsError)) throw error;
  problem = error;
}

/** The error of a bad `ELASTI_V8_RUNTIME_FLAGS`, if it was bad. */
export function runtimeFlagsProblem(): RuntimeFlagsError | undefined {
  return problem;
}
