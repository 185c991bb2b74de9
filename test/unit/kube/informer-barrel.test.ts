import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as engine from '../../../src/kube/index.ts';
import { SharedInformer } from '../../../src/kube/informer.ts';
import { EngineMetrics } from '../../../src/kube/metrics.ts';
import { Reflector } from '../../../src/kube/reflector.ts';
import { Store } from '../../../src/kube/store.ts';

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
