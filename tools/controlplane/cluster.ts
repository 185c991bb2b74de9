/**
 * `npm run cluster`: starts a local control plane, prints what runs and how to use it, and keeps
 * it running until Ctrl-C (or SIGTERM), then removes everything.
 *
 * By default the full set: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok
 * with 3 fake Nodes, and Prometheus. Flags: `--bare` (etcd + kube-apiserver only), `--nodes N`,
 * `--no-prometheus`.
 */
import { parseArgs } from 'node:util';
import { type ControlPlaneOptions, startControlPlane } from './harness.ts';

const usage = 'usage: npm run cluster [-- --bare | --nodes N | --no-prometheus]';

const parse = (argv: string[]) =>
  parseArgs({
    args: argv,
    options: {
      bare: { type: 'boolean', default: false },
      nodes: { type: 'string', default: '3' },
      'no-prometheus': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });

/** The harness options the flags ask for; a bad flag exits with 2 and one line naming it. */
function options(argv: string[]): ControlPlaneOptions {
  let values: ReturnType<typeof parse>['values'];
  try {
    ({ values } = parse(argv));
  } catch (error) {
    process.stderr.write(`cluster: ${(error as Error).message}\n${usage}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  const nodes = Number(values.nodes);
  if (!/^\d+$/.test(values.nodes) || nodes > 1000) {
    process.stderr.write(
      `cluster: --nodes must be a whole number from 0 to 1000, got ${JSON.stringify(values.nodes)}\n`,
    );
    process.exit(2);
  }
  if (values.bare) return {};
  return { controllers: true, nodes, prometheus: !values['no-prometheus'] };
}

const cp = await startControlPlane(options(process.argv.slice(2)));
process.stdout.write(
  [
    'Running:',
    ...cp.components.map((line) => `  ${line}`),
    '',
    `  apiserver:  ${cp.apiserverUrl}`,
    `  etcd:       ${cp.etcdUrl}`,
    ...(cp.nodeNames.length > 0 ? [`  nodes:      ${cp.nodeNames.join(', ')}`] : []),
    ...(cp.prometheus ? [`  prometheus: ${cp.prometheus.url}`] : []),
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
