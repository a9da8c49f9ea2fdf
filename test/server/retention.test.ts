/** Periodic retention: data past its tenant's retention leaves queries; a per-tenant override keeps it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode, tempDir, waitFor, type NodeProcess } from './harness.js';
import { newTraceId, postOtlp, traceRequest } from './otlp-client.js';

let node: NodeProcess;
const dir = tempDir();
beforeAll(async () => {
  node = await startNode(dir.path, ['--retention', '1s', '--retention-interval', '250ms', '--retention-per-tenant', 'keeper=1h']);
});
afterAll(async () => {
  await node?.stop();
  dir.remove();
});

describe('retention', () => {
  it('drops expired data on its own schedule and honours per-tenant overrides', async () => {
    const expiring = newTraceId();
    const kept = newTraceId();
    expect((await postOtlp(node.http('/v1/traces'), traceRequest([{ traceId: expiring }]).body)).status).toBe(200);
    expect((await postOtlp(node.http('/v1/traces'), traceRequest([{ traceId: kept }]).body, { 'x-scope-orgid': 'keeper' })).status).toBe(200);
    const status = async (traceId: Buffer, tenant?: string): Promise<number> =>
      (await fetch(node.jaeger(`/api/v3/traces/${traceId.toString('hex')}`), { headers: tenant ? { 'x-scope-orgid': tenant } : {} })).status;
    expect(await status(kept, 'keeper')).toBe(200);
    await waitFor('the default tenant’s trace to expire', async () => ((await status(expiring)) === 404 ? true : undefined), 30_000);
    expect(await status(kept, 'keeper')).toBe(200);
  });
});
