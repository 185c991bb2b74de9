/**
 * Access to the integration suite's shared control plane, for test files.
 *
 * Under `npm run test:integration` the global setup started one control plane and exported
 * its coordinates; a test file run on its own (`node --test test/integration/x.test.ts`)
 * starts a private one on first use, stopped when the process exits.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Agent, type Dispatcher, request } from 'undici';
import { type ControlPlane, startControlPlane } from '../../tools/controlplane/harness.ts';

/** Coordinates of the cluster under test. */
export interface TestCluster {
  readonly kubeconfigPath: string;
  readonly restrictedKubeconfigPath: string;
  readonly apiserverUrl: string;
  readonly etcdUrl: string;
  readonly token: string;
  readonly caPem: string;
}

let privatePlane: Promise<ControlPlane> | undefined;
let cached: Promise<TestCluster> | undefined;

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

/** The shared cluster (or this process's private one). */
export function testCluster(): Promise<TestCluster> {
  cached ??= (async () => {
    let kubeconfigPath = process.env.ELASTI_TEST_KUBECONFIG;
    let restrictedKubeconfigPath = process.env.ELASTI_TEST_RESTRICTED_KUBECONFIG;
    let etcdUrl = process.env.ELASTI_TEST_ETCD_URL;
    if (!kubeconfigPath) {
      privatePlane ??= startControlPlane();
      // Not stopped explicitly: its supervisors clean up when this test process exits.
      const plane = await privatePlane;
      kubeconfigPath = plane.kubeconfigPath;
      restrictedKubeconfigPath = plane.restrictedKubeconfigPath;
      etcdUrl = plane.etcdUrl;
    }
    const { token, caPem, server } = fromKubeconfig(kubeconfigPath);
    return {
      kubeconfigPath,
      restrictedKubeconfigPath: restrictedKubeconfigPath ?? kubeconfigPath,
      apiserverUrl: server,
      etcdUrl: etcdUrl ?? '',
      token,
      caPem,
    };
  })();
  return cached;
}

/**
 * A control plane of the test's own, for tests that restart or break it (apiserver restart,
 * compaction). Stopped after the test.
 */
export async function privateControlPlane(
  t: TestContext,
  apiserverArgs: string[] = [],
): Promise<ControlPlane> {
  const plane = await startControlPlane({ apiserverArgs });
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

/** A RawApi on the shared cluster as admin, closed after the test. */
export async function rawApi(t: TestContext): Promise<RawApi> {
  const cluster = await testCluster();
  const api = new RawApi(cluster.apiserverUrl, cluster.token, cluster.caPem);
  t.after(() => api.close());
  return api;
}

/**
 * Creates a namespace with a unique name for this test and deletes it afterwards
 * (isolation between tests sharing the control plane).
 */
export async function testNamespace(t: TestContext, prefix = 't'): Promise<string> {
  const cluster = await testCluster();
  const api = new RawApi(cluster.apiserverUrl, cluster.token, cluster.caPem);
  const name = `${prefix}-${randomBytes(4).toString('hex')}`.toLowerCase();
  await api.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  t.after(async () => {
    // No controller-manager runs here, so a deleted namespace would stay Terminating: delete its
    // contents' namespace record anyway; the data is dropped with the control plane.
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
