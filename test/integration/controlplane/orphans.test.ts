/**
 * No orphan processes, ever: a process that started a control plane and is then SIGKILLed
 * (no cleanup code runs) still leaves no process behind — etcd, kube-apiserver, and with the
 * full set kube-controller-manager, kube-scheduler, kwok and Prometheus too — nor their files.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { binaryNames, ensureBinaries } from '../../../tools/controlplane/harness.ts';
import { controlPlaneProcesses } from '../../support/processes.ts';
import { waitFor } from '../../support/wait.ts';

const fixture = fileURLToPath(new URL('../../support/fixtures/start-and-hang.ts', import.meta.url));

async function killedLeavesNothing(args: string[], expected: string[]): Promise<void> {
  const binDir = ensureBinaries();
  const child = spawn(process.execPath, [fixture, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`fixture exited early with ${code}`)));
  });
  const { dir } = JSON.parse(first) as { dir: string };
  try {
    const running = controlPlaneProcesses(binDir, dir).map((p) => basename(p.exe));
    // Each component under its own supervisor.
    const want = [...expected, ...expected.map(() => binaryNames.supervise)].sort();
    assert.deepEqual(running.sort(), want);
  } finally {
    // Also on a failed check: a fixture left alive would hold the test file open until its timeout.
    child.kill('SIGKILL');
  }
  await waitFor(() => controlPlaneProcesses(binDir, dir).length === 0, {
    timeoutMs: 30_000,
    message: 'every control plane process to exit',
  });
  await waitFor(() => !existsSync(dir), { timeoutMs: 10_000, message: `${dir} to be removed` });
}

describe('SIGKILL of the owning process leaves no control plane process or directory', () => {
  it('etcd + kube-apiserver', () => killedLeavesNothing([], [binaryNames.etcd, binaryNames.apiserver]));

  it('the full set: plus kube-controller-manager, kube-scheduler, kwok and Prometheus', () =>
    killedLeavesNothing(
      ['full'],
      [
        binaryNames.etcd,
        binaryNames.apiserver,
        binaryNames.controllerManager,
        binaryNames.scheduler,
        binaryNames.kwok,
        binaryNames.prometheus,
      ],
    ));
});
