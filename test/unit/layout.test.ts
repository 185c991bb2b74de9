/**
 * The layout is the architecture: each layer of `src/` (and each concern folder of `src/kube/`) is
 * entered only through its `index.ts` (the engine through `src/kube/index.ts`, or its vocabulary
 * alone through `src/kube/core/index.ts`), indexes export by name, and no other module re-exports
 * another's names. These are the rules that keep a layer's inside free to change; this test reads
 * the import graph of `src/` and names every edge that breaks one.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const srcRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The unit a file belongs to: `kube/<concern>` inside the engine, `api/<version>`, else the layer folder. */
function unitOf(file: string): string {
  const parts = relative(srcRoot, file).split(sep);
  if (parts.length === 1) return '.';
  if ((parts[0] === 'kube' || parts[0] === 'api') && parts.length > 2) return `${parts[0]}/${parts[1]}`;
  return parts[0] as string;
}

/** The layer a unit is part of: `kube/cache` is in `kube`. */
function layerOf(unit: string): string {
  return unit === '.' ? '.' : (unit.split('/')[0] as string);
}

const specifier = /(?:^|\n)\s*(import|export)\b[^'"]*?\bfrom\s+'(\.[^']+)'|import\('(\.[^']+)'\)/g;

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly kind: 'import' | 'export';
}

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of sourceFiles(srcRoot)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(specifier)) {
      const spec = match[2] ?? match[3];
      if (!spec) continue;
      out.push({
        from: file,
        to: resolve(dirname(file), spec),
        kind: match[1] === 'export' ? 'export' : 'import',
      });
    }
  }
  return out;
}

const rel = (path: string) => relative(srcRoot, path);
const isIndex = (path: string) => path.endsWith(`${sep}index.ts`);

describe('layout', () => {
  const graph = edges();

  it('finds the import graph (the rules below are not vacuous)', () => {
    assert.ok(graph.length > 300, `only ${graph.length} edges found`);
    assert.ok(graph.some((edge) => unitOf(edge.from) === 'informer' && unitOf(edge.to) === 'kube'));
  });

  it('other layers import a layer only through its index', () => {
    const bad = graph
      .filter((edge) => layerOf(unitOf(edge.from)) !== layerOf(unitOf(edge.to)))
      .filter((edge) => {
        const target = unitOf(edge.to);
        // A layer without an index (the operator application, single modules) has no inside to hide.
        if (!hasIndex(target)) return false;
        // The engine's `core/` (its vocabulary, no I/O) may be entered on its own, so that a light
        // module such as the workqueue does not load the client, undici and prom-client.
        if (target === 'kube/core' && edge.to === join(srcRoot, 'kube/core/index.ts')) return false;
        const entry = join(srcRoot, target.startsWith('kube/') ? 'kube' : target, 'index.ts');
        return edge.to !== entry;
      })
      .map((edge) => `${rel(edge.from)} → ${rel(edge.to)}`);
    assert.deepEqual(bad, []);
  });

  it("the engine's concern folders reach each other only through their indexes", () => {
    const bad = graph
      .filter((edge) => unitOf(edge.from).startsWith('kube/') && unitOf(edge.to).startsWith('kube/'))
      .filter((edge) => unitOf(edge.from) !== unitOf(edge.to) && !isIndex(edge.to))
      .map((edge) => `${rel(edge.from)} → ${rel(edge.to)}`);
    assert.deepEqual(bad, []);
  });

  it('no module re-exports another module (only indexes gather names)', () => {
    const bad = graph
      .filter((edge) => edge.kind === 'export' && !isIndex(edge.from))
      .map((edge) => rel(edge.from));
    assert.deepEqual(bad, []);
  });

  it('no module re-exports an imported binding either (`import { x } …; export { x };`)', () => {
    const bad = sourceFiles(srcRoot)
      .filter((file) => !isIndex(file))
      .filter((file) => {
        const text = readFileSync(file, 'utf8');
        const imported = new Set(
          [...text.matchAll(/^import (?:type )?\{([^}]*)\} from/gm)].flatMap((m) =>
            (m[1] ?? '').split(',').map(
              (n) =>
                n
                  .replace(/^\s*type\s+/, '')
                  .trim()
                  .split(/\s+as\s+/)
                  .at(-1) ?? '',
            ),
          ),
        );
        return [...text.matchAll(/^export (?:type )?\{([^}]*)\};/gm)].some((m) =>
          (m[1] ?? '').split(',').some((n) => imported.has(n.replace(/^\s*type\s+/, '').trim())),
        );
      })
      .map(rel);
    assert.deepEqual(bad, []);
  });

  it('indexes export by name', () => {
    const bad = sourceFiles(srcRoot)
      .filter(isIndex)
      .filter((file) => /^export (type )?\* from/m.test(readFileSync(file, 'utf8')))
      .map(rel);
    assert.deepEqual(bad, []);
  });
});

function hasIndex(unit: string): boolean {
  try {
    return readdirSync(join(srcRoot, unit)).includes('index.ts');
  } catch {
    return false;
  }
}
