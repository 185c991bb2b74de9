/**
 * A whole LIST read page by page (`limit`/`continue`), so a crowded namespace never comes back as
 * one huge response.
 *
 * @module
 */
import type { KubeObject, ListWatchTarget } from '../kube/index.ts';
import type { ResourceClient } from '../runtime/index.ts';

/** Objects per page. */
const PAGE_SIZE = 500;

/** Every object `target` selects, following `continue` tokens to the last page. */
export async function listAll<T extends KubeObject>(
  client: ResourceClient,
  target: ListWatchTarget,
  signal?: AbortSignal,
): Promise<T[]> {
  const items: T[] = [];
  let continueToken: string | undefined;
  do {
    const page = await client.list<T>(target, {
      limit: PAGE_SIZE,
      ...(continueToken ? { continue: continueToken } : {}),
      ...(signal ? { signal } : {}),
    });
    items.push(...page.items);
    continueToken = page.continue || undefined;
  } while (continueToken);
  return items;
}
