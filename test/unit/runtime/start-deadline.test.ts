/**
 * The cache-sync deadline of `Controller.start()` must hold in a process with nothing else
 * pending: an unref'd timer (`AbortSignal.timeout`) would let Node exit silently with an
 * unsettled top-level await instead of failing start with `ControllerStartError`. Run in a child
 * process, since the test runner itself keeps the event loop alive.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { it } from 'node:test';
import { promisify } from 'node:util';

const runtime = new URL('../../../src/runtime/index.ts', import.meta.url).href;
const script = `
const { ControllerBuilder, InformerCache } = await import(${JSON.stringify(runtime)});
// A list that never answers (but honours its abort, as the real client does); no timers of its own.
const lw = {
  list: (_t, o) => new Promise((_r, reject) => o.signal?.addEventListener('abort', () => reject(o.signal.reason))),
  watch: () => { throw new Error('no watch'); },
};
const controller = new ControllerBuilder('t', { cache: new InformerCache({ lw }) })
  .for({ gvr: { group: '', version: 'v1', resource: 'configmaps' }, kind: 'ConfigMap' })
  .withOptions({ cacheSyncTimeoutMs: 300 })
  .build(async () => undefined);
try { await controller.start(); console.log('started'); } catch (e) { console.log(e.name); }
`;

it('start() fails with ControllerStartError at the deadline even when nothing else keeps the process alive', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    timeout: 60_000,
  });
  assert.equal(stdout.trim(), 'ControllerStartError');
});
