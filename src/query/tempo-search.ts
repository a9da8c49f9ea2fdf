/**
 * Tempo search: parameters of GET /api/search and the SearchResponse JSON, shaped as Tempo's
 * tempopb.SearchResponse rendered by gogo jsonpb (uint64 as strings, zero values omitted).
 */
import { shownServiceName } from './service-name.js';
import type { IndexedAttribute } from '../otlp/model.js';
import type { SpanView } from '../store/types.js';
import { parseGoDuration } from './durations.js';
import { QueryError } from './errors.js';
import { allParams, intParam, param, type QueryParams } from './http-util.js';
import { tempoSpanIdString, tempoTraceIdString } from './ids.js';
import { parseLogfmt, type SearchPlan, type TagCondition } from './planner.js';
import type { SearchOutcome, TraceMatch } from './search.js';
import { KIND_NAMES, STATUS_NAMES, type Operand } from './traceql/ast.js';
import { attributeValue, findAttribute, referencedFields, resourceAttribute } from './traceql/evaluate.js';
import { parseTraceQL } from './traceql/parser.js';

export const DEFAULT_LIMIT = 20;
export const DEFAULT_SPSS = 3;
/** Upper bound on `limit`, so one request cannot ask for unbounded work. */
export const MAX_LIMIT = 10_000;
/** Tempo's text for a trace whose root span has not arrived. */
export const ROOT_SPAN_NOT_YET_RECEIVED = '<root span not yet received>';

const SEARCH_PARAMS = new Set(['q', 'tags', 'minDuration', 'maxDuration', 'limit', 'spss', 'start', 'end']);
const NS_PER_S = 1_000_000_000n;

/** start/end in unix seconds, validated as Tempo does. */
export function parseTimeRange(q: QueryParams): { startNs?: bigint; endNs?: bigint } {
  const start = intParam(q, 'start');
  const end = intParam(q, 'end');
  if (start !== undefined && end !== undefined && start !== 0 && end !== 0 && end <= start) {
    throw new QueryError(`http parameter start must be before end. received start=${start} end=${end}`);
  }
  const out: { startNs?: bigint; endNs?: bigint } = {};
  if (start) out.startNs = BigInt(start) * NS_PER_S;
  if (end) out.endNs = BigInt(end) * NS_PER_S;
  return out;
}

export function parseTempoSearch(q: QueryParams): SearchPlan {
  const qText = param(q, 'q');
  const tagsText = param(q, 'tags');
  if (qText !== undefined && tagsText !== undefined) throw new QueryError("invalid request: can't specify tags and q in the same query");
  let tags: TagCondition[] = tagsText !== undefined ? parseLogfmt(tagsText) : [];
  if (qText === undefined && tagsText === undefined && param(q, 'start') === undefined && param(q, 'end') === undefined) {
    // Tempo: with none of q/tags/start/end, the other parameters are themselves key=value tags.
    for (const key of Object.keys(q)) {
      if (SEARCH_PARAMS.has(key)) continue;
      const values = allParams(q, key);
      if (values.length) tags = [...tags, { key, value: values[0]! }];
    }
  }
  const limit = intParam(q, 'limit') ?? DEFAULT_LIMIT;
  if (limit === 0) throw new QueryError('invalid limit: must be a positive number');
  const spss = intParam(q, 'spss') ?? DEFAULT_SPSS;
  const plan: SearchPlan = { query: qText !== undefined ? parseTraceQL(qText) : null, tags, limit: Math.min(limit, MAX_LIMIT), spss };
  Object.assign(plan, parseTimeRange(q));
  const minText = param(q, 'minDuration');
  const maxText = param(q, 'maxDuration');
  if (minText !== undefined) plan.minTraceDurationNs = parseGoDuration(minText, 'minDuration');
  if (maxText !== undefined) plan.maxTraceDurationNs = parseGoDuration(maxText, 'maxDuration');
  if (plan.minTraceDurationNs !== undefined && plan.maxTraceDurationNs !== undefined && plan.maxTraceDurationNs < plan.minTraceDurationNs) {
    throw new QueryError('invalid maxDuration: must be greater than minDuration');
  }
  return plan;
}

type Json = Record<string, unknown>;

const ANY_VALUE_FIELD = { string: 'stringValue', bool: 'boolValue', int: 'intValue', float: 'doubleValue' } as const;

/** An indexed attribute value as OTLP/JSON AnyValue (int64 as a string, as protojson writes it). */
function indexedValueJson(a: IndexedAttribute): Json {
  const v = attributeValue(a);
  return { [ANY_VALUE_FIELD[v.t]]: v.t === 'int' ? v.v.toString() : v.v };
}

/** The attributes Tempo reports for a matched span: the fields the query referenced. */
function matchedAttributes(span: SpanView, fields: Operand[]): Json[] {
  const out: Json[] = [];
  for (const f of fields) {
    if (f.type === 'attribute') {
      let a: IndexedAttribute | undefined;
      if (f.scope !== 'resource') a = findAttribute(span.attributes, f.key);
      if (!a && f.scope !== 'span') a = resourceAttribute(span, f.key);
      if (a) out.push({ key: f.key, value: indexedValueJson(a) });
    } else if (f.type === 'intrinsic') {
      if (f.name === 'status') out.push({ key: 'status', value: { stringValue: STATUS_NAMES[span.statusCode] ?? String(span.statusCode) } });
      else if (f.name === 'kind') out.push({ key: 'kind', value: { stringValue: KIND_NAMES[span.kind] ?? String(span.kind) } });
      else if (f.name === 'statusMessage' && span.statusMessage !== '') out.push({ key: 'statusMessage', value: { stringValue: span.statusMessage } });
      // name and duration have their own fields; trace-level intrinsics describe the trace, not the span.
    }
  }
  return out;
}

function compareSpans(a: SpanView, b: SpanView): number {
  if (a.startTimeUnixNano !== b.startTimeUnixNano) return a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1;
  return tempoSpanIdString(a.spanId) < tempoSpanIdString(b.spanId) ? -1 : 1;
}

function spanSetJson(m: TraceMatch, plan: SearchPlan, fields: Operand[]): Json {
  const ordered = [...m.matched].sort(compareSpans);
  const shown = plan.spss === 0 ? ordered : ordered.slice(0, plan.spss);
  const spans = shown.map((s) => {
    const j: Json = { spanID: tempoSpanIdString(s.spanId) };
    if (s.name !== '') j.name = s.name;
    if (s.startTimeUnixNano !== 0n) j.startTimeUnixNano = s.startTimeUnixNano.toString();
    const d = s.endTimeUnixNano - s.startTimeUnixNano;
    if (d > 0n) j.durationNanos = d.toString();
    const attrs = matchedAttributes(s, fields);
    if (attrs.length) j.attributes = attrs;
    return j;
  });
  const set: Json = {};
  if (spans.length) set.spans = spans;
  if (m.matched.length) set.matched = m.matched.length;
  return set;
}

export function traceSearchMetadata(m: TraceMatch, plan: SearchPlan, fields: Operand[]): Json {
  const s = m.trace.summary;
  const j: Json = { traceID: tempoTraceIdString(s.traceId) };
  // The summary's '' means either no root yet or a root without service.name; the spans tell which.
  const root = s.rootServiceName === '' ? m.trace.spans.find((x) => x.parentSpanId.length === 0) : undefined;
  j.rootServiceName = s.rootServiceName !== '' ? s.rootServiceName : root ? shownServiceName(root.serviceName) : ROOT_SPAN_NOT_YET_RECEIVED;
  const rootName = s.rootSpanName !== '' ? s.rootSpanName : root?.name ?? '';
  if (rootName !== '') j.rootTraceName = rootName;
  if (s.startTimeUnixNano !== 0n) j.startTimeUnixNano = s.startTimeUnixNano.toString();
  const durationMs = Number((s.endTimeUnixNano - s.startTimeUnixNano) / 1_000_000n);
  if (durationMs > 0) j.durationMs = Math.min(durationMs, 0xffffffff);
  if (plan.query) {
    const set = spanSetJson(m, plan, fields);
    j.spanSet = set; // deprecated in Tempo but still filled with the first spanset
    j.spanSets = [set];
  }
  const stats: Json = {};
  for (const [service, st] of Object.entries(s.serviceStats).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const e: Json = {};
    if (st.spanCount) e.spanCount = st.spanCount;
    if (st.errorCount) e.errorCount = st.errorCount;
    stats[shownServiceName(service)] = e;
  }
  if (Object.keys(stats).length) j.serviceStats = stats;
  return j;
}

export function searchResponseJson(outcome: SearchOutcome, plan: SearchPlan): Json {
  const fields = plan.query ? referencedFields(plan.query) : [];
  const metrics: Json = {};
  if (outcome.inspectedTraces) metrics.inspectedTraces = outcome.inspectedTraces;
  if (outcome.inspectedSpans) metrics.inspectedSpans = String(outcome.inspectedSpans);
  metrics.completedJobs = 1;
  metrics.totalJobs = 1;
  return { traces: outcome.matches.map((m) => traceSearchMetadata(m, plan, fields)), metrics };
}
