/**
 * From a kubeconfig to a connection: the lean kubeconfig loader (`kubeconfig.ts`, `kubeconfig-file.ts`),
 * credentials and the one pooled undici dispatcher per cluster (`connection.ts`), the lean undici import
 * (`undici-lean.ts`) and the HTTP/2 stream guard (`h2-stream-guard.ts`). Depends on `core/` only.
 *
 * @module
 */
export {
  buildDispatcher,
  type ClientNodeKubeConfig,
  type ClusterConnection,
  type ConnectOptions,
  connect,
  type KubeConfigSource,
} from './connection.ts';
export { guardedConnector, hasOrphanErrorSink } from './h2-stream-guard.ts';
export {
  authHeadersOf,
  type KubeconfigReadOptions,
  needsPlugin,
  readKubeconfig,
  serviceAccountDir,
  type TlsMaterial,
  tlsMaterialOf,
} from './kubeconfig.ts';
export {
  fromFiles,
  type Kubeconfig,
  type KubeconfigCluster,
  type KubeconfigUser,
} from './kubeconfig-file.ts';
export { Agent, buildConnector, errors, ProxyAgent } from './undici-lean.ts';
