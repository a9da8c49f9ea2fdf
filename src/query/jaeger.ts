/**
 * Jaeger-compatible HTTP API (the `:16686` port), as a fastify plugin the server mounts:
 *
 *   app.register(jaegerApi, { store, tenantOf: (req) => ... })
 *
 * - api_v3 (jaeger cmd/query/app/apiv3/http_gateway.go): OTLP/JSON with hex ids inside
 *   `{"result": …}`, errors as `{"error": {"httpCode", "message"}}`.
 * - legacy v1 (jaeger cmd/query/app/http_handler.go), which Jaeger UI and Grafana's Jaeger data
 *   source call: the Jaeger UI JSON model in the `{data, total, limit, offset, errors}` envelope,
 *   timestamps in microseconds.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CandidateQuery, IndexTerm, SpanView, Store, TraceView } from '../store/types.js';
import { decodeTracesData } from './decode.js';
import { parseGoDuration } from './durations.js';
import { QueryError, TraceNotFoundError } from './errors.js';
import { allParams, bigintParam, intParam, param, queryParams, sortedUnique, type QueryParams } from './http-util.js';
import { parseTraceIdHex, jaegerTraceIdString, toHex } from './ids.js';
import { toJaegerTrace, type JaegerTrace } from './jaeger-model.js';
import { stringifyJson } from './json.js';
import { JAEGER_OTLP_JSON, resourceSpansJson } from './otlp-json.js';
import type { TagCondition } from './planner.js';
import { clientGone, collectMatches, type ScanBounds } from './search.js';
import { spanHasTag } from './tags.js';

export interface JaegerApiOptions {
  store: Store;
  /** The tenant of a request (the server reads X-Scope-OrgID; default `single-tenant`). */
  tenantOf: (request: FastifyRequest) => string;
  /** Clock for default time windows (ms since the epoch). */
  now?: () => number;
  /** Bound on candidate traces one search may inspect (default 1,000,000). */
  maxInspectedTraces?: number;
  /** A search stops after this long and answers with what it found (default 30 s). */
  maxSearchDurationMs?: number;
  /** /api/dependencies reads at most this many traces of its window, most recent first (default 10,000). */
  maxDependencyTraces?: number;
}

/** Jaeger's defaults: v1 search limit, lookback windows. */
export const DEFAULT_V1_LIMIT = 100;
export const DEFAULT_V3_SEARCH_DEPTH = 20;
export const MAX_SEARCH_LIMIT = 1_000;
const DEFAULT_SEARCH_LOOKBACK_MS = 48 * 3600 * 1000;
const DEFAULT_DEPENDENCY_LOOKBACK_MS = 24 * 3600 * 1000;
const DEFAULT_MAX_DEPENDENCY_TRACES = 10_000;
const SPAN_KINDS = ['', 'internal', 'server', 'client', 'producer', 'consumer'];
const NO_TRACES_FOUND = 'No traces found';

/** Which wire format an error is rendered in. */
type ApiFlavour = 'v1' | 'v3';

function envelope(data: unknown, total = 0, errors: { code?: number; msg: string; traceID?: string }[] | null = null) {
  return { data, total, limit: 0, offset: 0, errors };
}

function send(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.type('application/json').send(stringifyJson(body));
}

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

function spanSatisfies(span: SpanView, q: SpanQuery): boolean {
  if (q.service !== undefined && span.serviceName !== q.service) return false;
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
  if (q.service !== undefined) terms.push({ kind: 'service', value: q.service });
  if (q.operation !== undefined) terms.push({ kind: 'name', value: q.operation });
  const c: CandidateQuery = { tenant };
  if (terms.length) c.requiredTerms = terms;
  if (q.startNs !== undefined) c.startNs = q.startNs;
  if (q.endNs !== undefined) c.endNs = q.endNs;
  return c;
}

/** Jaeger v1 `tags`: a JSON object `{"k":"v"}` (possibly repeated); `tag`: repeated `k:v`. */
function parseV1Tags(q: QueryParams): TagCondition[] {
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

async function findTraces(store: Store, tenant: string, q: SpanQuery, bounds: ScanBounds): Promise<TraceView[]> {
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

export async function jaegerApi(app: FastifyInstance, opts: JaegerApiOptions): Promise<void> {
  const { store, tenantOf } = opts;
  if (!store || typeof tenantOf !== 'function') throw new Error('jaegerApi: store and tenantOf are required');
  const now = opts.now ?? Date.now;

  app.setErrorHandler((error, request, reply) => {
    let status = 500;
    let message = 'internal error';
    if (error instanceof QueryError) {
      status = error.status;
      message = error.message;
    } else {
      const s = (error as { statusCode?: number }).statusCode;
      if (s && s >= 400 && s < 500) {
        status = s;
        message = (error as Error).message;
      } else request.log.error({ err: error }, 'jaeger api: internal error');
    }
    const flavour: ApiFlavour = request.url.startsWith('/api/v3/') ? 'v3' : 'v1';
    const body = flavour === 'v3' ? { error: { httpCode: status, message } } : envelope(null, 0, [{ code: status, msg: message }]);
    void reply.code(status).type('application/json').send(JSON.stringify(body));
  });

  function scanBounds(reply: FastifyReply): ScanBounds {
    const bounds: ScanBounds = { signal: clientGone(reply.raw) };
    if (opts.maxInspectedTraces !== undefined) bounds.maxInspectedTraces = opts.maxInspectedTraces;
    if (opts.maxSearchDurationMs !== undefined) bounds.maxDurationMs = opts.maxSearchDurationMs;
    return bounds;
  }

  async function traceBytes(request: FastifyRequest, idText: string): Promise<Uint8Array> {
    const bytes = await store.getTrace(tenantOf(request), parseTraceIdHex(idText));
    if (!bytes || bytes.length === 0) throw new TraceNotFoundError();
    return bytes;
  }

  async function jaegerTraces(tenant: string, traces: TraceView[]): Promise<JaegerTrace[]> {
    const out: JaegerTrace[] = [];
    for (const t of traces) {
      const bytes = await store.getTrace(tenant, t.summary.traceId);
      if (bytes && bytes.length) out.push(toJaegerTrace(decodeTracesData(bytes)));
    }
    return out;
  }

  // ---------------------------------------------------------------- api_v3

  app.get<{ Params: { traceId: string } }>('/api/v3/traces/:traceId', async (request, reply) => {
    const bytes = await store.getTrace(tenantOf(request), parseTraceIdHex(request.params.traceId));
    // Jaeger's gateway answers an empty result, by id or by search, with 404 "No traces found".
    if (!bytes || bytes.length === 0) throw new TraceNotFoundError(NO_TRACES_FOUND);
    return send(reply, { result: { resourceSpans: resourceSpansJson(decodeTracesData(bytes), JAEGER_OTLP_JSON) } });
  });

  function parseV3Query(q: QueryParams): SpanQuery {
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

  app.get('/api/v3/traces', async (request, reply) => {
    const tenant = tenantOf(request);
    const traces = await findTraces(store, tenant, parseV3Query(queryParams(request)), scanBounds(reply));
    const resourceSpans: unknown[] = [];
    for (const t of traces) {
      const bytes = await store.getTrace(tenant, t.summary.traceId);
      if (bytes && bytes.length) resourceSpans.push(...resourceSpansJson(decodeTracesData(bytes), JAEGER_OTLP_JSON));
    }
    if (resourceSpans.length === 0) throw new TraceNotFoundError(NO_TRACES_FOUND);
    return send(reply, { result: { resourceSpans } });
  });

  app.get('/api/v3/trace-summaries', async (request, reply) => {
    const traces = await findTraces(store, tenantOf(request), parseV3Query(queryParams(request)), scanBounds(reply));
    return send(reply, { summaries: traces.map(traceSummaryJson) });
  });

  app.get('/api/v3/services', async (request, reply) => {
    return send(reply, { services: sortedUnique(await store.services(tenantOf(request))) });
  });

  app.get('/api/v3/operations', async (request, reply) => {
    const q = queryParams(request);
    const service = param(q, 'service');
    const spanKind = param(q, 'spanKind') ?? param(q, 'span_kind');
    const ops = await operationsOf(store, tenantOf(request), service, spanKind);
    return send(reply, { operations: ops.map((o) => (o.spanKind ? o : { name: o.name })) });
  });

  // ---------------------------------------------------------------- legacy v1

  app.get('/api/services', async (request, reply) => {
    const services = sortedUnique(await store.services(tenantOf(request)));
    return send(reply, envelope(services, services.length));
  });

  app.get<{ Params: { service: string } }>('/api/services/:service/operations', async (request, reply) => {
    const ops = await operationsOf(store, tenantOf(request), request.params.service, undefined);
    const names = sortedUnique(ops.map((o) => o.name));
    return send(reply, envelope(names, names.length));
  });

  app.get('/api/operations', async (request, reply) => {
    const q = queryParams(request);
    const service = param(q, 'service');
    if (service === undefined) throw new QueryError("parameter 'service' is required");
    const ops = await operationsOf(store, tenantOf(request), service, param(q, 'spanKind'));
    return send(reply, envelope(ops, ops.length));
  });

  app.get<{ Params: { traceId: string } }>('/api/traces/:traceId', async (request, reply) => {
    const bytes = await traceBytes(request, request.params.traceId);
    return send(reply, envelope([toJaegerTrace(decodeTracesData(bytes))]));
  });

  app.get('/api/traces', async (request, reply) => {
    const q = queryParams(request);
    const tenant = tenantOf(request);
    const ids = allParams(q, 'traceID');
    if (ids.length) {
      const found: JaegerTrace[] = [];
      const errors: { msg: string; traceID: string }[] = [];
      for (const idText of ids.slice(0, MAX_SEARCH_LIMIT)) {
        const id = parseTraceIdHex(idText);
        const bytes = await store.getTrace(tenant, id);
        if (bytes && bytes.length) found.push(toJaegerTrace(decodeTracesData(bytes)));
        else errors.push({ msg: 'trace not found', traceID: jaegerTraceIdString(id) });
      }
      return send(reply, envelope(found, 0, errors.length ? errors : null));
    }
    const traces = await findTraces(store, tenant, parseV1Search(q, now()), scanBounds(reply));
    return send(reply, envelope(await jaegerTraces(tenant, traces)));
  });

  app.get('/api/dependencies', async (request, reply) => {
    const q = queryParams(request);
    const endTs = intParam(q, 'endTs') ?? now();
    const lookback = intParam(q, 'lookback') ?? DEFAULT_DEPENDENCY_LOOKBACK_MS;
    const service = param(q, 'service');
    const links = await dependencies(store, tenantOf(request), BigInt(endTs - Math.min(lookback, endTs)) * 1_000_000n, BigInt(endTs) * 1_000_000n, opts.maxDependencyTraces ?? DEFAULT_MAX_DEPENDENCY_TRACES);
    const filtered = service === undefined ? links : links.filter((l) => l.parent === service || l.child === service);
    return send(reply, envelope(filtered));
  });
}

function parseV1Search(q: QueryParams, nowMs: number): SpanQuery {
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

async function operationsOf(store: Store, tenant: string, service: string | undefined, spanKind: string | undefined): Promise<{ name: string; spanKind: string }[]> {
  const ops = await store.operations(tenant, service);
  const seen = new Set<string>();
  const out: { name: string; spanKind: string }[] = [];
  for (const o of ops) {
    if (service !== undefined && o.service !== service) continue;
    const kind = SPAN_KINDS[o.kind] ?? '';
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
    for (const s of trace.spans) serviceOf.set(toHex(s.spanId), s.serviceName);
    for (const s of trace.spans) {
      if (s.parentSpanId.length === 0) continue;
      const parent = serviceOf.get(toHex(s.parentSpanId));
      if (parent === undefined || parent === s.serviceName) continue;
      const key = `${parent}\u0000${s.serviceName}`;
      const link = counts.get(key) ?? { parent, child: s.serviceName, callCount: 0 };
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
  const services = Object.entries(s.serviceStats)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, st]) => ({ name, spanCount: st.spanCount, errorSpanCount: st.errorCount }));
  return {
    traceId: toHex(s.traceId),
    rootServiceName: s.rootServiceName,
    rootOperationName: s.rootSpanName,
    minStartTimeUnixNano: s.startTimeUnixNano.toString(),
    maxEndTimeUnixNano: s.endTimeUnixNano.toString(),
    spanCount: s.spanCount,
    errorSpanCount: s.errorCount,
    orphanSpanCount: orphans,
    services,
  };
}
