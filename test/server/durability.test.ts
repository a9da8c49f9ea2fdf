/**
 * kill -9 durability: every span acknowledged before a SIGKILL is there after a restart on the
 * same data directory. Requests keep flowing while the node is killed, so the kill lands right
 * after acknowledgements and during unacknowledged writes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startNode, tempDir, type NodeProcess } from './harness.js';
import { newTraceId, postOtlp, RawGrpcClient, traceRequest } from './otlp-client.js';

const dir = tempDir();
let node: NodeProcess | undefined;
afterAll(async () => {
  await node?.stop();
  dir.remove();
});

interface Acked {
  traceId: string;
  spans: number;
}

async function spanCount(target: NodeProcess, traceId: string): Promise<number> {
  const res = await fetch(target.jaeger(`/api/v3/traces/${traceId}`));
  if (res.status === 404) return 0;
  expect(res.status).toBe(200);
  const body = (await res.json()) as { result: { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] } };
  return body.result.resourceSpans.reduce((n, rs) => n + rs.scopeSpans.reduce((m, ss) => m + ss.spans.length, 0), 0);
}

describe('durability', () => {
  it('keeps every acknowledged span across SIGKILL and restart', async () => {
    node = await startNode(dir.path);
    const first = node;
    const grpc = new RawGrpcClient(first.ports.grpc);
    const acked: Acked[] = [];
    let stop = false;
    const SPANS_PER_TRACE = 7;
    const TARGET_ACKS = 60;
    const MAX_REQUESTS = 400;
    let sent = 0;
    // Four writers (two HTTP, two gRPC), each sending one multi-service trace per request.
    const writer = async (useGrpc: boolean): Promise<void> => {
      while (!stop && sent < MAX_REQUESTS) {
        sent++;
        const traceId = newTraceId();
        const spans = Array.from({ length: SPANS_PER_TRACE }, (_, i) => ({ traceId, service: `svc-${i % 3}`, attributes: { i } }));
        const { body } = traceRequest(spans);
        try {
          if (useGrpc) {
            if ((await grpc.export('trace', body)).code === 0) acked.push({ traceId: traceId.toString('hex'), spans: SPANS_PER_TRACE });
          } else {
            const res = await postOtlp(first.http('/v1/traces'), body);
            if (res.status === 200) acked.push({ traceId: traceId.toString('hex'), spans: SPANS_PER_TRACE });
          }
        } catch {
          // the node died under this request: it was never acknowledged
        }
      }
    };
    const writers = [writer(false), writer(false), writer(true), writer(true)];
    const deadline = Date.now() + 30_000;
    while (acked.length < TARGET_ACKS && Date.now() < deadline && sent < MAX_REQUESTS) await new Promise((r) => setTimeout(r, 5));
    const ackedAtKill = acked.length;
    await first.kill9();
    stop = true;
    await Promise.all(writers);
    grpc.close();
    expect(ackedAtKill).toBeGreaterThanOrEqual(TARGET_ACKS);

    node = await startNode(dir.path);
    const missing: string[] = [];
    for (const a of acked) {
      const n = await spanCount(node, a.traceId);
      if (n !== a.spans) missing.push(`${a.traceId}: ${n}/${a.spans}`);
    }
    expect(missing).toEqual([]);
  });
});
