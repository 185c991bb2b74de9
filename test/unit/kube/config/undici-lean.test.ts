import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as undici from 'undici';
import { Agent, errors, ProxyAgent } from '../../../../src/kube/config/undici-lean.ts';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

describe('undici-lean', () => {
  it('hands out undici’s own Agent and ProxyAgent classes', () => {
    assert.equal(Agent, undici.Agent);
    assert.equal(ProxyAgent, undici.ProxyAgent);
    assert.equal(errors, undici.errors);
  });

  it('the whole operator loads without undici’s package entry (~2.5 MB of live heap) or Node’s own undici (~13 MiB RSS)', () => {
    const probe = `
      import { createRequire } from 'node:module';
      await import('./src/operator/operator.ts');
      const require = createRequire(import.meta.url);
      console.log(JSON.stringify({
        entryLoaded: Object.keys(require.cache).includes(require.resolve('undici')),
        // An ES import of node:http would load it (see runtime/http.ts, nodeHttp).
        nodesUndiciLoaded: process.moduleLoadList.some((m) => m.endsWith('internal/deps/undici/undici')),
      }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.deepEqual(JSON.parse(out.trim().split('\n').at(-1) ?? '{}'), {
      entryLoaded: false,
      nodesUndiciLoaded: false,
    });
  });

  it('gives dispatchers the request API without loading undici’s package entry', () => {
    // A fresh process: in this one the `undici` import above has already run the entry.
    const probe = `
      import { createRequire } from 'node:module';
      const { Agent } = await import('./src/kube/config/undici-lean.ts');
      const require = createRequire(import.meta.url);
      const entry = require.resolve('undici');
      const agent = new Agent();
      console.log(JSON.stringify({
        request: typeof agent.request,
        stream: typeof agent.stream,
        entryLoaded: Object.keys(require.cache).includes(entry),
      }));
      await agent.close();
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.deepEqual(JSON.parse(out.trim().split('\n').at(-1) ?? '{}'), {
      request: 'function',
      stream: 'function',
      entryLoaded: false,
    });
  });
});
