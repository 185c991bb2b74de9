/**
 * `npm run build`'s last step: the operator as one CommonJS file, `dist/elasti-operator.cjs`,
 * bundled from `tsc`'s output (`dist/operator/main.js`) with its dependencies. This is what the
 * start command and the container run.
 *
 * Why a bundle: loading ~250 module files makes V8 and Node's module loader run code paths that
 * one file does not — 5–6 MiB more resident pages of the `node` executable after the import, and
 * more RSS idle (`npm run bench -- operator`, contender `modules`, in `bench/RESULTS.md`).
 * Whitespace and syntax are minified, identifiers are not: stack traces and logged errors keep
 * our names.
 *
 * Why CommonJS: an ES module entry makes Node load and run its ES module loader, which a CommonJS
 * entry never does — 3.3 MiB more RSS for an empty file (44.0 vs 40.7 MiB, 2.6 of it the `node`
 * executable's pages), and so for the operator (`bench/RESULTS.md`, operator section, contender
 * `esm-bundle`). The sources stay ES modules; only the bundle's wrapper differs. The optional
 * client-node peer is still loaded with `import()`, which CommonJS has too.
 *
 * `@kubernetes/client-node` stays outside: it is an optional peer, imported only for an
 * exec/auth-provider credential plugin (`src/kube/config/connection.ts`), and bundling it would
 * triple the file for the users who never need it.
 *
 * Usage: `node tools/bundle-operator.ts [outfile] [cjs|esm] [entry]` (run by `npm run build`
 * after `tsc`; the engine benchmark bundles its worker with it too).
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, formatMessages, type Plugin } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Where the bundle goes unless told otherwise. */
export const OPERATOR_BUNDLE = `${root}dist/elasti-operator.cjs`;

/** The same bundle as an ES module: the previous form, kept for the benchmark's comparison. */
export const OPERATOR_ESM_BUNDLE = `${root}dist/elasti-operator.mjs`;

/**
 * The package's `"sideEffects": false` is for the library's users' bundlers (every library
 * module is side-effect free). The operator has one module imported for its side effect alone
 * — `v8-runtime-flags.js`, first of `main.js` — which the flag would let esbuild drop; so our
 * own compiled modules are bundled as written, and only the dependencies' flags apply.
 */
function ownModulesHaveSideEffects(compiled: string): Plugin {
  return {
    name: 'own-modules-have-side-effects',
    setup(plugin) {
      plugin.onResolve({ filter: /^\./ }, (args) =>
        args.importer.startsWith(compiled)
          ? { path: resolve(dirname(args.importer), args.path), sideEffects: true }
          : undefined,
      );
    },
  };
}

/**
 * Bundles `entry` (the compiled `operator/main.js`) into `outfile`: CommonJS unless `format` says
 * `esm`.
 *
 * @example
 * ```ts
 * await bundleOperator(`${root}dist/operator/main.js`, `${root}dist/elasti-operator.cjs`);
 * ```
 */
export async function bundleOperator(
  entry: string,
  outfile: string,
  format: 'cjs' | 'esm' = 'cjs',
): Promise<void> {
  if (!existsSync(entry)) throw new Error(`${entry} does not exist: run tsc first (npm run build)`);
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format,
    // The oldest Node the package supports (package.json engines).
    target: 'node22.19',
    minifyWhitespace: true,
    minifySyntax: true,
    external: ['@kubernetes/client-node'],
    ...(format === 'esm'
      ? {
          // The CommonJS dependencies (prom-client, undici's modules, js-yaml, pino) call
          // `require` for Node's built-ins; an ES module has none, so the bundle makes one.
          banner: {
            js: "import { createRequire as __elastiCreateRequire } from 'node:module'; const require = __elastiCreateRequire(import.meta.url);",
          },
        }
      : {
          // `main.ts` runs itself when it is the entry point (`import.meta.main`); in the bundle
          // it always is, and CommonJS has no `import.meta`.
          define: { 'import.meta.main': 'true' },
        }),
    // The licence notices of the bundled dependencies, gathered at the end of the file.
    legalComments: 'eof',
    logLevel: 'silent',
    // `entry` is `<compiled>/operator/main.js`.
    plugins: [ownModulesHaveSideEffects(`${dirname(dirname(resolve(entry)))}/`)],
  });
  // A warning here is a bundle that differs from the modules (e.g. an import dropped as
  // side-effect free, or a `require` esbuild cannot follow): fail the build rather than ship it.
  if (result.warnings.length > 0) {
    const messages = await formatMessages(result.warnings, { kind: 'warning' });
    throw new Error(`bundling ${entry} warned; not shipping it:\n${messages.join('\n')}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const format = process.argv[3] ?? 'cjs';
  if (format !== 'cjs' && format !== 'esm') {
    process.stderr.write(`bundle-operator: format must be cjs or esm, got ${JSON.stringify(format)}\n`);
    process.exit(2);
  }
  const entry = process.argv[4] ?? `${root}dist/operator/main.js`;
  await bundleOperator(entry, process.argv[2] ?? OPERATOR_BUNDLE, format);
}
