/**
 * The operator's logger (pino), configured from its log flags — ours (`--log-level`) and
 * controller-runtime's zap flags as upstream KubeElasti's chart may pass them:
 *
 * | flag | effect here |
 * | --- | --- |
 * | `--log-level`, `--zap-log-level` | the level; zap's `panic` is `fatal`, an integer N > 0 is debug (1) or trace (≥ 2) |
 * | `--zap-devel` | defaults of the three below become debug, console, warn (zap's development mode) |
 * | `--zap-encoder` | `json` (pino's lines) or `console` (`time LEVEL message {fields}`, zap's console form) |
 * | `--zap-stacktrace-level` | records at this level and above get a `stacktrace` field |
 * | `--zap-time-encoding` | how the `time` field is written (epoch s, millis, nanos, iso8601, rfc3339, rfc3339nano) |
 *
 * Without any of them the logger is what it always was: JSON lines at info, epoch milliseconds,
 * no stack traces. (Upstream's default is zap's development mode; see docs/architecture.md.)
 *
 * @module
 */
import { Writable } from 'node:stream';
import { type DestinationStream, type LoggerOptions, type Logger as PinoLogger, pino } from 'pino';
import type { LogEncoder, LogLevel, TimeEncoding } from './flags.ts';

/** How the logger writes. */
export interface LogSettings {
  readonly level: LogLevel;
  readonly encoder: LogEncoder;
  /** Records at this level and above carry a stack trace; `undefined`: none do. */
  readonly stacktraceLevel: LogLevel | undefined;
  /** `undefined`: pino's epoch milliseconds. */
  readonly timeEncoding: TimeEncoding | undefined;
}

/** The log flags' values, as parsed (absent ones `undefined`). */
export interface LogFlagValues {
  readonly level?: LogLevel | undefined;
  readonly devel?: boolean | undefined;
  readonly encoder?: LogEncoder | undefined;
  readonly stacktraceLevel?: LogLevel | undefined;
  readonly timeEncoding?: TimeEncoding | undefined;
}

/** The settings the flags give: each explicit flag wins over `--zap-devel`'s defaults. */
export function logSettings(flags: LogFlagValues): LogSettings {
  const devel = flags.devel === true;
  return {
    level: flags.level ?? (devel ? 'debug' : 'info'),
    encoder: flags.encoder ?? (devel ? 'console' : 'json'),
    stacktraceLevel: flags.stacktraceLevel ?? (devel ? 'warn' : undefined),
    timeEncoding: flags.timeEncoding,
  };
}

/** pino's numeric value of each level (`silent` never matches). */
const LEVEL_VALUES: Readonly<Record<LogLevel, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};

/** RFC 3339 with the fraction zap's RFC3339Nano writes: trailing zeros (and a bare `.`) dropped. */
function rfc3339Nano(date: Date): string {
  const iso = date.toISOString(); // 2026-01-02T03:04:05.670Z
  return iso.replace(/\.(\d*?)0*Z$/, (_, digits: string) => (digits ? `.${digits}Z` : 'Z'));
}

/** The `time` field as each of zap's time encoders writes it (UTC). */
export function encodeTime(encoding: TimeEncoding, ms: number): string | number {
  switch (encoding) {
    case 'epoch':
      return ms / 1000;
    case 'millis':
      return ms;
    case 'nanos':
      return ms * 1_000_000;
    case 'iso8601':
      return new Date(ms).toISOString();
    case 'rfc3339':
      return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
    case 'rfc3339nano':
      return rfc3339Nano(new Date(ms));
  }
}

/**
 * A stream writing pino's JSON lines in zap's console form: `time⇥LEVEL⇥message⇥{other fields}`
 * (and the stack trace on the following lines), what `--zap-encoder=console` prints upstream.
 */
export function consoleStream(out: { write(text: string): unknown }): DestinationStream {
  const names: Record<number, string> = {
    10: 'TRACE',
    20: 'DEBUG',
    30: 'INFO',
    40: 'WARN',
    50: 'ERROR',
    60: 'FATAL',
  };
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      for (const line of String(chunk).split('\n')) {
        if (line === '') continue;
        let record: Record<string, unknown>;
        try {
          record = JSON.parse(line) as Record<string, unknown>;
        } catch {
          out.write(`${line}\n`);
          continue;
        }
        const { time, level, msg, stacktrace, pid: _pid, hostname: _hostname, ...rest } = record;
        const fields = Object.keys(rest).length > 0 ? `\t${JSON.stringify(rest)}` : '';
        const stack = typeof stacktrace === 'string' ? `\n${stacktrace}` : '';
        out.write(
          `${String(time)}\t${names[Number(level)] ?? String(level)}\t${String(msg ?? '')}${fields}${stack}\n`,
        );
      }
      done();
    },
  });
}

/** pino options for `settings` (level, time encoding, stack traces). */
export function pinoOptions(settings: LogSettings): LoggerOptions {
  const threshold =
    settings.stacktraceLevel === undefined ? undefined : LEVEL_VALUES[settings.stacktraceLevel];
  const { timeEncoding } = settings;
  return {
    level: settings.level,
    ...(timeEncoding === undefined
      ? {}
      : { timestamp: () => `,"time":${JSON.stringify(encodeTime(timeEncoding, Date.now()))}` }),
    ...(threshold === undefined
      ? {}
      : {
          hooks: {
            logMethod(args, method, level) {
              if (level < threshold) return method.apply(this, args);
              // Where the log call was made, without this hook's own frame.
              const stacktrace = (new Error().stack ?? '').split('\n').slice(2).join('\n');
              const [first, ...rest] = args;
              const merged =
                typeof first === 'object' && first !== null
                  ? [{ ...(first as object), stacktrace }, ...rest]
                  : [{ stacktrace }, ...args];
              return method.apply(this, merged as Parameters<typeof method>);
            },
          },
        }),
  };
}

/** The operator's logger for `settings`, writing to `out` (default stdout). */
export function createLogger(
  settings: LogSettings,
  out: { write(text: string): unknown } = process.stdout,
): PinoLogger {
  const options = pinoOptions(settings);
  if (settings.encoder === 'console') return pino(options, consoleStream(out));
  return pino(options, out as DestinationStream);
}
