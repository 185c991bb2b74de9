/**
 * `npm run cluster`: starts a local control plane, prints how to use it, and keeps it running
 * until Ctrl-C (or SIGTERM), then removes everything.
 */
import { startControlPlane, versions } from './harness.ts';

const cp = await startControlPlane();
process.stdout.write(
  [
    `kube-apiserver ${versions.kube} + etcd ${versions.etcd} running.`,
    `  apiserver:  ${cp.apiserverUrl}`,
    `  etcd:       ${cp.etcdUrl}`,
    `  KUBECONFIG: ${cp.kubeconfigPath}`,
    '',
    `export KUBECONFIG=${cp.kubeconfigPath}`,
    '',
    'Press Ctrl-C to stop and clean up.',
    '',
  ].join('\n'),
);

let stopping = false;
const shutdown = (): void => {
  if (stopping) return;
  stopping = true;
  process.stdout.write('\nStopping the control plane...\n');
  cp.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
// Keep the event loop alive until a signal arrives.
setInterval(() => {}, 1 << 30);
