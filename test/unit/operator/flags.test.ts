import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBindAddress } from '../../../src/operator/http.ts';
import { parseFlags } from '../../../src/operator/main.ts';

describe('operator flags', () => {
  it('defaults: no leader election, :8080, upstream resolver defaults left to the config', () => {
    const flags = parseFlags([]);
    assert.equal(flags.bindAddress, ':8080');
    assert.equal(flags.leaderElection, undefined);
    assert.deepEqual(flags.config.resolver, {});
    assert.equal(flags.config.watchNamespace, undefined);
    assert.equal(flags.http2, false);
    assert.equal(parseFlags(['--http2']).http2, true);
  });

  it('reads leader election, namespaces and the resolver', () => {
    const flags = parseFlags([
      '--leader-elect',
      '--leader-election-namespace=ops',
      '--watch-namespace',
      'team-a',
      '--resolver-namespace=edge',
      '--resolver-port=9000',
      '--workers=4',
    ]);
    assert.deepEqual(flags.leaderElection, { namespace: 'ops', name: 'elasti-operator-lock' });
    assert.equal(flags.config.watchNamespace, 'team-a');
    assert.deepEqual(flags.config.resolver, { namespace: 'edge', reverseProxyPort: 9000 });
    assert.equal(flags.config.workers, 4);
  });

  it('rejects unknown flags and bad numbers with a readable error', () => {
    assert.throws(() => parseFlags(['--no-such-flag']), /no-such-flag/);
    assert.throws(() => parseFlags(['--resolver-port=abc']), /--resolver-port must be a positive integer/);
    assert.throws(() => parseFlags(['--workers=0']), /--workers must be a positive integer/);
  });
});

describe('bind addresses', () => {
  it('parses host:port and :port', () => {
    assert.deepEqual(parseBindAddress('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseBindAddress(':0'), { host: '0.0.0.0', port: 0 });
  });
  it('rejects what is not host:port', () => {
    assert.throws(() => parseBindAddress('8080'), /not host:port/);
    assert.throws(() => parseBindAddress(':99999'), /invalid port/);
  });
});
