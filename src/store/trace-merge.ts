/**
 * Merging the parts of one trace (memory head, several blocks) into one deduplicated whole:
 * span views and summary for search, resource/scope groups for trace-by-id.
 */
import { sizeTracesData, writeTracesData, type ResourceGroup } from '../otlp/assemble.js';
import type { ResourceRef, ScopeRef, SpanBatch, SpanRecord } from '../otlp/model.js';
import type { SpanView, TraceSummary, TraceView } from './types.js';

export const STATUS_ERROR = 2;

export function idKey(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** One span with the resource and scope it arrived under. */
export interface SpanPart {
  rec: SpanRecord;
  res: ResourceRef;
  scope: ScopeRef;
}

export function partsOfBatch(batch: SpanBatch): SpanPart[] {
  return batch.spans.map((rec) => {
    const res = batch.resources[rec.resource];
    const scope = batch.scopes[rec.scope];
    if (!res || !scope) throw new Error(`span refers to resource ${rec.resource} / scope ${rec.scope} outside the batch`);
    return { rec, res, scope };
  });
}

/** Deduplicates by span id; the first occurrence wins (every copy is the same immutable span). */
export function dedupSpans(parts: SpanPart[]): SpanPart[] {
  const seen = new Set<string>();
  const out: SpanPart[] = [];
  for (const p of parts) {
    const k = idKey(p.rec.spanId);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(p);
  }
  return out;
}

export function spanViewOf(p: SpanPart): SpanView {
  const r = p.rec;
  return {
    spanId: r.spanId, parentSpanId: r.parentSpanId, name: r.name, kind: r.kind,
    startTimeUnixNano: r.startTimeUnixNano, endTimeUnixNano: r.endTimeUnixNano,
    statusCode: r.statusCode, statusMessage: r.statusMessage, serviceName: p.res.serviceName,
    attributes: r.attributes, resourceAttributes: p.res.attributes,
  };
}

function compareSpanViews(a: SpanView, b: SpanView): number {
  if (a.startTimeUnixNano !== b.startTimeUnixNano) return a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1;
  return compareBytes(a.spanId, b.spanId);
}

export function summarize(traceId: Uint8Array, spans: SpanView[]): TraceSummary {
  if (spans.length === 0) throw new Error('summarize: a trace has at least one span');
  let start = spans[0]!.startTimeUnixNano;
  let end = spans[0]!.endTimeUnixNano;
  let root: SpanView | undefined;
  let errorCount = 0;
  const serviceStats: Record<string, { spanCount: number; errorCount: number }> = {};
  for (const s of spans) {
    if (s.startTimeUnixNano < start) start = s.startTimeUnixNano;
    if (s.endTimeUnixNano > end) end = s.endTimeUnixNano;
    const isError = s.statusCode === STATUS_ERROR;
    if (isError) errorCount++;
    const st = (serviceStats[s.serviceName] ??= { spanCount: 0, errorCount: 0 });
    st.spanCount++;
    if (isError) st.errorCount++;
    if (s.parentSpanId.length === 0 || s.parentSpanId.every((b) => b === 0)) {
      if (!root || compareSpanViews(s, root) < 0) root = s;
    }
  }
  return {
    traceId: Uint8Array.from(traceId), // a plain copy: never a view into a cached block directory
    rootServiceName: root?.serviceName ?? '', rootSpanName: root?.name ?? '',
    startTimeUnixNano: start, endTimeUnixNano: end, spanCount: spans.length, errorCount, serviceStats,
  };
}

export function traceViewOf(traceId: Uint8Array, parts: SpanPart[]): TraceView {
  const spans = dedupSpans(parts).map(spanViewOf).sort(compareSpanViews);
  return { summary: summarize(traceId, spans), spans };
}

const groupKeys = new WeakMap<ResourceRef | ScopeRef, string>();

/** Content identity of a resource or scope (equal bytes and schema URL group together); cached per object. */
function groupKey(ref: ResourceRef | ScopeRef): string {
  let k = groupKeys.get(ref);
  if (k === undefined) {
    const b = ref.bytes;
    k = ref.schemaUrl + '\0' + Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
    groupKeys.set(ref, k);
  }
  return k;
}

function compareParts(a: SpanPart, b: SpanPart): number {
  const x = a.rec;
  const y = b.rec;
  if (x.startTimeUnixNano !== y.startTimeUnixNano) return x.startTimeUnixNano < y.startTimeUnixNano ? -1 : 1;
  return compareBytes(x.spanId, y.spanId);
}

/**
 * Groups deduplicated spans by identical resource, then scope, in a canonical order (resources and
 * scopes by content, spans by start time then id), so a trace encodes to the same bytes whatever
 * order its spans arrived in: across restarts, replicas and restores.
 */
export function groupParts(parts: SpanPart[], unique = false): ResourceGroup[] {
  // A trace has a handful of resources and scopes: arrays with a linear scan allocate far less
  // than maps, and the cached keys compare by reference when the objects are shared.
  interface ScopeAcc { key: string; scope: ScopeRef; parts: SpanPart[] }
  interface ResAcc { key: string; resource: ResourceRef; scopes: ScopeAcc[] }
  const groups: ResAcc[] = [];
  let last: ResAcc | undefined;
  let lastScope: ScopeAcc | undefined;
  for (const p of unique ? parts : dedupSpans(parts)) {
    let g = last;
    if (!g || (g.resource !== p.res && g.key !== groupKey(p.res))) {
      const rk = groupKey(p.res);
      g = groups.find((x) => x.key === rk);
      if (!g) {
        g = { key: rk, resource: p.res, scopes: [] };
        groups.push(g);
      }
      last = g;
      lastScope = undefined;
    }
    let sg = lastScope;
    if (!sg || (sg.scope !== p.scope && sg.key !== groupKey(p.scope))) {
      const sk = groupKey(p.scope);
      sg = g.scopes.find((x) => x.key === sk);
      if (!sg) {
        sg = { key: sk, scope: p.scope, parts: [] };
        g.scopes.push(sg);
      }
      lastScope = sg;
    }
    sg.parts.push(p);
  }
  const byKey = (a: { key: string }, b: { key: string }): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  if (groups.length > 1) groups.sort(byKey);
  const out: ResourceGroup[] = new Array(groups.length);
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!;
    if (g.scopes.length > 1) g.scopes.sort(byKey);
    out[i] = {
      resource: g.resource,
      scopes: g.scopes.map((sg) => {
        if (sg.parts.length > 1) sg.parts.sort(compareParts);
        const spans = new Array<Uint8Array>(sg.parts.length);
        for (let j = 0; j < spans.length; j++) spans[j] = sg.parts[j]!.rec.bytes;
        return { scope: sg.scope, spans };
      }),
    };
  }
  return out;
}

/** Encoded TracesData of the parts; `unique` when the caller knows no span id repeats. */
export function encodeTrace(parts: SpanPart[], unique = false): Uint8Array {
  const sized = sizeTracesData(groupParts(parts, unique));
  const buf = Buffer.allocUnsafe(sized.total);
  writeTracesData(sized, buf, 0);
  return buf;
}
