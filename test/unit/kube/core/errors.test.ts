import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  asStatus,
  isAbortError,
  isAlreadyExists,
  isConflict,
  isGone,
  isNotFound,
  isTooLargeResourceVersion,
  KubeApiError,
  KubeTransportError,
  parseRetryAfter,
  retryAfterMs,
  statusOf,
  WatchIdleTimeoutError,
} from '../../../../src/kube/core/errors.ts';
import type { ApiStatus } from '../../../../src/kube/core/types.ts';

function apiError(status: number, body: ApiStatus = {}, retryAfterSeconds?: number): KubeApiError {
  return new KubeApiError({ status, verb: 'list', url: 'https://x/api/v1/pods', body, retryAfterSeconds });
}

describe('KubeApiError', () => {
  it('carries status, reason, body, verb, url and subject', () => {
    const err = new KubeApiError({
      status: 404,
      verb: 'get',
      url: 'https://x/api/v1/namespaces/a/configmaps/b',
      body: { kind: 'Status', code: 404, reason: 'NotFound', message: 'configmaps "b" not found' },
      gvr: { group: '', version: 'v1', resource: 'configmaps' },
      namespace: 'a',
      name: 'b',
    });
    assert.equal(err.status, 404);
    assert.equal(err.reason, 'NotFound');
    assert.equal(err.verb, 'get');
    assert.equal(err.name, 'KubeApiError');
    assert.match(err.message, /get https:\/\/x\/.* failed: 404 NotFound: configmaps "b" not found/);
    assert.equal(err.subject, 'configmaps.v1 a/b');
    assert.ok(err instanceof Error);
  });

  it('takes retryAfterSeconds from the Status details when no header gave one', () => {
    assert.equal(apiError(429, { details: { retryAfterSeconds: 4 } }).retryAfterSeconds, 4);
    assert.equal(apiError(429, { details: { retryAfterSeconds: 4 } }, 9).retryAfterSeconds, 9);
    assert.equal(retryAfterMs(apiError(429, {}, 2)), 2000);
    assert.equal(retryAfterMs(apiError(500)), undefined);
    assert.equal(retryAfterMs(new Error('x')), undefined);
  });
});

describe('isGone', () => {
  it('is true for 410 (expired RV, expired continue token) and in-stream code 410', () => {
    assert.ok(isGone(apiError(410, { reason: 'Expired', message: 'too old resource version: 1 (5)' })));
    assert.ok(isGone(apiError(410, { reason: 'Gone' })));
    assert.ok(
      isGone(
        new KubeApiError({ status: 410, verb: 'watch', url: 'u', body: { code: 410, reason: 'Expired' } }),
      ),
    );
  });

  it('is true for "too large resource version" (504 Timeout with that cause)', () => {
    const err = apiError(504, {
      reason: 'Timeout',
      message: 'Too large resource version: 99, current: 10',
      details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }] },
    });
    assert.ok(isTooLargeResourceVersion(err));
    assert.ok(isGone(err));
    assert.ok(isGone(apiError(504, { reason: 'Timeout', message: 'Too large resource version: 3' })));
  });

  it('is false for ordinary failures', () => {
    assert.ok(!isGone(apiError(504, { reason: 'Timeout', message: 'request timed out' })));
    assert.ok(!isGone(apiError(500)));
    assert.ok(!isGone(apiError(403, { reason: 'Forbidden' })));
    assert.ok(!isGone(new Error('410')));
    assert.ok(!isGone(undefined));
    assert.ok(!isGone(new WatchIdleTimeoutError(5)));
  });
});

describe('other predicates', () => {
  it('classify statuses', () => {
    assert.ok(isNotFound(apiError(404)));
    assert.ok(isAlreadyExists(apiError(409, { reason: 'AlreadyExists' })));
    assert.ok(!isConflict(apiError(409, { reason: 'AlreadyExists' })));
    assert.ok(isConflict(apiError(409, { reason: 'Conflict' })));
    assert.equal(statusOf(apiError(429)), 429);
    assert.equal(statusOf(new KubeTransportError('get', 'u', new Error('x'))), undefined);
  });

  it('recognize abort errors from the DOM and undici', () => {
    assert.ok(isAbortError(new DOMException('aborted', 'AbortError')));
    assert.ok(isAbortError(Object.assign(new Error('x'), { code: 'UND_ERR_ABORTED' })));
    assert.ok(!isAbortError(new Error('x')));
    assert.ok(!isAbortError(null));
  });

  it('KubeTransportError keeps the cause and its code', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const err = new KubeTransportError('list', 'https://127.0.0.1:1/api', cause);
    assert.equal(err.code, 'ECONNREFUSED');
    assert.equal(err.cause, cause);
    assert.match(err.message, /list https:\/\/127\.0\.0\.1:1\/api failed: ECONNREFUSED/);
  });
});

describe('parseRetryAfter / asStatus', () => {
  it('parses delta-seconds and HTTP dates', () => {
    assert.equal(parseRetryAfter('5'), 5);
    assert.equal(parseRetryAfter(['7']), 7);
    assert.equal(parseRetryAfter(undefined), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
    const now = Date.parse('2030-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Tue, 01 Jan 2030 00:00:10 GMT', now), 10);
    assert.equal(parseRetryAfter('Tue, 01 Jan 2029 00:00:10 GMT', now), 0);
  });

  it('recognizes Status objects only', () => {
    assert.deepEqual(asStatus({ kind: 'Status', code: 1 }), { kind: 'Status', code: 1 });
    assert.ok(asStatus({ status: 'Failure', code: 500 }));
    assert.equal(asStatus({ kind: 'Pod' }), undefined);
    assert.equal(asStatus('x'), undefined);
  });
});
