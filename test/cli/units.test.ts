/** Pure parts of the CLI: argument parsing, time flags, the span tree and the search table. */
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src/cli/args.js';
import { formatSearchTable, parseTime } from '../../src/cli/commands/search.js';
import { TraceGenerator } from '../../src/cli/synthetic.js';
import { renderTree, type FlatSpan } from '../../src/cli/trace-tree.js';
import { scanExportTraceRequest } from '../../src/otlp/scan.js';

describe('parseArgs', () => {
  it('reads values, booleans, --no- and positionals; refuses unknown flags', () => {
    const a = parseArgs(['abc', '--url', 'u', '--limit=5', '--json', '--no-quiet'], { values: ['url', 'limit'], booleans: ['json', 'quiet'] });
    expect(a).toEqual({ positionals: ['abc'], values: { url: 'u', limit: '5', json: 'true', quiet: 'false' }, help: false });
    expect(parseArgs(['-h'], { values: [] }).help).toBe(true);
    expect(() => parseArgs(['--nope'], { values: [] })).toThrow(UsageError);
    expect(() => parseArgs(['--url'], { values: ['url'] })).toThrow(/needs a value/);
    expect(() => parseArgs(['a', 'b'], { values: [], maxPositionals: 1 })).toThrow(/unexpected argument "b"/);
  });
});

describe('parseTime', () => {
  it('accepts unix seconds, ISO times, durations ago and now', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    expect(parseTime('1700000000', 'start', now)).toBe(1700000000);
    expect(parseTime('2026-01-01T11:00:00Z', 'start', now)).toBe(now / 1000 - 3600);
    expect(parseTime('15m', 'since', now)).toBe(now / 1000 - 900);
    expect(parseTime('now', 'end', now)).toBe(now / 1000);
    expect(() => parseTime('yesterday-ish', 'start', now)).toThrow(UsageError);
  });
});

describe('renderTree', () => {
  const span = (spanId: string, parentSpanId: string, name: string, start: bigint, end: bigint, extra: Partial<FlatSpan> = {}): FlatSpan =>
    ({ spanId, parentSpanId, service: 'svc', name, kind: 2, startNs: start, endNs: end, statusCode: 0, statusMessage: '', ...extra });
  it('nests children under parents in start order, with offsets, errors and orphan roots', () => {
    const text = renderTree('t'.repeat(32), [
      span('b', 'a', 'second', 3_000_000n, 4_000_000n),
      span('a', '', 'root', 1_000_000n, 11_000_000n),
      span('c', 'a', 'first', 2_000_000n, 2_500_000n, { statusCode: 2, statusMessage: 'boom', kind: 3 }),
      span('d', 'c', 'leaf', 2_100_000n, 2_200_000n),
      span('e', 'zz', 'orphan', 5_000_000n, 5_000_500n),
    ]);
    expect(text.split('\n')).toEqual([
      `Trace ${'t'.repeat(32)}  5 spans, 1 service, 10.00ms`,
      'svc  root  10.00ms  +0ns  [server]',
      '├─ svc  first  500.0µs  +1.00ms  [client]  ✗ error: boom',
      '│  └─ svc  leaf  100.0µs  +1.10ms  [server]',
      '└─ svc  second  1.00ms  +2.00ms  [server]',
      'svc  orphan  500ns  +4.00ms  [server]',
    ]);
  });
});

describe('formatSearchTable', () => {
  it('aligns columns and leaves out MATCHED when no span sets came back', () => {
    const table = formatSearchTable([{ traceID: 'abc', rootServiceName: 'svc', rootTraceName: 'GET /', startTimeUnixNano: '1700000000000000000', durationMs: 12 }]);
    expect(table.split('\n')).toEqual([
      'TRACE ID  START (UTC)              DURATION  ROOT SERVICE  ROOT NAME',
      'abc       2023-11-14 22:13:20.000  12ms      svc           GET /',
    ]);
    expect(formatSearchTable([])).toBe('no traces found');
  });
});

describe('TraceGenerator', () => {
  it('produces valid multi-service traces whose children lie inside their parents', () => {
    const { body, spans, traceIds } = new TraceGenerator(42).request(20);
    const decoded = scanExportTraceRequest(body);
    expect(decoded.rejected.count).toBe(0);
    expect(decoded.batch.spans).toHaveLength(spans);
    expect(new Set(decoded.batch.spans.map((s) => Buffer.from(s.traceId).toString('hex')))).toEqual(new Set(traceIds));
    expect(new Set(decoded.batch.resources.map((r) => r.serviceName)).size).toBeGreaterThanOrEqual(3);
    const byId = new Map(decoded.batch.spans.map((s) => [Buffer.from(s.spanId).toString('hex'), s]));
    for (const s of decoded.batch.spans) {
      expect(s.endTimeUnixNano >= s.startTimeUnixNano).toBe(true);
      if (s.parentSpanId.length === 0) continue;
      const parent = byId.get(Buffer.from(s.parentSpanId).toString('hex'))!;
      expect(parent).toBeDefined();
      expect(s.startTimeUnixNano >= parent.startTimeUnixNano && s.endTimeUnixNano <= parent.endTimeUnixNano).toBe(true);
    }
  });
});
