/**
 * Typed errors of the informer Manager. Each carries what is known of the failing registration:
 * its key, GVR, namespace, object name and, when the API server answered, the HTTP status.
 *
 * @module
 */
import type { GroupVersionResource } from '../kube/index.ts';
import { formatGvr } from '../kube/index.ts';

/** What an error knows about the registration it concerns. */
export interface InformerErrorContext {
  readonly key?: string | undefined;
  readonly gvr?: GroupVersionResource | undefined;
  readonly namespace?: string | undefined;
  readonly name?: string | undefined;
  readonly status?: number | undefined;
  readonly cause?: unknown;
}

/** Base class: every error the Manager throws on purpose is one of these. */
export class InformerManagerError extends Error {
  readonly key: string | undefined;
  readonly gvr: GroupVersionResource | undefined;
  readonly namespace: string | undefined;
  readonly objectName: string | undefined;
  /** HTTP status of the API answer behind this error, when there was one. */
  readonly status: number | undefined;

  constructor(message: string, context: InformerErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = 'InformerManagerError';
    this.key = context.key;
    this.gvr = context.gvr;
    this.namespace = context.namespace;
    this.objectName = context.name;
    this.status = context.status;
  }
}

/** The RequestWatch (or a key, or an option) is malformed. */
export class InvalidRequestWatchError extends InformerManagerError {
  readonly field: string;
  constructor(field: string, problem: string, context: InformerErrorContext = {}) {
    super(`invalid ${field}: ${problem}`, context);
    this.name = 'InvalidRequestWatchError';
    this.field = field;
  }
}

/** The object to watch does not exist (the GET answered 404). */
export class TargetNotFoundError extends InformerManagerError {
  constructor(context: InformerErrorContext & { gvr: GroupVersionResource; name: string }) {
    super(`target not found: ${describeTarget(context)}`, { status: 404, ...context });
    this.name = 'TargetNotFoundError';
  }
}

/** A Manager option is malformed. */
export class InvalidOptionError extends InformerManagerError {
  readonly option: string;
  constructor(option: string, problem: string) {
    super(`invalid option ${option}: ${problem}`);
    this.name = 'InvalidOptionError';
    this.option = option;
  }
}

/** The target could not be checked (any failure of the GET other than 404). */
export class TargetCheckError extends InformerManagerError {
  constructor(context: InformerErrorContext & { gvr: GroupVersionResource; name: string }) {
    const status = context.status === undefined ? '' : ` (HTTP ${context.status})`;
    super(`cannot check target ${describeTarget(context)}${status}`, context);
    this.name = 'TargetCheckError';
  }
}

/** No registration (active or in progress) has this key. */
export class InformerNotFoundError extends InformerManagerError {
  constructor(key: string) {
    super(`informer not found, already stopped for key: ${key}`, { key });
    this.name = 'InformerNotFoundError';
  }
}

/** A key in the upstream form (without API group) matches several registrations. */
export class AmbiguousKeyError extends InformerManagerError {
  readonly candidates: readonly string[];
  constructor(key: string, candidates: readonly string[]) {
    super(`key ${key} matches ${candidates.length} registrations: ${candidates.join(', ')}`, { key });
    this.name = 'AmbiguousKeyError';
    this.candidates = candidates;
  }
}

/**
 * Two requesters with the same name in different namespaces ask for the same object: the
 * four-part key cannot tell them apart, so the second is refused instead of silently sharing
 * the first one's registration.
 */
export class KeyConflictError extends InformerManagerError {
  readonly holder: string;
  constructor(context: InformerErrorContext & { key: string }, holder: string) {
    super(`key ${context.key} is already registered by ${holder}`, context);
    this.name = 'KeyConflictError';
    this.holder = holder;
  }
}

/** The initial state did not arrive within the timeout. `status` is the informer's last HTTP error, if any. */
export class InformerSyncTimeoutError extends InformerManagerError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number, context: InformerErrorContext) {
    const last = context.cause instanceof Error ? `; last error: ${context.cause.message}` : '';
    super(`informer ${context.key ?? ''} did not sync within ${timeoutMs} ms${last}`, context);
    this.name = 'InformerSyncTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's AbortSignal fired before `add` finished. */
export class InformerAbortedError extends InformerManagerError {
  constructor(context: InformerErrorContext) {
    super(`add of ${context.key ?? ''} aborted by the caller`, context);
    this.name = 'InformerAbortedError';
  }
}

/** `stopInformer`, `stopForCRD` or `stop` removed the registration while its `add` was in progress. */
export class AddCancelledError extends InformerManagerError {
  constructor(context: InformerErrorContext, by: string) {
    super(`add of ${context.key ?? ''} cancelled by ${by}`, context);
    this.name = 'AddCancelledError';
  }
}

/** The Manager was stopped; it takes no more work. */
export class ManagerStoppedError extends InformerManagerError {
  constructor(what: string) {
    super(`informer manager is stopped: ${what}`);
    this.name = 'ManagerStoppedError';
  }
}

/** `initializeResolverInformer` was called without a resolver config. */
export class ResolverNotConfiguredError extends InformerManagerError {
  constructor() {
    super('no resolver config: pass options.resolver to the Manager');
    this.name = 'ResolverNotConfiguredError';
  }
}

function describeTarget(context: InformerErrorContext & { gvr: GroupVersionResource; name: string }): string {
  const where = context.namespace ? `${context.namespace}/${context.name}` : context.name;
  return `${formatGvr(context.gvr)} ${where}`;
}
