/**
 * Property test: search with index pruning returns exactly what brute force over the written data
 * returns, in the same order, for random data (traces split over blocks and head, duplicate
 * writes, keys too diverse to index) and random queries.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { IndexedAttribute } from '../../src/otlp/model.js';
import type { CandidateQuery, IndexTerm } from '../../src/store/types.js';
import { BASE_NS, batchOf, collect, hex, NAMES, openStore, randomTrace, Rng, SERVICES, tempDir, type RandomTrace } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Truth {
  traceId: Uint8Array;
  spans: Map<string, { service: string; spec: RandomTrace['spans'][number]['spec'] }>;
}

function attrEq(a: IndexedAttribute, key: string, v: string | number | boolean): boolean {
  if (a.key !== key) return false;
  if (typeof v === 'number') return (typeof a.value === 'number' || typeof a.value === 'bigint') && Number(a.value) === v;
  return a.value === v;
}

function bruteForce(truths: Truth[], q: CandidateQuery): string[] {
  const resourceAttrs = (service: string): IndexedAttribute[] => [
    { key: 'service.name', value: service }, { key: 'deployment.environment', value: 'test' },
  ];
  const matches = (t: Truth): boolean => {
    const spans = [...t.spans.values()];
    let start = spans[0]!.spec.start;
    let end = spans[0]!.spec.end;
    for (const s of spans) {
      if (s.spec.start < start) start = s.spec.start;
      if (s.spec.end > end) end = s.spec.end;
    }
    if (q.startNs !== undefined && end < q.startNs) return false;
    if (q.endNs !== undefined && start > q.endNs) return false;
    if (q.minTraceDurationNs !== undefined && end - start < q.minTraceDurationNs) return false;
    if (q.maxTraceDurationNs !== undefined && end - start > q.maxTraceDurationNs) return false;
    for (const term of q.requiredTerms ?? []) {
      const ok = spans.some(({ service, spec }) => {
        switch (term.kind) {
          case 'service': return service === term.value;
          case 'name': return spec.name === term.value;
          case 'status': return (spec.statusCode ?? 0) === term.value;
          case 'attr':
            return (term.scope !== 'resource' && (spec.attributes ?? []).some((a) => attrEq(a, term.key, term.value)))
              || (term.scope !== 'span' && resourceAttrs(service).some((a) => attrEq(a, term.key, term.value)));
        }
      });
      if (!ok) return false;
    }
    return true;
  };
  const startOf = (t: Truth): bigint => [...t.spans.values()].reduce((m, s) => (s.spec.start < m ? s.spec.start : m), [...t.spans.values()][0]!.spec.start);
  return truths.filter(matches)
    .sort((a, b) => {
      const sa = startOf(a);
      const sb = startOf(b);
      if (sa !== sb) return sa > sb ? -1 : 1;
      return hex(a.traceId) < hex(b.traceId) ? -1 : 1;
    })
    .map((t) => hex(t.traceId));
}

function randomTerm(rng: Rng): IndexTerm {
  switch (rng.int(8)) {
    case 0: return { kind: 'service', value: rng.pick(SERVICES) };
    case 1: return { kind: 'name', value: rng.pick(NAMES) };
    case 2: return { kind: 'status', value: rng.pick([0, 1, 2]) };
    case 3: return { kind: 'attr', scope: rng.pick(['span', 'any'] as const), key: 'http.status_code', value: rng.pick([200, 404, 500]) };
    case 4: return { kind: 'attr', scope: rng.pick(['span', 'any', 'resource'] as const), key: 'region', value: rng.pick(['eu', 'us']) };
    case 5: return { kind: 'attr', scope: 'span', key: 'retry', value: rng.pick([true, false]) };
    case 6: return { kind: 'attr', scope: rng.pick(['resource', 'any'] as const), key: 'service.name', value: rng.pick(SERVICES) };
    default: return { kind: 'attr', scope: 'any', key: 'ratio', value: rng.pick([0.5, 1.5, 2]) };
  }
}

describe('search pruning', () => {
  it('equals brute force over random data and queries', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    // Two indexed values per key at most: http.status_code (3 values) is often unindexed.
    const store = await openStore(t.dir, { blockLimits: { maxIndexedValuesPerKey: 2 } });
    cleanups.push(() => store.close());
    const rng = new Rng(42);
    const truths = new Map<string, Truth>();
    const remember = (rt: RandomTrace, spans: RandomTrace['spans']): void => {
      const k = hex(rt.traceId);
      let tr = truths.get(k);
      if (!tr) { tr = { traceId: rt.traceId, spans: new Map() }; truths.set(k, tr); }
      for (const s of spans) tr.spans.set(hex(s.spec.spanId), s);
    };
    const all: RandomTrace[] = [];
    for (let round = 0; round < 5; round++) {
      const fresh = Array.from({ length: 40 }, () => randomTrace(rng, 6, 50_000_000_000n));
      all.push(...fresh);
      // Write part of some older traces now (split traces), and retry some batches (duplicates).
      const parts: RandomTrace[] = fresh.map((x) => ({ traceId: x.traceId, spans: x.spans.slice(0, 1 + rng.int(x.spans.length)) }));
      for (let i = 0; i < 8 && all.length > 40; i++) {
        const old = rng.pick(all);
        parts.push({ traceId: old.traceId, spans: old.spans.slice(rng.int(old.spans.length)) });
      }
      const batch = batchOf(parts);
      await store.write('t', batch);
      if (rng.int(2) === 0) await store.write('t', batch);
      for (const p of parts) remember(p, p.spans);
      if (round < 4) await store.flush();
    }
    expect(store.blockCount()).toBe(4);
    const truthList = [...truths.values()];
    for (let qi = 0; qi < 60; qi++) {
      const q: CandidateQuery = { tenant: 't', requiredTerms: Array.from({ length: rng.int(3) }, () => randomTerm(rng)) };
      if (rng.int(3) === 0) q.startNs = BASE_NS + BigInt(rng.int(50_000)) * 1_000_000n;
      if (rng.int(3) === 0) q.endNs = BASE_NS + BigInt(rng.int(50_000)) * 1_000_000n;
      if (rng.int(4) === 0) q.minTraceDurationNs = BigInt(rng.int(50_000_000));
      if (rng.int(4) === 0) q.maxTraceDurationNs = BigInt(rng.int(50_000_000));
      const expected = bruteForce(truthList, q);
      const got = (await collect(store.searchTraces(q))).map((v) => hex(v.summary.traceId));
      expect(got, JSON.stringify(q, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).toEqual(expected);
    }
    // Sanity: the queries are not all trivially empty or full.
    expect(bruteForce(truthList, { tenant: 't', requiredTerms: [{ kind: 'service', value: 'cart' }] }).length).toBeGreaterThan(0);
    expect(bruteForce(truthList, { tenant: 't', requiredTerms: [{ kind: 'service', value: 'cart' }] }).length).toBeLessThan(truthList.length);
  });
});
