/**
 * The pinned versions (`versions.env`) and the cached binaries `build.sh` makes from them.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The versions, read from `versions.env` (the single source of truth, shared with build.sh). */
export const versions: { kube: string; etcd: string; kwok: string; prometheus: string; helm: string } =
  (() => {
    const text = readFileSync(join(here, 'versions.env'), 'utf8');
    const value = (name: string): string => {
      const match = new RegExp(`^${name}=(\\S+)`, 'm').exec(text);
      if (!match?.[1]) throw new Error(`versions.env has no ${name}`);
      return match[1];
    };
    return {
      kube: value('KUBE_VERSION'),
      etcd: value('ETCD_VERSION'),
      kwok: value('KWOK_VERSION'),
      prometheus: value('PROMETHEUS_VERSION'),
      helm: value('HELM_VERSION'),
    };
  })();

/**
 * File names of the binaries in the cache directory. kwok, Prometheus and helm carry their version in
 * the name: the directory is keyed by the Kubernetes and etcd versions, so bumping either of the
 * other two builds just that one.
 */
export const binaryNames = {
  supervise: 'supervise',
  etcd: 'etcd',
  apiserver: 'kube-apiserver',
  controllerManager: 'kube-controller-manager',
  scheduler: 'kube-scheduler',
  kwok: `kwok-${versions.kwok}`,
  prometheus: `prometheus-${versions.prometheus}`,
  helm: `helm-${versions.helm}`,
} as const;

let cachedBinDir: string | undefined;

/**
 * Builds the binaries if needed (idempotent, cached outside the tree) and returns their directory.
 * The first build takes minutes; progress goes to stderr.
 */
export function ensureBinaries(): string {
  if (cachedBinDir) return cachedBinDir;
  // Fast path without running Go: every binary is there and the supervisor is newer than its source.
  const cacheRoot =
    process.env.ELASTI_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'elasti-ts');
  const expected = join(cacheRoot, 'controlplane', `${versions.kube}-etcd${versions.etcd}`);
  try {
    const built = Object.values(binaryNames).every((name) => statSync(join(expected, name)).isFile());
    const supervisor = statSync(join(expected, binaryNames.supervise)).mtimeMs;
    if (built && supervisor > statSync(join(here, 'supervise', 'main.go')).mtimeMs) {
      cachedBinDir = expected;
      return expected;
    }
  } catch {
    // something is missing: build
  }
  const out = execFileSync('bash', [join(here, 'build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const dir = out.trim().split('\n').pop();
  if (!dir) throw new Error('tools/controlplane/build.sh printed no binary directory');
  cachedBinDir = dir;
  return dir;
}
