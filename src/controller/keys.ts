/**
 * How the controller names an ElastiService. The work queue and every watch handler carry the
 * runtime's request (`{ namespace, name }`); the `namespace/name` key survives where a string is
 * needed: map keys of what is held per ElastiService, log fields, and the `crd_name` label of
 * upstream's metrics.
 *
 * @module
 */
import type { ReconcileRequest } from '../runtime/index.ts';
import { TerminalError } from '../runtime/index.ts';

/** The key of an ElastiService: `namespace/name`. */
export function elastiServiceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/**
 * A request that cannot name an ElastiService (no namespace: the kind is namespaced; an empty
 * name; a `/` in either). Terminal: retrying the same request cannot fix it.
 */
export class InvalidRequestError extends TerminalError {
  constructor(request: ReconcileRequest) {
    super(
      `not an ElastiService request: namespace ${JSON.stringify(request.namespace ?? null)}, name ${JSON.stringify(request.name)}`,
    );
    this.name = 'InvalidRequestError';
  }
}

/** The namespace and name a request names. @throws {InvalidRequestError} */
export function elastiServiceRequest(request: ReconcileRequest): { namespace: string; name: string } {
  const { namespace, name } = request;
  if (!namespace || !name || namespace.includes('/') || name.includes('/')) {
    throw new InvalidRequestError(request);
  }
  return { namespace, name };
}
