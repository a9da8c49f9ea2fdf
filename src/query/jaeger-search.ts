/**
 * Jaeger search semantics, shared by api_v3 and the legacy v1 API: parameter parsing, the
 * span-level match (service, operation, tags and duration on one span, as Jaeger applies them),
 * operations, dependencies and trace summaries.
 */
import type { CandidateQuery, IndexTerm, SpanView, Store, TraceView } from '../store/types.js';
import { parseGoDuration } from './durations.js';
import { QueryError } from './errors.js';
import { allParams, bigintParam, intParam, param, type QueryParams } from './http-util.js';
import { toHex } from '../otlp/ids.js';
import { JAEGER_SPAN_KINDS } from './jaeger-model.js';
import type { TagCondition } from './planner.js';
import { collectMatches, type ScanBounds } from './search.js';
import { spanHasTag } from './tags.js';
import { NO_SERVICE_NAME, shownServiceName } from './service-name.js';

/** Jaeger's defaults: v1 search limit, lookback windows. */
export const DEFAULT_V1_LIMIT = 100;
export const DEFAULT_V3_SEARCH_DEPTH = 20;
export const MAX_SEARCH_LIMIT = 1_000;
export const DEFAULT_SEARCH_LOOKBACK_MS = 48 * 3600 * 1000;
export const DEFAULT_DEPENDENCY_LOOKBACK_MS = 24 * 3600 * 1000;
export const DEFAULT_MAX_DEPENDENCY_TRACES = 10_000;
export const NO_TRACES_FOUND = 'No traces found';

/** A span-level condition, as Jaeger's search applies it: service, operation, tags and duration on one span. */
export interface SpanQuery {
  service?: string;
  operation?: string;
  tags: TagCondition[];
  minDurationNs?: bigint;
  maxDurationNs?: bigint;
  startNs?: bigint;
  endNs?: bigint;
  limit: number;
}

export function spanSatisfies(span: SpanView, q: SpanQuery): boolean {
  if (q.service !== undefined && shownServiceName(span.serviceName) !== q.service) return false;
  if (q.operation !== undefined && span.name !== q.operation) return false;
  const d = span.endTimeUnixNano - span.startTimeUnixNano;
  if (q.minDurationNs !== undefined && d < q.minDurationNs) return false;
  if (q.maxDurationNs !== undefined && d > q.maxDurationNs) return false;
  if (q.startNs !== undefined && span.startTimeUnixNano < q.startNs) return false;
  if (q.endNs !== undefined && span.startTimeUnixNano > q.endNs) return false;
  for (const t of q.tags) if (!spanHasTag(span, t.key, t.value, { nameIsSpanName: false })) return false;
  return true;
}

export function spanQueryCandidates(tenant: string, q: SpanQuery): CandidateQuery {
  const terms: IndexTerm[] = [];
  // The name shown for resources without a service is not an indexed term: no pruning by service then.
  if (q.service !== undefined && q.service !== NO_SERVICE_NAME) terms.push({ kind: 'service', value: q.service });
  if (q.operation !== undefined) terms.push({ kind: 'name', value: q.operation });
  const c: CandidateQuery = { tenant };
  if (terms.length) c.requiredTerms = terms;
  if (q.startNs !== undefined) c.startNs = q.startNs;
  if (q.endNs !== undefined) c.endNs = q.endNs;
  return c;
}

/** Jaeger v1 `tags`: a JSON object `{"k":"v"}` (possibly repeated); `tag`: repeated `k:v`. */
export function parseV1Tags(q: QueryParams): TagCondition[] {
  const out: TagCondition[] = [];
  for (const text of allParams(q, 'tags')) {
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch {
      throw new QueryError(`malformed 'tags' parameter: ${text} is not a JSON object`);
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new QueryError(`malformed 'tags' parameter: ${text} is not a JSON object`);
    for (const [key, value] of Object.entries(obj as Record<string, unknown>)) out.push({ key, value: String(value) });
  }
  for (const text of allParams(q, 'tag')) {
    const i = text.indexOf(':');
    if (i <= 0) throw new QueryError(`malformed 'tag' parameter: expected key:value, got ${text}`);
    out.push({ key: text.slice(0, i), value: text.slice(i + 1) });
  }
  return out;
}

function parseRfc3339Nano(text: string, name: string): bigint {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : NaN;
  if (!m || Number.isNaN(ms)) throw new QueryError(`malformed parameter ${name}: "${text}" is not an RFC 3339 time`);
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
}

function v3Param(q: QueryParams, canonical: string, deprecated: string): [string | undefined, string] {
  const v = param(q, canonical);
  if (v !== undefined) return [v, canonical];
  return [param(q, deprecated), deprecated];
}

export async function findTraces(store: Store, tenant: string, q: SpanQuery, bounds: ScanBounds): Promise<TraceView[]> {
  const outcome = await collectMatches(
    store,
    spanQueryCandidates(tenant, q),
    (trace) => {
      const matched = trace.spans.filter((s) => spanSatisfies(s, q));
      return matched.length ? matched : null;
    },
    q.limit,
    bounds,
  );
  return outcome.matches.map((m) => m.trace);
}

/** api_v3 FindTraces / FindTraceSummaries parameters (canonical camelCase, then the snake_case aliases). */
export function parseV3Query(q: QueryParams): SpanQuery {
  const [service] = v3Param(q, 'query.serviceName', 'query.service_name');
  const [operation] = v3Param(q, 'query.operationName', 'query.operation_name');
  const [minText, minName] = v3Param(q, 'query.startTimeMin', 'query.start_time_min');
  const [maxText, maxName] = v3Param(q, 'query.startTimeMax', 'query.start_time_max');
  if (minText === undefined || maxText === undefined) throw new QueryError('query.startTimeMin and query.startTimeMax are required');
  const sq: SpanQuery = { tags: [], limit: DEFAULT_V3_SEARCH_DEPTH };
  if (service !== undefined) sq.service = service;
  if (operation !== undefined) sq.operation = operation;
  sq.startNs = parseRfc3339Nano(minText, minName);
  sq.endNs = parseRfc3339Nano(maxText, maxName);
  let [depth, depthName] = v3Param(q, 'query.searchDepth', 'query.search_depth');
  if (depth === undefined) [depth, depthName] = [param(q, 'query.num_traces'), 'query.num_traces'];
  if (depth !== undefined) {
    if (!/^\d+$/.test(depth)) throw new QueryError(`malformed parameter ${depthName}: "${depth}" is not an integer`);
    const n = Number(depth);
    if (n > 0) sq.limit = Math.min(n, MAX_SEARCH_LIMIT);
  }
  const [dMin, dMinName] = v3Param(q, 'query.durationMin', 'query.duration_min');
  const [dMax, dMaxName] = v3Param(q, 'query.durationMax', 'query.duration_max');
  if (dMin !== undefined) sq.minDurationNs = parseGoDuration(dMin, `parameter ${dMinName}`);
  if (dMax !== undefined) sq.maxDurationNs = parseGoDuration(dMax, `parameter ${dMaxName}`);
  const attributes = param(q, 'query.attributes');
  if (attributes !== undefined) sq.tags = parseV1Tags({ tags: attributes });
  return sq;
}

/** Legacy v1 /api/traces parameters. */
export function parseV1Search(q: QueryParams, nowMs: number): SpanQuery {
  const service = param(q, 'service');
  if (service === undefined) throw new QueryError("parameter 'service' is required");
  const sq: SpanQuery = { service, tags: parseV1Tags(q), limit: DEFAULT_V1_LIMIT };
  const operation = param(q, 'operation');
  if (operation !== undefined) sq.operation = operation;
  const endUs = bigintParam(q, 'end') ?? BigInt(nowMs) * 1000n;
  let startUs = bigintParam(q, 'start');
  if (startUs === undefined) {
    const lookback = param(q, 'lookback');
    const lookbackNs = lookback && lookback !== 'custom' ? parseGoDuration(lookback, 'lookback') : BigInt(DEFAULT_SEARCH_LOOKBACK_MS) * 1_000_000n;
    startUs = endUs - lookbackNs / 1000n;
  }
  if (startUs > endUs) throw new QueryError('start time must be before end time');
  sq.startNs = startUs * 1000n;
  sq.endNs = endUs * 1000n;
  const min = param(q, 'minDuration');
  const max = param(q, 'maxDuration');
  if (min !== undefined) sq.minDurationNs = parseGoDuration(min, 'minDuration');
  if (max !== undefined) sq.maxDurationNs = parseGoDuration(max, 'maxDuration');
  if (sq.minDurationNs !== undefined && sq.maxDurationNs !== undefined && sq.maxDurationNs < sq.minDurationNs) {
    throw new QueryError('maxDuration must be greater than minDuration');
  }
  const limit = intParam(q, 'limit');
  if (limit) sq.limit = Math.min(limit, MAX_SEARCH_LIMIT);
  return sq;
}

export async function operationsOf(store: Store, tenant: string, service: string | undefined, spanKind: string | undefined): Promise<{ name: string; spanKind: string }[]> {
  const ops = await store.operations(tenant, service === NO_SERVICE_NAME ? undefined : service);
  const seen = new Set<string>();
  const out: { name: string; spanKind: string }[] = [];
  for (const o of ops) {
    if (service !== undefined && shownServiceName(o.service) !== service) continue;
    const kind = JAEGER_SPAN_KINDS[o.kind] ?? '';
    if (spanKind !== undefined && kind !== spanKind) continue;
    const key = `${o.name}\u0000${kind}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ name: o.name, spanKind: kind });
  }
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.spanKind < b.spanKind ? -1 : a.spanKind > b.spanKind ? 1 : 0));
  return out;
}

export interface DependencyLink {
  parent: string;
  child: string;
  callCount: number;
}

/** Parent→child service call counts from parent/child span pairs that cross services. */
export async function dependencies(store: Store, tenant: string, startNs: bigint, endNs: bigint, maxTraces: number): Promise<DependencyLink[]> {
  const counts = new Map<string, DependencyLink>();
  let inspected = 0;
  for await (const trace of store.searchTraces({ tenant, startNs, endNs })) {
    if (++inspected > maxTraces) break;
    const serviceOf = new Map<string, string>();
    for (const s of trace.spans) serviceOf.set(toHex(s.spanId), shownServiceName(s.serviceName));
    for (const s of trace.spans) {
      if (s.parentSpanId.length === 0) continue;
      const parent = serviceOf.get(toHex(s.parentSpanId));
      const child = shownServiceName(s.serviceName);
      if (parent === undefined || parent === child) continue;
      const key = `${parent}\u0000${child}`;
      const link = counts.get(key) ?? { parent, child, callCount: 0 };
      link.callCount++;
      counts.set(key, link);
    }
  }
  return [...counts.values()].sort((a, b) => (a.parent < b.parent ? -1 : a.parent > b.parent ? 1 : a.child < b.child ? -1 : a.child > b.child ? 1 : 0));
}

/** api_v3 TraceSummary as jsonpb writes it (fixed64 as strings). */
export function traceSummaryJson(trace: TraceView): Record<string, unknown> {
  const s = trace.summary;
  const ids = new Set(trace.spans.map((x) => toHex(x.spanId)));
  let orphans = 0;
  for (const x of trace.spans) if (x.parentSpanId.length > 0 && !ids.has(toHex(x.parentSpanId))) orphans++;
  const byName = new Map<string, { name: string; spanCount: number; errorSpanCount: number }>();
  for (const [stored, st] of Object.entries(s.serviceStats)) {
    const name = shownServiceName(stored);
    const e = byName.get(name) ?? { name, spanCount: 0, errorSpanCount: 0 };
    e.spanCount += st.spanCount;
    e.errorSpanCount += st.errorCount;
    byName.set(name, e);
  }
  const services = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const root = trace.spans.find((x) => x.parentSpanId.length === 0);
  return {
    traceId: toHex(s.traceId),
    rootServiceName: root ? shownServiceName(root.serviceName) : s.rootServiceName,
    rootOperationName: s.rootSpanName,
    minStartTimeUnixNano: s.startTimeUnixNano.toString(),
    maxEndTimeUnixNano: s.endTimeUnixNano.toString(),
    spanCount: s.spanCount,
    errorSpanCount: s.errorCount,
    orphanSpanCount: orphans,
    services,
  };
}
