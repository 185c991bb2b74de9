/**
 * Global setup of the integration suite (`node --test --test-global-setup=...`): the two shared
 * control planes of the run (see `cluster.ts`), a bare one and a full one, started side by side.
 * Test files find them through environment variables, which the runner's child processes
 * inherit. Teardown stops them and fails the run if any of their processes is left behind.
 */
import { type ControlPlane, ensureBinaries, startControlPlane } from '../../tools/controlplane/harness.ts';
import { ENV, exportPlane, FULL_CLUSTER_OPTIONS } from './cluster.ts';
import { controlPlaneProcesses } from './processes.ts';

const planes: ControlPlane[] = [];

export async function globalSetup(): Promise<void> {
  // A plane the caller provided (its variables set) is used as it is.
  const kinds = (['bare', 'full'] as const).filter((kind) => !process.env[ENV[kind].kubeconfig]);
  const started = await Promise.allSettled(
    kinds.map((kind) => startControlPlane(kind === 'full' ? FULL_CLUSTER_OPTIONS : {})),
  );
  const failed = started.find((result) => result.status === 'rejected');
  started.forEach((result, i) => {
    const kind = kinds[i];
    if (result.status !== 'fulfilled' || !kind) return;
    planes.push(result.value);
    exportPlane(kind, result.value);
  });
  if (failed) {
    await Promise.all(planes.map((plane) => plane.stop()));
    throw failed.reason;
  }
}

export async function globalTeardown(): Promise<void> {
  await Promise.all(planes.map((plane) => plane.stop()));
  const left = planes.flatMap((plane) => controlPlaneProcesses(ensureBinaries(), plane.dir));
  if (left.length > 0) {
    throw new Error(`control plane processes left after the run: ${left.map((p) => p.pid).join(', ')}`);
  }
}
