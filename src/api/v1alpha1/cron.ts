/**
 * Five-field cron expressions (`minute hour day-of-month month day-of-week`), as accepted by
 * `spec.enabledPeriod.schedule`. The accepted language is the one upstream KubeElasti parses
 * (robfig/cron with the standard five fields, no descriptors, no seconds), evaluated in UTC:
 *
 * - each field is a comma-separated list of items; an item is `*` or `?` (whole range), a value,
 *   or a range `a-b`, each optionally followed by `/step`; a single value with a step (`5/15`)
 *   means "from the value to the end of the range";
 * - months accept `jan`..`dec`, days of week `sun`..`sat` (any case); day of week is 0..6, Sunday = 0;
 * - when both day fields are restricted (neither starts with `*`/`?`), a day matches if EITHER
 *   matches (the traditional cron rule); otherwise both must match.
 *
 * Not supported: `@daily`-style descriptors, `L`/`W`/`#`, a seconds field, and `TZ=`/`CRON_TZ=`
 * prefixes (schedules are always UTC). Each is reported as a syntax error rather than guessed at.
 *
 * @module
 */

/** Which of the five fields an error is about. */
export type CronField = 'minute' | 'hour' | 'dayOfMonth' | 'month' | 'dayOfWeek';

/** A cron expression that does not parse. `field` is absent for whole-expression problems. */
export class CronSyntaxError extends Error {
  override readonly name = 'CronSyntaxError';
  readonly expression: string;
  readonly field: CronField | undefined;
  constructor(expression: string, message: string, field?: CronField) {
    super(field ? `${field} field: ${message}` : message);
    this.expression = expression;
    this.field = field;
  }
}

/** A parsed schedule: the set of values each field allows. */
export interface CronSchedule {
  readonly expression: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 0..6, Sunday = 0. */
  readonly daysOfWeek: ReadonlySet<number>;
  /** True when the day-of-month field starts with `*`/`?` (without a step > 1): it then does not restrict. */
  readonly dayOfMonthUnrestricted: boolean;
  /** Like {@link dayOfMonthUnrestricted}, for day of week. */
  readonly dayOfWeekUnrestricted: boolean;
}

interface FieldSpec {
  readonly field: CronField;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  readonly namesStartAt?: number;
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const FIELDS: readonly FieldSpec[] = [
  { field: 'minute', min: 0, max: 59 },
  { field: 'hour', min: 0, max: 23 },
  { field: 'dayOfMonth', min: 1, max: 31 },
  { field: 'month', min: 1, max: 12, names: MONTH_NAMES, namesStartAt: 1 },
  { field: 'dayOfWeek', min: 0, max: 6, names: DAY_NAMES, namesStartAt: 0 },
];

interface ParsedField {
  values: Set<number>;
  unrestricted: boolean;
}

/**
 * Parses a five-field cron expression.
 *
 * @throws {CronSyntaxError} with the offending field and a message that says what is wrong.
 */
export function parseCron(expression: string): CronSchedule {
  if (typeof expression !== 'string') throw new CronSyntaxError(String(expression), 'must be a string');
  const trimmed = expression.trim();
  if (trimmed === '') throw new CronSyntaxError(expression, 'must not be empty');
  if (trimmed.startsWith('@')) {
    throw new CronSyntaxError(expression, `descriptors like ${trimmed.split(/\s+/)[0]} are not supported`);
  }
  if (/^(CRON_)?TZ=/.test(trimmed)) {
    throw new CronSyntaxError(expression, 'time zone prefixes are not supported; schedules are UTC');
  }
  const parts = trimmed.split(/\s+/);
  if (parts.length !== FIELDS.length) {
    throw new CronSyntaxError(
      expression,
      `expected 5 fields (minute hour day-of-month month day-of-week), found ${parts.length}`,
    );
  }
  const parsed = FIELDS.map((spec, i) => parseField(expression, parts[i] ?? '', spec));
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = parsed as [
    ParsedField,
    ParsedField,
    ParsedField,
    ParsedField,
    ParsedField,
  ];
  return {
    expression,
    minutes: minutes.values,
    hours: hours.values,
    daysOfMonth: daysOfMonth.values,
    months: months.values,
    daysOfWeek: daysOfWeek.values,
    dayOfMonthUnrestricted: daysOfMonth.unrestricted,
    dayOfWeekUnrestricted: daysOfWeek.unrestricted,
  };
}

function parseField(expression: string, text: string, spec: FieldSpec): ParsedField {
  const fail = (message: string): never => {
    throw new CronSyntaxError(expression, message, spec.field);
  };
  const values = new Set<number>();
  let unrestricted = false;
  for (const item of text.split(',')) {
    if (item === '') fail(`empty list item in "${text}"`);
    const slashParts = item.split('/');
    if (slashParts.length > 2) fail(`too many "/" in "${item}"`);
    const [rangeText = '', stepText] = slashParts;
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText)) fail(`step "${stepText}" in "${item}" is not a number`);
      step = Number(stepText);
      if (step === 0) fail(`step in "${item}" must be positive`);
    }
    let start: number;
    let end: number;
    if (rangeText === '*' || rangeText === '?') {
      start = spec.min;
      end = spec.max;
      // `*/2` restricts the field (every other value) while `*` and `*/1` do not: this decides
      // how the two day fields combine.
      if (step === 1) unrestricted = true;
    } else {
      const bounds = rangeText.split('-');
      if (bounds.length > 2) fail(`too many "-" in "${item}"`);
      start = parseValue(bounds[0] ?? '', spec, item, fail);
      if (bounds.length === 2) {
        end = parseValue(bounds[1] ?? '', spec, item, fail);
      } else {
        end = stepText === undefined ? start : spec.max;
      }
      if (start > end) fail(`range "${item}" starts after it ends`);
    }
    for (let v = start; v <= end; v += step) values.add(v);
  }
  return { values, unrestricted };
}

function parseValue(text: string, spec: FieldSpec, item: string, fail: (message: string) => never): number {
  if (text === '') return fail(`missing value in "${item}"`);
  let value: number;
  if (/^\d+$/.test(text)) {
    value = Number(text);
  } else {
    const index = spec.names?.indexOf(text.toLowerCase()) ?? -1;
    if (index < 0) {
      const hint = spec.names ? ` (use ${spec.min}-${spec.max} or a name like ${spec.names[0]})` : '';
      return fail(`"${text}" is not a valid value${hint}`);
    }
    value = index + (spec.namesStartAt ?? 0);
  }
  if (value < spec.min || value > spec.max) {
    return fail(`${value} is out of range ${spec.min}-${spec.max}`);
  }
  return value;
}

/** True when the schedule fires at the minute containing `date` (evaluated in UTC). */
export function cronMatches(schedule: CronSchedule, date: Date): boolean {
  return (
    schedule.minutes.has(date.getUTCMinutes()) &&
    schedule.hours.has(date.getUTCHours()) &&
    schedule.months.has(date.getUTCMonth() + 1) &&
    dayMatches(schedule, date)
  );
}

function dayMatches(schedule: CronSchedule, date: Date): boolean {
  const dom = schedule.daysOfMonth.has(date.getUTCDate());
  const dow = schedule.daysOfWeek.has(date.getUTCDay());
  if (schedule.dayOfMonthUnrestricted || schedule.dayOfWeekUnrestricted) return dom && dow;
  return dom || dow;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * The latest minute `t` with `notBefore < t <= at` at which the schedule fires, or `undefined`.
 * Walks backwards skipping whole days and hours that cannot match, so long windows stay cheap.
 */
export function lastFiringAtOrBefore(schedule: CronSchedule, at: Date, notBefore: Date): Date | undefined {
  let t = Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS;
  const floor = notBefore.getTime();
  while (t > floor) {
    const date = new Date(t);
    if (!schedule.months.has(date.getUTCMonth() + 1) || !dayMatches(schedule, date)) {
      // Jump to the last minute of the previous UTC day.
      t = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()) - MINUTE_MS;
      continue;
    }
    if (!schedule.hours.has(date.getUTCHours())) {
      t = Math.floor(t / HOUR_MS) * HOUR_MS - MINUTE_MS;
      continue;
    }
    if (schedule.minutes.has(date.getUTCMinutes())) return date;
    t -= MINUTE_MS;
  }
  return undefined;
}
