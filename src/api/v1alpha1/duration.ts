/**
 * Go duration strings (`time.ParseDuration` syntax), the format of `spec.enabledPeriod.duration`:
 * an optional sign, then one or more `<number><unit>` parts, e.g. `8h`, `1h30m`, `1.5h`, `90s`.
 * Units: `ns`, `us` (also `µs`, `μs`), `ms`, `s`, `m`, `h`. A bare `0` is allowed.
 *
 * @module
 */

/** A string that is not a valid Go duration. */
export class DurationSyntaxError extends Error {
  override readonly name = 'DurationSyntaxError';
  readonly input: string;
  constructor(input: string, message: string) {
    super(message);
    this.input = input;
  }
}

const NANOS_PER_UNIT: ReadonlyMap<string, number> = new Map([
  ['ns', 1],
  ['us', 1e3],
  ['\u00b5s', 1e3],
  ['\u03bcs', 1e3],
  ['ms', 1e6],
  ['s', 1e9],
  ['m', 60e9],
  ['h', 3600e9],
]);

/** Go's durations are int64 nanoseconds; 2^63 ns and beyond (about 292 years) do not exist there. */
const NANOS_LIMIT = 2 ** 63;

/**
 * Parses a Go duration string into milliseconds (possibly fractional; sub-millisecond parts
 * are kept as fractions).
 *
 * @throws {DurationSyntaxError} when the string is empty, malformed, has an unknown or missing
 *   unit, or exceeds Go's range (about 292 years).
 */
export function parseGoDuration(input: string): number {
  if (typeof input !== 'string') throw new DurationSyntaxError(String(input), 'must be a string');
  if (input === '') throw new DurationSyntaxError(input, 'must not be empty');
  let rest = input;
  let sign = 1;
  if (rest[0] === '-' || rest[0] === '+') {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new DurationSyntaxError(input, `"${input}" has no value`);

  let totalNanos = 0;
  // Each part: digits with an optional fraction (at least one digit overall), then a unit made of
  // anything up to the next digit or dot.
  const part = /^(\d*)(?:\.(\d*))?([^\d.]*)/;
  while (rest !== '') {
    const match = part.exec(rest);
    const whole = match?.[1] ?? '';
    const fraction = match?.[2] ?? '';
    const unit = match?.[3] ?? '';
    if (!match || (whole === '' && fraction === '')) {
      throw new DurationSyntaxError(input, `"${input}" is not a duration like "8h" or "1h30m"`);
    }
    if (unit === '')
      throw new DurationSyntaxError(input, `missing unit in "${input}" (use ns, us, ms, s, m or h)`);
    const nanosPerUnit = NANOS_PER_UNIT.get(unit);
    if (nanosPerUnit === undefined) {
      throw new DurationSyntaxError(
        input,
        `unknown unit "${unit}" in "${input}" (use ns, us, ms, s, m or h)`,
      );
    }
    totalNanos += Number(`${whole || '0'}.${fraction || '0'}`) * nanosPerUnit;
    if (totalNanos >= NANOS_LIMIT) throw new DurationSyntaxError(input, `"${input}" is too long`);
    rest = rest.slice(match[0].length);
  }
  return (sign * totalNanos) / 1e6;
}
