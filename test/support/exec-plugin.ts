/** A fake exec credential plugin for kubeconfig tests (unit and integration). */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file name the plugin is written under, for kubeconfigs that name it relatively. */
export const EXEC_PLUGIN_FILE = 'credential-plugin.sh';

/**
 * Writes `dir/credential-plugin.sh`: an exec credential plugin (client.authentication.k8s.io/v1)
 * printing the content of `tokenPath` as its token and counting its runs in `runsPath`.
 * Returns its path.
 */
export function writeExecPlugin(dir: string, tokenPath: string, runsPath: string): string {
  const path = join(dir, EXEC_PLUGIN_FILE);
  writeFileSync(
    path,
    `#!/bin/sh
echo run >> '${runsPath}'
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$(cat '${tokenPath}')"
`,
  );
  chmodSync(path, 0o755);
  return path;
}

/** A kubeconfig whose only user authenticates through the exec plugin `command`. */
export function execKubeconfig(server: string, caPem: string, command: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: '${server}', certificate-authority-data: ${Buffer.from(caPem).toString('base64')}}
users:
- name: plugin-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ${command}
      interactiveMode: Never
contexts:
- name: x
  context: {cluster: c, user: plugin-user}
current-context: x
`;
}
