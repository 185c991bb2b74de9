/** Finds control plane processes by reading /proc. */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** A live process started from the control plane's binary directory. */
export interface ControlPlaneProcess {
  readonly pid: number;
  readonly exe: string;
  readonly cmdline: string;
}

/**
 * Every live process run from the binaries tools/controlplane built (etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler, kwok, Prometheus, supervise) whose
 * command line mentions `marker` (a control plane's own directory, so that other control
 * planes on the machine, e.g. a developer's `npm run cluster`, are not counted).
 */
export function controlPlaneProcesses(binDir: string, marker: string): ControlPlaneProcess[] {
  const found: ControlPlaneProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      // A binary replaced on disk while it runs (build.sh relinks `supervise` on every run, and
      // engineers share the cache) reads "<path> (deleted)": still a process of that binary.
      const exe = readlinkSync(join('/proc', entry, 'exe')).replace(/ \(deleted\)$/, '');
      if (!exe.startsWith(`${binDir}/`)) continue;
      const cmdline = readFileSync(join('/proc', entry, 'cmdline'), 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(marker)) found.push({ pid, exe, cmdline });
    } catch {
      // exited meanwhile, a zombie, or a kernel thread: not a live control plane process
    }
  }
  return found;
}
