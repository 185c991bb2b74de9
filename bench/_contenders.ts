/**
 * The contenders of the engine and memory benchmarks and how each one's process is started:
 * Node contenders run the compiled `bench/_engine-worker.ts` (tsc output, so no TypeScript
 * stripper is loaded) with their V8 flags; external ones (client-go) are binaries that speak the
 * line protocol of `bench/_protocol.ts`. Not a benchmark itself.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  OPERATOR_ENV,
  OPERATOR_NODE_FLAGS,
  OPERATOR_RUNTIME_V8_FLAGS,
  OPTIMIZING_RUNTIME_V8_FLAGS,
} from '../src/operator/runtime.ts';
import { type NodeWorkerConfig, spawnLineWorker, type WorkerChannel } from './_protocol.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Where a contender syncs from. */
export interface SyncTarget {
  readonly kubeconfig: string;
  readonly namespace: string;
  readonly expected: number;
}

/** A Node contender: what the worker runs and with which V8 flags. */
export interface NodeContender {
  readonly id: string;
  readonly kind: 'node';
  readonly label: string;
  readonly worker: Omit<NodeWorkerConfig, keyof SyncTarget>;
  readonly nodeFlags: readonly string[];
  /** Extra environment of the worker (glibc tunables); none by default. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Run the worker as one CommonJS file bundled from its compiled modules, the way the operator
   * ships (`tools/bundle-operator.ts`), instead of as the modules themselves.
   */
  readonly bundled?: boolean;
}

/** An external contender: a client-go variant of `bench/peers/client-go`. */
export interface ExternalContender {
  readonly id: string;
  readonly kind: 'client-go';
  readonly label: string;
  readonly variant: 'dynamic' | 'typed';
  /** client-go's own feature-gate switches (`KUBE_FEATURE_<gate>`). */
  readonly env: Readonly<Record<string, string>>;
}

export type Contender = NodeContender | ExternalContender;

/** The reference every ratio is taken against: client-go's dynamic informer with its defaults. */
export const referenceId = 'client-go-dynamic';

/** Every contender of the engine benchmark, in the order of one round. */
export const allContenders: readonly Contender[] = [
  {
    id: 'ours-paged',
    kind: 'node',
    label: 'ours, paged list',
    worker: { engine: 'ours' },
    nodeFlags: OPERATOR_NODE_FLAGS,
  },
  {
    id: 'ours-streaming',
    kind: 'node',
    label: 'ours, streaming list',
    worker: { engine: 'ours', streaming: true },
    nodeFlags: OPERATOR_NODE_FLAGS,
  },
  {
    id: 'client-node',
    kind: 'node',
    label: 'client-node 2.0.1 `makeInformer`',
    worker: { engine: 'client-node' },
    nodeFlags: [],
  },
  {
    id: 'raw-watch-floor',
    kind: 'node',
    label: 'floor: raw WATCH, parse only',
    worker: { engine: 'raw-watch' },
    nodeFlags: OPERATOR_NODE_FLAGS,
  },
  {
    id: referenceId,
    kind: 'client-go',
    label: 'client-go dynamic informer, defaults (WatchListClient on)',
    variant: 'dynamic',
    env: {},
  },
  {
    id: 'client-go-dynamic-paged',
    kind: 'client-go',
    label: 'client-go dynamic, WatchListClient off',
    variant: 'dynamic',
    env: { KUBE_FEATURE_WatchListClient: 'false' },
  },
  {
    id: 'client-go-typed',
    kind: 'client-go',
    label: 'client-go typed informer, protobuf',
    variant: 'typed',
    env: {},
  },
];

const oursAsShipped = allContenders[0] as NodeContender;

/** The worker as `tsconfig.bench.json` compiles it, and as one CommonJS bundle of that. */
const COMPILED_WORKER = `${root}tmp/bench-dist/bench/_engine-worker.js`;
const BUNDLED_WORKER = `${root}tmp/bench-dist/engine-worker.cjs`;

/** The operator's run-time flags of its second session: today's plus `--optimize-for-size`. */
const SECOND_SESSION_RUNTIME_V8_FLAGS = ['--optimize-for-size', ...OPERATOR_RUNTIME_V8_FLAGS];

/** Ours as shipped with one thing changed (V8 flags or worker settings). */
export function variantOfOurs(
  id: string,
  label: string,
  change: Pick<Partial<NodeContender>, 'nodeFlags' | 'worker' | 'env' | 'bundled'>,
): NodeContender {
  return { ...oursAsShipped, ...change, id, label };
}

/**
 * Ours over HTTP/2 under the operator's launch (its node flags and environment) with the given
 * run-time V8 flags: {@link OPERATOR_RUNTIME_V8_FLAGS} for what ships. `bundled` runs the worker
 * as one CommonJS file, as the operator ships; `heapRelease: false` turns the collection off.
 */
function operatorLaunch(
  id: string,
  label: string,
  runtimeFlags: readonly string[],
  options: { bundled?: boolean; heapRelease?: false } = {},
): NodeContender {
  return variantOfOurs(id, label, {
    worker: { engine: 'ours', http2: true, ...(options.heapRelease === false ? { heapRelease: false } : {}) },
    nodeFlags: [...OPERATOR_NODE_FLAGS, ...runtimeFlags],
    env: OPERATOR_ENV,
    ...(options.bundled ? { bundled: true } : {}),
  });
}

/** Memory settings under test, each differing from "ours as shipped" in one thing. */
export const oursVariants: readonly NodeContender[] = [
  variantOfOurs('ours-v8-defaults', 'ours, V8 default flags', { nodeFlags: [] }),
  variantOfOurs('ours-semi-space-2', 'ours, `--max-semi-space-size=2`', {
    nodeFlags: ['--max-semi-space-size=2'],
  }),
  variantOfOurs('ours-optimize-for-size', 'ours, `--optimize-for-size`', {
    nodeFlags: [...OPERATOR_NODE_FLAGS, '--optimize-for-size'],
  }),
  variantOfOurs('ours-page-100', 'ours, pages of 100', { worker: { engine: 'ours', pageSize: 100 } }),
  variantOfOurs('ours-metadata-only', 'ours, metadata-only (`PartialObjectMetadata`)', {
    worker: { engine: 'ours', metadataOnly: true },
  }),
  // The operator's whole memory launch on the command line: its flags, the flags its main.ts sets
  // at run time, its environment.
  variantOfOurs(
    'ours-lean',
    "ours, lean flags (the operator's launch on the command line: its node flags, run-time flags and env)",
    {
      nodeFlags: [...OPERATOR_NODE_FLAGS, ...OPERATOR_RUNTIME_V8_FLAGS],
      env: OPERATOR_ENV,
    },
  ),
  variantOfOurs('ours-http2', "ours, over HTTP/2 (client-go's default over TLS)", {
    worker: { engine: 'ours', http2: true },
  }),
  // Runs H and I also had `ours-http2-no-compilers(-bundle)`: the launch without
  // `--optimize-for-size`, which is what `ours-http2-lean(-bundle)` is since the flag was dropped.
  operatorLaunch(
    'ours-http2-lean',
    "ours, over HTTP/2 with the lean flags (the operator's launch)",
    OPERATOR_RUNTIME_V8_FLAGS,
  ),
  operatorLaunch(
    'ours-http2-lean-bundle',
    "ours, the operator's whole launch: over HTTP/2, its flags and env, one CommonJS bundle",
    OPERATOR_RUNTIME_V8_FLAGS,
    { bundled: true },
  ),
  operatorLaunch(
    'ours-http2-lean-ofs-bundle',
    "ours, the operator's second-session launch (run-time `--optimize-for-size` too; HTTP/2, its env, one CommonJS bundle)",
    SECOND_SESSION_RUNTIME_V8_FLAGS,
    { bundled: true },
  ),
  operatorLaunch(
    'ours-http2-maglev-bundle',
    "ours, the operator's launch with Maglev kept (`--no-opt --no-wasm-tier-up` only; HTTP/2, its env, one CommonJS bundle)",
    ['--no-opt', '--no-wasm-tier-up'],
    { bundled: true },
  ),
  variantOfOurs('ours-http2-v8-defaults', 'ours, over HTTP/2, V8 and glibc defaults (no flags at all)', {
    worker: { engine: 'ours', http2: true },
    nodeFlags: [],
  }),
  variantOfOurs('ours-http2-bundle', 'ours, over HTTP/2, one CommonJS bundle (V8 flags as shipped)', {
    worker: { engine: 'ours', http2: true },
    bundled: true,
  }),
  operatorLaunch(
    'ours-http2-lean-no-release',
    "ours, over HTTP/2 with the lean flags, without the informer's collection after the list",
    OPERATOR_RUNTIME_V8_FLAGS,
    { heapRelease: false },
  ),
  operatorLaunch(
    'ours-http2-lean-opt',
    'ours, over HTTP/2 with the optimizing compilers (run-time `--optimize-for-size` only)',
    OPTIMIZING_RUNTIME_V8_FLAGS,
  ),
  variantOfOurs(
    'ours-lean-opt',
    'ours, lean flags with the optimizing compilers (run-time `--optimize-for-size` only)',
    {
      nodeFlags: [...OPERATOR_NODE_FLAGS, ...OPTIMIZING_RUNTIME_V8_FLAGS],
      env: OPERATOR_ENV,
    },
  ),
];

/**
 * The contenders `BENCH_CONTENDERS=a,b` selects from `defaults` and `extras` (`defaults` when
 * unset); exits 2 on an unknown id.
 */
export function selectContenders(
  defaults: readonly Contender[],
  extras: readonly Contender[] = [],
  wanted = process.env.BENCH_CONTENDERS,
): Contender[] {
  if (!wanted) return [...defaults];
  const available = [...defaults, ...extras];
  const ids = wanted.split(',').map((id) => id.trim());
  const unknown = ids.filter((id) => !available.some((c) => c.id === id));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown contender ${unknown.join(', ')}; available: ${available.map((c) => c.id).join(', ')}\n`,
    );
    process.exit(2);
  }
  return available.filter((c) => ids.includes(c.id));
}

/**
 * Builds what the contenders need before the first round: the compiled Node worker (tsc with
 * `tsconfig.bench.json`) and the client-go binary (its own idempotent, cached build script).
 * Returns the client-go binary's path when one is needed.
 */
export function prepare(contenders: readonly Contender[]): { clientGo?: string } {
  if (contenders.some((c) => c.kind === 'node')) {
    process.stderr.write('[bench] compiling the Node worker (tsconfig.bench.json)\n');
    execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.bench.json'], {
      cwd: root,
      stdio: 'inherit',
    });
  }
  if (contenders.some((c) => c.kind === 'node' && c.bundled)) {
    process.stderr.write('[bench] bundling the Node worker (as the operator is bundled)\n');
    execFileSync(
      process.execPath,
      [`${root}tools/bundle-operator.ts`, BUNDLED_WORKER, 'cjs', COMPILED_WORKER],
      { cwd: root, stdio: 'inherit' },
    );
  }
  if (!contenders.some((c) => c.kind === 'client-go')) return {};
  const output = execFileSync('bash', [`${root}bench/peers/client-go/build.sh`], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const clientGo = output.trim().split('\n').at(-1);
  if (!clientGo) throw new Error('bench/peers/client-go/build.sh printed no binary path');
  return { clientGo };
}

/** Starts one contender's process against `target`. */
export function startContender(
  contender: Contender,
  target: SyncTarget,
  built: { clientGo?: string },
): WorkerChannel {
  if (contender.kind === 'node') {
    const config: NodeWorkerConfig = { ...contender.worker, ...target };
    return spawnLineWorker(
      process.execPath,
      [
        ...contender.nodeFlags,
        '--expose-gc',
        contender.bundled ? BUNDLED_WORKER : COMPILED_WORKER,
        JSON.stringify(config),
      ],
      contender.env ?? {},
      contender.id,
    );
  }
  if (!built.clientGo) throw new Error('the client-go peer was not built (call prepare first)');
  return spawnLineWorker(
    built.clientGo,
    [contender.variant, target.kubeconfig, target.namespace, String(target.expected)],
    contender.env,
    contender.id,
  );
}
