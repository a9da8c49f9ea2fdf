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
import type { Store, TraceView } from '../store/types.js';
import { decodeTracesData, type DecodedResourceSpans } from '../otlp/decode.js';
import { OtlpDecodeError } from '../otlp/model.js';
import { QueryError, TraceNotFoundError } from './errors.js';
import { allParams, intParam, param, queryParams, sortedUnique } from './http-util.js';
import { toHex } from '../otlp/ids.js';
import { parseTraceIdHex, jaegerTraceIdString } from './ids.js';
import {
  DEFAULT_DEPENDENCY_LOOKBACK_MS, DEFAULT_MAX_DEPENDENCY_TRACES, MAX_SEARCH_LIMIT, NO_TRACES_FOUND, dependencies,
  findTraces, operationsOf, parseV1Search, parseV3Query, traceSummaryJson,
} from './jaeger-search.js';
import { toJaegerTrace, type JaegerTrace } from './jaeger-model.js';
import { stringifyJson } from './json.js';
import { shownServiceName } from './service-name.js';
import { JAEGER_OTLP_JSON, resourceSpansJson } from '../otlp/render.js';
import { requestScanBounds, type ScanBounds } from './search.js';

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
  /** Called once per trace a search leaves out because its stored bytes cannot be decoded (a metric hook). */
  onUndecodableTrace?: () => void;
}

/** Which wire format an error is rendered in. */
type ApiFlavour = 'v1' | 'v3';

/** Traces a search left out because their stored bytes could not be decoded. */
interface UndecodableTraces {
  count: number;
  first?: { traceId: string; message: string };
}

function envelope(data: unknown, total = 0, errors: { code?: number; msg: string; traceID?: string }[] | null = null) {
  return { data, total, limit: 0, offset: 0, errors };
}

function send(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.type('application/json').send(stringifyJson(body));
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

  const scanBounds = (reply: FastifyReply): ScanBounds => requestScanBounds(reply.raw, opts);

  async function traceBytes(request: FastifyRequest, idText: string, notFoundMessage?: string): Promise<Uint8Array> {
    const bytes = await store.getTrace(tenantOf(request), parseTraceIdHex(idText));
    if (!bytes || bytes.length === 0) throw new TraceNotFoundError(notFoundMessage);
    return bytes;
  }

  /**
   * Decodes one trace of a search result. A trace whose stored bytes cannot be decoded is left out
   * (and counted) rather than failing the whole search; the search logs the count once.
   */
  function decodeForSearch(bytes: Uint8Array, traceId: Uint8Array, skipped: UndecodableTraces): DecodedResourceSpans[] | null {
    try {
      return decodeTracesData(bytes);
    } catch (error) {
      if (!(error instanceof OtlpDecodeError)) throw error;
      if (skipped.count++ === 0) skipped.first = { traceId: toHex(traceId), message: error.message };
      opts.onUndecodableTrace?.();
      return null;
    }
  }

  function logSkipped(request: FastifyRequest, skipped: UndecodableTraces): void {
    if (skipped.count > 0) request.log.warn({ undecodableTraces: skipped.count, first: skipped.first }, 'jaeger search: left out traces whose stored bytes cannot be decoded');
  }

  /** Reads and decodes the full traces of a search result, leaving out missing and undecodable ones. */
  async function decodedTraces(tenant: string, traces: TraceView[], skipped: UndecodableTraces): Promise<DecodedResourceSpans[][]> {
    const out: DecodedResourceSpans[][] = [];
    for (const t of traces) {
      const bytes = await store.getTrace(tenant, t.summary.traceId);
      if (!bytes || !bytes.length) continue;
      const decoded = decodeForSearch(bytes, t.summary.traceId, skipped);
      if (decoded) out.push(decoded);
    }
    return out;
  }

  // ---------------------------------------------------------------- api_v3

  app.get<{ Params: { traceId: string } }>('/api/v3/traces/:traceId', async (request, reply) => {
    // Jaeger's gateway answers an empty result, by id or by search, with 404 "No traces found".
    const bytes = await traceBytes(request, request.params.traceId, NO_TRACES_FOUND);
    return send(reply, { result: { resourceSpans: resourceSpansJson(decodeTracesData(bytes), JAEGER_OTLP_JSON) } });
  });

  app.get('/api/v3/traces', async (request, reply) => {
    const tenant = tenantOf(request);
    const traces = await findTraces(store, tenant, parseV3Query(queryParams(request)), scanBounds(reply));
    const skipped: UndecodableTraces = { count: 0 };
    const resourceSpans = (await decodedTraces(tenant, traces, skipped)).flatMap((decoded) => resourceSpansJson(decoded, JAEGER_OTLP_JSON));
    logSkipped(request, skipped);
    if (resourceSpans.length === 0) throw new TraceNotFoundError(NO_TRACES_FOUND);
    return send(reply, { result: { resourceSpans } });
  });

  app.get('/api/v3/trace-summaries', async (request, reply) => {
    const traces = await findTraces(store, tenantOf(request), parseV3Query(queryParams(request)), scanBounds(reply));
    return send(reply, { summaries: traces.map(traceSummaryJson) });
  });

  app.get('/api/v3/services', async (request, reply) => {
    return send(reply, { services: sortedUnique((await store.services(tenantOf(request))).map(shownServiceName)) });
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
    const services = sortedUnique((await store.services(tenantOf(request))).map(shownServiceName));
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
      const skipped: UndecodableTraces = { count: 0 };
      for (const idText of ids.slice(0, MAX_SEARCH_LIMIT)) {
        const id = parseTraceIdHex(idText);
        const bytes = await store.getTrace(tenant, id);
        if (!bytes || !bytes.length) {
          errors.push({ msg: 'trace not found', traceID: jaegerTraceIdString(id) });
          continue;
        }
        const decoded = decodeForSearch(bytes, id, skipped);
        if (decoded) found.push(toJaegerTrace(decoded));
        else errors.push({ msg: 'trace cannot be decoded', traceID: jaegerTraceIdString(id) });
      }
      logSkipped(request, skipped);
      return send(reply, envelope(found, 0, errors.length ? errors : null));
    }
    const traces = await findTraces(store, tenant, parseV1Search(q, now()), scanBounds(reply));
    const skipped: UndecodableTraces = { count: 0 };
    const found = (await decodedTraces(tenant, traces, skipped)).map(toJaegerTrace);
    logSkipped(request, skipped);
    return send(reply, envelope(found));
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
