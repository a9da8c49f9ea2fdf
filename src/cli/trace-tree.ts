/** Renders a trace (decoded TracesData) as a span tree: service, name, duration, offset from trace start. */
export interface FlatSpan {
  spanId: string;
  parentSpanId: string;
  service: string;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  statusCode: number;
  statusMessage: string;
}

interface DecodedAnyValue { stringValue?: string }
interface DecodedKeyValue { key: string; value?: DecodedAnyValue }
interface DecodedSpan {
  spanId?: Uint8Array; parentSpanId?: Uint8Array; name?: string; kind?: number;
  startTimeUnixNano?: string | number; endTimeUnixNano?: string | number;
  status?: { code?: number; message?: string };
}
export interface DecodedTracesData {
  resourceSpans?: { resource?: { attributes?: DecodedKeyValue[] }; scopeSpans?: { spans?: DecodedSpan[] }[] }[];
}

const hex = (b: Uint8Array | undefined): string => (b ? Buffer.from(b).toString('hex') : '');

/** Flattens a TracesData decoded by protobufjs (toObject with longs as strings). */
export function flattenTrace(trace: DecodedTracesData): FlatSpan[] {
  const out: FlatSpan[] = [];
  for (const rs of trace.resourceSpans ?? []) {
    const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue ?? 'unknown_service';
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          service,
          name: s.name ?? '',
          kind: s.kind ?? 0,
          startNs: BigInt(s.startTimeUnixNano ?? 0),
          endNs: BigInt(s.endTimeUnixNano ?? 0),
          statusCode: s.status?.code ?? 0,
          statusMessage: s.status?.message ?? '',
        });
      }
    }
  }
  return out;
}

export function formatDurationNs(ns: bigint): string {
  const n = Number(ns);
  if (n < 1_000) return `${n}ns`;
  if (n < 1_000_000) return `${(n / 1_000).toFixed(1)}µs`;
  if (n < 1_000_000_000) return `${(n / 1_000_000).toFixed(2)}ms`;
  return `${(n / 1_000_000_000).toFixed(3)}s`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

const KIND = ['', 'internal', 'server', 'client', 'producer', 'consumer'];

export function renderTree(traceIdHex: string, spans: FlatSpan[]): string {
  if (spans.length === 0) return `Trace ${traceIdHex}: no spans`;
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const children = new Map<string, FlatSpan[]>();
  const roots: FlatSpan[] = [];
  for (const s of spans) {
    if (s.parentSpanId && byId.has(s.parentSpanId) && s.parentSpanId !== s.spanId) {
      const list = children.get(s.parentSpanId) ?? [];
      list.push(s);
      children.set(s.parentSpanId, list);
    } else roots.push(s);
  }
  const byStart = (a: FlatSpan, b: FlatSpan): number => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : a.spanId.localeCompare(b.spanId));
  roots.sort(byStart);
  const traceStart = spans.reduce((m, s) => (s.startNs < m ? s.startNs : m), spans[0]!.startNs);
  const traceEnd = spans.reduce((m, s) => (s.endNs > m ? s.endNs : m), spans[0]!.endNs);
  const services = new Set(spans.map((s) => s.service));
  const lines = [
    `Trace ${traceIdHex}  ${plural(spans.length, 'span')}, ${plural(services.size, 'service')}, ${formatDurationNs(traceEnd - traceStart)}`,
  ];
  const visited = new Set<string>();
  const walk = (span: FlatSpan, prefix: string, connector: string): void => {
    if (visited.has(span.spanId)) return; // a cycle in parent ids must not loop forever
    visited.add(span.spanId);
    const status = span.statusCode === 2 ? `  ✗ error${span.statusMessage ? `: ${span.statusMessage}` : ''}` : '';
    lines.push(
      `${prefix}${connector}${span.service}  ${span.name}  ${formatDurationNs(span.endNs - span.startNs)}  +${formatDurationNs(span.startNs - traceStart)}` +
        `${KIND[span.kind] ? `  [${KIND[span.kind]}]` : ''}${status}`,
    );
    const kids = (children.get(span.spanId) ?? []).sort(byStart);
    const childPrefix = prefix + (connector === '├─ ' ? '│  ' : connector === '└─ ' ? '   ' : '');
    kids.forEach((kid, i) => walk(kid, childPrefix, i === kids.length - 1 ? '└─ ' : '├─ '));
  };
  for (const root of roots) walk(root, '', '');
  return lines.join('\n');
}
