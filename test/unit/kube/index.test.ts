import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SharedInformer } from '../../../src/kube/cache/informer.ts';
import { Store } from '../../../src/kube/cache/store.ts';
import * as engine from '../../../src/kube/index.ts';
import { EngineMetrics } from '../../../src/kube/metrics/metrics.ts';
import { Reflector } from '../../../src/kube/watch/reflector.ts';

test('the barrel re-exports the engine (same identities as the modules)', () => {
  assert.equal(engine.SharedInformer, SharedInformer);
  assert.equal(engine.EngineMetrics, EngineMetrics);
  assert.equal(engine.Reflector, Reflector);
  assert.equal(engine.Store, Store);
  for (const name of [
    'KubeClient',
    'connect',
    'KubeApiError',
    'Backoff',
    'objectKey',
    'Processor',
    'InformerStoppedError',
  ]) {
    assert.ok(name in engine, `${name} exported`);
  }
  assert.equal('transition' in engine, false, "the reflector's pure state machine stays internal");
});
