/** Graceful SIGTERM: the node stops accepting, finishes the request in flight, flushes, exits 0. */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startNode, tempDir, waitFor, type NodeProcess } from './harness.js';
import { newTraceId, traceRequest } from './otlp-client.js';

const dir = tempDir();
let node: NodeProcess | undefined;
afterAll(async () => {
  await node?.stop();
  dir.remove();
});

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('graceful shutdown', () => {
  it('finishes an in-flight request after SIGTERM and keeps its spans', async () => {
    node = await startNode(dir.path, ['--shutdown-timeout', '20s']);
    const first = node;
    const traceId = newTraceId();
    const { body } = traceRequest([{ traceId }, { traceId }, { traceId }]);
    const inFlight = httpRequest(first.http('/v1/traces'), { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } });
    const answered = new Promise<number>((resolve, reject) => {
      inFlight.on('response', (r) => {
        r.resume();
        resolve(r.statusCode!);
      });
      inFlight.on('error', reject);
    });
    inFlight.write(body.subarray(0, 8));
    await waitFor('the request to be in flight', async () =>
      /^otlp_store_inflight_requests 1$/m.test(await (await fetch(first.query('/metrics'))).text()) ? true : undefined);

    first.child.kill('SIGTERM');
    // Shutting down: not ready, and the OTLP port takes no new connections.
    await waitFor('the node to report not ready', async () => {
      const res = await fetch(first.query('/ready')).catch(() => undefined);
      return res === undefined || res.status === 503 ? true : undefined;
    });
    await waitFor('the OTLP/HTTP port to close', async () => ((await canConnect(first.ports.http)) ? undefined : true));
    expect(first.child.exitCode).toBeNull();

    inFlight.end(body.subarray(8));
    expect(await answered).toBe(200);
    expect(await first.exited).toBe(0);

    node = await startNode(dir.path);
    const res = await fetch(node.jaeger(`/api/v3/traces/${traceId.toString('hex')}`));
    expect(res.status).toBe(200);
    const trace = (await res.json()) as { result: { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] } };
    expect(trace.result.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))).toHaveLength(3);
  });
});
