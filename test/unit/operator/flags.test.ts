import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FlagError,
  flagUsage,
  OPERATOR_FLAGS,
  parseDuration,
  parseFlagTable,
} from '../../../src/operator/flags.ts';
import { parseFlags, resolverFacingUrl } from '../../../src/operator/main.ts';
import { BindAddressError, parseBindAddress } from '../../../src/runtime/http.ts';

const noEnv = {};

/** The FlagError `argv` throws, checked to be one line naming `flag`. */
function flagError(argv: string[], flag: string, env: Record<string, string> = {}): FlagError {
  try {
    parseFlags(argv, env);
  } catch (error) {
    assert.ok(error instanceof FlagError, `not a FlagError: ${String(error)}`);
    assert.equal(error.flag, flag);
    assert.ok(!error.message.includes('\n'), `one line: ${error.message}`);
    assert.ok(error.message.includes(flag), `names ${flag}: ${error.message}`);
    return error;
  }
  assert.fail(`${argv.join(' ')} was accepted`);
}

describe('operator flags', () => {
  it("defaults: no leader election, metrics :8080 and probes :8081 (controller-runtime's), upstream resolver defaults left to the config", () => {
    const flags = parseFlags([], noEnv);
    assert.equal(flags.metricsBindAddress, ':8080');
    assert.equal(flags.healthProbeBindAddress, ':8081');
    assert.equal(flags.self.clusterDomain, 'cluster.local');
    assert.equal(flags.leaderElection, undefined);
    assert.deepEqual(flags.config.resolver, {});
    assert.equal(flags.config.watchNamespace, undefined);
    assert.equal(flags.http2, true, 'HTTP/2 by default, as client-go');
    assert.deepEqual(flags.log, {
      level: undefined,
      devel: false,
      encoder: undefined,
      stacktraceLevel: undefined,
      timeEncoding: undefined,
    });
    assert.equal(parseFlags(['--http2'], noEnv).http2, true);
    assert.equal(parseFlags(['--http2=false'], noEnv).http2, false);
  });

  it('reads leader election, namespaces, the resolver, the cache sync timeout', () => {
    const flags = parseFlags(
      [
        '--leader-elect',
        '--leader-election-namespace=ops',
        '--watch-namespace',
        'team-a,team-b',
        '--resolver-namespace=edge',
        '--resolver-port=9000',
        '--workers=4',
        '--cache-sync-timeout=1m30s',
        '--bind-address=[::]:9090',
      ],
      noEnv,
    );
    assert.deepEqual(flags.leaderElection, { namespace: 'ops', name: 'acf50383.truefoundry.io' });
    assert.equal(flags.config.watchNamespace, 'team-a,team-b');
    assert.deepEqual(
      flags.config.watchNamespaces,
      ['edge'],
      "scoped: the resolver's namespace is watched too",
    );
    assert.deepEqual(flags.config.resolver, { namespace: 'edge', reverseProxyPort: 9000 });
    assert.equal(flags.config.workers, 4);
    assert.equal(flags.config.cacheSyncTimeoutMs, 90_000);
    assert.equal(
      flags.metricsBindAddress,
      '[::]:9090',
      '--bind-address is the alias of --metrics-bind-address',
    );
  });

  it('environment defaults: POD_NAMESPACE and WATCH_NAMESPACE, a flag wins over them', () => {
    const env = { POD_NAMESPACE: 'pod-ns', WATCH_NAMESPACE: 'w1,w2' };
    const flags = parseFlags(['--leader-elect'], env);
    assert.equal(flags.leaderElection?.namespace, 'pod-ns');
    assert.equal(flags.config.watchNamespace, 'w1,w2');
    assert.equal(parseFlags(['--watch-namespace=x'], env).config.watchNamespace, 'x');
    const bad = flagError([], 'WATCH_NAMESPACE', { WATCH_NAMESPACE: 'Team_A' });
    assert.match(bad.message, /environment variable WATCH_NAMESPACE \(the default of --watch-namespace\)/);
  });

  // The chart's env block (upstream-facts §4) with allowedNamespaces [team-a].
  const chartEnv = {
    POLLING_INTERVAL: '30s',
    WATCH_NAMESPACES: 'team-a,elasti',
    KUBERNETES_CLUSTER_DOMAIN: 'cluster.local',
    ELASTI_OPERATOR_NAMESPACE: 'elasti',
    ELASTI_OPERATOR_DEPLOYMENT_NAME: 'elasti-operator-controller-manager',
    ELASTI_OPERATOR_SERVICE_NAME: 'elasti-operator-controller-service',
    ELASTI_OPERATOR_PORT: '8013',
    ELASTI_RESOLVER_NAMESPACE: 'elasti',
    ELASTI_RESOLVER_DEPLOYMENT_NAME: 'elasti-resolver',
    ELASTI_RESOLVER_SERVICE_NAME: 'elasti-resolver-service',
    ELASTI_RESOLVER_PORT: '8013',
    ELASTI_RESOLVER_PROXY_PORT: '8012',
  };

  it("upstream chart's manager args and env: accepted and mapped onto the settings they drive", () => {
    const flags = parseFlags(
      ['--leader-elect', '--health-probe-bind-address=:8081', '--metrics-bind-address=0'],
      chartEnv,
    );
    assert.equal(flags.healthProbeBindAddress, ':8081');
    assert.equal(flags.metricsBindAddress, '0');
    assert.deepEqual(flags.leaderElection, { namespace: 'elasti', name: 'acf50383.truefoundry.io' });
    assert.equal(flags.config.watchNamespace, 'team-a,elasti');
    assert.deepEqual(flags.config.watchNamespaces, ['elasti', 'elasti']);
    assert.deepEqual(flags.config.resolver, {
      namespace: 'elasti',
      deploymentName: 'elasti-resolver',
      serviceName: 'elasti-resolver-service',
      reverseProxyPort: 8012,
      port: 8013,
    });
    assert.equal(
      resolverFacingUrl(flags.self, 8013),
      'http://elasti-operator-controller-service.elasti.svc.cluster.local:8013',
    );
    assert.equal(flags.self.deploymentName, 'elasti-operator-controller-manager');
  });

  it('chart env with a custom resolver: the flags read ELASTI_RESOLVER_*, a flag wins', () => {
    const env = { ...chartEnv, ELASTI_RESOLVER_NAMESPACE: 'edge', ELASTI_RESOLVER_PROXY_PORT: ' 9012 ' };
    assert.deepEqual(parseFlags([], env).config.resolver.namespace, 'edge');
    assert.deepEqual(parseFlags([], env).config.resolver.reverseProxyPort, 9012);
    assert.deepEqual(parseFlags(['--resolver-namespace=x'], env).config.resolver.namespace, 'x');
    const bad = flagError([], 'ELASTI_RESOLVER_PROXY_PORT', { ELASTI_RESOLVER_PROXY_PORT: 'eighty' });
    assert.match(
      bad.message,
      /environment variable ELASTI_RESOLVER_PROXY_PORT \(the default of --resolver-port\)/,
    );
    flagError([], 'KUBERNETES_CLUSTER_DOMAIN', { KUBERNETES_CLUSTER_DOMAIN: 'Cluster_Local' });
    flagError([], 'ELASTI_OPERATOR_SERVICE_NAME', { ELASTI_OPERATOR_SERVICE_NAME: '1svc' });
  });

  it('WATCH_NAMESPACES (upstream) wins over WATCH_NAMESPACE; unscoped adds no namespaces', () => {
    const flags = parseFlags([], { WATCH_NAMESPACES: 'a', WATCH_NAMESPACE: 'b' });
    assert.equal(flags.config.watchNamespace, 'a');
    assert.equal(parseFlags([], { ELASTI_OPERATOR_NAMESPACE: 'elasti' }).config.watchNamespaces, undefined);
  });

  it('Go flag forms: -x and --x, -x=v, booleans as strconv.ParseBool reads them, -h', () => {
    const flags = parseFlags(
      ['-leader-elect', '-metrics-bind-address', ':9', '-health-probe-bind-address=:10'],
      noEnv,
    );
    assert.ok(flags.leaderElection);
    assert.equal(flags.metricsBindAddress, ':9');
    assert.equal(flags.healthProbeBindAddress, ':10');
    assert.ok(parseFlags(['--leader-elect=1'], noEnv).leaderElection);
    assert.equal(parseFlags(['-leader-elect=f'], noEnv).leaderElection, undefined);
    assert.equal(parseFlags(['-h'], noEnv).help, true);
    assert.equal(parseFlags(['-help'], noEnv).help, true);
    assert.throws(() => parseFlags(['-no-such-flag'], noEnv), FlagError);
  });

  it('zap flags map onto the logger settings; bad values name the flag', () => {
    const flags = parseFlags(
      [
        '--zap-log-level=panic',
        '--zap-devel',
        '--zap-encoder=JSON',
        '--zap-stacktrace-level=error',
        '--zap-time-encoding=rfc3339nano',
      ],
      noEnv,
    );
    assert.deepEqual(flags.log, {
      level: 'fatal',
      devel: true,
      encoder: 'json',
      stacktraceLevel: 'error',
      timeEncoding: 'rfc3339nano',
    });
    assert.equal(parseFlags(['--zap-log-level=1'], noEnv).log.level, 'debug');
    assert.equal(parseFlags(['--zap-log-level=5'], noEnv).log.level, 'trace');
    assert.equal(parseFlags(['--zap-log-level=info'], noEnv).log.level, 'info');
    assert.equal(parseFlags(['--zap-devel=false'], noEnv).log.devel, false);
    flagError(['--zap-log-level=0'], '--zap-log-level');
    flagError(['--zap-log-level=loud'], '--zap-log-level');
    flagError(['--zap-encoder=xml'], '--zap-encoder');
    flagError(['--zap-stacktrace-level=debug'], '--zap-stacktrace-level');
    flagError(['--zap-time-encoding=nano'], '--zap-time-encoding');
    assert.throws(() => parseFlags(['--log-level=info', '--zap-log-level=info'], noEnv), /are the same flag/);
  });

  it('--metrics-secure is refused while metrics are served (no TLS here), accepted with metrics off; --enable-http2 accepted', () => {
    const error = flagError(['--metrics-secure'], '--metrics-secure');
    assert.match(error.message, /not supported/);
    assert.equal(parseFlags(['--metrics-secure', '--metrics-bind-address=0'], noEnv).metricsBindAddress, '0');
    assert.ok(parseFlags(['--enable-http2'], noEnv));
    assert.equal(
      parseFlags(['--enable-http2', '--http2=false'], noEnv).http2,
      false,
      'not the API client HTTP/2 flag',
    );
  });

  it('booleans also take --flag=true|false', () => {
    assert.ok(parseFlags(['--leader-elect=true'], noEnv).leaderElection);
    assert.equal(parseFlags(['--leader-elect=false'], noEnv).leaderElection, undefined);
    flagError(['--leader-elect=yes'], '--leader-elect');
  });

  it('an empty --leader-election-id is refused at start, naming the flag', () => {
    const error = flagError(['--leader-elect', '--leader-election-id', ''], '--leader-election-id');
    assert.match(
      error.message,
      /^invalid value "" for flag --leader-election-id: must be a DNS-1123 subdomain/,
    );
    flagError(['--leader-election-id=Not_A_Name'], '--leader-election-id');
  });

  it('every bad value fails with a one-line FlagError naming its flag', () => {
    const cases: Array<[string[], string, RegExp]> = [
      [['--log-level', 'verbose'], '--log-level', /must be one of trace, debug, info, warn, error/],
      [['--health-probe-bind-address=8081'], '--health-probe-bind-address', /is not host:port/],
      [['--workers=0'], '--workers', /integer in 1\.\.1000/],
      [['--workers=1001'], '--workers', /integer in 1\.\.1000/],
      [['--workers=2.5'], '--workers', /integer/],
      [['--resolver-port=abc'], '--resolver-port', /port in 1\.\.65535/],
      [['--resolver-port=70000'], '--resolver-port', /port in 1\.\.65535/],
      [['--resolver-port=0'], '--resolver-port', /port in 1\.\.65535/],
      [['--cache-sync-timeout=0s'], '--cache-sync-timeout', /positive duration/],
      [['--cache-sync-timeout=10'], '--cache-sync-timeout', /positive duration/],
      [['--bind-address=8080'], '--bind-address', /is not host:port/],
      [['--bind-address=:99999'], '--bind-address', /invalid port/],
      [['--bind-address=:::8080'], '--bind-address', /brackets.*\[::\]:8080/],
      [['--bind-address=bad host:80'], '--bind-address', /invalid host/],
      [['--resolver-namespace=Edge'], '--resolver-namespace', /DNS-1123 label/],
      [['--resolver-service=1svc'], '--resolver-service', /DNS-1035 label/],
      [['--resolver-deployment=a_b'], '--resolver-deployment', /DNS-1123 subdomain/],
      [['--watch-namespace=a,B'], '--watch-namespace', /namespace "B"/],
      [['--kubeconfig=/no/such/file'], '--kubeconfig', /no such file/],
      [['--kubeconfig='], '--kubeconfig', /must not be empty/],
    ];
    for (const [argv, flag, problem] of cases) {
      const error = flagError(argv, flag);
      assert.match(error.message, problem, argv.join(' '));
    }
  });

  it('unknown flags and missing values are FlagErrors too', () => {
    assert.throws(
      () => parseFlags(['--no-such-flag'], noEnv),
      (e: unknown) => e instanceof FlagError && /no-such-flag/.test(e.message),
    );
    assert.throws(() => parseFlags(['--workers'], noEnv), FlagError);
    assert.throws(() => parseFlags(['positional'], noEnv), FlagError);
  });
});

describe('the flag table', () => {
  it('aliases name the same flag; giving both is refused', () => {
    const table = {
      'metrics-bind-address': { kind: 'bindAddress', help: 'x', aliases: ['bind-address'] },
    } as const;
    assert.equal(parseFlagTable(table, ['--bind-address=:1'], noEnv)['metrics-bind-address'], ':1');
    assert.equal(parseFlagTable(table, ['--metrics-bind-address=0'], noEnv)['metrics-bind-address'], '0');
    assert.throws(
      () => parseFlagTable(table, ['--bind-address=:1', '--metrics-bind-address=:2'], noEnv),
      /are the same flag/,
    );
  });

  it('usage lists every flag of the table', () => {
    const text = flagUsage('elasti-operator', OPERATOR_FLAGS);
    for (const name of Object.keys(OPERATOR_FLAGS)) assert.match(text, new RegExp(`--${name}\\b`));
  });

  it('parses Go-style durations', () => {
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1.5s'), 1_500);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('90'), undefined);
    assert.equal(parseDuration(''), undefined);
  });
});

describe('bind addresses', () => {
  it('parses host:port, :port, [ipv6]:port and 0 (disabled)', () => {
    assert.deepEqual(parseBindAddress('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseBindAddress(':0'), { host: undefined, port: 0 });
    assert.deepEqual(parseBindAddress('[::]:8080'), { host: '::', port: 8080 });
    assert.deepEqual(parseBindAddress('[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(parseBindAddress('localhost:9000'), { host: 'localhost', port: 9000 });
    assert.equal(parseBindAddress('0'), undefined);
  });
  it('rejects what is not an address, with a BindAddressError', () => {
    for (const bad of ['8080', ':99999', ':', '[::]', '[zz]:80', ':::80', 'a b:80', ':-1']) {
      assert.throws(() => parseBindAddress(bad), BindAddressError, bad);
    }
  });
});
