/**
 * OTLP/HTTP receiver (:4318): POST /v1/traces, /v1/logs, /v1/metrics with protobuf or JSON bodies,
 * optionally gzip-compressed. The body is read from the raw request stream (not by fastify) so the
 * size limit applies to the decompressed bytes and admission happens before any byte is buffered.
 * Answers use the request's format: an Export*ServiceResponse, or a google.rpc.Status on failure.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { rejectionSummary } from '../otlp/scan.js';
import { bodyFormatOf, parseContentEncoding, readBody } from './body.js';
import type { NodeConfig } from './config.js';
import { classifyFailure, parseWriteConsistency, retryAfterSeconds, type BodyFormat, type ReceiverDeps } from './ingest.js';
import { NodeBusyError } from './limits.js';
import type { Signal } from './metrics.js';
import { parseTenant } from './tenant.js';

const CONTENT_TYPE: Record<BodyFormat, string> = { protobuf: 'application/x-protobuf', json: 'application/json' };

export function fastifyServerOptions(config: NodeConfig, logger: Logger) {
  return {
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // Many idle clients are cheap: keep their connections instead of making them reconnect.
    keepAliveTimeout: config.keepAliveTimeoutMs,
    forceCloseConnections: 'idle' as const,
    return503OnClosing: true,
    bodyLimit: config.maxBodyBytes,
  };
}

export function buildHttpReceiver(deps: ReceiverDeps): FastifyInstance {
  const { config, pipeline, limiter, metrics } = deps;
  // While closing, the handler itself answers 503 with Retry-After and a Status (not fastify's bare 503).
  const app = Fastify({ ...fastifyServerOptions(config, deps.logger.child({ component: 'otlp-http' })), return503OnClosing: false });
  // No per-request child logger on the hot path: request logging is off, errors log through deps.logger.
  app.setChildLoggerFactory((logger) => logger);
  // Bodies are read by the handler from the raw stream, so no parser touches them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  const send = (reply: FastifyReply, status: number, format: BodyFormat, body: Uint8Array | string): FastifyReply =>
    reply.code(status).header('content-type', CONTENT_TYPE[format]).send(typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength));

  const handle = async (signal: Signal, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const started = process.hrtime.bigint();
    let format: BodyFormat = 'json';
    let heldBytes = 0;
    let heldRequest = false;
    try {
      if (!deps.accepting()) throw new NodeBusyError('node is shutting down', 1000, true);
      format = bodyFormatOf(request.headers['content-type']);
      limiter.acquireRequest();
      heldRequest = true;
      const tenant = parseTenant(request.headers['x-scope-orgid']);
      parseWriteConsistency(request.headers['x-consistency'], config.writeConsistency);
      const encoding = parseContentEncoding(request.headers['content-encoding'] as string | undefined);
      const body = await readBody(request.raw, encoding, config.maxBodyBytes);
      limiter.acquireBytes(body.length);
      heldBytes = body.length;
      if (signal !== 'traces') pipeline.otherSignal(signal, body, format);
      const rejected = await pipeline.traces('http', tenant, body, format);
      // The summary is built again for the response; build it for the log only when debug is on.
      if (rejected.count > 0 && deps.logger.isLevelEnabled('debug')) {
        deps.logger.debug({ tenant, rejected: rejected.count, reason: rejectionSummary(rejected) }, 'spans rejected');
      }
      send(reply, 200, format, pipeline.codec.encodeExportResponse(signal, format, rejected));
    } catch (err) {
      const failure = classifyFailure(err);
      metrics.requestsRejected.inc({ transport: 'http', signal, reason: failure.reason });
      if (failure.http >= 500 && failure.http !== 501 && failure.http !== 503) deps.logger.error({ err, signal }, 'ingest failed');
      // Whatever of the upload is unread is discarded, so the client can read this answer.
      if (!request.raw.readableEnded) request.raw.resume();
      if (failure.retryAfterMs !== undefined) reply.header('retry-after', String(retryAfterSeconds(failure.retryAfterMs)));
      send(reply, failure.http, format, pipeline.codec.encodeStatus(format, failure.grpc, failure.message, failure.retryAfterMs));
    } finally {
      if (heldBytes) limiter.releaseBytes(heldBytes);
      if (heldRequest) limiter.releaseRequest();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.ingestDuration.observe({ transport: 'http', signal, code: String(reply.statusCode) }, seconds);
    }
    return reply;
  };

  for (const signal of ['traces', 'logs', 'metrics'] as const) {
    app.post(`/v1/${signal}`, (request, reply) => handle(signal, request, reply));
  }
  return app;
}
