import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  missingNodeFlags,
  missingOperatorEnv,
  OPERATOR_ENV,
  OPERATOR_NODE_FLAGS,
  OPERATOR_RUNTIME_V8_FLAGS,
  RuntimeFlagsError,
  runtimeV8Flags,
  unusableRuntime,
} from '../../../src/operator/runtime.ts';
import { bundleOperator } from '../../../tools/bundle-operator.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('operator runtime', () => {
  it('reports the operator V8 flags missing from argv and NODE_OPTIONS', () => {
    assert.deepEqual(missingNodeFlags([], ''), [...OPERATOR_NODE_FLAGS]);
    assert.deepEqual(missingNodeFlags([...OPERATOR_NODE_FLAGS], ''), []);
    assert.deepEqual(missingNodeFlags(['--expose-gc'], ` ${OPERATOR_NODE_FLAGS.join('  ')} `), []);
    assert.deepEqual(missingNodeFlags(['--max-semi-space-size=64'], ''), [...OPERATOR_NODE_FLAGS]);
  });

  it('reports the operator environment settings missing', () => {
    assert.deepEqual(
      missingOperatorEnv({}),
      Object.entries(OPERATOR_ENV).map(([k, v]) => `${k}=${v}`),
    );
    assert.deepEqual(missingOperatorEnv({ ...OPERATOR_ENV }), []);
  });

  it('run-time V8 flags: the default list, replaced (or emptied) by ELASTI_V8_RUNTIME_FLAGS, a bad word refused', () => {
    assert.deepEqual(runtimeV8Flags({}), [...OPERATOR_RUNTIME_V8_FLAGS]);
    assert.deepEqual(runtimeV8Flags({ ELASTI_V8_RUNTIME_FLAGS: '' }), []);
    assert.deepEqual(runtimeV8Flags({ ELASTI_V8_RUNTIME_FLAGS: ' --optimize-for-size  --max-lazy ' }), [
      '--optimize-for-size',
      '--max-lazy',
    ]);
    assert.throws(
      () => runtimeV8Flags({ ELASTI_V8_RUNTIME_FLAGS: '--optimize-for-size opt' }),
      (error: unknown) =>
        error instanceof RuntimeFlagsError &&
        /ELASTI_V8_RUNTIME_FLAGS: "opt" is not a --flag/.test(error.message),
    );
  });

  it('a Node without WebAssembly (--jitless, --lite-mode) is refused with the flag to remove', () => {
    assert.equal(unusableRuntime(), undefined);
    assert.match(unusableRuntime({}) ?? '', /WebAssembly is not available .*--jitless or --lite-mode/);
  });

  it('`npm start` runs the compiled operator with every operator flag', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const start = pkg.scripts.start ?? '';
    assert.match(start, /^(\w+=\S+ )*node .* dist\/elasti-operator\.cjs$/);
    for (const flag of OPERATOR_NODE_FLAGS) assert.ok(start.split(' ').includes(flag), flag);
    for (const [name, value] of Object.entries(OPERATOR_ENV)) {
      assert.ok(start.split(' ').includes(`${name}=${value}`), name);
    }
  });

  it('the build emits runnable JavaScript: the compiled operator and its bundle print their usage', async () => {
    // Inside the project, so the compiled files resolve the project's node_modules.
    mkdirSync(join(root, 'tmp'), { recursive: true });
    const out = mkdtempSync(join(root, 'tmp', 'build-'));
    try {
      execFileSync(
        process.execPath,
        [
          join(root, 'node_modules/typescript/bin/tsc'),
          '-p',
          join(root, 'tsconfig.build.json'),
          '--outDir',
          out,
        ],
        { stdio: 'pipe' },
      );
      await bundleOperator(join(out, 'operator/main.js'), join(out, 'elasti-operator.cjs'));
      // The modules tsc wrote, and the single-file CommonJS bundle that ships: both run the same way.
      for (const entry of [join(out, 'operator/main.js'), join(out, 'elasti-operator.cjs')]) {
        const usage = execFileSync(process.execPath, [...OPERATOR_NODE_FLAGS, entry, '--help'], {
          encoding: 'utf8',
        });
        assert.match(usage, /^elasti-operator \[flags\]/);
        // --jitless takes WebAssembly away: refused at once, exit 2, one line.
        const jitless = spawnSync(process.execPath, ['--jitless', entry], {
          encoding: 'utf8',
          timeout: 60_000,
        });
        assert.equal(jitless.status, 2);
        // Our one line; Node 22's V8 may print its own warning about the flag before it.
        const ours = jitless.stderr
          .split('\n')
          .filter((line) => line !== '' && !line.startsWith('Warning: '));
        assert.equal(ours.length, 1, jitless.stderr);
        assert.match(ours[0] ?? '', /^elasti-operator: WebAssembly is not available /);
        // A bad run-time flag list: exit 2 naming the variable, before anything is loaded.
        const badList = spawnSync(process.execPath, [entry], {
          encoding: 'utf8',
          timeout: 60_000,
          env: { ...process.env, ELASTI_V8_RUNTIME_FLAGS: 'no-opt' },
        });
        assert.equal(badList.status, 2);
        assert.match(
          badList.stderr,
          /^elasti-operator: invalid value for ELASTI_V8_RUNTIME_FLAGS: "no-opt" .*\n$/,
        );
      }
      // Self-contained: from a directory with no node_modules above it, it still runs.
      const alone = mkdtempSync(join(tmpdir(), 'elasti-bundle-'));
      try {
        copyFileSync(join(out, 'elasti-operator.cjs'), join(alone, 'elasti-operator.cjs'));
        const usage = execFileSync(process.execPath, [join(alone, 'elasti-operator.cjs'), '--help'], {
          encoding: 'utf8',
          cwd: alone,
        });
        assert.match(usage, /^elasti-operator \[flags\]/);
      } finally {
        rmSync(alone, { recursive: true, force: true });
      }
      // bundleOperator fails on any bundler warning, e.g. the first import of main.js (the run-time
      // V8 flags, imported for its side effect) dropped because of the package's "sideEffects".
      assert.match(readFileSync(join(out, 'elasti-operator.cjs'), 'utf8'), /setFlagsFromString\(/);
      // Relative imports were rewritten to .js, so no .ts file is needed at run time.
      assert.doesNotMatch(readFileSync(join(out, 'informer/manager.js'), 'utf8'), /from '\.[^']*\.ts'/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
