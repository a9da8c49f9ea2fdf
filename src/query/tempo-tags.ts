/**
 * Tempo tag-value autocomplete (GET /api/v2/search/tag/{name}/values): intrinsic values, values
 * from the store's tag index, and values narrowed to the spans that match a TraceQL `q`.
 */
import type { IndexedAttribute } from '../otlp/model.js';
import type { SpanView, Store, TagValue, TraceView } from '../store/types.js';
import { shownServiceName } from './service-name.js';
import { QueryError } from './errors.js';
import type { SearchPlan } from './planner.js';
import { runTempoSearch, type ScanBounds } from './search.js';
import { KIND_NAMES, STATUS_NAMES, type TraceQLQuery } from './traceql/ast.js';
import { attributeValue } from './traceql/evaluate.js';
import { tokenize } from './traceql/lexer.js';
import { parseTraceQL } from './traceql/parser.js';
import { sortedUnique } from './http-util.js';

/** Narrowing reads at most this many matching traces, so autocomplete stays cheap. */
const NARROW_MAX_TRACES = 1_000;
const NARROW_MAX_INSPECTED = 20_000;
const NARROW_MAX_DURATION_MS = 2_000;

export function tempoValueType(t: TagValue['type']): string {
  return t === 'double' ? 'float' : t;
}

/** A TraceQL filter with at least one condition, or null (absent, `{}`, incomplete or unsupported). */
export function tryParse(q: string | undefined): TraceQLQuery | null {
  if (q === undefined) return null;
  try {
    const query = parseTraceQL(q);
    return query.filter ? query : null;
  } catch {
    return null;
  }
}

function sortTagValues(values: { type: string; value: string }[]): { type: string; value: string }[] {
  return values.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

export async function indexedTagValues(store: Store, tenant: string, name: string, range: { startNs?: bigint; endNs?: bigint }): Promise<{ type: string; value: string }[]> {
  const attr = parseAttributeName(name);
  // event., link. and other scopes are not indexed: no values.
  const values = attr ? await store.tagValues(tenant, attr.scope, attr.key, range) : [];
  const seen = new Set<string>();
  const out: { type: string; value: string }[] = [];
  for (const v of values) {
    const type = tempoValueType(v.type);
    const key = `${type}\u0000${v.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ type, value: v.value });
  }
  return sortTagValues(out);
}

function typedValue(a: IndexedAttribute): { type: string; value: string } {
  const v = attributeValue(a);
  return { type: v.t, value: String(v.v) };
}

/**
 * Values of `name` on the spans that match `filter`; null when `name` is not something spans carry
 * as a plain value here (then the caller answers the unfiltered list).
 */
export async function narrowedTagValues(
  store: Store,
  tenant: string,
  name: string,
  filter: TraceQLQuery,
  range: { startNs?: bigint; endNs?: bigint },
  bounds: ScanBounds,
): Promise<{ type: string; value: string }[] | null> {
  let read: (span: SpanView) => { type: string; value: string }[];
  if (name === 'name' || name === 'span:name') {
    read = (span) => [{ type: 'string', value: span.name }];
  } else if (intrinsicTagValues(name)) {
    return null;
  } else {
    const attr = parseAttributeName(name);
    if (!attr) return null;
    read = (span) => {
      const out: { type: string; value: string }[] = [];
      if (attr.scope !== 'resource') for (const a of span.attributes) if (a.key === attr.key) out.push(typedValue(a));
      if (attr.scope !== 'span') {
        let found = false;
        for (const a of span.resourceAttributes) if (a.key === attr.key) { out.push(typedValue(a)); found = true; }
        if (!found && attr.key === 'service.name' && span.serviceName) out.push({ type: 'string', value: span.serviceName });
      }
      return out;
    };
  }
  const plan: SearchPlan = { query: filter, tags: [], limit: NARROW_MAX_TRACES, spss: 0, ...range };
  const outcome = await runTempoSearch(store, tenant, plan, {
    maxInspectedTraces: NARROW_MAX_INSPECTED,
    maxDurationMs: NARROW_MAX_DURATION_MS,
    ...(bounds.signal ? { signal: bounds.signal } : {}),
  });
  const seen = new Map<string, { type: string; value: string }>();
  for (const m of outcome.matches) {
    for (const span of m.matched) for (const v of read(span)) seen.set(`${v.type}\u0000${v.value}`, v);
  }
  return sortTagValues([...seen.values()]);
}

type TimeRange = { startNs?: bigint; endNs?: bigint };
type IntrinsicValues = (store: Store, tenant: string, range: TimeRange) => Promise<{ type: string; value: string }[]>;

/** Values read off recent traces read at most this many traces, this many values, for this long. */
export const RECENT_VALUES_MAX_TRACES = 5_000;
const RECENT_VALUES_MAX_VALUES = 1_000;
const RECENT_VALUES_MAX_DURATION_MS = 2_000;

/**
 * Distinct string values `read` finds in the most recent traces of the range (the store yields
 * them newest first), bounded in traces, values and time: the store indexes no such values.
 */
function recentValues(read: (trace: TraceView) => Iterable<string>): IntrinsicValues {
  return async (store, tenant, range) => {
    const seen = new Set<string>();
    const deadline = Date.now() + RECENT_VALUES_MAX_DURATION_MS;
    let inspected = 0;
    scan: for await (const trace of store.searchTraces({ tenant, ...range })) {
      for (const value of read(trace)) {
        seen.add(value);
        if (seen.size >= RECENT_VALUES_MAX_VALUES) break scan;
      }
      if (++inspected >= RECENT_VALUES_MAX_TRACES || Date.now() > deadline) break;
    }
    return sortedUnique([...seen]).map((value) => ({ type: 'string', value }));
  };
}

function* rootSpans(trace: TraceView): Iterable<SpanView> {
  for (const span of trace.spans) if (span.parentSpanId.length === 0) yield span;
}

export function intrinsicTagValues(name: string): IntrinsicValues | null {
  const keywords = (names: readonly string[]): IntrinsicValues => async () => names.map((value) => ({ type: 'keyword', value }));
  switch (name) {
    case 'status':
    case 'span:status':
      return keywords(STATUS_NAMES);
    case 'kind':
    case 'span:kind':
      return keywords(KIND_NAMES);
    case 'name':
    case 'span:name':
      return async (store, tenant) => sortedUnique((await store.operations(tenant)).map((o) => o.name)).map((value) => ({ type: 'string', value }));
    case 'rootName':
    case 'trace:rootName':
      return recentValues(function* (trace) {
        for (const span of rootSpans(trace)) yield span.name;
      });
    case 'rootServiceName':
    case 'trace:rootService':
      return recentValues(function* (trace) {
        for (const span of rootSpans(trace)) yield shownServiceName(span.serviceName);
      });
    case 'statusMessage':
    case 'span:statusMessage':
      return recentValues(function* (trace) {
        for (const span of trace.spans) if (span.statusMessage !== '') yield span.statusMessage;
      });
    case 'duration':
    case 'span:duration':
    case 'traceDuration':
    case 'trace:duration':
    case 'nestedSetParent':
      return async () => [];
    default:
      return null;
  }
}

/** A v2 tag name is a TraceQL attribute: `span.x`, `resource.x`, `.x`. */
export function parseAttributeName(name: string): { scope: 'span' | 'resource' | 'any'; key: string } | null {
  let tokens;
  try {
    tokens = tokenize(name);
  } catch {
    throw new QueryError(`invalid tag name "${name}": expected a TraceQL attribute such as resource.service.name, span.http.method or .foo`);
  }
  const t = tokens[0];
  if (tokens.length === 2 && t && t.kind === 'attribute') {
    if (t.scope === '') return { scope: 'any', key: t.key };
    if (t.scope === 'span' || t.scope === 'resource') return { scope: t.scope, key: t.key };
    return null;
  }
  throw new QueryError(`invalid tag name "${name}": expected a TraceQL attribute such as resource.service.name, span.http.method or .foo, or an intrinsic`);
}
