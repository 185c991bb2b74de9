/**
 * The key that names an ElastiService everywhere in the controller: `namespace/name`. The work
 * queue carries it, the watch handlers enqueue it, and metrics and logs label with it.
 *
 * @module
 */

/** The key of an ElastiService: `namespace/name`. */
export function elastiServiceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** A queue key that is not `namespace/name`. */
export class InvalidKeyError extends Error {
  override readonly name = 'InvalidKeyError';
}

/** Splits `namespace/name`. @throws {InvalidKeyError} */
export function parseElastiServiceKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  const namespace = key.slice(0, slash);
  const name = key.slice(slash + 1);
  if (slash <= 0 || name === '' || name.includes('/'))
    throw new InvalidKeyError(`not a namespace/name key: ${key}`);
  return { namespace, name };
}
