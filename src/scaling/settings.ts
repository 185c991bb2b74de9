/**
 * Scaling settings from upstream's environment variables (the chart sets them on the manager
 * container), in one place:
 *
 * | variable | setting | default |
 * | --- | --- | --- |
 * | `POLLING_INTERVAL` | polling interval, Go duration (`30s`, `1m`) | 30 s; unparsable or ≤ 0 → warning and 30 s, as upstream |
 * | `PROMETHEUS_TRIGGER_SERVER_ADDRESS` | Prometheus of triggers without `serverAddress` | none |
 * | `PROMETHEUS_TRIGGER_AUTHORIZATION_HEADER` | `Authorization` header of every query | none |
 * | `ELASTI_OPERATOR_PORT` | port of the resolver API (0: a free one) | 8013 |
 *
 * @module
 */
import { DurationSyntaxError, parseGoDuration } from '../api/v1alpha1/index.ts';

/** Default polling interval, as upstream. */
export const DEFAULT_POLLING_INTERVAL_MS = 30_000;
/** Default port of the resolver API, as the upstream chart's `ELASTI_OPERATOR_PORT`. */
export const DEFAULT_RESOLVER_API_PORT = 8013;

/** The settings (see the module documentation). */
export interface ScalingSettings {
  readonly pollingIntervalMs: number;
  readonly prometheusServerAddress: string | undefined;
  readonly prometheusAuthorizationHeader: string | undefined;
  readonly resolverApiPort: number;
}

/** A variable with a value that cannot be used. */
export class ScalingSettingsError extends Error {
  override readonly name = 'ScalingSettingsError';
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.variable = variable;
  }
}

/**
 * Reads the variables. Returns the settings and warnings (values replaced by defaults, as
 * upstream does for `POLLING_INTERVAL`).
 * @throws {ScalingSettingsError} for a bad `ELASTI_OPERATOR_PORT` or server address.
 */
export function scalingSettingsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): {
  settings: ScalingSettings;
  warnings: string[];
} {
  const warnings: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  let pollingIntervalMs = DEFAULT_POLLING_INTERVAL_MS;
  const interval = text('POLLING_INTERVAL');
  if (interval !== undefined) {
    try {
      const ms = parseGoDuration(interval);
      if (ms > 0) pollingIntervalMs = ms;
      else warnings.push(`POLLING_INTERVAL "${interval}" is not positive; using 30s`);
    } catch (error) {
      if (!(error instanceof DurationSyntaxError)) throw error;
      warnings.push(`POLLING_INTERVAL "${interval}" is not a duration (${error.message}); using 30s`);
    }
  }
  const address = text('PROMETHEUS_TRIGGER_SERVER_ADDRESS');
  if (address !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(address);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new ScalingSettingsError(
        'PROMETHEUS_TRIGGER_SERVER_ADDRESS',
        `"${address}" is not an http:// or https:// URL`,
      );
    }
  }
  let resolverApiPort = DEFAULT_RESOLVER_API_PORT;
  const port = text('ELASTI_OPERATOR_PORT');
  if (port !== undefined) {
    const n = Number(port);
    // 0 picks a free port (tests running several operators side by side).
    if (!/^\d+$/.test(port) || n > 65535) {
      throw new ScalingSettingsError('ELASTI_OPERATOR_PORT', `"${port}" is not a port (0..65535)`);
    }
    resolverApiPort = n;
  }
  return {
    settings: {
      pollingIntervalMs,
      prometheusServerAddress: address,
      prometheusAuthorizationHeader: text('PROMETHEUS_TRIGGER_AUTHORIZATION_HEADER'),
      resolverApiPort,
    },
    warnings,
  };
}
