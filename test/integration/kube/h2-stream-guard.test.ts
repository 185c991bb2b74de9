/**
 * The HTTP/2 error sink (src/kube/config/h2-stream-guard.ts): every stream on our dispatcher's sockets
 * carries it from creation, streams of another HTTP/2 client in the process do not, and an
 * error on a stream whose other listeners are gone no longer ends the process.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type ClientHttp2Stream, connect } from 'node:http2';
import { describe, it } from 'node:test';
import { KubeClient } from '../../../src/kube/client/client.ts';
import { hasOrphanErrorSink } from '../../../src/kube/config/h2-stream-guard.ts';
import { testCluster } from '../../support/cluster.ts';

const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' };

describe('HTTP/2 stream error sink', () => {
  it('streams of our HTTP/2 dispatcher get the sink at creation; a foreign client’s do not', async (t) => {
    const cluster = await testCluster();
    const created: ClientHttp2Stream[] = [];
    const onCreated = (message: unknown): void => {
      // Subscribed after the guard, so the guard's listener is already attached when this runs.
      created.push((message as { stream: ClientHttp2Stream }).stream);
    };
    const client = await KubeClient.create(cluster.kubeconfigPath, { http2: true });
    t.after(() => client.close());
    // The guard subscribes when the dispatcher is built; this runs after it.
    subscribe('http2.client.stream.created', onCreated);
    t.after(() => unsubscribe('http2.client.stream.created', onCreated));

    await client.get(NAMESPACES, undefined, 'default');
    const ours = created.splice(0);
    assert.ok(ours.length >= 1, 'the GET went over HTTP/2');
    assert.ok(ours.every(hasOrphanErrorSink), 'every stream of our dispatcher carries the sink');

    // Another HTTP/2 client in the same process (not ours): its streams keep Node's default.
    const session = connect(cluster.apiserverUrl, { ca: cluster.caPem });
    t.after(() => session.destroy());
    const foreign = session.request({ ':path': '/readyz', authorization: `Bearer ${cluster.token}` });
    foreign.resume();
    await new Promise<void>((resolve, reject) => {
      foreign.on('end', resolve);
      foreign.on('error', reject);
    });
    const theirs = created.splice(0);
    assert.equal(theirs.length, 1);
    assert.equal(hasOrphanErrorSink(theirs[0] as ClientHttp2Stream), false);

    // A stream that undici stopped listening to: a late error is absorbed instead of thrown.
    const list = client.list({ gvr: NAMESPACES });
    await list;
    const [stream] = created;
    assert.ok(stream);
    for (const listener of stream.listeners('error')) {
      if (listener.name !== 'orphanStreamErrorSink') stream.off('error', listener as () => void);
    }
    assert.equal(stream.listenerCount('error'), 1, 'only the sink is left');
    assert.doesNotThrow(() => stream.emit('error', new Error('late session error')));
  });
});
