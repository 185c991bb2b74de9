/**
 * No orphan processes, ever: a process that started a control plane and is then SIGKILLed
 * (no cleanup code runs) still leaves no etcd or kube-apiserver behind, nor their files.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureBinaries } from '../../../tools/controlplane/harness.ts';
import { controlPlaneProcesses } from '../../support/processes.ts';
import { waitFor } from '../../support/wait.ts';

const fixture = fileURLToPath(new URL('../../support/fixtures/start-and-hang.ts', import.meta.url));

test('SIGKILL of the owning process leaves no control plane process or directory', async () => {
  const binDir = ensureBinaries();
  const child = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`fixture exited early with ${code}`)));
  });
  const { dir } = JSON.parse(first) as { dir: string };
  const running = controlPlaneProcesses(binDir, dir);
  // supervise + etcd + supervise + kube-apiserver
  assert.equal(running.length, 4, `expected 4 processes, found ${running.map((p) => p.exe).join(', ')}`);

  child.kill('SIGKILL');
  await waitFor(() => controlPlaneProcesses(binDir, dir).length === 0, {
    timeoutMs: 30_000,
    message: 'every control plane process to exit',
  });
  await waitFor(() => !existsSync(dir), { timeoutMs: 10_000, message: `${dir} to be removed` });
});
