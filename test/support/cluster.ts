/**
 * Access to the integration suite's shared control planes, for test files.
 *
 * Two of them run during `npm run test:integration` (started by the global setup, found through
 * environment variables):
 *
 * - {@link testCluster}: etcd + kube-apiserver only. Nothing changes unless a client changes it,
 *   so tests that need exact control of status and timing set it themselves. The default.
 * - {@link fullCluster}: the same plus kube-controller-manager, kube-scheduler, kwok with
 *   {@link FULL_CLUSTER_NODES} fake Nodes and Prometheus: Deployments get Pods that are scheduled,
 *   get IPs and turn Ready; the EndpointSlice, namespace and garbage-collector controllers run.
 *   For tests about how the operator reacts to a cluster.
 *
 * A test file run on its own (`node --test test/integration/x.test.ts`) starts a private one of
 * the kind it uses on first use, stopped when the process exits.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Agent, type Dispatcher, request } from 'undici';
import {
  type ControlPlane,
  type ControlPlaneOptions,
  type PrometheusServer,
  prometheusAt,
  startControlPlane,
} from '../../tools/controlplane/harness.ts';

/** Coordinates of the cluster under test. */
export interface TestCluster {
  readonly kubeconfigPath: string;
  readonly restrictedKubeconfigPath: string;
  readonly apiserverUrl: string;
  readonly etcdUrl: string;
  readonly token: string;
  readonly caPem: string;
}

/** The {@link fullCluster}: a {@link TestCluster} with Nodes and Prometheus. */
export interface FullTestCluster extends TestCluster {
  /** The kwok-managed Nodes Pods are scheduled to. */
  readonly nodeNames: readonly string[];
  /** The shared Prometheus: add scrape targets, query its HTTP API. */
  readonly prometheus: PrometheusServer;
}

/** How many fake Nodes the shared full cluster has. */
export const FULL_CLUSTER_NODES = 3;

/** What the global setup and a private fallback start for {@link fullCluster}. */
export const FULL_CLUSTER_OPTIONS: ControlPlaneOptions = {
  controllers: true,
  nodes: FULL_CLUSTER_NODES,
  prometheus: true,
};

/** The environment variables through which the global setup hands its planes to test files. */
export const ENV = {
  bare: {
    kubeconfig: 'ELASTI_TEST_KUBECONFIG',
    restricted: 'ELASTI_TEST_RESTRICTED_KUBECONFIG',
    etcd: 'ELASTI_TEST_ETCD_URL',
  },
  full: {
    kubeconfig: 'ELASTI_TEST_FULL_KUBECONFIG',
    restricted: 'ELASTI_TEST_FULL_RESTRICTED_KUBECONFIG',
    etcd: 'ELASTI_TEST_FULL_ETCD_URL',
    nodes: 'ELASTI_TEST_FULL_NODES',
    prometheus: 'ELASTI_TEST_FULL_PROMETHEUS',
  },
} as const;

/** Exports `plane`'s coordinates for test files (the global setup's side of {@link fullCluster}). */
export function exportPlane(kind: 'bare' | 'full', plane: ControlPlane): void {
  process.env[ENV[kind].kubeconfig] = plane.kubeconfigPath;
  process.env[ENV[kind].restricted] = plane.restrictedKubeconfigPath;
  process.env[ENV[kind].etcd] = plane.etcdUrl;
  if (kind === 'full') {
    process.env[ENV.full.nodes] = plane.nodeNames.join(',');
    if (plane.prometheus) process.env[ENV.full.prometheus] = JSON.stringify(plane.prometheus.coordinates);
  }
}

let privateBare: Promise<ControlPlane> | undefined;
let privateFull: Promise<ControlPlane> | undefined;
let cachedBare: Promise<TestCluster> | undefined;
let cachedFull: Promise<FullTestCluster> | undefined;

function fromKubeconfig(path: string): { token: string; caPem: string; server: string } {
  // The harness writes these three fields on lines of their own; a full parse is not needed here.
  const text = readFileSync(path, 'utf8');
  const field = (name: string): string => {
    const match = new RegExp(`^\\s*${name}: (\\S+)`, 'm').exec(text);
    if (!match?.[1]) throw new Error(`${path} has no ${name}`);
    return match[1];
  };
  return {
    token: field('token'),
    caPem: Buffer.from(field('certificate-authority-data'), 'base64').toString('utf8'),
    server: field('server'),
  };
}

function coordinates(
  kubeconfigPath: string,
  restrictedKubeconfigPath: string | undefined,
  etcdUrl: string | undefined,
): TestCluster {
  const { token, caPem, server } = fromKubeconfig(kubeconfigPath);
  return {
    kubeconfigPath,
    restrictedKubeconfigPath: restrictedKubeconfigPath ?? kubeconfigPath,
    apiserverUrl: server,
    etcdUrl: etcdUrl ?? '',
    token,
    caPem,
  };
}

/** The shared bare cluster, etcd + kube-apiserver (or this process's private one). */
export function testCluster(): Promise<TestCluster> {
  cachedBare ??= (async () => {
    const kubeconfigPath = process.env[ENV.bare.kubeconfig];
    if (kubeconfigPath) {
      return coordinates(kubeconfigPath, process.env[ENV.bare.restricted], process.env[ENV.bare.etcd]);
    }
    privateBare ??= startControlPlane();
    // Not stopped explicitly: its supervisors clean up when this test process exits.
    const plane = await privateBare;
    return coordinates(plane.kubeconfigPath, plane.restrictedKubeconfigPath, plane.etcdUrl);
  })();
  return cachedBare;
}

/**
 * The shared full cluster: controllers, scheduler, kwok Nodes and Prometheus (or this process's
 * private one).
 */
export function fullCluster(): Promise<FullTestCluster> {
  cachedFull ??= (async () => {
    const kubeconfigPath = process.env[ENV.full.kubeconfig];
    const prometheusJson = process.env[ENV.full.prometheus];
    if (kubeconfigPath && prometheusJson) {
      return {
        ...coordinates(kubeconfigPath, process.env[ENV.full.restricted], process.env[ENV.full.etcd]),
        nodeNames: (process.env[ENV.full.nodes] ?? '').split(',').filter(Boolean),
        prometheus: prometheusAt(JSON.parse(prometheusJson)),
      };
    }
    privateFull ??= startControlPlane(FULL_CLUSTER_OPTIONS);
    const plane = await privateFull;
    if (!plane.prometheus) throw new Error('the full cluster started without Prometheus');
    return {
      ...coordinates(plane.kubeconfigPath, plane.restrictedKubeconfigPath, plane.etcdUrl),
      nodeNames: plane.nodeNames,
      prometheus: plane.prometheus,
    };
  })();
  return cachedFull;
}

/**
 * A control plane of the test's own, for tests that restart or break it (apiserver or
 * controller-manager restart, compaction, a paused kwok). Stopped after the test. `options` are
 * the harness's, or just extra apiserver flags.
 */
export async function privateControlPlane(
  t: TestContext,
  options: string[] | ControlPlaneOptions = [],
): Promise<ControlPlane> {
  const plane = await startControlPlane(Array.isArray(options) ? { apiserverArgs: options } : options);
  t.after(() => plane.stop());
  return plane;
}

/** Minimal raw API access for tests of the protocol itself (independent of our engine). */
export class RawApi {
  readonly #dispatcher: Dispatcher;
  readonly #server: string;
  readonly #token: string;

  constructor(server: string, token: string, caPem: string) {
    this.#server = server;
    this.#token = token;
    this.#dispatcher = new Agent({ connect: { ca: caPem } });
  }

  /** Sends one request; returns the status and the parsed JSON body (or text). */
  async call(
    method: Dispatcher.HttpMethod,
    path: string,
    body?: unknown,
    contentType = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
  ): Promise<{ status: number; body: unknown }> {
    const res = await request(`${this.#server}${path}`, {
      method,
      dispatcher: this.#dispatcher,
      headers: {
        authorization: `Bearer ${this.#token}`,
        ...(body === undefined ? {} : { 'content-type': contentType }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.statusCode, body: parsed };
  }

  /** Like {@link call} but throws unless the status is 2xx. */
  async ok<T = unknown>(method: Dispatcher.HttpMethod, path: string, body?: unknown): Promise<T> {
    const res = await this.call(method, path, body);
    if (res.status < 200 || res.status > 299) {
      throw new Error(`${method} ${path} -> ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
    }
    return res.body as T;
  }

  /** Opens a raw stream (for watches). The caller consumes and destroys `body`. */
  stream(path: string, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    return request(`${this.#server}${path}`, {
      dispatcher: this.#dispatcher,
      headers: { authorization: `Bearer ${this.#token}` },
      signal,
    });
  }

  close(): Promise<void> {
    return this.#dispatcher.close();
  }
}

/** A RawApi as admin on the shared bare cluster (or `cluster`), closed after the test. */
export async function rawApi(t: TestContext, cluster?: TestCluster): Promise<RawApi> {
  cluster ??= await testCluster();
  const api = new RawApi(cluster.apiserverUrl, cluster.token, cluster.caPem);
  t.after(() => api.close());
  return api;
}

/**
 * Creates a namespace with a unique name for this test on the shared bare cluster (or `cluster`)
 * and deletes it afterwards (isolation between tests sharing the control plane).
 */
export async function testNamespace(t: TestContext, prefix = 't', cluster?: TestCluster): Promise<string> {
  cluster ??= await testCluster();
  const api = new RawApi(cluster.apiserverUrl, cluster.token, cluster.caPem);
  const name = `${prefix}-${randomBytes(4).toString('hex')}`.toLowerCase();
  await api.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  t.after(async () => {
    // On the bare cluster no namespace controller runs, so the namespace stays Terminating (its
    // data goes with the control plane); on the full cluster it really finalizes. Either way
    // nothing waits for that here.
    await api.call('DELETE', `/api/v1/namespaces/${name}`);
    await api.close();
  });
  return name;
}

/** Registers cleanups that run last-in-first-out after the test (stop informers before closing clients). */
export type Defer = (cleanup: () => unknown) => void;

/** A LIFO cleanup stack for `t` (node:test runs `after` hooks in registration order). */
export function deferrer(t: TestContext): Defer {
  const stack: Array<() => unknown> = [];
  t.after(async () => {
    while (stack.length > 0) await stack.pop()?.();
  });
  return (cleanup) => {
    stack.push(cleanup);
  };
}

/**
 * Writes a kubeconfig for `server` (e.g. a TCP proxy in front of the apiserver, or a closed port),
 * removed after the test; `impersonate` makes every request act as that user (the token must be
 * allowed to); `tls.insecureSkipTlsVerify` writes `insecure-skip-tls-verify: true` instead of the CA.
 * For a wrong CA pass any other CA's PEM, e.g. one of `tls.rootCertificates`.
 */
export function kubeconfigFor(
  defer: Defer,
  server: string,
  caPem: string,
  token: string,
  impersonate?: string,
  tls: { insecureSkipTlsVerify?: boolean } = {},
): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'config');
  // kubectl refuses a CA together with insecure-skip-tls-verify, so the insecure form has none.
  const trust = tls.insecureSkipTlsVerify
    ? 'insecure-skip-tls-verify: true'
    : `certificate-authority-data: ${Buffer.from(caPem).toString('base64')}`;
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: c`,
      `  cluster: {server: '${server}', ${trust}}`,
      'users:',
      '- name: u',
      impersonate ? `  user: {token: '${token}', as: '${impersonate}'}` : `  user: {token: '${token}'}`,
      'contexts:',
      '- name: x',
      '  context: {cluster: c, user: u}',
      'current-context: x',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return path;
}
