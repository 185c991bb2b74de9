/**
 * Installing the ElastiService CRD into a cluster and waiting until the apiserver serves it
 * (for the operator's startup, the demo, and tests).
 *
 * @module
 */
import { isAlreadyExists, isConflict, isNotFound } from '../../kube/index.ts';
import { ELASTI_CRD_NAME } from './constants.ts';
import { type CustomResourceDefinition, crdObject } from './schema.ts';

/** The part of `KubeClient` this module uses (so tests can pass anything that speaks HTTP to an apiserver). */
export interface CrdClient {
  request<T>(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body?: unknown,
    opts?: { contentType?: string; signal?: AbortSignal },
  ): Promise<T>;
}

/** Options of {@link installElastiServiceCrd}. */
export interface InstallCrdOptions {
  /** How long to wait for `Established` (default 60 s). */
  timeoutMs?: number;
  /** Poll interval while waiting (default 100 ms). */
  pollIntervalMs?: number;
  signal?: AbortSignal;
}

/** The CRD was written but did not become `Established` (with names accepted) in time. */
export class CrdNotEstablishedError extends Error {
  override readonly name = 'CrdNotEstablishedError';
  readonly conditions: readonly CrdCondition[];
  constructor(timeoutMs: number, conditions: readonly CrdCondition[]) {
    const summary = conditions
      .map((c) => `${c.type}=${c.status}${c.message ? ` (${c.message})` : ''}`)
      .join(', ');
    super(`CRD ${ELASTI_CRD_NAME} not established within ${timeoutMs} ms: ${summary || 'no conditions'}`);
    this.conditions = conditions;
  }
}

/** A condition of a CRD's status. */
export interface CrdCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** A CRD as the apiserver returns it. */
export interface ServedCrd extends CustomResourceDefinition {
  metadata: CustomResourceDefinition['metadata'] & { resourceVersion?: string; uid?: string };
  status?: { conditions?: CrdCondition[]; acceptedNames?: Record<string, unknown> };
}

const CRDS_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const WRITE_ATTEMPTS = 5;

/**
 * Creates the ElastiService CRD, or replaces an existing one's spec with ours (keeping its other
 * metadata), then waits until it is `Established` with `NamesAccepted`. Returns the served CRD.
 *
 * @throws {CrdNotEstablishedError} on timeout; the client's errors for failed requests.
 */
export async function installElastiServiceCrd(
  client: CrdClient,
  options: InstallCrdOptions = {},
): Promise<ServedCrd> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const pollIntervalMs = options.pollIntervalMs ?? 100;
  const signal = options.signal;
  const itemPath = `${CRDS_PATH}/${ELASTI_CRD_NAME}`;

  for (let attempt = 1; ; attempt++) {
    try {
      await writeCrd(client, itemPath, signal);
      break;
    } catch (error) {
      // Someone else created or changed it between our read and write: read again and retry.
      if (attempt >= WRITE_ATTEMPTS || !(isAlreadyExists(error) || isConflict(error))) throw error;
    }
  }

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    const served = await client.request<ServedCrd>('GET', itemPath, undefined, { signal });
    const conditions = served.status?.conditions ?? [];
    const isTrue = (type: string): boolean => conditions.some((c) => c.type === type && c.status === 'True');
    if (isTrue('Established') && isTrue('NamesAccepted')) return served;
    if (Date.now() >= deadline) throw new CrdNotEstablishedError(timeoutMs, conditions);
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
}

async function writeCrd(client: CrdClient, itemPath: string, signal: AbortSignal | undefined): Promise<void> {
  const desired = crdObject();
  let existing: ServedCrd | undefined;
  try {
    existing = await client.request<ServedCrd>('GET', itemPath, undefined, { signal });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  if (!existing) {
    await client.request('POST', CRDS_PATH, desired, { signal });
    return;
  }
  const replacement = { ...desired, metadata: { ...existing.metadata, ...desired.metadata } };
  await client.request('PUT', itemPath, replacement, { signal });
}
