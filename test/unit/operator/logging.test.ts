import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, encodeTime, logSettings } from '../../../src/operator/logging.ts';

/** A logger writing into an array of lines. */
function capture(settings: ReturnType<typeof logSettings>): {
  lines: string[];
  logger: ReturnType<typeof createLogger>;
} {
  const lines: string[] = [];
  const logger = createLogger(settings, {
    write: (text: string) => lines.push(...text.split('\n').filter(Boolean)),
  });
  return { lines, logger };
}

describe('operator logger from the zap flags', () => {
  it('defaults: JSON at info, no stack traces; --zap-devel: debug, console, stack traces from warn', () => {
    assert.deepEqual(logSettings({}), {
      level: 'info',
      encoder: 'json',
      stacktraceLevel: undefined,
      timeEncoding: undefined,
    });
    assert.deepEqual(logSettings({ devel: true }), {
      level: 'debug',
      encoder: 'console',
      stacktraceLevel: 'warn',
      timeEncoding: undefined,
    });
    assert.equal(logSettings({ devel: true, level: 'error', encoder: 'json' }).encoder, 'json');
  });

  it('the level filters records', () => {
    const { lines, logger } = capture(logSettings({ level: 'error' }));
    logger.info({}, 'dropped');
    logger.error({ a: 1 }, 'kept');
    assert.equal(lines.length, 1);
    assert.equal(JSON.parse(lines[0] ?? '').msg, 'kept');
  });

  it('console encoder writes time, LEVEL, message and the other fields, tab-separated', () => {
    const { lines, logger } = capture(logSettings({ encoder: 'console', timeEncoding: 'rfc3339' }));
    logger.warn({ namespace: 'shop' }, 'scaled');
    const [time, level, message, fields] = (lines[0] ?? '').split('\t');
    assert.match(time ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(level, 'WARN');
    assert.equal(message, 'scaled');
    assert.deepEqual(JSON.parse(fields ?? ''), { namespace: 'shop' });
  });

  it('records at the stack trace level and above carry where they were logged', () => {
    const { lines, logger } = capture(logSettings({ stacktraceLevel: 'error' }));
    logger.warn({}, 'no stack');
    logger.error({ a: 1 }, 'with stack');
    assert.equal(JSON.parse(lines[0] ?? '').stacktrace, undefined);
    const record = JSON.parse(lines[1] ?? '');
    assert.equal(record.a, 1);
    assert.match(record.stacktrace, /logging\.test\.ts/);
  });

  it("time encodings as zap's encoders write them", () => {
    const ms = Date.UTC(2026, 0, 2, 3, 4, 5, 670);
    assert.equal(encodeTime('epoch', ms), ms / 1000);
    assert.equal(encodeTime('millis', ms), ms);
    assert.equal(encodeTime('nanos', ms), ms * 1e6);
    assert.equal(encodeTime('iso8601', ms), '2026-01-02T03:04:05.670Z');
    assert.equal(encodeTime('rfc3339', ms), '2026-01-02T03:04:05Z');
    assert.equal(encodeTime('rfc3339nano', ms), '2026-01-02T03:04:05.67Z');
    assert.equal(encodeTime('rfc3339nano', Date.UTC(2026, 0, 2, 3, 4, 5, 0)), '2026-01-02T03:04:05Z');
    const { lines, logger } = capture(logSettings({ timeEncoding: 'iso8601' }));
    logger.info({}, 'x');
    assert.match(JSON.parse(lines[0] ?? '').time, /^\d{4}-.*\.\d{3}Z$/);
  });
});
