/**
 * The package as a TypeScript operator author gets it: `npm pack`, install the tarball into a
 * fresh app outside the repository, compile `examples/` with that app's own `tsc` (`nodenext`),
 * run them against the control plane and check what they print; `require()` from CommonJS;
 * internal modules refused; the optional peer `@kubernetes/client-node` absent (a clear error
 * for an exec-plugin kubeconfig), then present (the type tests compile against the installed
 * `.d.ts`, and the same kubeconfig connects).
 *
 * Installs come from the npm cache that `npm ci` filled (`--prefer-offline`), at the exact
 * versions the repository pins, so this is as fast and as reproducible as the repo's own install.
 *
 * @module
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { testCluster, testNamespace } from '../../support/cluster.ts';
import { execKubeconfig, writeExecPlugin } from '../../support/exec-plugin.ts';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  name: string;
  devDependencies: Record<string, string>;
};
const pinned = (name: string): string => `${name}@${manifest.devDependencies[name]}`;
const examples = ['shared-informer', 'manager', 'workqueue-controller', 'owned-configmap-operator'];

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string }[];
}

/** Runs a command; on failure the error names the command and carries its output. */
async function sh(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, {
      cwd,
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 300_000,
    });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

const npmInstall = (app: string, specs: string[]): Promise<string> =>
  sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--save-exact', ...specs], app);

describe('the npm package, installed into an app outside the repository', { concurrency: false }, () => {
  let work: string;
  let app: string;
  let pack: PackResult;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'elasti-package-'));
    process.on('exit', () => rmSync(work, { recursive: true, force: true }));
    // `npm pack` runs `prepack` (the build): the tarball is built from this checkout's sources.
    const out = await sh('npm', ['pack', '--json', '--pack-destination', work], repo);
    pack = (JSON.parse(out.slice(out.indexOf('['))) as PackResult[])[0]!;
    app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'consumer-app', private: true, type: 'module' }, null, 2),
    );
    await npmInstall(app, [join(work, pack.filename), pinned('typescript'), pinned('@types/node')]);
  });

  it('ships the compiled library only: no sources, tests, operator binary or controller', () => {
    const paths = pack.files.map((f) => f.path);
    for (const required of [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/kube/index.js',
      'dist/informer/index.d.ts',
      'dist/runtime/workqueue.js',
      'dist/runtime/index.js',
      'dist/runtime/leader-election.js',
      'dist/runtime/http.js',
      'dist/api/v1alpha1/index.js',
    ]) {
      assert.ok(paths.includes(required), `${required} is in the tarball`);
    }
    const unwanted = paths.filter(
      (p) => !p.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(p),
    );
    assert.deepEqual(unwanted, [], 'only dist/ and the package documents');
    assert.deepEqual(
      paths.filter((p) =>
        /^dist\/(controller|crddirectory)\/|^dist\/operator\/(main|operator)\.|\.map$/.test(p),
      ),
      [],
      'no controller, directory, operator process or source maps',
    );
    console.log(
      `tarball: ${pack.entryCount} files, ${pack.size} bytes packed, ${pack.unpackedSize} bytes unpacked`,
    );
  });

  it('installs without the optional peer and without a logger', () => {
    assert.equal(existsSync(join(app, 'node_modules', '@kubernetes', 'client-node')), false);
    assert.equal(existsSync(join(app, 'node_modules', 'pino')), false);
  });

  it('compiles the examples with plain tsc (nodenext) and runs them against the cluster', async (t) => {
    for (const name of examples) copyFileSync(join(repo, 'examples', `${name}.ts`), join(app, `${name}.ts`));
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          target: 'es2022',
          strict: true,
          outDir: 'out',
          types: ['node'],
        },
        files: examples.map((name) => `${name}.ts`),
      }),
    );
    await sh(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', '.'], app);

    const cluster = await testCluster();
    const outputs: Record<string, string> = {};
    for (const name of examples) {
      const namespace = await testNamespace(t, 'example');
      outputs[name] = await sh(process.execPath, [join('out', `${name}.js`)], app, {
        KUBECONFIG: cluster.kubeconfigPath,
        EXAMPLE_NAMESPACE: namespace,
      });
    }
    const lines = (name: string): string[] => (outputs[name] ?? '').trim().split('\n');

    const informer = lines('shared-informer');
    assert.ok(
      informer.includes('synced: 2 config maps labelled app=example: example-db, example-web'),
      informer.join('\n'),
    );
    assert.ok(informer.includes('by key: example-db'));
    assert.ok(informer.includes('by index byTier=web: example-web'));
    assert.ok(informer.includes('update example-web: owner=someone-else'));
    assert.ok(
      !informer.some((l) => l.includes('unrelated')),
      'the label selector kept the unlabelled one out',
    );
    assert.equal(informer.at(-1), 'done');

    const manager = lines('manager');
    assert.ok(manager.includes('[alpha] add version=1'), manager.join('\n'));
    assert.ok(manager.includes('[beta] add version=1'));
    assert.ok(manager.includes('watching: alpha=Active, beta=Active'));
    assert.ok(manager.includes('[beta] update version=2'));
    assert.ok(manager.includes('stopped alpha; watching: beta'));
    assert.ok(manager.includes('[beta] update version=3'));
    assert.ok(!manager.includes('[alpha] update version=2'), 'a stopped watch delivers nothing');
    assert.equal(manager.at(-1), 'done');

    const controller = lines('workqueue-controller');
    assert.ok(controller.includes('settings-mirror data: {"color":"green"}'), controller.join('\n'));
    assert.equal(controller.at(-1), 'done');

    const operator = lines('owned-configmap-operator');
    assert.deepEqual(
      operator,
      [
        '2 informers for 3 users',
        'created settings-copy with {"color":"blue"}',
        'created settings-copy with {"color":"blue"}',
        'updated settings-copy to {"color":"blue"}',
        'updated settings-copy to {"color":"green"}',
        'done',
      ],
      'owns() put the deleted and the edited copy back; the source edit reached the copy',
    );
  });

  it('works from CommonJS through require(), and refuses deep imports of internal modules', async () => {
    writeFileSync(
      join(app, 'smoke.cjs'),
      `const lib = require('elasti-informer');
const { RateLimitingQueue } = require('elasti-informer/workqueue');
const runtime = require('elasti-informer/runtime');
const { LeaderElector } = require('elasti-informer/leader-election');
const { startOperatorHttp } = require('elasti-informer/health');
const api = require('elasti-informer/api/v1alpha1');
const kube = require('elasti-informer/kube');
const informer = require('elasti-informer/informer');
const q = new RateLimitingQueue();
q.add('a');
console.log([typeof lib.KubeClient, typeof lib.Manager, typeof lib.SharedInformer, lib.resources.pods.gvr.resource,
  q.length, typeof LeaderElector, typeof startOperatorHttp, typeof api.ELASTI_GVR, kube.KubeClient === lib.KubeClient,
  informer.Manager === lib.Manager, typeof runtime.ControllerBuilder, runtime.RateLimitingQueue === RateLimitingQueue,
  runtime.LeaderElector === LeaderElector].join(' '));
for (const internal of ['elasti-informer/dist/kube/cache/store.js', 'elasti-informer/dist/controller/index.js', 'elasti-informer/src/index.ts']) {
  try { require(internal); console.log('importable: ' + internal); } catch (e) { console.log(e.code); }
}
`,
    );
    const out = (await sh(process.execPath, ['smoke.cjs'], app)).trim().split('\n');
    assert.deepEqual(out, [
      'function function function pods 1 function function object true true function true true',
      'ERR_PACKAGE_PATH_NOT_EXPORTED',
      'ERR_PACKAGE_PATH_NOT_EXPORTED',
      'ERR_PACKAGE_PATH_NOT_EXPORTED',
    ]);
  });

  it('an exec-plugin kubeconfig without @kubernetes/client-node fails with an error naming the package; with it, connects', async () => {
    const cluster = await testCluster();
    const tokenPath = join(work, 'token');
    writeFileSync(tokenPath, cluster.token);
    const plugin = writeExecPlugin(work, tokenPath, join(work, 'plugin-runs'));
    const kubeconfig = join(work, 'exec-kubeconfig');
    writeFileSync(kubeconfig, execKubeconfig(cluster.apiserverUrl, cluster.caPem, plugin));
    writeFileSync(
      join(app, 'exec.mjs'),
      `import { KubeClient, resources } from 'elasti-informer';
try {
  const client = await KubeClient.create(process.argv[2]);
  const page = await client.list({ gvr: resources.namespaces.gvr }, { limit: 500 });
  console.log('connected: ' + page.items.some((ns) => ns.metadata.name === 'default'));
  await client.close();
} catch (error) {
  console.log(error.name + ': ' + error.message);
}
`,
    );
    const missing = (await sh(process.execPath, ['exec.mjs', kubeconfig], app)).trim();
    assert.match(
      missing,
      /^KubeConfigError: user plugin-user of the kubeconfig authenticates with an exec plugin: that needs the optional peer dependency @kubernetes\/client-node, which is not installed \(npm install @kubernetes\/client-node\)$/,
    );

    await npmInstall(app, [pinned('@kubernetes/client-node')]);
    assert.equal((await sh(process.execPath, ['exec.mjs', kubeconfig], app)).trim(), 'connected: true');
  });

  it('the type tests compile against the installed declarations (client-node, kubernetes-types, a user interface)', async () => {
    await npmInstall(app, [pinned('kubernetes-types'), pinned('@kubernetes/client-node')]);
    const source = readFileSync(join(repo, 'test/types/typed-objects.ts'), 'utf8');
    const rewritten = source.replace("from '../../src/index.ts';", "from 'elasti-informer';");
    assert.notEqual(rewritten, source, 'the type test imports the package root');
    writeFileSync(join(app, 'typed-objects.ts'), rewritten);
    writeFileSync(
      join(app, 'tsconfig.types.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          // client-node's own declarations do not compile without @types/ws (theirs to fix);
          // ours were already checked without skipLibCheck when the examples compiled.
          skipLibCheck: true,
          types: ['node'],
        },
        files: ['typed-objects.ts'],
      }),
    );
    await sh(
      process.execPath,
      [join(app, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.types.json'],
      app,
    );
  });
});
