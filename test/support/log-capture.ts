/**
 * A real pino logger (the operator's) writing JSON lines into memory, so tests can check what a
 * user would read in the log: levels, messages, and the raw text (e.g. no key repeated on a line).
 */
import { pino } from 'pino';
import type { Logger } from '../../src/kube/core/types.ts';

/** One parsed log line, with its raw text. */
export interface LogLine {
  readonly raw: string;
  readonly level: number;
  readonly msg: string | undefined;
  readonly fields: Record<string, unknown>;
}

/** pino's numeric levels. */
export const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

/** A capturing logger at `level` (default debug, so tests see what was demoted). */
export function captureLogs(level: keyof typeof LEVELS = 'debug'): {
  logger: Logger;
  lines(): LogLine[];
} {
  const raw: string[] = [];
  const logger = pino(
    { level },
    { write: (chunk: string) => void raw.push(...chunk.split('\n').filter(Boolean)) },
  );
  return {
    logger,
    lines: () =>
      raw.map((text) => {
        const fields = JSON.parse(text) as Record<string, unknown>;
        return { raw: text, level: Number(fields.level), msg: fields.msg as string | undefined, fields };
      }),
  };
}

/** How many times `key` appears as a top-level key of the JSON text `line`. */
export function keyCount(line: string, key: string): number {
  return line.split(`"${key}":`).length - 1;
}
