import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CronSyntaxError,
  cronMatches,
  lastFiringAtOrBefore,
  parseCron,
} from '../../../src/api/v1alpha1/cron.ts';

const sorted = (set: ReadonlySet<number>): number[] => [...set].sort((a, b) => a - b);

describe('parseCron', () => {
  it('parses stars, values, ranges, steps and lists', () => {
    const s = parseCron('*/15 9-17 1,15 */3 1-5');
    assert.deepEqual(sorted(s.minutes), [0, 15, 30, 45]);
    assert.deepEqual(sorted(s.hours), [9, 10, 11, 12, 13, 14, 15, 16, 17]);
    assert.deepEqual(sorted(s.daysOfMonth), [1, 15]);
    assert.deepEqual(sorted(s.months), [1, 4, 7, 10]);
    assert.deepEqual(sorted(s.daysOfWeek), [1, 2, 3, 4, 5]);
  });

  it('treats a single value with a step as running to the end of the range', () => {
    assert.deepEqual(sorted(parseCron('50/5 * * * *').minutes), [50, 55]);
    assert.deepEqual(sorted(parseCron('0 0 * * 2/2').daysOfWeek), [2, 4, 6]);
  });

  it('accepts ranges with steps and mixed lists', () => {
    assert.deepEqual(sorted(parseCron('0-10/5,30,58-59 * * * *').minutes), [0, 5, 10, 30, 58, 59]);
  });

  it('accepts month and weekday names in any case, also in ranges', () => {
    const s = parseCron('0 0 * JAN-mar,Dec mon-FRI');
    assert.deepEqual(sorted(s.months), [1, 2, 3, 12]);
    assert.deepEqual(sorted(s.daysOfWeek), [1, 2, 3, 4, 5]);
    assert.deepEqual(sorted(parseCron('0 0 * * sun,sat').daysOfWeek), [0, 6]);
  });

  it('accepts "?" like "*" and extra whitespace between fields', () => {
    const s = parseCron('  0   0 ?  *\t* ');
    assert.equal(s.daysOfMonth.size, 31);
    assert.equal(s.dayOfMonthUnrestricted, true);
  });

  it('marks a day field unrestricted only for * or ? without a step above 1', () => {
    assert.equal(parseCron('0 0 * * *').dayOfWeekUnrestricted, true);
    assert.equal(parseCron('0 0 * * */1').dayOfWeekUnrestricted, true);
    assert.equal(parseCron('0 0 * * */2').dayOfWeekUnrestricted, false);
    assert.equal(parseCron('0 0 1-31 * *').dayOfMonthUnrestricted, false);
  });

  const invalid: [string, string, string | undefined][] = [
    ['', 'must not be empty', undefined],
    ['* * * *', 'expected 5 fields', undefined],
    ['0 * * * * *', 'found 6', undefined],
    ['@daily', 'descriptors', undefined],
    ['TZ=Europe/Berlin 0 0 * * *', 'time zone', undefined],
    ['60 * * * *', 'out of range 0-59', 'minute'],
    ['* 24 * * *', 'out of range 0-23', 'hour'],
    ['* * 0 * *', 'out of range 1-31', 'dayOfMonth'],
    ['* * * 13 *', 'out of range 1-12', 'month'],
    ['* * * * 7', 'out of range 0-6', 'dayOfWeek'],
    ['* * * * funday', 'not a valid value', 'dayOfWeek'],
    ['* * * foo *', 'not a valid value', 'month'],
    ['mon * * * *', 'not a valid value', 'minute'],
    ['*/0 * * * *', 'must be positive', 'minute'],
    ['*/x * * * *', 'not a number', 'minute'],
    ['1/2/3 * * * *', 'too many "/"', 'minute'],
    ['1-2-3 * * * *', 'too many "-"', 'minute'],
    ['10-5 * * * *', 'starts after it ends', 'minute'],
    ['1,,2 * * * *', 'empty list item', 'minute'],
    ['- * * * *', 'missing value', 'minute'],
    ['-5 * * * *', 'missing value', 'minute'],
    ['L * * * *', 'not a valid value', 'minute'],
    ['* * 15W * *', 'not a valid value', 'dayOfMonth'],
  ];
  for (const [expression, message, field] of invalid) {
    it(`rejects ${JSON.stringify(expression)}`, () => {
      assert.throws(
        () => parseCron(expression),
        (error: unknown) =>
          error instanceof CronSyntaxError &&
          error.message.includes(message) &&
          error.field === field &&
          error.expression === expression,
      );
    });
  }
});

describe('cronMatches', () => {
  it('evaluates in UTC', () => {
    const s = parseCron('30 9 * * *');
    assert.equal(cronMatches(s, new Date('2025-03-04T09:30:59Z')), true);
    assert.equal(cronMatches(s, new Date('2025-03-04T09:31:00Z')), false);
    assert.equal(cronMatches(s, new Date('2025-03-04T10:30:00+01:00')), true);
  });

  it('ORs the day fields when both are restricted', () => {
    // The 13th, or any Friday.
    const s = parseCron('0 0 13 * 5');
    assert.equal(cronMatches(s, new Date('2025-06-13T00:00:00Z')), true); // Friday the 13th
    assert.equal(cronMatches(s, new Date('2025-06-06T00:00:00Z')), true); // a Friday
    assert.equal(cronMatches(s, new Date('2025-07-13T00:00:00Z')), true); // a Sunday, the 13th
    assert.equal(cronMatches(s, new Date('2025-06-10T00:00:00Z')), false); // Tuesday the 10th
  });

  it('ANDs the day fields when one of them is * (so the other one decides)', () => {
    const weekdays = parseCron('0 9 * * 1-5');
    assert.equal(cronMatches(weekdays, new Date('2025-06-09T09:00:00Z')), true); // Monday
    assert.equal(cronMatches(weekdays, new Date('2025-06-08T09:00:00Z')), false); // Sunday
    const everyOtherDay = parseCron('0 0 */2 * *');
    assert.equal(cronMatches(everyOtherDay, new Date('2025-06-03T00:00:00Z')), true);
    assert.equal(cronMatches(everyOtherDay, new Date('2025-06-04T00:00:00Z')), false);
  });
});

describe('lastFiringAtOrBefore', () => {
  it('finds the latest firing within the window, at minute precision', () => {
    const s = parseCron('0 9 * * 1-5');
    const at = new Date('2025-06-10T12:34:56Z'); // Tuesday
    assert.deepEqual(
      lastFiringAtOrBefore(s, at, new Date('2025-06-01T00:00:00Z')),
      new Date('2025-06-10T09:00:00Z'),
    );
  });

  it('counts a firing at exactly `at` (same minute) and excludes one at exactly `notBefore`', () => {
    const s = parseCron('0 9 * * *');
    const firing = new Date('2025-06-10T09:00:00Z');
    assert.deepEqual(lastFiringAtOrBefore(s, new Date('2025-06-10T09:00:30Z'), new Date(0)), firing);
    assert.equal(lastFiringAtOrBefore(s, new Date('2025-06-10T10:00:00Z'), firing), undefined);
    assert.deepEqual(
      lastFiringAtOrBefore(s, new Date('2025-06-10T10:00:00Z'), new Date(firing.getTime() - 1)),
      firing,
    );
  });

  it('skips back over weekends and months quickly', () => {
    const mondays = parseCron('15 6 * * mon');
    const at = new Date('2025-06-15T23:00:00Z'); // Sunday
    assert.deepEqual(
      lastFiringAtOrBefore(mondays, at, new Date('2025-01-01T00:00:00Z')),
      new Date('2025-06-09T06:15:00Z'),
    );
    const yearly = parseCron('0 0 1 jan *');
    assert.deepEqual(
      lastFiringAtOrBefore(yearly, new Date('2025-12-31T23:59:00Z'), new Date('2020-01-01T00:00:00Z')),
      new Date('2025-01-01T00:00:00Z'),
    );
  });

  it('returns undefined when the schedule cannot fire in the window (Feb 30)', () => {
    const never = parseCron('0 0 30 2 *');
    assert.equal(
      lastFiringAtOrBefore(never, new Date('2025-06-01T00:00:00Z'), new Date('2021-01-01T00:00:00Z')),
      undefined,
    );
  });
});
