import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DurationSyntaxError, parseGoDuration } from '../../../src/api/v1alpha1/duration.ts';

describe('parseGoDuration', () => {
  const valid: [string, number][] = [
    ['8h', 8 * 3_600_000],
    ['30m', 30 * 60_000],
    ['90s', 90_000],
    ['1h30m', 90 * 60_000],
    ['1h30m15s', 5_415_000],
    ['1.5h', 90 * 60_000],
    ['.5h', 30 * 60_000],
    ['1.h', 3_600_000],
    ['250ms', 250],
    ['1500us', 1.5],
    ['1500\u00b5s', 1.5],
    ['1500\u03bcs', 1.5],
    ['2000000ns', 2],
    ['0', 0],
    ['+0', 0],
    ['+2h', 7_200_000],
    ['-1m', -60_000],
    ['0h', 0],
    ['2562047h', 2_562_047 * 3_600_000],
  ];
  for (const [input, ms] of valid) {
    it(`parses ${JSON.stringify(input)}`, () => {
      assert.equal(parseGoDuration(input), ms);
    });
  }

  const invalid: [string, string][] = [
    ['', 'must not be empty'],
    ['-', 'has no value'],
    ['8', 'missing unit'],
    ['1h30', 'missing unit'],
    ['1h.5', 'missing unit'],
    ['8 h', 'unknown unit " h"'],
    ['8H', 'unknown unit "H"'],
    ['1d', 'unknown unit "d"'],
    ['h', 'not a duration'],
    ['.h', 'not a duration'],
    ['1h-30m', 'unknown unit "h-"'],
    ['2562048h', 'too long'],
  ];
  for (const [input, message] of invalid) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => parseGoDuration(input),
        (error: unknown) =>
          error instanceof DurationSyntaxError && error.message.includes(message) && error.input === input,
      );
    });
  }
});
