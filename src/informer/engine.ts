/**
 * The default {@link InformerFactory}: the engine's `SharedInformer` over a `ListerWatcher`
 * (normally the `KubeClient`). Its default transform drops `metadata.managedFields`, which
 * matters when thousands of objects are cached.
 *
 * @module
 */
import type { KubeObject, ListerWatcher, Logger } from '../kube/index.ts';
import { type EngineMetrics, SharedInformer, type SharedInformerOptions } from '../kube/index.ts';
import type { InformerFactory } from './types.ts';

/** Options of {@link engineInformerFactory}. */
export interface EngineFactoryOptions {
  readonly lw: ListerWatcher;
  readonly logger?: Logger | undefined;
  /** Engine metrics (per informer name) — optional, and costly with thousands of per-name informers. */
  readonly metrics?: EngineMetrics | undefined;
  /** Reflector tuning passed to every informer (page size, idle timeout, backoff, ...). */
  readonly reflector?: SharedInformerOptions<KubeObject>['reflector'];
}

/** A factory building one engine `SharedInformer` per target. */
export function engineInformerFactory(options: EngineFactoryOptions): InformerFactory {
  return (target, name) =>
    new SharedInformer<KubeObject>({
      lw: options.lw,
      target,
      name,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.reflector ? { reflector: options.reflector } : {}),
    });
}
