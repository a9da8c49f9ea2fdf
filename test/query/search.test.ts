import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { collectMatches } from '../../src/query/search.js';
import { tempoApi } from '../../src/query/tempo.js';
import { hexId, ingest, openStore, simpleTrace, tenantOf, type TestStore } from './fixtures.js';

let ts: TestStore;

beforeAll(async () => {
  ts = await openStore();
  for (let i = 0; i < 5; i++) {
    await ingest(ts.store, 'single-tenant', simpleTrace(hexId(16, 0x100 + i), {
      svc: [{ spanId: `00000000000001${i.toString(16).padStart(2, '0')}`, name: `op-${i}`, startMsAgo: 10_000 - i * 1000, durationMs: 5 }],
    }));
  }
});

afterAll(async () => {
  await ts?.close();
});

const all = () => [] as never[];

describe('search scan bounds', () => {
  it('stops at maxInspectedTraces', async () => {
    const out = await collectMatches(ts.store, { tenant: 'single-tenant' }, () => null, 10, { maxInspectedTraces: 2 });
    expect(out).toMatchObject({ inspectedTraces: 2, truncated: 'maxInspectedTraces', matches: [] });
  });

  it('stops at the deadline and returns what it found', async () => {
    let t = 0;
    const now = () => (t += 10); // start 10 → deadline 25; before trace 1: 20, before trace 2: 30
    const out = await collectMatches(ts.store, { tenant: 'single-tenant' }, all, 10, { maxDurationMs: 15, now });
    expect(out.truncated).toBe('deadline');
    expect(out.inspectedTraces).toBe(1);
    expect(out.matches).toHaveLength(1);
  });

  it('stops when the client is gone', async () => {
    const controller = new AbortController();
    controller.abort();
    const out = await collectMatches(ts.store, { tenant: 'single-tenant' }, all, 10, { signal: controller.signal });
    expect(out).toMatchObject({ inspectedTraces: 0, truncated: 'aborted' });
  });

  it('is not truncated when it reaches the limit or runs out of candidates', async () => {
    expect((await collectMatches(ts.store, { tenant: 'single-tenant' }, all, 3)).truncated).toBe(false);
    const every = await collectMatches(ts.store, { tenant: 'single-tenant' }, all, 100);
    expect(every).toMatchObject({ inspectedTraces: 5, truncated: false });
    expect(every.matches.map((m) => m.trace.spans[0]!.name)).toEqual(['op-4', 'op-3', 'op-2', 'op-1', 'op-0']);
  });

  it('answers a search over a real socket (client-gone detection does not fire on a live request)', async () => {
    const app = Fastify();
    await app.register(tempoApi, { store: ts.store, tenantOf });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const res = await fetch(`${address}/api/search?q=${encodeURIComponent('{ resource.service.name = "svc" }')}&limit=3`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { traces: { rootTraceName: string }[] };
      expect(body.traces.map((t) => t.rootTraceName)).toEqual(['op-4', 'op-3', 'op-2']);
    } finally {
      await app.close();
    }
  });
});
