/**
 * The client a controller needs: single-object verbs and paged lists. `KubeClient` satisfies it;
 * unit tests implement it in memory. Kept narrow so reconcilers can be tested without HTTP.
 *
 * @module
 */
import type {
  DeleteOptions,
  GroupVersionResource,
  KubeObject,
  ListOptions,
  ListPage,
  ListWatchTarget,
  PatchOptions,
  PatchType,
  WriteOptions,
} from '../kube/index.ts';

/** Single-object and list verbs; `KubeClient` satisfies it. Failures are `KubeApiError`s (with `.status`). */
export interface ResourceClient {
  get<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    signal?: AbortSignal,
  ): Promise<T>;
  list<T extends KubeObject>(target: ListWatchTarget, options?: ListOptions): Promise<ListPage<T>>;
  create<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    obj: T,
    opts?: WriteOptions,
  ): Promise<T>;
  replace<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    obj: T,
    opts?: WriteOptions,
  ): Promise<T>;
  patch<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    body: unknown,
    type: PatchType,
    opts?: PatchOptions,
  ): Promise<T>;
  patchStatus<T extends KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    body: unknown,
    type: PatchType,
    opts?: PatchOptions,
  ): Promise<T>;
  delete(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    opts?: DeleteOptions,
  ): Promise<void>;
}
