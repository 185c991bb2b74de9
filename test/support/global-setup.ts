/**
 * Global setup of the integration suite (`node --test --test-global-setup=...`): ONE control
 * plane for every test file of the run. Test files find it through environment variables,
 * which the runner's child processes inherit. Teardown stops it and fails the run if any
 * etcd or kube-apiserver process is left behind.
 */
import { type ControlPlane, ensureBinaries, startControlPlane } from '../../tools/controlplane/harness.ts';
import { controlPlaneProcesses } from './processes.ts';

let controlPlane: ControlPlane | undefined;

export async function globalSetup(): Promise<void> {
  if (process.env.ELASTI_TEST_KUBECONFIG) return; // a caller provided a cluster
  controlPlane = await startControlPlane();
  process.env.ELASTI_TEST_KUBECONFIG = controlPlane.kubeconfigPath;
  process.env.ELASTI_TEST_RESTRICTED_KUBECONFIG = controlPlane.restrictedKubeconfigPath;
  process.env.ELASTI_TEST_APISERVER_URL = controlPlane.apiserverUrl;
  process.env.ELASTI_TEST_ETCD_URL = controlPlane.etcdUrl;
}

export async function globalTeardown(): Promise<void> {
  if (!controlPlane) return;
  await controlPlane.stop();
  const left = controlPlaneProcesses(ensureBinaries(), controlPlane.dir);
  if (left.length > 0) {
    throw new Error(`control plane processes left after the run: ${left.map((p) => p.pid).join(', ')}`);
  }
}
