import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScalingSettingsError, scalingSettingsFromEnv } from '../../../src/scaling/settings.ts';

describe('scalingSettingsFromEnv', () => {
  it('defaults: 30 s, port 8013, no Prometheus default', () => {
    assert.deepEqual(scalingSettingsFromEnv({}), {
      settings: {
        pollingIntervalMs: 30_000,
        prometheusServerAddress: undefined,
        prometheusAuthorizationHeader: undefined,
        resolverApiPort: 8013,
      },
      warnings: [],
    });
  });

  it("reads upstream's chart env", () => {
    const { settings, warnings } = scalingSettingsFromEnv({
      POLLING_INTERVAL: '1m30s',
      PROMETHEUS_TRIGGER_SERVER_ADDRESS: 'http://prometheus.monitoring:9090',
      PROMETHEUS_TRIGGER_AUTHORIZATION_HEADER: 'Bearer abc',
      ELASTI_OPERATOR_PORT: '9013',
    });
    assert.deepEqual(settings, {
      pollingIntervalMs: 90_000,
      prometheusServerAddress: 'http://prometheus.monitoring:9090',
      prometheusAuthorizationHeader: 'Bearer abc',
      resolverApiPort: 9013,
    });
    assert.deepEqual(warnings, []);
  });

  it('a bad or non-positive POLLING_INTERVAL warns and uses 30 s, as upstream', () => {
    for (const value of ['soon', '0s', '-5s']) {
      const { settings, warnings } = scalingSettingsFromEnv({ POLLING_INTERVAL: value });
      assert.equal(settings.pollingIntervalMs, 30_000);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] ?? '', /POLLING_INTERVAL/);
    }
  });

  it('a bad port or server address is an error naming the variable', () => {
    assert.throws(
      () => scalingSettingsFromEnv({ ELASTI_OPERATOR_PORT: 'http' }),
      (e: unknown) => e instanceof ScalingSettingsError && e.variable === 'ELASTI_OPERATOR_PORT',
    );
    assert.throws(() => scalingSettingsFromEnv({ ELASTI_OPERATOR_PORT: '70000' }), ScalingSettingsError);
    assert.equal(
      scalingSettingsFromEnv({ ELASTI_OPERATOR_PORT: '0' }).settings.resolverApiPort,
      0,
      '0: a free port',
    );
    assert.throws(
      () => scalingSettingsFromEnv({ PROMETHEUS_TRIGGER_SERVER_ADDRESS: 'prometheus:9090' }),
      /PROMETHEUS_TRIGGER_SERVER_ADDRESS: "prometheus:9090" is not an http/,
    );
  });
});
