/**
 * Grafana-Tempo-compatible HTTP API (the `:3200` port), as a fastify plugin the server mounts:
 *
 *   app.register(tempoApi, { store, tenantOf: (req) => ... })
 *
 * Shapes follow Tempo's own handlers and tempopb protos: protobuf when the client accepts
 * `application/protobuf` (Grafana does for trace by id), otherwise gogo-jsonpb-style JSON.
 * Errors are plain text, as Tempo's are: 400 for bad parameters, 404 for unknown traces.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../store/types.js';
import { decodeTracesData, wrapAsField1 } from '../otlp/decode.js';
import { QueryError, TraceNotFoundError } from './errors.js';
import { intParam, param, queryParams, sortedUnique, wantsProtobuf, type QueryParams } from './http-util.js';
import { parseTraceIdHex } from './ids.js';
import { resourceSpansJson, TEMPO_OTLP_JSON } from '../otlp/render.js';
import { requestScanBounds, runTempoSearch, type ScanBounds } from './search.js';
import { parseTempoSearch, parseTimeRange, searchResponseJson } from './tempo-search.js';
import { indexedTagValues, intrinsicTagValues, narrowedTagValues, tryParse } from './tempo-tags.js';

export interface TempoApiOptions {
  store: Store;
  /** The tenant of a request (the server reads X-Scope-OrgID; default `single-tenant`). */
  tenantOf: (request: FastifyRequest) => string;
  /** Reported by /api/status/buildinfo. Grafana may compare it with Tempo versions, so default to a Tempo-like one. */
  version?: string;
  revision?: string;
  /** Bound on candidate traces one search may inspect (default 1,000,000). */
  maxInspectedTraces?: number;
  /** A search stops after this long and answers with what it found (default 30 s). */
  maxSearchDurationMs?: number;
}

/** Intrinsics offered for autocomplete (the ones our TraceQL subset evaluates). */
export const INTRINSIC_TAGS = [
  'duration', 'kind', 'name', 'nestedSetParent', 'rootName', 'rootServiceName', 'span:duration', 'span:kind', 'span:name',
  'span:status', 'span:statusMessage', 'status', 'statusMessage', 'trace:duration', 'trace:rootName',
  'trace:rootService', 'traceDuration',
];

const TAG_SCOPES = new Set(['', 'none', 'span', 'resource', 'intrinsic', 'event', 'link', 'instrumentation']);
const MAX_TAG_VALUES = 10_000;

function sendJson(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.type('application/json').send(JSON.stringify(body));
}

function tagScope(q: QueryParams): string {
  const scope = param(q, 'scope') ?? '';
  if (!TAG_SCOPES.has(scope)) throw new QueryError(`invalid scope: ${scope}`);
  return scope === 'none' ? '' : scope;
}

function limitOf(q: QueryParams): number {
  const limit = intParam(q, 'limit');
  return limit && limit > 0 ? Math.min(limit, MAX_TAG_VALUES) : MAX_TAG_VALUES;
}

export async function tempoApi(app: FastifyInstance, opts: TempoApiOptions): Promise<void> {
  const { store, tenantOf } = opts;
  if (!store || typeof tenantOf !== 'function') throw new Error('tempoApi: store and tenantOf are required');

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof QueryError) {
      void reply.code(error.status).type('text/plain; charset=utf-8').send(`${error.message}\n`);
      return;
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      void reply.code(status).type('text/plain; charset=utf-8').send(`${(error as Error).message}\n`);
      return;
    }
    request.log.error({ err: error }, 'tempo api: internal error');
    void reply.code(500).type('text/plain; charset=utf-8').send('internal error\n');
  });

  const scanBounds = (reply: FastifyReply): ScanBounds => requestScanBounds(reply.raw, opts);

  async function loadTrace(request: FastifyRequest, idText: string): Promise<Uint8Array> {
    const traceId = parseTraceIdHex(idText);
    parseTimeRange(queryParams(request)); // validated, not needed: trace by id reads one shard regardless of time
    const bytes = await store.getTrace(tenantOf(request), traceId);
    if (!bytes || bytes.length === 0) throw new TraceNotFoundError();
    return bytes;
  }

  app.get<{ Params: { traceId: string } }>('/api/v2/traces/:traceId', async (request, reply) => {
    const bytes = await loadTrace(request, request.params.traceId);
    if (wantsProtobuf(request)) {
      // TraceByIDResponse { Trace trace = 1; ... }: Trace is wire-identical to TracesData.
      return reply.type('application/protobuf').send(Buffer.from(wrapAsField1(bytes)));
    }
    return sendJson(reply, {
      trace: { resourceSpans: resourceSpansJson(decodeTracesData(bytes), TEMPO_OTLP_JSON) },
      metrics: { inspectedBytes: String(bytes.length) },
    });
  });

  app.get<{ Params: { traceId: string } }>('/api/traces/:traceId', async (request, reply) => {
    const bytes = await loadTrace(request, request.params.traceId);
    if (wantsProtobuf(request)) return reply.type('application/protobuf').send(Buffer.from(bytes));
    // Tempo's v1 JSON: the Trace message with its first key renamed to "batches".
    return sendJson(reply, { batches: resourceSpansJson(decodeTracesData(bytes), TEMPO_OTLP_JSON) });
  });

  app.get('/api/search', async (request, reply) => {
    const plan = parseTempoSearch(queryParams(request));
    const outcome = await runTempoSearch(store, tenantOf(request), plan, scanBounds(reply));
    if (outcome.truncated) request.log.warn({ reason: outcome.truncated, inspectedTraces: outcome.inspectedTraces }, 'tempo search stopped early');
    return sendJson(reply, searchResponseJson(outcome, plan));
  });

  async function tagNamesByScope(request: FastifyRequest): Promise<{ span: string[]; resource: string[] }> {
    const range = parseTimeRange(queryParams(request));
    const names = await store.tagNames(tenantOf(request), range);
    return { span: sortedUnique(names.span), resource: sortedUnique(names.resource) };
  }

  app.get('/api/search/tags', async (request, reply) => {
    const q = queryParams(request);
    const scope = tagScope(q);
    let tagNames: string[] = [];
    if (scope === 'intrinsic') tagNames = INTRINSIC_TAGS;
    else if (scope === '' || scope === 'span' || scope === 'resource') {
      const names = await tagNamesByScope(request);
      tagNames = scope === 'span' ? names.span : scope === 'resource' ? names.resource : sortedUnique([...names.span, ...names.resource]);
    }
    return sendJson(reply, { tagNames: tagNames.slice(0, limitOf(q)) });
  });

  app.get('/api/v2/search/tags', async (request, reply) => {
    const q = queryParams(request);
    const scope = tagScope(q);
    const limit = limitOf(q);
    const scopes: { name: string; tags: string[] }[] = [];
    if (scope === '' || scope === 'span' || scope === 'resource') {
      const names = await tagNamesByScope(request);
      if (scope !== 'span') scopes.push({ name: 'resource', tags: names.resource.slice(0, limit) });
      if (scope !== 'resource') scopes.push({ name: 'span', tags: names.span.slice(0, limit) });
    }
    if (scope === '' || scope === 'intrinsic') scopes.push({ name: 'intrinsic', tags: INTRINSIC_TAGS.slice(0, limit) });
    if (scope === 'event' || scope === 'link' || scope === 'instrumentation') scopes.push({ name: scope, tags: [] });
    return sendJson(reply, { scopes });
  });

  app.get<{ Params: { tagName: string } }>('/api/search/tag/:tagName/values', async (request, reply) => {
    const q = queryParams(request);
    const values = await store.tagValues(tenantOf(request), 'any', request.params.tagName, parseTimeRange(q));
    return sendJson(reply, { tagValues: sortedUnique(values.map((v) => v.value)).slice(0, limitOf(q)) });
  });

  app.get<{ Params: { tagName: string } }>('/api/v2/search/tag/:tagName/values', async (request, reply) => {
    const q = queryParams(request);
    const tenant = tenantOf(request);
    const range = parseTimeRange(q);
    const name = request.params.tagName;
    // Tempo narrows values to spans matching `q` (the other filters of the query being built); an
    // incomplete or unsupported `q` degrades to the unfiltered list, as Tempo's does.
    const filter = tryParse(param(q, 'q'));
    let tagValues: { type: string; value: string }[] | null = null;
    if (filter) tagValues = await narrowedTagValues(store, tenant, name, filter, range, scanBounds(reply));
    if (tagValues === null) {
      const intrinsic = intrinsicTagValues(name);
      tagValues = intrinsic ? await intrinsic(store, tenant, range) : await indexedTagValues(store, tenant, name, range);
    }
    return sendJson(reply, { tagValues: tagValues.slice(0, limitOf(q)) });
  });

  app.get('/api/echo', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('echo'));

  app.get('/api/status/buildinfo', async (_request, reply) =>
    sendJson(reply, {
      version: opts.version ?? '2.9.0',
      revision: opts.revision ?? 'otlp-store',
      branch: 'main',
      buildUser: 'otlp-store',
      buildDate: '',
      goVersion: '',
    }),
  );
}
