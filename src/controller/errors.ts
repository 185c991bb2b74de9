/**
 * Typed failures of a reconcile. Each names the Event `reason` it is reported under, so the
 * reconciler can turn any of them into a Warning Event without string matching. A reconcile that
 * throws one of these is retried with backoff.
 *
 * @module
 */

/** Base class of the controller's own failures. */
export class ReconcileError extends Error {
  /** CamelCase Event reason. */
  readonly reason: string;
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReconcileError';
    this.reason = reason;
  }
}

/** The scaleTargetRef names an object that does not exist (yet). */
export class ScaleTargetNotFoundError extends ReconcileError {
  constructor(kind: string, namespace: string, name: string, cause?: unknown) {
    super('ScaleTargetNotFound', `scale target ${kind} ${namespace}/${name} not found`, { cause });
    this.name = 'ScaleTargetNotFoundError';
  }
}

/** `spec.service` names a Service that does not exist. */
export class PublicServiceNotFoundError extends ReconcileError {
  constructor(namespace: string, name: string, cause?: unknown) {
    super('PublicServiceNotFound', `service ${namespace}/${name} not found`, { cause });
    this.name = 'PublicServiceNotFoundError';
  }
}

/** The public Service cannot be fronted (e.g. it has no ports). */
export class PublicServiceInvalidError extends ReconcileError {
  constructor(namespace: string, name: string, problem: string) {
    super('PublicServiceInvalid', `service ${namespace}/${name}: ${problem}`);
    this.name = 'PublicServiceInvalidError';
  }
}

/** Proxy mode needs at least one ready resolver endpoint, and there is none (or none known yet). */
export class NoResolverEndpointsError extends ReconcileError {
  constructor(namespace: string, service: string, synced: boolean) {
    super(
      'NoResolverEndpoints',
      synced
        ? `resolver service ${namespace}/${service} has no ready IPv4 endpoints`
        : `resolver endpoints of ${namespace}/${service} are not known yet (cache not synced)`,
    );
    this.name = 'NoResolverEndpointsError';
  }
}
