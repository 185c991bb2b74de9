/**
 * A `prometheus` trigger as the scaler uses it: the metadata of a validated ElastiService read
 * into typed settings, with the operator's defaults applied as upstream applies them — the
 * server address falls back to `PROMETHEUS_TRIGGER_SERVER_ADDRESS`, the `Authorization` header
 * comes from `PROMETHEUS_TRIGGER_AUTHORIZATION_HEADER` and the trigger's own `headers` are set on
 * top, the uptime filter defaults to `container="prometheus"`.
 *
 * @module
 */
import type { ScaleTrigger } from '../api/v1alpha1/index.ts';

/** Upstream's uptime filter when a trigger names none. */
export const DEFAULT_UPTIME_FILTER = 'container="prometheus"';

/** What the operator adds to every trigger. */
export interface TriggerDefaults {
  /** Used when a trigger has no `serverAddress`. */
  readonly serverAddress?: string | undefined;
  /** Value of the `Authorization` header of every query, e.g. `Bearer …`. */
  readonly authorizationHeader?: string | undefined;
}

/** One resolved prometheus trigger. */
export interface PrometheusTrigger {
  readonly serverAddress: string;
  readonly query: string;
  readonly threshold: number;
  readonly uptimeFilter: string;
  /** Headers of both queries; names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
}

/** A trigger the scaler cannot use (unknown type, no server address anywhere, bad metadata). */
export class TriggerConfigError extends Error {
  override readonly name = 'TriggerConfigError';
  /** Index of the trigger in `spec.triggers`. */
  readonly index: number;
  constructor(index: number, message: string) {
    super(`spec.triggers[${index}]: ${message}`);
    this.index = index;
  }
}

/**
 * Resolves trigger `index` of a validated spec.
 * @throws {TriggerConfigError} when it cannot be used.
 */
export function resolveTrigger(
  trigger: ScaleTrigger,
  index: number,
  defaults: TriggerDefaults,
): PrometheusTrigger {
  if (trigger.type !== 'prometheus') {
    throw new TriggerConfigError(index, `type ${String(trigger.type)} is not supported (only prometheus)`);
  }
  const metadata = trigger.metadata ?? {};
  const own = typeof metadata.serverAddress === 'string' ? metadata.serverAddress.trim() : '';
  const serverAddress = own || defaults.serverAddress?.trim() || '';
  if (!serverAddress) {
    throw new TriggerConfigError(
      index,
      "prometheus serverAddress not configured: set metadata.serverAddress or the operator's PROMETHEUS_TRIGGER_SERVER_ADDRESS",
    );
  }
  const query = typeof metadata.query === 'string' ? metadata.query : '';
  if (!query) throw new TriggerConfigError(index, 'metadata.query is empty');
  const threshold = Number(
    typeof metadata.threshold === 'string' ? metadata.threshold.trim() : metadata.threshold,
  );
  if (!Number.isFinite(threshold)) {
    throw new TriggerConfigError(
      index,
      `metadata.threshold ${JSON.stringify(metadata.threshold)} is not a number`,
    );
  }
  const filter = typeof metadata.uptimeFilter === 'string' ? metadata.uptimeFilter.trim() : '';
  const headers: Record<string, string> = {};
  if (defaults.authorizationHeader) headers.authorization = defaults.authorizationHeader;
  const ownHeaders = metadata.headers;
  if (ownHeaders && typeof ownHeaders === 'object' && !Array.isArray(ownHeaders)) {
    for (const [name, value] of Object.entries(ownHeaders)) {
      if (typeof value === 'string') headers[name.toLowerCase()] = value;
    }
  }
  return { serverAddress, query, threshold, uptimeFilter: filter || DEFAULT_UPTIME_FILTER, headers };
}

/**
 * Upstream's uptime check: 1 when every step of the last `cooldown` seconds saw Prometheus (per
 * `filter`) up, less otherwise — including steps at which Prometheus had no data at all (the
 * `or vector(0)`), so a Prometheus that was down or just started never lets a target go to zero.
 */
export function uptimeQuery(filter: string, cooldownSeconds: number): string {
  return `min_over_time((max(up{${filter}}) or vector(0))[${Math.ceil(cooldownSeconds)}s:])`;
}
