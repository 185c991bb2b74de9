/**
 * `npm run bench -- memory`: where a synced informer's bytes go, ours against client-go's, in
 * one run on one local control plane.
 *
 * 1. Seeds two namespaces with ~1 KiB ConfigMaps: 10,000 and 50,000 (`BENCH_SMALL`,
 *    `BENCH_LARGE`).
 * 2. Rounds (default 3; `BENCH_ROUNDS`), interleaved: every contender syncs each namespace once
 *    per round, each time in a fresh process, and reports RSS right after the sync (split into
 *    file-backed and anonymous pages by `/proc/self/smaps_rollup`), the live heap after full GCs
 *    and, for Node, V8's heap spaces committed vs used and the RSS once its modules were loaded.
 * 3. The **marginal bytes per cached object** is the slope between the two sizes:
 *    (RSS at 50k − RSS at 10k) / 40,000, per round; likewise for the live heap. What does not
 *    grow with the objects (the intercept) is the **fixed cost**.
 *
 * Contenders (`BENCH_CONTENDERS=a,b` runs some): ours as shipped and one variant per memory
 * setting under test (V8 flags, page size), each differing from "as shipped" in that one thing,
 * (`ours-metadata-only`: the runtime's metadata-only informer, `PartialObjectMetadata`),
 * and client-go's dynamic and typed informers as the yardstick. No write phase: the engine
 * benchmark measures events.
 *
 * Numbers are reported, never asserted.
 */
import { fileURLToPath } from 'node:url';
import { KubeClient } from '../src/kube/client/client.ts';
import { startControlPlane } from '../tools/controlplane/harness.ts';
import {
  allContenders,
  type Contender,
  oursVariants,
  prepare,
  referenceId,
  selectContenders,
  startContender,
} from './_contenders.ts';
import { type Column, markdownTable, type RoundRow, summarize } from './_summary.ts';
import { seedConfigMaps } from './engine.ts';

const byId = (id: string): Contender => {
  const found = allContenders.find((c) => c.id === id);
  if (!found) throw new Error(`no contender ${id}`);
  return found;
};

/** Ours as shipped, one variant per setting under test, and the client-go yardstick. */
export const memoryContenders: readonly Contender[] = [
  byId('ours-paged'),
  ...oursVariants,
  byId(referenceId),
  byId('client-go-typed'),
];

interface Sample {
  readonly contender: string;
  readonly round: number;
  readonly objects: number;
  readonly syncMs: number;
  readonly rssMb: number;
  readonly heapMb: number;
  readonly detail: Record<string, unknown> | undefined;
}

async function sample(
  contender: Contender,
  built: { clientGo?: string },
  kubeconfig: string,
  namespace: string,
  objects: number,
  round: number,
): Promise<Sample> {
  const worker = startContender(contender, { kubeconfig, namespace, expected: objects }, built);
  try {
    const synced = await worker.next();
    if (synced.type !== 'synced') throw new Error(`${contender.id}: ${JSON.stringify(synced)}`);
    return {
      contender: contender.id,
      round,
      objects,
      syncMs: synced.syncMs,
      rssMb: synced.rssMb,
      heapMb: synced.heapMb,
      detail: synced.detail as Record<string, unknown> | undefined,
    };
  } finally {
    await worker.close();
  }
}

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

/** The breakdown columns of one sample: RSS split, V8 committed vs used, the module graph. */
function breakdown(s: Sample): Record<string, number | undefined> {
  const atSync = (s.detail?.atSync ?? {}) as Record<string, unknown>;
  const spaces = (atSync.spaces ?? {}) as Record<string, { committed: number; used: number }>;
  const sum = (key: 'committed' | 'used'): number | undefined =>
    Object.keys(spaces).length ? Object.values(spaces).reduce((a, x) => a + x[key], 0) : undefined;
  const heapCommitted = sum('committed');
  const anonymous = num(atSync.anonymous);
  return {
    syncMs: s.syncMs,
    rssMb: s.rssMb,
    heapMb: s.heapMb,
    fileBackedMb: num(atSync.fileBacked),
    anonymousMb: anonymous,
    v8CommittedMb: heapCommitted,
    v8UsedMb: sum('used'),
    newSpaceCommittedMb: spaces.new_space?.committed,
    // Anonymous memory that is not V8's heap: malloc'd buffers, TLS, code, thread stacks.
    nativeMb: anonymous !== undefined && heapCommitted !== undefined ? anonymous - heapCommitted : undefined,
    importedRssMb: num(s.detail?.importedRssMb),
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const small = Number(process.env.BENCH_SMALL ?? 10_000);
  const large = Number(process.env.BENCH_LARGE ?? 50_000);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const contenders = selectContenders(memoryContenders);
  const built = prepare(contenders);
  const plane = await startControlPlane();
  const client = await KubeClient.create(plane.kubeconfigPath);
  try {
    const sizes = [
      { objects: small, namespace: 'bench-mem-small' },
      { objects: large, namespace: 'bench-mem-large' },
    ];
    const seeded: Record<string, number> = {};
    for (const { objects, namespace } of sizes) {
      process.stderr.write(`[bench] memory: seeding ${objects} ConfigMaps in ${namespace}\n`);
      seeded[namespace] = await seedConfigMaps(client, namespace, objects);
    }
    const samples: Sample[] = [];
    for (let round = 1; round <= rounds; round++) {
      const order = contenders.map((_, i) => contenders[(i + round - 1) % contenders.length] as Contender);
      for (const contender of order) {
        for (const { objects, namespace } of sizes) {
          process.stderr.write(`[bench] memory: round ${round}/${rounds}: ${contender.id} × ${objects}\n`);
          samples.push(await sample(contender, built, plane.kubeconfigPath, namespace, objects, round));
        }
      }
    }
    const sizeColumns: Column[] = [
      { key: 'syncMs', heading: 'sync', unit: 'ms' },
      { key: 'rssMb', heading: 'RSS', unit: 'MB' },
      { key: 'heapMb', heading: 'live heap', unit: 'MB', digits: 1 },
      { key: 'fileBackedMb', heading: 'file-backed', unit: 'MB' },
      { key: 'anonymousMb', heading: 'anonymous', unit: 'MB' },
      { key: 'v8CommittedMb', heading: 'V8 committed', unit: 'MB' },
      { key: 'v8UsedMb', heading: 'V8 used', unit: 'MB' },
      { key: 'newSpaceCommittedMb', heading: 'of it new space', unit: 'MB' },
      { key: 'nativeMb', heading: 'anonymous − V8 committed', unit: 'MB' },
      { key: 'importedRssMb', heading: 'RSS after imports', unit: 'MB' },
    ];
    const tables: Record<string, string> = {};
    for (const { objects } of sizes) {
      const rows: RoundRow[] = samples
        .filter((s) => s.objects === objects)
        .map((s) => ({ round: s.round, contender: s.contender, values: breakdown(s) }));
      tables[String(objects)] = markdownTable(
        summarize(rows, sizeColumns, referenceId),
        sizeColumns,
        contenders,
      );
    }
    const perObject = (key: 'rssMb' | 'heapMb', s: string, round: number): number | undefined => {
      const at = (objects: number) =>
        samples.find((x) => x.contender === s && x.round === round && x.objects === objects)?.[key];
      const a = at(small);
      const b = at(large);
      return a === undefined || b === undefined ? undefined : ((b - a) * 2 ** 20) / (large - small);
    };
    const slopeRows: RoundRow[] = samples
      .filter((s) => s.objects === small)
      .map((s) => ({
        round: s.round,
        contender: s.contender,
        values: {
          rssPerObject: perObject('rssMb', s.contender, s.round),
          heapPerObject: perObject('heapMb', s.contender, s.round),
        },
      }));
    const slopeColumns: Column[] = [
      { key: 'rssPerObject', heading: 'marginal RSS per object', unit: 'B' },
      { key: 'heapPerObject', heading: 'marginal live heap per object', unit: 'B' },
    ];
    tables.slope = markdownTable(summarize(slopeRows, slopeColumns, referenceId), slopeColumns, contenders);
    for (const [name, table] of Object.entries(tables)) process.stderr.write(`\n${name}:\n${table}\n`);
    return { small, large, rounds, seedObjectsPerSecond: seeded, tables, samples };
  } finally {
    await client.close();
    await plane.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(await run(), null, 2)}\n`);
}
