/** Hand-built TraceViews for evaluator tests (no store needed). */
import type { IndexedAttribute } from '../../src/otlp/model.js';
import type { SpanView, TraceView } from '../../src/store/types.js';

export interface SpanSpec {
  id: number;
  parent?: number;
  name?: string;
  kind?: number;
  startMs?: number;
  durationMs?: number;
  status?: number;
  statusMessage?: string;
  service?: string;
  attrs?: IndexedAttribute[];
  resourceAttrs?: IndexedAttribute[];
}

const BASE_NS = 1_700_000_000_000_000_000n;

export function spanId(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint32(4, n);
  return b;
}

export function traceId(n: number): Uint8Array {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setUint32(12, n);
  b[0] = 0xab;
  return b;
}

export function spanView(s: SpanSpec): SpanView {
  const start = BASE_NS + BigInt(s.startMs ?? 0) * 1_000_000n;
  const service = s.service ?? 'frontend';
  return {
    spanId: spanId(s.id),
    parentSpanId: s.parent === undefined ? new Uint8Array(0) : spanId(s.parent),
    name: s.name ?? 'op',
    kind: s.kind ?? 0,
    startTimeUnixNano: start,
    endTimeUnixNano: start + BigInt(s.durationMs ?? 1) * 1_000_000n,
    statusCode: s.status ?? 0,
    statusMessage: s.statusMessage ?? '',
    serviceName: service,
    attributes: s.attrs ?? [],
    resourceAttributes: s.resourceAttrs ?? [{ key: 'service.name', value: service }],
  };
}

export function traceView(id: number, specs: SpanSpec[]): TraceView {
  const spans = specs.map(spanView);
  const root = spans.find((s) => s.parentSpanId.length === 0);
  const stats: Record<string, { spanCount: number; errorCount: number }> = {};
  for (const s of spans) {
    const st = (stats[s.serviceName] ??= { spanCount: 0, errorCount: 0 });
    st.spanCount++;
    if (s.statusCode === 2) st.errorCount++;
  }
  return {
    summary: {
      traceId: traceId(id),
      rootServiceName: root?.serviceName ?? '',
      rootSpanName: root?.name ?? '',
      startTimeUnixNano: spans.reduce((m, s) => (s.startTimeUnixNano < m ? s.startTimeUnixNano : m), spans[0]!.startTimeUnixNano),
      endTimeUnixNano: spans.reduce((m, s) => (s.endTimeUnixNano > m ? s.endTimeUnixNano : m), spans[0]!.endTimeUnixNano),
      spanCount: spans.length,
      errorCount: spans.filter((s) => s.statusCode === 2).length,
      serviceStats: stats,
    },
    spans,
  };
}
