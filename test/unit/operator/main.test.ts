/**
 * The operator command run as a process: a bad flag exits 2 with one line naming the flag (then
 * the usage), never a stack trace. Runs without an API server: every case fails before connecting.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../../src/operator/main.ts', import.meta.url));

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [main, ...args],
      // No kubeconfig anywhere: a case that got as far as connecting would fail differently.
      {
        encoding: 'utf8',
        timeout: 120_000,
        env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', ...env },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

describe('elasti-operator exit codes for bad flags', () => {
  const cases: Array<[string[], string]> = [
    [['--leader-elect', '--leader-election-id', ''], '--leader-election-id'],
    [['--log-level', 'verbose'], '--log-level'],
    [['--resolver-port=70000'], '--resolver-port'],
    [['--bind-address=:::8080'], '--bind-address'],
    [['--no-such-flag'], '--no-such-flag'],
    [['--metrics-secure'], '--metrics-secure'],
    [['-zap-encoder=xml'], '--zap-encoder'],
    [['-health-probe-bind-address', '8081'], '--health-probe-bind-address'],
  ];
  // Started together: on a busy machine each process waits mostly for a CPU.
  const runs = new Map(cases.map(([args]) => [args, run(args)]));
  for (const [args, flag] of cases) {
    it(`${args.join(' ')} → exit 2, one line naming ${flag}, no stack`, async () => {
      const { code, stderr } = await (runs.get(args) as ReturnType<typeof run>);
      assert.equal(code, 2, stderr);
      const [first = ''] = stderr.split('\n');
      assert.match(first, /^elasti-operator: /);
      assert.ok(first.includes(flag), `first line names ${flag}: ${first}`);
      assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
      assert.match(stderr, /--bind-address HOST:PORT/, 'the usage follows');
    });
  }

  it('a bad WATCH_NAMESPACE, WATCH_NAMESPACES or chart variable exits 2 naming the variable', async () => {
    const envs: Record<string, string>[] = [
      { WATCH_NAMESPACE: 'Not_Valid' },
      { WATCH_NAMESPACES: 'a,Not_Valid' },
      { ELASTI_RESOLVER_PROXY_PORT: 'eighty' },
      { ELASTI_OPERATOR_NAMESPACE: 'Ops' },
      { KUBERNETES_CLUSTER_DOMAIN: 'cluster_local' },
    ];
    for (const env of envs) {
      const { code, stderr } = await run([], env);
      assert.equal(code, 2, stderr);
      assert.match(stderr.split('\n')[0] ?? '', new RegExp(`variable ${Object.keys(env)[0]} `));
    }
  });

  it('a bad ELASTI_OPERATOR_PORT, PROMETHEUS_TRIGGER_SERVER_ADDRESS or ELASTI_HEAP_RELEASE exits 2 naming the variable', async () => {
    const envs: Record<string, string>[] = [
      { ELASTI_OPERATOR_PORT: 'http' },
      { PROMETHEUS_TRIGGER_SERVER_ADDRESS: 'prometheus:9090' },
      { ELASTI_HEAP_RELEASE: 'sometimes' },
    ];
    for (const env of envs) {
      const { code, stderr } = await run([], env);
      assert.equal(code, 2, stderr);
      assert.match(stderr.split('\n')[0] ?? '', new RegExp(`^elasti-operator: ${Object.keys(env)[0]}: `));
      assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
    }
  });

  it('--help exits 0 with the usage', async () => {
    const { code, stdout } = await run(['--help']);
    assert.equal(code, 0);
    assert.match(stdout, /--leader-election-id NAME/);
  });
});
